"""``build/<year>/index.html``: every report of a year, its status and links.

A static page (no script, nothing fetched) rebuilt at the end of every batch
from the archive itself, so runs made with ``ntm run`` are listed too. One
row per commune with runs archived for the year: its status in the latest
batch (or, for a commune outside it, that of its newest run), and links to
the HTML, PDF, executed notebook and manifest of its latest successful run;
when the newest run failed, the failing cell and error, with links to that
run's notebook and manifest. The roll-up reports are linked above the table.
Links go to the archived run folders themselves, relative to the page.

Every text taken from a record or manifest (commune names, errors, titles)
is redacted (:mod:`ntm_lib.redact`) and then HTML-escaped, so neither a
secret nor markup (a ``<script>`` in a commune name) reaches the page.
"""
from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from ..redact import redact_text
from ..safeio import atomic_write, check_within
from ..rollup.runs import ArchivedRun, commune_slugs, latest_ok, newest_run, relative

_LINKS = (("HTML", "report.html"), ("PDF", "report.pdf"),
          ("notebook", "commune_report.ipynb"), ("manifest", "manifest.json"))
_STYLE = """
body { font-family: "Times New Roman", "Liberation Serif", serif; margin: 2em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
.ran, .ok, .skipped { color: #1b5e20; } .failed, .interrupted { color: #b71c1c; font-weight: bold; }
.error { font-size: 0.9em; } .synthetic { color: #6a1b9a; }
"""


def _links(run: ArchivedRun | None, page_dir: Path, names=_LINKS) -> str:
    if run is None:
        return ""
    parts = []
    for label, name in names:
        path = run.file(name)
        if path is not None:
            parts.append(f'<a href="{_esc(relative(path, page_dir))}">{_esc(label)}</a>')
    return " · ".join(parts)


def _esc(value: Any) -> str:
    """``value`` as HTML text (or attribute value): redacted, then escaped."""
    return html.escape(redact_text("" if value is None else str(value)))


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
    in_batch = {c["slug"]: c for c in (record or {}).get("communes", [])}
    rows = []
    slugs = sorted(set(commune_slugs(build, year)) | set(in_batch))
    for n, slug in enumerate(slugs, start=1):
        ok, newest = latest_ok(build, year, slug), newest_run(build, year, slug)
        entry = in_batch.get(slug) or {}
        commune = ((ok or newest).manifest.get("commune") if (ok or newest) else None) or {}
        status = entry.get("status") or (newest.status if newest else "")
        error = entry.get("error") or (newest.manifest.get("error") if newest and
                                       newest.status == "failed" else None) or {}
        failed_run = newest if newest and newest.status == "failed" and (
            ok is None or newest.run_dir.name > ok.run_dir.name) else None
        detail = ""
        if error and status in ("failed", "interrupted"):
            cell = error.get("cell", error.get("cell_index"))
            where = f"cell {cell}: " if cell not in (None, -1) else ""
            detail = f'<div class="error">{_esc(where + (error.get("message") or ""))}</div>'
            if failed_run:
                detail += ('<div class="error">failed run: '
                           + _links(failed_run, page_dir, _LINKS[2:]) + "</div>")
        name = commune.get("name") or entry.get("name") or ""
        code = commune.get("code") or entry.get("code") or ""
        klass = ' class="synthetic"' if str(code).startswith("9") else ""
        rows.append(
            f"<tr><td>{n}</td><td{klass}>{_esc(code)}</td><td{klass}>{_esc(name)}</td>"
            f"<td>{_esc(commune.get('district_name'))}</td>"
            f'<td class="{_esc(str(status).replace(" ", "-"))}">{_esc(status)}{detail}</td>'
            f"<td>{_esc(entry.get('seconds'))}</td>"
            f"<td>{_esc(ok.run_id if ok else '')}</td><td>{_links(ok, page_dir)}</td></tr>")
    rollups = []
    for item in (record or {}).get("rollups", []):
        links = " · ".join(
            f'<a href="{_esc(os.path.relpath(build / path, page_dir))}">{_esc(label)}</a>'
            for label, path in (item.get("links") or {}).items())
        rollups.append(f"<li>{_esc(item.get('title'))}: {_esc(item.get('status'))} {links}</li>")
    counts = (record or {}).get("counts") or {}
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    when = (record or {}).get("ended_utc") or ""
    page = f"""<!DOCTYPE html>
<html lang="vi">
<head><meta charset="utf-8"><title>Báo cáo năm {year}</title><style>{_STYLE}</style></head>
<body>
<h1>Báo cáo năm {year}: {len(slugs)} xã</h1>
<p>Đợt chạy gần nhất (latest batch): {_esc(summary) or "none"} {_esc(when)}
· <a href="batch.csv">batch.csv</a> · <a href="batch.json">batch.json</a></p>
{"<h2>Báo cáo tổng hợp (roll-up)</h2><ul>" + "".join(rollups) + "</ul>" if rollups else ""}
<table>
<thead><tr><th>#</th><th>Mã xã</th><th>Xã</th><th>Huyện</th><th>Status</th><th>Seconds</th>
<th>Run</th><th>Report</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""
    return atomic_write(page_dir / "index.html", page, within=build)
