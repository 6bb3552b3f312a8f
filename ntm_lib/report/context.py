"""Everything one commune report needs, gathered once: parameters, loaded
data, and every computed figure. The notebook builds one
:class:`ReportContext` and hands it to the section and chart functions, so a
number appears in the report only if it is computed here from data.
"""
from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from typing import Any, Mapping

from .. import calc
from ..errors import ParameterError
from ..load import (
    CommuneFacts,
    CriteriaSet,
    HeaderStyle,
    BandRule,
    inputs_read,
    load_band_rule,
    load_commune_facts,
    load_criteria_set,
    load_criteria_sets,
    load_header_style,
    load_status_labels,
    reset_inputs_read,
)
from ..params import parameter_names, validate_params
from ..validate import Subject, rule_warnings

#: Facts a narrative text may name in braces, e.g. "xã {commune_name}".
TEXT_FIELDS = ("commune_name", "district_name", "province_name", "year", "next_year")


@dataclass
class ReportContext:
    """Parameters, data and figures of one commune-year report.

    Attributes
    ----------
    params:
        The validated parameters (``ntm_lib/params/schema.v1.json``).
    facts:
        :class:`ntm_lib.load.CommuneFacts` of the commune and year.
    criteria_set, advanced_set:
        The sets assessed (the advanced set may be ``None``).
    current, previous:
        :class:`ntm_lib.calc.CriteriaSummary` at the end of ``year`` and of
        the year before (``None`` when no statuses are recorded).
    changes:
        Criteria gained and lost since the previous year, or ``None``.
    advanced:
        Summary of the advanced set for ``year``, or ``None``.
    band:
        :class:`ntm_lib.calc.BandResult` of Decision 18/2022, or ``None``.
    totals:
        Year figures from the quarterly appendix (see
        :func:`ntm_lib.calc.quarterly_totals`).
    inconsistencies:
        Warnings of the consistency rules of
        ``data/reference/validation_rules.csv`` (:class:`ntm_lib.validate.RuleWarning`).
    poverty:
        :class:`ntm_lib.calc.PovertyProgress`, or ``None`` (no data).
    header_style, band_rule, status_labels:
        Reference data used for the layout and wording.
    """

    params: dict[str, Any]
    facts: CommuneFacts
    criteria_set: CriteriaSet
    advanced_set: CriteriaSet | None
    header_style: HeaderStyle
    band_rule: BandRule
    status_labels: dict[str, str]
    current: calc.CriteriaSummary | None
    previous: calc.CriteriaSummary | None
    changes: calc.CriteriaChanges | None
    advanced: calc.CriteriaSummary | None
    band: calc.BandResult | None
    totals: dict[str, Any]
    inconsistencies: list[calc.Inconsistency] = field(default_factory=list)
    poverty: calc.PovertyProgress | None = None

    @property
    def year(self) -> int:
        return int(self.params["year"])

    @property
    def commune(self):
        return self.facts.commune

    def text(self, template: str) -> str:
        """Fill ``{commune_name}``-style fields of a narrative text.

        Raises :class:`ParameterError` naming an unknown field, so a typo in
        the narrative fails the run instead of printing braces.
        """
        values = {
            "commune_name": self.commune.name,
            "district_name": self.commune.district_name or "",
            "province_name": self.commune.province_name,
            "year": str(self.year),
            "next_year": str(self.year + 1),
        }
        for _, name, spec, conv in string.Formatter().parse(template):
            if name is not None and (name not in values or spec or conv):
                raise ParameterError(
                    f"unknown field {{{name}}} in the narrative text {template[:50]!r}...; "
                    f"known fields: {', '.join('{' + f + '}' for f in TEXT_FIELDS)}",
                    parameter="narrative",
                )
        return template.format_map(values)

    def report_date(self) -> tuple[int | None, int, int]:
        """(day or None for a draft, month, year) of the ``report_date`` parameter."""
        parts = [int(p) for p in self.params["report_date"].split("-")]
        if len(parts) == 2:
            dt.date(parts[0], parts[1], 1)
            return None, parts[1], parts[0]
        day = dt.date(parts[0], parts[1], parts[2])
        return day.day, day.month, day.year


def prepare_report(namespace: Mapping[str, Any], data_dir=None) -> ReportContext:
    """Validate the parameters found in ``namespace`` and compute the report.

    Parameters
    ----------
    namespace:
        A mapping holding every report parameter by name, such as the
        notebook's ``globals()`` after the parameters cell (extra names are
        ignored).
    data_dir:
        Data folder; ``None`` means ``<project>/data``.

    Raises
    ------
    ParameterError
        A parameter is missing or fails the schema.
    DataError
        The data of the commune or the reference tables fail their checks.
    """
    names = parameter_names()
    missing = [n for n in names if n not in namespace]
    if missing:
        raise ParameterError(f"missing parameter(s) {', '.join(missing)}")
    params = {n: namespace[n] for n in names}
    validate_params(params)

    reset_inputs_read()
    year = int(params["year"])
    criteria_set = load_criteria_set(params["criteria_set"], data_dir)
    advanced_set = (
        load_criteria_set(params["advanced_criteria_set"], data_dir)
        if params["advanced_criteria_set"] else None
    )
    facts = load_commune_facts(params["commune"], year, data_dir)
    band_rule = load_band_rule(data_dir)

    def summary(cset: CriteriaSet | None, y: int) -> calc.CriteriaSummary | None:
        if cset is None:
            return None
        rows = calc.statuses_for(facts.criteria_status, cset.set_id, y)
        return calc.summarise_criteria(rows, cset) if len(rows) else None

    current = summary(criteria_set, year)
    previous = summary(criteria_set, year - 1)
    changes = calc.criteria_changes(previous, current) if current and previous else None
    band = calc.classify_band(current, criteria_set, band_rule) if current else None

    totals = calc.quarterly_totals(facts.quarterly)
    subject = Subject(facts, load_criteria_sets(data_dir), criteria_set, advanced_set)
    problems: list[calc.Inconsistency] = list(rule_warnings(subject, data_dir))
    poverty = calc.poverty_progress(facts.poverty)
    return ReportContext(
        params=params,
        facts=facts,
        criteria_set=criteria_set,
        advanced_set=advanced_set,
        header_style=load_header_style(params["header_style"], data_dir),
        band_rule=band_rule,
        status_labels=load_status_labels(data_dir),
        current=current,
        previous=previous,
        changes=changes,
        advanced=summary(advanced_set, year),
        band=band,
        totals=totals,
        inconsistencies=problems,
        poverty=poverty,
    )


def figures_of(ctx: ReportContext) -> list[dict[str, Any]]:
    """The key figures to record in the executed notebook, as keyword
    arguments of :func:`ntm_lib.record.record` (name, value, unit,
    description, sources). Input files are those the loaders read."""
    files = {f["path"]: f for f in inputs_read()}
    base = f"data/communes/{ctx.commune.code}/"

    def src(*names: str) -> list[dict]:
        return [{"path": base + n} for n in names if base + n in files]

    out: list[dict[str, Any]] = [
        dict(name="commune_code", value=ctx.commune.code, unit=None, description="Commune code"),
        dict(name="commune_name", value=ctx.commune.name, unit=None, description="Commune name"),
        dict(name="year", value=ctx.year, unit="year", description="Year reported on"),
        dict(name="criteria_set", value=ctx.criteria_set.set_id, unit=None,
             description=f"Criteria set ({ctx.criteria_set.legal_source})"),
        dict(name="set_size", value=ctx.criteria_set.size, unit="criteria",
             description="Number of criteria in the set"),
    ]
    status = src("criteria_status.csv")
    if ctx.current:
        out += [
            dict(name="criteria_met", value=ctx.current.met_count, unit="criteria",
                 description="Criteria met at the end of the year", sources=status),
            dict(name="criteria_met_numbers", value=ctx.current.met, unit="criterion numbers",
                 sources=status),
            dict(name="criteria_not_met", value=ctx.current.not_met_count, unit="criteria",
                 description="Criteria not met at the end of the year", sources=status),
            dict(name="criteria_not_met_numbers", value=ctx.current.not_met,
                 unit="criterion numbers", sources=status),
            dict(name="percent_not_met", value=round(ctx.current.percent_not_met, 4),
                 unit="percent", sources=status),
        ]
    if ctx.changes:
        out += [
            dict(name="criteria_gained", value=ctx.changes.gained, unit="criterion numbers",
                 description="Not met last year, met this year", sources=status),
            dict(name="criteria_lost", value=ctx.changes.lost, unit="criterion numbers",
                 description="Met last year, not met this year", sources=status),
        ]
    if ctx.advanced:
        out += [
            dict(name="advanced_set", value=ctx.advanced.set_id, unit=None),
            dict(name="advanced_met", value=ctx.advanced.met_count, unit="criteria", sources=status),
            dict(name="advanced_met_numbers", value=ctx.advanced.met, unit="criterion numbers",
                 sources=status),
        ]
    if ctx.band:
        out += [
            dict(name="band", value=ctx.band.band_id, unit=None,
                 description=f"Band of criteria not met ({ctx.band.legal_source})", sources=status),
            dict(name="band_key_criteria", value=[n for n, _ in ctx.band.key_criteria_not_met],
                 unit="criterion numbers", sources=status),
            dict(name="recognition_at_risk", value=ctx.band.recognition_withdrawn, unit=None,
                 description=f"Recognition withdrawn under {ctx.band.legal_source}", sources=status),
        ]
    quarterly = src("quarterly.csv")
    for key, unit in (("documents_issued", "documents"), ("visits", "visits"),
                      ("support_million_vnd", "million VND")):
        out.append(dict(name=f"year_{key}", value=ctx.totals.get(key), unit=unit,
                        description="Sum of the quarters", sources=quarterly))
    if ctx.poverty:
        pov = src("poverty.csv")
        out += [
            dict(name="poverty_reduction_points", value=ctx.poverty.reduction_points,
                 unit="percentage points", sources=pov),
            dict(name="poverty_plan_points", value=ctx.poverty.plan_reduction_points,
                 unit="percentage points", sources=pov),
            dict(name="poverty_percent_of_plan", value=ctx.poverty.percent_of_plan,
                 unit="percent of plan", sources=pov),
        ]
    out.append(dict(name="data_warnings", value=[p.message for p in ctx.inconsistencies],
                    unit=None, description="Consistency warnings"))
    out.append(dict(name="inputs", value=list(files.values()), unit=None,
                    description="Input files read, with SHA-256"))
    return out
