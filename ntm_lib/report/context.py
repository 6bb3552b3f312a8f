"""Everything one commune report needs, gathered once: parameters, loaded
data, and every computed figure. The notebook builds one
:class:`ReportContext` and hands it to the section and chart functions, so a
number appears in the report only if it is computed here from data.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from .. import calc
from ..errors import ParameterError
from ..load import (
    CommuneFacts,
    CriteriaSet,
    HeaderStyle,
    BandRule,
    load_band_rule,
    load_commune_facts,
    load_criteria_set,
    load_criteria_sets,
    load_header_style,
    load_status_labels,
    InputLog,
    collect_inputs,
)
from ..load.periods import in_force, load_period, load_programmes
from ..params import (
    parameter_defaults,
    parameter_names,
    secret_env_name,
    secret_names,
    validate_params,
)
from ..validate import Subject, rule_warnings



@dataclass
class ReportContext:
    """Parameters, data and figures of one commune-year report.

    Attributes
    ----------
    params:
        The validated parameters (``ntm_lib/params/schema.v1.json``), secret
        ones excluded.
    secrets:
        Secret parameters (schema ``"x-secret"``) by name, ``None`` when not
        given; never recorded or shown.
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
    inputs:
        :class:`ntm_lib.load.InputLog` of the files read to prepare the
        report (the layouts the notebook shows are added to it).
    period:
        The :class:`ntm_lib.load.periods.ReportPeriod` reported on; the
        statuses are those of its last day, the totals those of its quarters.
    programmes:
        The national target programmes in force in the period
        (``programmes.csv`` rows).
    header_style, band_rule, status_labels:
        Reference data used for the layout and wording.
    """

    params: dict[str, Any]
    secrets: dict[str, str | None]
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
    inputs: InputLog = field(default_factory=InputLog)
    period: Any = None
    programmes: list = field(default_factory=list)

    @property
    def year(self) -> int:
        return int(self.params["year"])

    @property
    def commune(self):
        return self.facts.commune

    def report_date(self) -> tuple[int | None, int, int]:
        """(day or None for a draft, month, year) of the ``report_date`` parameter."""
        parts = [int(p) for p in self.params["report_date"].split("-")]
        if len(parts) == 2:
            dt.date(parts[0], parts[1], 1)
            return None, parts[1], parts[0]
        day = dt.date(parts[0], parts[1], parts[2])
        return day.day, day.month, day.year


def prepare_report(params: Mapping[str, Any], *, data_dir=None) -> ReportContext:
    """Validate ``params`` and compute the report.

    Parameters
    ----------
    params:
        The report parameters, as :func:`ntm_lib.params.load_params` returns
        them from a params file (every parameter of
        ``ntm_lib/params/schema.v1.json`` but the secret ones, which come
        from ``NTM_SECRET_<NAME>`` environment variables).
    data_dir:
        Data folder; ``None`` means ``<project>/data``.

    Returns
    -------
    ReportContext
        With ``inputs``: the files read to prepare it (path, SHA-256, rows).

    Raises
    ------
    ParameterError
        A parameter is missing or fails the schema.
    DataError
        The data of the commune or the reference tables fail their checks.
    """
    secret = set(secret_names())
    names = [n for n in parameter_names() if n not in secret]
    missing = [n for n in names if n not in params and n not in parameter_defaults()]
    if missing:
        raise ParameterError(f"missing parameter(s) {', '.join(missing)}")
    given = params
    defaults = parameter_defaults()
    params = {n: given[n] if n in given else defaults[n] for n in names}
    validate_params(params)
    # Secrets arrive through the kernel's environment (see ntm_lib.run.report),
    # so they never appear in the notebook's injected cell.
    secrets = {n: given.get(n) or os.environ.get(secret_env_name(n)) for n in sorted(secret)}
    with collect_inputs() as log:
        return _compute(params, secrets, data_dir, log)


def _compute(params, secrets, data_dir, log: InputLog) -> ReportContext:
    year = int(params["year"])
    period = load_period(params["period"], data_dir)
    start, end = period.start(year), period.end(year)
    all_sets = load_criteria_sets(data_dir)
    criteria_set = _criteria_set(all_sets, params["criteria_set"])
    advanced_set = (
        _criteria_set(all_sets, params["advanced_criteria_set"])
        if params["advanced_criteria_set"] else None
    )
    facts = load_commune_facts(params["commune"], year, data_dir)
    band_rule = load_band_rule(data_dir)

    def summary(cset: CriteriaSet | None, y: int) -> calc.CriteriaSummary | None:
        if cset is None:
            return None
        rows = calc.statuses_at(facts.criteria_status, cset.set_id, y,
                                end if y == year else None)
        return calc.summarise_criteria(rows, cset) if len(rows) else None

    current = summary(criteria_set, year)
    previous = summary(criteria_set, year - 1)
    changes = calc.criteria_changes(previous, current) if current and previous else None
    # A band is stated only under a rule that governs the period (Decision
    # 18/2022 governs 2021-2025; none is known for 2026-2030).
    band = (calc.classify_band(current, criteria_set, band_rule)
            if current and in_force(band_rule, start, end) else None)

    totals = calc.quarterly_totals(facts.quarterly, period.quarters)
    subject = Subject(facts, all_sets, criteria_set, advanced_set)
    problems: list[calc.Inconsistency] = list(rule_warnings(subject, data_dir, period.period_id))
    poverty = calc.poverty_progress(facts.poverty)
    header_style = load_header_style(params["header_style"], data_dir)
    status_labels = load_status_labels(data_dir)
    return ReportContext(
        params=params,
        secrets=secrets,
        facts=facts,
        criteria_set=criteria_set,
        advanced_set=advanced_set,
        header_style=header_style,
        band_rule=band_rule,
        status_labels=status_labels,
        current=current,
        previous=previous,
        changes=changes,
        advanced=summary(advanced_set, year),
        band=band,
        totals=totals,
        inconsistencies=problems,
        poverty=poverty,
        inputs=log,
        period=period,
        programmes=[p for p in load_programmes(data_dir).values() if in_force(p, start, end)],
    )


def _criteria_set(sets: Mapping[str, CriteriaSet], set_id: str) -> CriteriaSet:
    """``sets[set_id]``, or the error :func:`ntm_lib.load.load_criteria_set` gives."""
    return sets[set_id] if set_id in sets else load_criteria_set(set_id)
