"""Build one commune-year report end to end: check parameters, execute the
notebook, render HTML and PDF, write the manifest, archive the run.

This is what ``ntm run`` calls; tests call it directly.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ExecutionError, NotebookError, NtmError, ParameterError
from ..fonts import report_serif
from ..load import resolve_commune
from ..params import load_params, notebook_defaults, parameter_names
from ..paths import build_dir, notebooks_dir, params_dir, project_root, relative_to_root
from ..record import read_figures
from . import archive
from .execute import execute_notebook
from .manifest import SCHEMA, environment, sha256_file, write_manifest

NOTEBOOK_NAME = "commune_report.ipynb"


@dataclass
class RunResult:
    """Outcome of :func:`build_report`.

    ``status`` is ``"ok"`` or ``"failed"``; ``run_dir`` the archived run
    folder; ``latest`` the ``build/<year>/<slug>`` pointer (``None`` for a
    failed run, whose pointer is left as it was); ``outputs`` file name ->
    path; ``timings`` seconds per step; ``error`` the failure, if any.
    """

    run_id: str
    status: str
    run_dir: Path
    latest: Path | None
    outputs: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    error: NtmError | None = None


def default_params_path(year: int, slug: str) -> Path:
    """``params/<year>/<slug>.yaml``."""
    return params_dir() / str(year) / f"{slug}.yaml"


def check_notebook_takes(notebook: Path, names: list[str]) -> None:
    """The notebook's parameters cell must define exactly the schema's
    parameters, so nothing injected is silently ignored or left unset."""
    defaults = notebook_defaults(notebook)
    missing = [n for n in names if n not in defaults]
    extra = [n for n in defaults if n not in names]
    if missing or extra:
        raise NotebookError(
            "the parameters cell does not match the parameter schema"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; not in the schema: {', '.join(extra)}" if extra else ""),
            file=relative_to_root(notebook),
        )


def build_report(
    commune_key: str,
    year: int,
    *,
    params_path: str | Path | None = None,
    notebook: str | Path | None = None,
    build: str | Path | None = None,
    kernel_name: str = "python3",
) -> RunResult:
    """Build, render and archive one report.

    Parameters
    ----------
    commune_key:
        Commune code ("02881") or slug ("nam-mon").
    year:
        Year reported on.
    params_path:
        Params YAML; default ``params/<year>/<slug>.yaml``.
    notebook:
        Report notebook; default ``notebooks/commune_report.ipynb``.
    build:
        Output root; default ``<project>/build``.

    Returns
    -------
    RunResult
        ``status == "failed"`` when a notebook cell raised: the run folder then
        keeps the executed notebook and a manifest with the error.

    Raises
    ------
    UnknownCommuneError, ParameterError, NotebookError, DataError
        Problems found before execution; nothing is written.
    RenderError, GlyphMissingError
        Rendering failed; the partial run is removed.
    """
    started = dt.datetime.now(dt.timezone.utc)
    commune = resolve_commune(str(commune_key))
    params_path = Path(params_path) if params_path else default_params_path(year, commune.slug)
    if not params_path.exists():
        raise ParameterError(
            f"no parameters for {commune.name} ({commune.code}) {year}: create "
            f"{relative_to_root(params_path)} (copy another year's file and edit it)",
        )
    params = load_params(params_path)
    shown = relative_to_root(params_path)
    if params["commune"] != commune.code or params["year"] != int(year):
        raise ParameterError(
            f"this file is for commune {params['commune']}, year {params['year']}, "
            f"not {commune.code}, {year}", file=shown,
        )
    notebook = Path(notebook) if notebook else notebooks_dir() / NOTEBOOK_NAME
    if not notebook.exists():
        raise NotebookError("report notebook not found", file=relative_to_root(notebook))
    check_notebook_takes(notebook, parameter_names())

    build = Path(build) if build else build_dir()
    run_id = archive.new_run_id(started)
    partial = archive.start_run(build, int(year), commune.slug, run_id)
    executed = partial / NOTEBOOK_NAME
    timings: dict[str, float] = {}
    font = report_serif()
    manifest: dict[str, Any] = {
        "schema": SCHEMA,
        "run_id": run_id,
        "commune": {
            "code": commune.code, "name": commune.name,
            "district_code": commune.district_code, "district_name": commune.district_name,
            "province_code": commune.province_code, "province_name": commune.province_name,
            "slug": commune.slug,
        },
        "year": int(year),
        "parameters": params,
        "params_file": {"path": shown, "sha256": sha256_file(params_path)},
        "notebook_template": {"path": relative_to_root(notebook), "sha256": sha256_file(notebook)},
        "started_utc": started.isoformat(timespec="seconds"),
        "environment": environment({"family": font.family, "source": font.source}),
    }
    try:
        try:
            execution = execute_notebook(notebook, executed, params, cwd=project_root(),
                                         kernel_name=kernel_name)
        except ExecutionError as exc:
            manifest.update(status="failed", error={**exc.to_dict(), "cell_index": exc.failure.cell_index,
                                                    "exec_count": exc.failure.exec_count,
                                                    "ename": exc.failure.ename,
                                                    "evalue": exc.failure.evalue})
            return _finish_failed(partial, run_id, manifest, executed, exc)
        timings.update(kernel_start=execution.kernel_start, execution=execution.cells,
                       papermill_total=execution.total)
        figures = read_figures(executed)
        manifest["inputs"] = figures["inputs"].value if "inputs" in figures else []

        from ..render import render_html, render_pdf  # heavy imports, only when rendering

        title = f"Báo cáo năm {year} - xã {commune.name}"
        t0 = time.perf_counter()
        html = render_html(executed, partial / "report.html", title=title)
        timings["html"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        pdf = render_pdf(html, partial / "report.pdf")
        timings["pdf"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        outputs = {p.name: p for p in (executed, html, pdf)}
        manifest.update(
            status="ok",
            outputs={name: sha256_file(p) for name, p in outputs.items()},
            ended_utc=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            timings={k: round(v, 4) for k, v in timings.items()},
        )
        write_manifest(partial / "manifest.json", manifest)
        run_dir = archive.finish_run(partial, run_id)
        latest = archive.point_latest(build, int(year), commune.slug, run_dir)
        timings["archive"] = time.perf_counter() - t0
    except BaseException:
        archive.discard_run(partial)
        raise
    return RunResult(run_id, "ok", run_dir, latest,
                     {name: run_dir / name for name in (*outputs, "manifest.json")}, timings)


def _finish_failed(partial: Path, run_id: str, manifest: dict, executed: Path,
                   error: ExecutionError) -> RunResult:
    """Archive a failed run: keep the executed notebook, leave the pointer."""
    manifest["ended_utc"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    manifest["outputs"] = {executed.name: sha256_file(executed)} if executed.exists() else {}
    write_manifest(partial / "manifest.json", manifest)
    run_dir = archive.finish_run(partial, run_id)
    error.file = relative_to_root(run_dir / executed.name)
    return RunResult(run_id, "failed", run_dir, None,
                     {name: run_dir / name for name in (*manifest["outputs"], "manifest.json")},
                     {}, error)
