"""Build a roll-up report: execute ``notebooks/province_summary.ipynb`` in its
own kernel, render HTML and PDF as for a commune report, archive the run.

Runs go to ``build/archive/<year>/rollup-<scope>-<code>/<run_id>/``
(``rollup-national/`` for the whole country, when neither a province nor a
district is named; never
overwritten; a partial folder is moved into place when complete), holding
``province_summary.ipynb``, ``report.html``, ``report.pdf`` and
``manifest.json`` (schema ``ntm.rollup.v1``: parameters, the template's
and every input's SHA-256, outputs, environment, times). The HTML links each
row to the exact commune run it read, relative to the roll-up's own folder
(``build/<year>/index.html`` links to that folder); in the PDF the links
are inert.

Secrets (:mod:`ntm_lib.redact`) are replaced in the executed notebook
before it is read or rendered; the manifest and HTML are written through
:func:`ntm_lib.safeio.atomic_write`, which redacts too.

A roll-up is skipped when its last successful run read exactly the commune
runs it would read now (same archived files, same hashes) with the same
template, reference tables and library.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ExecutionError
from ..paths import build_dir, notebooks_dir, project_root, relative_to_root
from ..redact import redact_bytes
from ..safeio import atomic_write, sha256_file
from .collect import planned_inputs
from ..run.runs import ROLLUP_PREFIX, read_run, relative
from .sections import LINK_ATTR

NOTEBOOK_NAME = "province_summary.ipynb"
SCHEMA = "ntm.rollup.v1"
PARTIAL_PREFIX = ".partial-"


@dataclass
class RollupResult:
    """``status``: ``ran``, ``skipped`` (up to date) or ``failed``; ``run_dir``
    the archived run; ``outputs`` file name -> path; ``error`` the failure."""

    status: str
    title: str
    run_dir: Path | None = None
    run_id: str | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
    reason: str = ""
    error: dict[str, Any] | None = None
    seconds: float = 0.0


def scope_folder(build: Path, year: int, province: str | None, district: str | None) -> Path:
    scope = (f"district-{district}" if district else f"province-{province}" if province
             else "national")
    return build / "archive" / str(year) / f"{ROLLUP_PREFIX}{scope}"


def last_ok(folder: Path):
    """The newest successful roll-up run in ``folder``, or None."""
    if not folder.is_dir():
        return None
    for run_dir in sorted((p for p in folder.iterdir() if p.is_dir() and p.name[:1].isdigit()),
                          reverse=True):
        run = read_run(run_dir)
        if run and run.status == "ok":
            return run
    return None


def _fresh(run, build: Path, year: int, province, district, template: Path,
           scan=None) -> str | None:
    """Why the roll-up must be built again, or None when ``run`` is up to date."""
    from ..run.manifest import library_digest as library_sha256
    from ..safeio import sha256_now

    if run is None:
        return "no successful roll-up yet"
    m = run.manifest
    if (m.get("notebook_template") or {}).get("sha256") != sha256_now(template):
        return "notebook template changed"
    if (m.get("environment") or {}).get("library_sha256") != library_sha256():
        return "library changed"
    inputs = m.get("inputs") or {}
    recorded = sorted(i["path"] for i in inputs.get("runs", []))
    paths, missing = planned_inputs(build, year, province=province, district=district,
                                    scan=scan)
    if recorded != paths or sorted(inputs.get("missing", [])) != missing:
        return "commune runs changed"
    for item in inputs.get("reference", []):
        if sha256_now(project_root() / item["path"]) != item["sha256"]:
            return f"input changed: {item['path']}"
    return None


def _activate_links(html_path: Path) -> None:
    """``<a href="#" data-ntm-href="X">`` -> ``<a href="X">`` in the roll-up's
    HTML (attributes in any order)."""
    target = re.compile(rf'\s{LINK_ATTR}="([^"]*)"')

    def activate(match: re.Match) -> str:
        tag = match.group(0)
        href = target.search(tag).group(1)
        return target.sub("", tag).replace('href="#"', f'href="{href}"')

    text = html_path.read_text(encoding="utf-8")
    atomic_write(html_path, re.sub(rf'<a\b[^>]*\b{LINK_ATTR}="[^"]*"[^>]*>', activate, text))


def _redact_notebook(path: Path) -> None:
    """Replace any secret value the roll-up's cells printed (in any of the
    forms :func:`ntm_lib.redact.secret_forms` lists: JSON, HTML, URL) in the
    executed notebook, before anything reads, renders or hashes it."""
    if path.exists():
        data = path.read_bytes()
        cleaned = redact_bytes(data)
        if cleaned != data:
            atomic_write(path, cleaned, redact=False)


def build_rollup(
    year: int,
    *,
    province: str | None = None,
    district: str | None = None,
    build: str | Path | None = None,
    notebook: str | Path | None = None,
    kernel_name: str = "python3",
    force: bool = False,
    scan: dict | None = None,
) -> RollupResult:
    """Build (or skip, when up to date) the roll-up of a province or
    district; neither: the national roll-up of every commune archived for
    ``year``. ``scan``: a pass over the archive already made
    (:func:`ntm_lib.batch.scan.scan_year`), for the incremental check.

    Raises
    ------
    NtmError
        Rendering failed (the partial run is removed). A failing notebook
        cell is not raised: the run is archived with ``status: failed``.
    """
    from ..run import execute_notebook, write_manifest
    from ..run.manifest import environment

    began = time.perf_counter()
    started = dt.datetime.now(dt.timezone.utc)
    build = Path(build).resolve() if build else build_dir()
    template = Path(notebook) if notebook else notebooks_dir() / NOTEBOOK_NAME
    folder = scope_folder(build, int(year), province, district)
    title = (f"district {district} {year}" if district else f"province {province} {year}"
             if province else f"national {year}")
    reason = "forced" if force else _fresh(last_ok(folder), build, int(year), province,
                                           district, template, scan)
    if reason is None:
        run = last_ok(folder)
        title = run.manifest.get("title") or title  # "Báo cáo tổng hợp năm ... - tỉnh ..."
        return RollupResult("skipped", title, run.run_dir, run.run_id, run.outputs(),
                            "unchanged since run " + run.run_id)
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    final = folder / run_id
    partial = folder / f"{PARTIAL_PREFIX}{run_id}"
    partial.mkdir(parents=True)
    executed = partial / NOTEBOOK_NAME
    parameters = {"year": int(year), "province": province, "district": district,
                  "build": str(build), "link_base": str(final)}
    manifest: dict[str, Any] = {
        "schema": SCHEMA, "run_id": run_id, "year": int(year),
        "scope": {"province": province, "district": district},
        "parameters": parameters,
        "notebook_template": {"path": relative_to_root(template), "sha256": sha256_file(template)},
        "started_utc": started.isoformat(timespec="seconds"),
        "environment": environment(),
    }
    timings: dict[str, float] = {}
    try:
        try:
            t0 = time.perf_counter()
            try:
                execute_notebook(template, executed, parameters, cwd=project_root(),
                                 kernel_name=kernel_name)
            finally:
                _redact_notebook(executed)
            timings["execution"] = time.perf_counter() - t0
        except ExecutionError as exc:
            manifest.update(status="failed", error={**exc.to_dict(),
                                                    "cell_index": exc.failure.cell_index,
                                                    "ename": exc.failure.ename,
                                                    "evalue": exc.failure.evalue})
            manifest["outputs"] = {executed.name: sha256_file(executed)} if executed.exists() else {}
            manifest["ended_utc"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            write_manifest(partial / "manifest.json", manifest)
            partial.rename(final)
            return RollupResult("failed", title, final, run_id,
                                {executed.name: final / executed.name}, reason,
                                {"message": str(exc), "cell": exc.failure.cell_index},
                                time.perf_counter() - began)
        from ..record import read_figures
        from ..render import render_html, render_pdf

        figures = read_figures(executed)
        manifest["inputs"] = figures["inputs"].value if "inputs" in figures else {}
        t0 = time.perf_counter()
        scope_name = _scope_name(build, manifest, province, district)
        title = f"Báo cáo tổng hợp năm {year} - {scope_name}"
        html = render_html(executed, partial / "report.html", title=title)
        timings["html"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        pdf = render_pdf(html, partial / "report.pdf")  # links inert in the PDF
        timings["pdf"] = time.perf_counter() - t0
        _activate_links(html)
        outputs = {p.name: p for p in (executed, html, pdf)}
        manifest.update(status="ok", title=title,
                        outputs={n: sha256_file(p) for n, p in outputs.items()},
                        ended_utc=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                        timings={k: round(v, 4) for k, v in timings.items()})
        write_manifest(partial / "manifest.json", manifest)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    files = {n: final / n for n in (*outputs, "manifest.json")}
    return RollupResult("ran", title, final, run_id, files, reason, None,
                        time.perf_counter() - began)


def _scope_name(build: Path, manifest: dict, province, district) -> str:
    """"tỉnh Lào Cai" / "huyện Bắc Hà", from the first commune run read;
    "toàn quốc" for the national roll-up."""
    if not (province or district):
        return "toàn quốc"
    for item in (manifest.get("inputs") or {}).get("runs", []):
        if item["path"].endswith("manifest.json"):
            run = read_run((build / item["path"]).parent)
            commune = (run.manifest.get("commune") if run else None) or {}
            if district and commune.get("district_name"):
                return f"huyện {commune['district_name']}"
            if not district and commune.get("province_name"):
                return f"tỉnh {commune['province_name']}"
    return f"{'huyện' if district else 'tỉnh'} {district or province}"


def rollup_links(result: RollupResult, base: Path) -> dict[str, str]:
    """Links of a roll-up's outputs relative to ``base`` (e.g. the build folder)."""
    labels = {"report.html": "HTML", "report.pdf": "PDF", NOTEBOOK_NAME: "notebook",
              "manifest.json": "manifest"}
    return {labels[n]: relative(p, base) for n, p in result.outputs.items() if n in labels}
