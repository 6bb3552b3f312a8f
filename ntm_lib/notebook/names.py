"""The names an analyst may use in the report's prose: one reference table
(:data:`NAMES`) and the values built from a
:class:`~ntm_lib.report.context.ReportContext` (:func:`report_names`).

The same names serve the notebook's ``%%report`` cells, the layouts beside
the notebook (``notebooks/layouts/*.html.j2``) and a commune's free text in
its params file (``narrative``, ``recipients``), where ``{{ commune.name }}``
or ``{{ criteria.not_met_count }}`` state computed facts. Every value comes
from ``ntm_lib``: nothing here is typed by hand.

Units: counts are whole numbers; ``*_percent`` values are percent (31.58
means 31.58 %); ``*_points`` values are percentage points; money is million
VND; dates are :class:`datetime.date`.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

#: (name, meaning, unit or shape). The reference analysts read (the README
#: table is checked against it by the tests).
NAMES: tuple[tuple[str, str, str], ...] = (
    ("commune", "the commune: .code, .name, .kind (xã, phường...), .district (None after "
     "01/7/2025), .district_kind, .province, .province_kind", "object"),
    ("year", "year reported on", "year"),
    ("period", "the report period: .id (q1-q4, 6m, 9m, year), .label (\"6 tháng đầu năm\"), "
     ".title (\"6 tháng đầu năm 2026\", \"năm 2023\"), .next_title (the period the plans are "
     "for: \"6 tháng cuối năm 2026\", \"năm 2024\"), .is_year, .quarters, .start, .end "
     "(dates), .missing_quarters (quarters of the period without data)", "object"),
    ("programmes", "the national target programmes in force in the period: .name, "
     ".legal_source", "list"),
    ("predecessors", "the units the commune was formed from (2025 merger): .code, .name, "
     ".kind, .district, .split (only part of it came in); empty on the old map", "list"),
    ("next_year", "year + 1", "year"),
    ("previous_year", "year - 1", "year"),
    ("criteria", "the criteria set at the end of the year: .size, .set_name, .legal_source, "
     ".met, .not_met, .no_data (lists of criteria with .number, .name), .met_count, "
     ".not_met_count, .no_data_count, .percent_met, .percent_not_met (percent); None "
     "when no status is recorded", "object or None"),
    ("previous", "the same as criteria, at the end of the previous year", "object or None"),
    ("changes", "since the previous year: .gained, .lost (lists of criteria), .any (bool)",
     "object or None"),
    ("advanced", "the advanced set: .set_name, .legal_source, .issued_on (date), .as_of "
     "(date of the statuses or None), .size, .met, .met_count; None when not assessed",
     "object or None"),
    ("band", "band of criteria not met: .label, .legal_source, .not_met_count, .size, "
     ".percent_not_met (percent), .key_criteria_not_met (names), .recognition_withdrawn",
     "object or None"),
    ("poverty", "poverty: .reduction_points, .plan_points (percentage points), "
     ".rate_start_percent, .rate_end_percent, .percent_of_plan (percent of plan), "
     ".standard; None without data, and in a report of part of the year (the figures are "
     "the year's)", "object or None"),
    ("totals", "sums of the quarters: .documents_issued, .visits, .support_million_vnd "
     "(million VND), .criteria_met, .criteria_registered (of the last quarter)", "object"),
    ("quarters", "appendix rows: .quarter (1-4), .documents_issued, .visits, "
     ".support_million_vnd, .criteria_met, .criteria_registered", "list"),
    ("documents", "documents issued in the period: .kind, .number, .issued_on (date), .title",
     "list"),
    ("support", "material support: .description, .recipient_count, .recipient_unit, "
     ".amount_million_vnd (million VND, or None)", "list"),
    ("warnings", "messages of the consistency rules that failed (Vietnamese)", "list of text"),
    ("illustrative", "True when a figure of the commune's data for the year is illustrative "
     "(its source column says so): the report must say it", "bool"),
    ("narrative", "the commune's free text from its params file, already filled: "
     ".direction, .expertise_help, .programme_results, .plans, .difficulties (lists), "
     ".recommendations.province/.district/.commune (lists), .closing", "object"),
    ("document", "the document's own lines: .issuing_body (lines), .issuing_body_short, "
     ".number (or None for a draft), .code, .number_line (\"Số 12-BC/HNDT\"), .reference "
     "(the same without \"Số\"), .place, .place_date, .date "
     "(dd/mm/yyyy or ……/mm/yyyy), .signer_capacity, .signer_title, .signer_name, "
     ".recipients (filled)", "object"),
    ("header_style", "the header layout: .style_id, .right_line1, .right_line2, "
     ".asterisk_under_body", "object"),
)

#: Names a free text of a params file may use: everything but the narrative
#: itself and the document lines that are filled from it.
FREE_TEXT_NAMES = tuple(n for n, _, _ in NAMES if n not in ("narrative", "document"))

_SUMMARY = ("size", "set_id", "set_name", "legal_source", "met", "not_met", "no_data",
            "met_count", "not_met_count", "no_data_count", "percent_met", "percent_not_met")
#: The attributes of each name that is an object, as :func:`report_names`
#: makes them (a test keeps the two equal on the samples): what a params
#: file's free text is checked against before a run
#: (``{{ criteria.met_cnt }}`` is refused there, naming its line).
ATTRIBUTES: dict[str, frozenset[str]] = {name: frozenset(attrs) for name, attrs in {
    "commune": ("code", "name", "kind", "district", "district_kind", "province",
                "province_kind"),
    "period": ("id", "label", "title", "next_title", "is_year", "quarters", "start", "end",
               "missing_quarters"),
    "criteria": _SUMMARY,
    "previous": _SUMMARY,
    "changes": ("gained", "lost", "any"),
    "advanced": (*_SUMMARY, "issued_on", "as_of", "assessed"),
    "band": ("band_id", "label", "legal_source", "not_met_count", "size", "percent_not_met",
             "key_criteria_not_met", "recognition_withdrawn"),
    "poverty": ("reduction_points", "plan_points", "rate_start_percent", "rate_end_percent",
                "percent_of_plan", "standard"),
    "totals": ("documents_issued", "visits", "support_million_vnd", "criteria_met",
               "criteria_registered"),
    "header_style": ("style_id", "right_line1", "right_line2", "asterisk_under_body",
                     "verified", "number_format", "issued_on", "note", "legal_source"),
}.items()}


class Record(dict):
    """A mapping whose keys read as attributes too (``criteria.met_count``);
    an unknown attribute is an error, named, when the template is strict."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


@dataclass(frozen=True)
class Criterion:
    """One criterion of a set: ``number`` and official ``name``."""

    number: int
    name: str

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"


def _criteria(cset, numbers) -> list[Criterion]:
    return [Criterion(int(n), cset.name_of(n)) for n in numbers]


def _summary(summary, cset) -> Record | None:
    if summary is None:
        return None
    size = summary.set_size
    return Record(
        size=size, set_id=cset.set_id, set_name=cset.name_vi, legal_source=cset.legal_source,
        met=_criteria(cset, summary.met), not_met=_criteria(cset, summary.not_met),
        no_data=_criteria(cset, summary.no_data), met_count=summary.met_count,
        not_met_count=summary.not_met_count, no_data_count=len(summary.no_data),
        percent_met=summary.met_count / size * 100 if size else None,
        percent_not_met=summary.not_met_count / size * 100 if size else None,
    )


def _value(v: Any) -> Any:
    """pandas' missing values as None, numpy scalars as Python numbers."""
    if v is None:
        return None
    try:
        if v != v:  # NaN
            return None
    except (TypeError, ValueError):
        return v
    if str(v) == "<NA>":
        return None
    return v.item() if hasattr(v, "item") else v


def _rows(frame, **renames: str) -> list[Record]:
    out = []
    for row in frame.to_dict("records"):
        out.append(Record({renames.get(k, k): _value(v) for k, v in row.items()
                           if k not in ("source", "year")}))
    return out


def report_names(ctx) -> Record:
    """The values of :data:`NAMES` for one report (``ctx``: a
    :class:`~ntm_lib.report.context.ReportContext`), without ``narrative``
    and ``document`` (added by :func:`ntm_lib.notebook.prose.names_for`,
    because they are themselves filled with these names)."""
    c = ctx.commune
    cset = ctx.criteria_set
    names = Record(
        commune=Record(code=c.code, name=c.name, kind=c.type_vi, district=c.district_name,
                       district_kind=c.district_type_vi, province=c.province_name,
                       province_kind=getattr(c, "province_type_vi", None)),
        year=ctx.year, next_year=ctx.year + 1, previous_year=ctx.year - 1,
        criteria=_summary(ctx.current, cset), previous=_summary(ctx.previous, cset),
        changes=None, advanced=None, band=None, poverty=None,
        header_style=ctx.header_style,
        warnings=[getattr(p, "message_vi", None) or p.message for p in ctx.inconsistencies],
    )
    if ctx.changes is not None:
        names["changes"] = Record(gained=_criteria(cset, ctx.changes.gained),
                                  lost=_criteria(cset, ctx.changes.lost),
                                  any=bool(ctx.changes.gained or ctx.changes.lost))
    if ctx.advanced_set is not None:
        aset = ctx.advanced_set
        status = ctx.facts.criteria_status
        as_of = status[(status["set_id"] == aset.set_id) & (status["year"] == ctx.year)]
        as_of = as_of["as_of"].dropna()
        adv = _summary(ctx.advanced, aset) or Record(size=aset.size, met=[], met_count=None)
        adv.update(set_name=aset.name_vi, legal_source=aset.legal_source,
                   issued_on=aset.issued_on, as_of=max(as_of) if len(as_of) else None,
                   assessed=ctx.advanced is not None)
        names["advanced"] = adv
    if ctx.band is not None:
        b = ctx.band
        names["band"] = Record(
            band_id=b.band_id, label=b.label_vi, legal_source=b.legal_source,
            not_met_count=b.not_met_count, size=b.set_size, percent_not_met=b.percent_not_met,
            key_criteria_not_met=[name for _, name in b.key_criteria_not_met],
            recognition_withdrawn=b.recognition_withdrawn)
    p = ctx.poverty
    # Poverty figures are the year's (poverty.csv): a report of part of the
    # year does not state them as its own.
    if p is not None and p.reduction_points is not None and ctx.period.is_year:
        names["poverty"] = Record(
            reduction_points=p.reduction_points, plan_points=p.plan_reduction_points,
            rate_start_percent=p.rate_start_percent, rate_end_percent=p.rate_end_percent,
            percent_of_plan=p.percent_of_plan, standard=p.standard)
    period, year = ctx.period, ctx.year
    names["period"] = Record(
        id=period.period_id, label=period.label_vi, title=period.title(year),
        next_title=period.next_title(year), is_year=period.is_year,
        quarters=list(period.quarters), start=period.start(year), end=period.end(year),
        missing_quarters=list(ctx.totals.get("missing_quarters") or []))
    names["programmes"] = [Record(name=p.fields["name_vi"], legal_source=p.fields["legal_source"])
                           for p in ctx.programmes]
    names["predecessors"] = [Record(code=u.code, name=u.name, kind=u.type_vi,
                                    district=u.district_name, split=getattr(u, "split", False))
                             for u in predecessors_of(c)]
    names["illustrative"] = _illustrative(ctx.facts, year)
    t = ctx.totals
    names["totals"] = Record({k: _value(t.get(k)) for k in (
        "documents_issued", "visits", "support_million_vnd", "criteria_met",
        "criteria_registered")})
    names["quarters"] = _rows(ctx.facts.quarterly.sort_values("quarter"))
    docs = ctx.facts.documents.sort_values("issued_on")
    start, end = period.start(year), period.end(year)
    docs = docs[[start <= as_date(d) <= end for d in docs["issued_on"]]] if len(docs) else docs
    names["documents"] = _rows(docs, kind_vi="kind", title_vi="title")
    names["support"] = _rows(ctx.facts.support, description_vi="description",
                             recipient_unit_vi="recipient_unit")
    return names


def _illustrative(facts, year: int) -> bool:
    """Whether a row of the commune's tables for ``year`` has a ``source``
    that says it is illustrative (not from a public source)."""
    frames = [facts.criteria_status, facts.quarterly, facts.documents, facts.support]
    rows = [facts.poverty, facts.year_stated]
    for frame in frames:
        if frame is None or "source" not in frame or not len(frame):
            continue
        of_year = frame[frame["year"] == year] if "year" in frame else frame
        if any("illustrative" in str(v).lower() for v in of_year["source"]):
            return True
    return any(r and "illustrative" in str(r.get("source", "")).lower() for r in rows)


def predecessors_of(commune) -> list:
    """The old-map units a new-map ``commune`` was formed from on 01/7/2025
    (:func:`ntm_lib.load.registry.predecessors`), in code order; empty for
    a unit of the old map."""
    from ..errors import UnknownCommuneError
    from ..load.registry import predecessors

    if commune.district_code:  # the district-era map: not formed by the merger
        return []
    try:
        return sorted(predecessors(commune.code), key=lambda u: u.code)
    except UnknownCommuneError:
        return []


def document_lines(ctx, fill) -> Record:
    """The ``document`` name: the header, signature and recipients' lines
    of the params file (``fill`` renders a free text with the names)."""
    p = ctx.params
    day, month, year = ctx.report_date()
    number = p["document_number"] or None
    from ..text import format_place_date

    number_line = ctx.header_style.number_format.format(number=number or "……",
                                                        code=p["document_code"])
    return Record(
        issuing_body=list(p["issuing_body"]), issuing_body_short=p["issuing_body_short"],
        number=number, code=p["document_code"],
        number_line=number_line,
        reference=re.sub(r"^\S+:?\s+", "", number_line, count=1),
        place=p["place"], place_date=format_place_date(p["place"], day, month, year),
        date=f"{day:02d}/{month:02d}/{year}" if day else f"……/{month:02d}/{year}",
        signer_capacity=p["signer_capacity"], signer_title=p["signer_title"],
        signer_name=p["signer_name"],
        recipients=[fill(r, f"recipients[{i}]") for i, r in enumerate(p["recipients"])],
    )


def as_date(value: Any) -> dt.date | None:
    """A date from a date, datetime, pandas Timestamp or ISO string."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date"):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])
