"""The key figures a report records in its executed notebook, each with the
input files and rows it came from, so an auditor can trace any number back
to its data (``ntm trace``).

Row numbers are those a person sees in the file (the CSV header is row 1).
"""
from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from .context import ReportContext


def _source(frame: pd.DataFrame, mask: Iterable[bool] | None = None) -> list[dict[str, Any]]:
    """``[{"path", "rows"}]`` of the rows of ``frame`` where ``mask`` holds."""
    path, rows = frame.attrs.get("file"), frame.attrs.get("rows")
    if not path:
        return []
    if rows is None or len(rows) != len(frame):
        return [{"path": path}]
    mask = [True] * len(frame) if mask is None else list(mask)
    return [{"path": path, "rows": [int(r) for r, keep in zip(rows, mask) if keep]}]


def _status_rows(ctx: ReportContext, set_id: str, years: Iterable[int],
                 criteria: Iterable[int] | None = None, status: str | None = None):
    frame = ctx.facts.criteria_status
    mask = frame["set_id"].eq(set_id) & frame["year"].isin(list(years))
    if criteria is not None:
        mask &= frame["criterion"].isin(list(criteria))
    if status is not None:
        mask &= frame["status"].eq(status)
    return _source(frame, mask)


def figures_of(ctx: ReportContext) -> list[dict[str, Any]]:
    """The figures to record, as keyword arguments of
    :func:`ntm_lib.record.record`: ``name``, ``value``, ``unit``,
    ``description``, ``sources`` (``[{"path", "rows"}]``)."""
    y, cset = ctx.year, ctx.criteria_set.set_id
    out: list[dict[str, Any]] = [
        dict(name="commune_code", value=ctx.commune.code, description="Commune code"),
        dict(name="commune_name", value=ctx.commune.name, description="Commune name"),
        dict(name="year", value=y, unit="year", description="Year reported on"),
        dict(name="criteria_set", value=cset,
             description=f"Criteria set ({ctx.criteria_set.legal_source})"),
        dict(name="set_size", value=ctx.criteria_set.size, unit="criteria",
             description="Number of criteria in the set"),
    ]
    if ctx.current:
        cur = ctx.current
        met = _status_rows(ctx, cset, [y], status="met")
        not_met = _status_rows(ctx, cset, [y], status="not_met")
        year_rows = _status_rows(ctx, cset, [y])
        out += [
            dict(name="criteria_met", value=cur.met_count, unit="criteria",
                 description="Criteria met at the end of the year", sources=met),
            dict(name="criteria_met_numbers", value=cur.met, unit="criterion numbers", sources=met),
            dict(name="criteria_not_met", value=cur.not_met_count, unit="criteria",
                 description="Criteria not met at the end of the year", sources=not_met),
            dict(name="criteria_not_met_numbers", value=cur.not_met, unit="criterion numbers",
                 sources=not_met),
            dict(name="percent_not_met", value=round(cur.percent_not_met, 4), unit="percent",
                 description="Criteria not met over the set size", sources=year_rows),
        ]
    if ctx.changes:
        ch = ctx.changes
        out += [
            dict(name="criteria_gained", value=ch.gained, unit="criterion numbers",
                 description="Not met last year, met this year",
                 sources=_status_rows(ctx, cset, [y - 1, y], ch.gained)),
            dict(name="criteria_lost", value=ch.lost, unit="criterion numbers",
                 description="Met last year, not met this year",
                 sources=_status_rows(ctx, cset, [y - 1, y], ch.lost)),
        ]
    if ctx.advanced:
        adv = _status_rows(ctx, ctx.advanced.set_id, [y], status="met")
        out += [
            dict(name="advanced_set", value=ctx.advanced.set_id,
                 description=f"Advanced criteria set ({ctx.advanced_set.legal_source})"),
            dict(name="advanced_met", value=ctx.advanced.met_count, unit="criteria", sources=adv),
            dict(name="advanced_met_numbers", value=ctx.advanced.met, unit="criterion numbers",
                 sources=adv),
        ]
    if ctx.band:
        band = ctx.band
        keys = [n for n, _ in band.key_criteria_not_met]
        out += [
            dict(name="band", value=band.band_id,
                 description=f"Band of criteria not met ({band.legal_source})",
                 sources=_status_rows(ctx, cset, [y], status="not_met")),
            dict(name="band_key_criteria", value=keys, unit="criterion numbers",
                 sources=_status_rows(ctx, cset, [y], keys)),
            dict(name="recognition_at_risk", value=band.recognition_withdrawn,
                 description=f"Recognition withdrawn under {band.legal_source}",
                 sources=_status_rows(ctx, cset, [y], status="not_met")),
        ]
    quarterly = _source(ctx.facts.quarterly)
    for key, unit in (("documents_issued", "documents"), ("visits", "visits"),
                      ("support_million_vnd", "million VND")):
        out.append(dict(name=f"year_{key}", value=ctx.totals.get(key), unit=unit,
                        description="Sum of the quarters", sources=quarterly))
    if ctx.poverty:
        pov = [{"path": f"data/communes/{ctx.commune.code}/poverty.csv"}]
        out += [
            dict(name="poverty_reduction_points", value=ctx.poverty.reduction_points,
                 unit="percentage points", sources=pov),
            dict(name="poverty_plan_points", value=ctx.poverty.plan_reduction_points,
                 unit="percentage points", sources=pov),
            dict(name="poverty_percent_of_plan", value=ctx.poverty.percent_of_plan,
                 unit="percent of plan", sources=pov),
        ]
    out.append(dict(name="data_warnings", value=[p.message for p in ctx.inconsistencies],
                    description="Consistency warnings"))
    out.append(dict(name="secrets_given", value=[n for n, v in ctx.secrets.items() if v],
                    description="Secret parameters the run received (names only)"))
    out.append(dict(name="inputs", value=ctx.inputs.entries(),
                    description="Input files read, with SHA-256 and row count"))
    return out
