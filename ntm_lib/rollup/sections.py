"""The roll-up report's parts as HTML fragments (classes of the report CSS),
rendered from the templates in ``ntm_lib/rollup/templates`` (one per part,
:mod:`ntm_lib.templating`).

Links to the commune reports are written as ``<a href="#" data-ntm-href="...">``:
``render_html`` refuses links to local files in a report (a commune report
must stand alone), so :func:`ntm_lib.rollup.build.build_rollup` turns them
into real relative links in the roll-up's HTML after that check, and leaves
them inert in the PDF.

The functions here only prepare values: every text inserted (names, band
labels, errors, links) goes through :func:`ntm_lib.templating.text`
(secrets redacted, :mod:`ntm_lib.redact`) and is HTML-escaped by the
autoescaping template, so neither a secret nor markup from a commune's
record reaches the page. A value of ``None`` is shown as "không có số liệu".
"""
from __future__ import annotations

from typing import Any

from ..templating import render, text
from ..text import format_number, format_points
from .collect import RollupContext, RollupRow

LINK_ATTR = "data-ntm-href"
_LINK_LABELS = ("HTML", "PDF", "notebook", "manifest")


def _count(value: Any, size: int | None) -> str | None:
    """``13/19``; a recorded value that is not a whole number as it is;
    ``None`` when nothing was recorded."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return text(f"{value:02d}/{text(size)}" if size else str(value))
    return text(value)


def _poverty(r: RollupRow) -> dict[str, str | None] | None:
    if r.poverty_reduction_points is None:
        return None
    percent = r.poverty_percent_of_plan
    return {"points": text(format_points(r.poverty_reduction_points)),
            "percent": None if percent is None else text(format_number(percent))}


def title(ctx: RollupContext) -> str:
    """The document title, the scope and year, and where the figures come from."""
    where = ("trên cả nước" if ctx.scope == "national" else
             f"{'tỉnh' if ctx.scope == 'province' else 'huyện'} {ctx.name or ctx.code}")
    return render("rollup/title.html.j2", year=text(ctx.year), where=text(where),
                  communes=len(ctx.rows))


def commune_table(ctx: RollupContext, band_labels: dict[str, str],
                  advanced_sizes: dict[str, int]) -> str:
    """One row per commune: criteria met, band, advanced criteria, poverty
    change, links; for the national roll-up, one row per province instead
    (:func:`province_table`: 3,321 commune rows are the province roll-ups')."""
    if ctx.scope == "national":
        return province_table(ctx)
    rows = [{
        "n": n,
        "name": text(r.name or ""),
        "newer_run_failed": bool(r.newer_run_failed),
        "district": text(r.district_name or ""),
        "criteria": _count(r.criteria_met, r.set_size),
        "band": text(band_labels.get(r.band, r.band)) if r.band else None,
        "advanced": _count(r.advanced_met, advanced_sizes.get(r.advanced_set or "")),
        "poverty": _poverty(r),
        "links": [{"label": text(label), "target": text(r.links[label])}
                  for label in _LINK_LABELS if r.links.get(label)],
    } for n, r in enumerate(ctx.rows, start=1)]
    return render("rollup/commune_table.html.j2", rows=rows, link_attr=LINK_ATTR)


def province_table(ctx: RollupContext) -> str:
    """Per province: communes with a report, mean criteria met, communes at
    risk of losing recognition, communes without a report; and the country."""
    groups = ctx.by_province()
    rows = [{"n": n, "name": text(g["name"]), "communes": g["communes"],
             "mean": None if g["mean_criteria_met"] is None
             else text(format_number(g["mean_criteria_met"])),
             "at_risk": g["at_risk"], "missing": g["missing"]}
            for n, g in enumerate(groups, start=1)]
    met = [r.criteria_met for r in ctx.rows if isinstance(r.criteria_met, (int, float))]
    total = {"communes": len(ctx.rows), "at_risk": len(ctx.at_risk()),
             "missing": len(ctx.missing),
             "mean": text(format_number(round(sum(met) / len(met), 2))) if met else None}
    return render("rollup/province_table.html.j2", rows=rows, total=total)


def band_table(ctx: RollupContext, band_order: list[str], band_labels: dict[str, str]) -> str:
    """Communes by band (in ``band_order``), those without one, and the total."""
    counts = ctx.band_counts()
    bands = [{"label": text(band_labels.get(b, b)), "communes": counts.get(b, 0)}
             for b in band_order]
    return render("rollup/band_table.html.j2", bands=bands, no_data=counts.get(None, 0),
                  total=len(ctx.rows))


def at_risk(ctx: RollupContext, band_labels: dict[str, str]) -> str:
    """The communes whose band withdraws recognition, with their key criteria."""
    rows = [{
        "name": text(r.name or ""),
        "district": text(r.district_name or ""),
        "criteria": _count(r.criteria_met, r.set_size),
        "band": text(band_labels.get(r.band, r.band or "")),
        "key_criteria": text(", ".join(str(n) for n in r.band_key_criteria)),
    } for r in ctx.at_risk()]
    return render("rollup/at_risk.html.j2", rows=rows)


def missing(ctx: RollupContext) -> str:
    """The communes left out (every run failed) and why; empty when none."""
    communes = [{"name": text(m.get("name") or m["slug"]), "error": text(str(m.get("error")))}
                for m in ctx.missing]
    return render("rollup/missing.html.j2", communes=communes)
