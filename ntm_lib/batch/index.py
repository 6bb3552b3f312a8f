"""``build/<year>/index.html``: every report of a year, its status and links.

A static page (no script, nothing fetched) rebuilt at the end of every batch
from the archive itself, so runs made with ``ntm run`` are listed too. One
row per commune with runs archived for the year, grouped by province: with
more than one province (3,321 communes over 34 at the country's size) the
page opens with a table of contents (each province, its communes and how
many failed, a link to its table) and a list of the communes that failed,
each linked to its row; with one province it is a single table. Each
commune's runs are read once (:mod:`ntm_lib.batch.scan`). A row gives its status in the latest
batch (or, for a commune outside it, that of its newest run), and links to
the HTML, PDF, executed notebook and manifest of its latest successful run;
when the newest run failed, the failing cell and error, with links to that
run's notebook and manifest. The roll-up reports are linked above the table.
Links go to the archived run folders themselves, relative to the page.

The page is the template ``ntm_lib/batch/templates/index.html.j2``
(:mod:`ntm_lib.templating`); this module only prepares its values. Every
text taken from a record or manifest (commune names, errors, titles) is
redacted (:func:`ntm_lib.templating.text`, :mod:`ntm_lib.redact`) and then
HTML-escaped by the template, so neither a secret nor markup (a ``<script>``
in a commune name) reaches the page.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..redact import redact_text, secret_values
from ..run.runs import ArchivedRun, relative
from ..safeio import atomic_write, check_within
from ..templating import render, text
from .scan import CommuneRuns, scan_year

_LINKS = (("HTML", "report.html"), ("PDF", "report.pdf"),
          ("notebook", "commune_report.ipynb"), ("manifest", "manifest.json"))


def _links(run: ArchivedRun | None, page_dir: Path, names=_LINKS, text=text
           ) -> list[dict[str, str]]:
    """Links (``href``, ``label``) to those of ``names`` that ``run`` holds
    (an output under ``data/`` in a bag, beside ``manifest.json`` otherwise)."""
    if run is None:
        return []
    folder = str(run.run_dir)
    base = relative(run.run_dir, page_dir)
    links = []
    for label, name in names:
        for where in (("data", name), (name,)) if name != "manifest.json" else ((name,),):
            if os.path.isfile(os.path.join(folder, *where)):
                links.append({"href": text("/".join((base, *where))), "label": label})
                break
    return links


def _row(n: int, runs: CommuneRuns, entry: dict[str, Any], page_dir: Path,
         text=text) -> dict[str, Any]:
    """The values of one commune's row (``text``: :func:`ntm_lib.templating.text`,
    or the same with the secrets read once for the page)."""
    ok, newest = runs.ok, runs.newest
    commune = (runs.run.manifest.get("commune") if runs.run else None) or {}
    status = entry.get("status") or (newest.status if newest else "")
    error = entry.get("error") or (newest.manifest.get("error") if newest and
                                   newest.status == "failed" else None) or {}
    failed_run = newest if runs.newer_failed else None
    shown_error = failed_links = None
    if error and status in ("failed", "interrupted"):
        cell = error.get("cell", error.get("cell_index"))
        where = f"cell {cell}: " if cell not in (None, -1) else ""
        shown_error = text(where + (error.get("message") or ""))
        if failed_run:
            failed_links = _links(failed_run, page_dir, _LINKS[2:], text)
    code = commune.get("code") or entry.get("code") or ""
    return {
        "n": n, "id": text(f"xa-{runs.slug}"), "code": text(code),
        "synthetic": str(code).startswith("9"),
        "province_code": commune.get("province_code") or entry.get("province_code") or "",
        "province": commune.get("province_name") or "",
        "problem": status in ("failed", "interrupted"),
        "name": text(commune.get("name") or entry.get("name") or ""),
        "district": text(commune.get("district_name")),
        "status": text(status), "status_class": text(str(status).replace(" ", "-")),
        "error": shown_error, "failed_run": failed_links,
        "seconds": text(entry.get("seconds")), "run_id": text(ok.run_id if ok else ""),
        "links": _links(ok, page_dir, text=text),
    }


def _groups(rows: list[dict[str, Any]], text=text) -> list[dict[str, Any]]:
    """Rows by province (code order; communes without a known province
    last), numbered through the page; each group with its anchor, title and counts."""
    by_code: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_code.setdefault(row["province_code"], []).append(row)
    groups, n = [], 0
    for code in sorted(by_code, key=lambda c: (c == "", c)):
        members = by_code[code]
        for row in members:
            n += 1
            row["n"] = n
        name = next((r["province"] for r in members if r["province"]), "")
        groups.append({"id": text(f"tinh-{code or 'khac'}"),
                       "title": text(f"{name} ({code})" if code else "Chưa rõ tỉnh"),
                       "rows": members, "problems": sum(r["problem"] for r in members)})
    return groups


def write_index(build: Path, year: int, record: dict[str, Any] | None = None, *,
                scan: dict[str, CommuneRuns] | None = None) -> Path:
    """Write ``build/<year>/index.html``; return its path. ``scan``: the
    archive read once already (:func:`~ntm_lib.batch.scan.scan_year`).

    Raises
    ------
    UnsafePathError
        ``build/<year>`` leads out of ``build`` through a symbolic link, or a
        folder stands where the page goes.
    DiskFullError
        The disk filled up (the previous page is left whole).
    """
    page_dir = build / str(year)
    check_within(page_dir, build)
    page_dir.mkdir(parents=True, exist_ok=True)
    record = record or {}
    in_batch = {c["slug"]: c for c in record.get("communes", [])}
    scanned = dict(scan) if scan is not None else scan_year(build, year)
    scanned.update(scan_year(build, year, set(in_batch) - set(scanned)))
    secrets = secret_values()  # once for the page: 50,000 values at 3,321 communes

    def page_text(value: Any) -> str:
        return redact_text("" if value is None else str(value), secrets)

    rows = [_row(0, scanned[slug], in_batch.get(slug) or {}, page_dir, page_text)
            for slug in sorted(scanned)]
    groups = _groups(rows, page_text)
    rollups = [{
        "title": text(item.get("title")), "status": text(item.get("status")),
        "links": [{"href": text(os.path.relpath(build / path, page_dir)), "label": text(label)}
                  for label, path in (item.get("links") or {}).items()],
    } for item in record.get("rollups", [])]
    counts = record.get("counts") or {}
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    page = render("batch/index.html.j2", year=text(year), rows=rows, groups=groups,
                  problems=[r for g in groups for r in g["rows"] if r["problem"]],
                  rollups=rollups,
                  summary=text(summary), when=text(record.get("ended_utc") or ""))
    return atomic_write(page_dir / "index.html", page, within=build)
