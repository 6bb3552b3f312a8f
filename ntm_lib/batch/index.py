"""``build/<year>/index.html``: every report of a year, its status and links.

A static page (no script, nothing fetched) rebuilt at the end of every batch
from the archive itself, so runs made with ``ntm run`` are listed too. One
row per commune with runs archived for the year: its status in the latest
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

from ..run.runs import ArchivedRun, commune_slugs, latest_ok, newest_run, relative
from ..safeio import atomic_write, check_within
from ..templating import render, text

_LINKS = (("HTML", "report.html"), ("PDF", "report.pdf"),
          ("notebook", "commune_report.ipynb"), ("manifest", "manifest.json"))


def _links(run: ArchivedRun | None, page_dir: Path, names=_LINKS) -> list[dict[str, str]]:
    """Links (``href``, ``label``) to those of ``names`` that ``run`` holds."""
    if run is None:
        return []
    return [{"href": text(relative(path, page_dir)), "label": text(label)}
            for label, path in ((label, run.file(name)) for label, name in names)
            if path is not None]


def _row(n: int, build: Path, year: int, slug: str, entry: dict[str, Any],
         page_dir: Path) -> dict[str, Any]:
    """The values of one commune's row."""
    ok, newest = latest_ok(build, year, slug), newest_run(build, year, slug)
    commune = ((ok or newest).manifest.get("commune") if (ok or newest) else None) or {}
    status = entry.get("status") or (newest.status if newest else "")
    error = entry.get("error") or (newest.manifest.get("error") if newest and
                                   newest.status == "failed" else None) or {}
    failed_run = newest if newest and newest.status == "failed" and (
        ok is None or newest.run_dir.name > ok.run_dir.name) else None
    shown_error = failed_links = None
    if error and status in ("failed", "interrupted"):
        cell = error.get("cell", error.get("cell_index"))
        where = f"cell {cell}: " if cell not in (None, -1) else ""
        shown_error = text(where + (error.get("message") or ""))
        if failed_run:
            failed_links = _links(failed_run, page_dir, _LINKS[2:])
    code = commune.get("code") or entry.get("code") or ""
    return {
        "n": n, "code": text(code), "synthetic": str(code).startswith("9"),
        "name": text(commune.get("name") or entry.get("name") or ""),
        "district": text(commune.get("district_name")),
        "status": text(status), "status_class": text(str(status).replace(" ", "-")),
        "error": shown_error, "failed_run": failed_links,
        "seconds": text(entry.get("seconds")), "run_id": text(ok.run_id if ok else ""),
        "links": _links(ok, page_dir),
    }


def write_index(build: Path, year: int, record: dict[str, Any] | None = None) -> Path:
    """Write ``build/<year>/index.html``; return its path.

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
    slugs = sorted(set(commune_slugs(build, year)) | set(in_batch))
    rows = [_row(n, build, year, slug, in_batch.get(slug) or {}, page_dir)
            for n, slug in enumerate(slugs, start=1)]
    rollups = [{
        "title": text(item.get("title")), "status": text(item.get("status")),
        "links": [{"href": text(os.path.relpath(build / path, page_dir)), "label": text(label)}
                  for label, path in (item.get("links") or {}).items()],
    } for item in record.get("rollups", [])]
    counts = record.get("counts") or {}
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    page = render("batch/index.html.j2", year=text(year), rows=rows, rollups=rollups,
                  summary=text(summary), when=text(record.get("ended_utc") or ""))
    return atomic_write(page_dir / "index.html", page, within=build)
