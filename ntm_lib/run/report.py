"""Build one commune-year report end to end: check parameters, execute the
notebook, render HTML and PDF, package the run as evidence, archive it.

This is what ``ntm run`` calls; tests call it directly. The steps, each
timed in the manifest:

1. checks before anything is written: commune, params file, notebook;
2. papermill executes the notebook in its own kernel (secret parameters go
   through the kernel's environment, never into the notebook);
3. the executed notebook is normalised (volatile times move to the manifest);
4. nbconvert renders the HTML, WeasyPrint the PDF;
5. the inputs read are copied, the run becomes a BagIt bag with
   ``manifest.json`` as a tag file, the folder is moved into place and the
   latest pointer updated.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..errors import (DiskFullError, ExecutionError, NotebookError, NtmError, ParameterError,
                      RenderError)
from ..fonts import report_serif
from ..load import resolve_commune
from ..params import load_params, notebook_defaults, secret_env_name, secret_names
from ..paths import build_dir, notebooks_dir, params_dir, project_root, relative_to_root
from .. import redact
from ..notebook.parts import left_out
from ..record import read_figures
from ..safeio import atomic_write
from . import archive
from .codecopy import keep_library_copy, library_changed
from .bag import copy_inputs, make_run_bag, payload_path
from .execute import CELL_TIMEOUT, START_TIMEOUT, execute_notebook
from .manifest import SCHEMA, environment, sha256_file
from .normalize import normalise_notebook, template_cell_ids
from .signals import deferred_interrupts

NOTEBOOK_NAME = "commune_report.ipynb"
#: What the report notebook's parameters cell defines and papermill injects:
#: the commune code, the year and the params file (relative to the project),
#: from which the notebook reads everything else (ntm_lib.notebook.start).
NOTEBOOK_PARAMETERS = ("commune", "year", "params_file")
REDACTED = redact.REDACTED


@dataclass
class RunResult:
    """Outcome of :func:`build_report`.

    ``status`` is ``"ok"`` or ``"failed"``; ``run_dir`` the archived run (a
    BagIt bag); ``latest`` the ``build/<year>/<slug>`` pointer when it now
    names this run (``None`` for a failed run, whose pointer is left as it
    was, and when a run of the same commune that started later is already
    there); ``outputs`` file name ->
    path inside the run (the notebook, HTML and PDF under ``data/``, and
    ``manifest.json``); ``timings`` seconds per step; ``error`` the failure.
    """

    run_id: str
    status: str
    run_dir: Path
    latest: Path | None
    outputs: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    error: NtmError | None = None
    #: Outputs of cells that do not reach the document (printed text, plain
    #: values), as :func:`ntm_lib.notebook.left_out` lists them.
    left_out: list = field(default_factory=list)
    #: Ctrl-C or SIGTERM came once the run was archived: it was finished (and
    #: is complete); the caller says so rather than treat it as interrupted.
    interrupted: bool = False


def report_slug(slug: str, period: str | None) -> str:
    """The name of a report's params file and folders: the commune's slug
    for a year report (``nam-mon``), with the period after it otherwise
    (``nam-mon-6m``)."""
    return slug if period in (None, "year") else f"{slug}-{period}"


def default_params_path(year: int, slug: str, period: str | None = None) -> Path:
    """``params/<year>/<slug>.yaml``; ``params/<year>/<slug>-<period>.yaml``
    for a report of a period other than the year."""
    return params_dir() / str(year) / f"{report_slug(slug, period)}.yaml"


def check_notebook_takes(notebook: Path, names: list[str]) -> None:
    """The notebook's parameters cell must define exactly the parameters
    papermill injects (:data:`NOTEBOOK_PARAMETERS`), so nothing injected is
    silently ignored or left unset."""
    defaults = notebook_defaults(notebook)
    missing = [n for n in names if n not in defaults]
    extra = [n for n in defaults if n not in names]
    if missing or extra:
        raise NotebookError(
            "the parameters cell does not define the parameters ntm run injects"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; not injected by ntm run: {', '.join(extra)}" if extra else ""),
            file=relative_to_root(notebook),
        )


@contextmanager
def _secrets_in_environment(secrets: dict[str, str]) -> Iterator[None]:
    """Expose secrets to the kernel (it inherits this process's environment)
    for the duration of the execution only."""
    saved = {name: os.environ.get(secret_env_name(name)) for name in secrets}
    os.environ.update({secret_env_name(n): v for n, v in secrets.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(secret_env_name(name), None)
            else:
                os.environ[secret_env_name(name)] = value


def _redact(path: Path, secrets: dict[str, str]) -> int:
    """Replace any secret value a cell printed (also as JSON escapes it);
    return how many were found."""
    data = path.read_bytes()
    values = sorted((v for v in secrets.values() if v), key=len, reverse=True)
    count = redact.count_secrets(data.decode("utf-8"), values)
    cleaned = redact.redact_bytes(data, values)
    if cleaned != data:
        atomic_write(path, cleaned, redact=False)
    return max(count, int(cleaned != data))


def _bagging_date(started: dt.datetime) -> dt.date:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    return started.date()


def build_report(
    commune_key: str,
    year: int,
    *,
    params_path: str | Path | None = None,
    notebook: str | Path | None = None,
    build: str | Path | None = None,
    kernel_name: str = "python3",
    start_timeout: int = START_TIMEOUT,
    cell_timeout: int = CELL_TIMEOUT,
    check_data: bool = True,
    period: str | None = None,
    docx: bool = True,
) -> RunResult:
    """Build, render and archive one report.

    Parameters
    ----------
    commune_key:
        Commune code ("02881") or slug ("nam-mon").
    year:
        Year reported on.
    params_path:
        Params YAML; default ``params/<year>/<slug>.yaml``. Secret parameters
        come from ``NTM_SECRET_<NAME>`` environment variables instead.
    notebook:
        Report notebook; default ``notebooks/commune_report.ipynb``.
    build:
        Output root; default ``<project>/build``.
    kernel_name, start_timeout, cell_timeout:
        Kernel to run in; seconds allowed for it to start and for any one
        cell (a cell over time fails the run, named like any failing cell).
    check_data:
        Check the data and reference tables here, before a kernel starts
        (default): a bad cell then raises :class:`DataError` and nothing is
        written. With False (``ntm batch``) the notebook's own check finds
        it: the run fails in that cell, keeps its executed notebook (whose
        error names file, row and column) and is archived as failed, like
        any other failure of a batch, and the tables are read once, not
        twice.
    docx:
        Also write ``report.docx`` (Word, from the HTML: :mod:`ntm_lib.render.docx_report`),
        timed as ``docx``; False (``--no-docx``) leaves it out.

    Returns
    -------
    RunResult
        ``status == "failed"`` when a notebook cell raised or the HTML or PDF
        could not be made (e.g. a character without a glyph): the run folder
        then keeps the executed notebook, what was rendered, and a manifest
        with the error; the latest pointer is left as it was.

    Raises
    ------
    UnknownCommuneError, ParameterError, NotebookError, DataError
        Problems found before execution (data included when ``check_data``);
        nothing is written.
    EvidenceError
        An input changed during the run; the partial run is removed.
    OptionError, UnsafePathError
        ``build`` is a file, or a folder of its archive is a file or a
        symbolic link leading out of it; refused before a kernel starts.
    DiskFullError
        The disk filled up; the partial run is removed (a run already moved
        into place is kept) and the latest link is left as it was.
    """
    started = dt.datetime.now(dt.timezone.utc)
    commune = resolve_commune(str(commune_key), year=int(year))
    given_params = params_path is not None
    params_path = (Path(params_path) if params_path
                   else default_params_path(year, commune.slug, period))
    if period is not None:
        from ..load.periods import load_period

        load_period(period)  # an unknown period is named before any file is looked for
    if not params_path.exists() and given_params:
        raise ParameterError("params file not found", file=relative_to_root(params_path))
    if not params_path.exists():
        raise ParameterError(
            f"no parameters for {commune.name} ({commune.code}) {year}: create "
            f"{relative_to_root(params_path)} (copy another year's file and edit it)",
        )
    params = load_params(params_path)
    shown = relative_to_root(params_path)
    if period is not None and params["period"] != period:
        raise ParameterError(f"this file is for the period {params['period']}, not {period}",
                             file=shown, parameter="period")
    slug = report_slug(commune.slug, params["period"])
    if params["commune"] != commune.code or params["year"] != int(year):
        raise ParameterError(
            f"this file is for commune {params['commune']}, year {params['year']}, "
            f"not {commune.code}, {year}", file=shown,
        )
    build = Path(build) if build else build_dir()
    archive.check_archive(build, int(year), slug)  # a file or a link out: refused now
    # Data and reference tables are checked here, before a kernel starts:
    # a bad cell is reported with its file, row and column, and no run is made.
    if check_data:
        from ..report import prepare_report

        prepare_report(params)
    secrets = {n: os.environ[secret_env_name(n)] for n in secret_names()
               if os.environ.get(secret_env_name(n))}
    notebook = Path(notebook) if notebook else notebooks_dir() / NOTEBOOK_NAME
    if not notebook.exists():
        raise NotebookError("report notebook not found", file=relative_to_root(notebook))
    check_notebook_takes(notebook, list(NOTEBOOK_PARAMETERS))

    run_id = archive.new_run_id(started)
    partial = archive.partial_folder(build, int(year), slug, run_id)
    try:  # an interrupt even inside start_run leaves nothing of this run
        archive.start_run(build, int(year), slug, run_id)
        manifest, font = _new_manifest(run_id, commune, year, params, secrets, shown, params_path,
                                       notebook, started)
        environment_ = manifest["environment"]
        if library_changed(environment_["library_sha256"], str(project_root())):
            # The commit does not say which code ran: keep the code itself.
            environment_["library_copy"] = keep_library_copy(build, environment_["library_sha256"])
    except BaseException as exc:  # interrupted already: nothing of this run is left
        archive.discard_run(partial)
        if isinstance(exc, Exception) and archive.is_disk_full_error(exc):
            raise _disk_full(build, int(year), slug, run_id) from None
        raise
    executed = partial / NOTEBOOK_NAME
    timings: dict[str, float] = {}
    try:
        failure: NtmError | None = None
        try:
            injected = {"commune": commune.code, "year": int(year), "params_file": shown}
            from ..render import warm

            # The renderers' set-up overlaps the execution (this process only waits for it).
            warming = warm.start(docx=docx)
            with _secrets_in_environment(secrets):
                execution = execute_notebook(notebook, executed, injected, cwd=project_root(),
                                             kernel_name=kernel_name,
                                             start_timeout=start_timeout,
                                             cell_timeout=cell_timeout)
            timings.update(kernel_start=execution.kernel_start, execution=execution.cells,
                           papermill_total=execution.total)
        except ExecutionError as exc:
            failure = exc
        if archive.is_disk_full_error(failure):
            raise failure  # not a failed notebook: the run cannot be archived at all
        if not executed.exists():
            raise failure or NotebookError("papermill wrote no notebook")
        manifest["execution"] = normalise_notebook(executed, template_cell_ids(notebook))
        manifest["redacted_secrets"] = _redact(executed, secrets)
        manifest["left_out_outputs"] = left_out(json.loads(executed.read_text(encoding="utf-8")))
        figures = read_figures(executed)
        inputs = figures["inputs"].value if "inputs" in figures else []
        outputs = [executed]
        warm.finish(warming)  # renders run alone: nothing else runs when they fork
        if failure is None:
            from ..render import render_html, render_pdf  # heavy imports, only when rendering

            from ..load.periods import load_period

            title = (f"Báo cáo {load_period(params['period']).title(year)} - "
                     f"{commune.type_vi} {commune.name}")
            author = " ".join(params["issuing_body"])
            try:
                t0 = time.perf_counter()
                html = render_html(executed, partial / "report.html", title=title, author=author)
                timings["html"] = time.perf_counter() - t0
                outputs.append(html)
                t0 = time.perf_counter()
                outputs.append(render_pdf(html, partial / "report.pdf"))
                timings["pdf"] = time.perf_counter() - t0
                if docx:
                    from ..render.docx_report import default_reference, render_docx

                    t0 = time.perf_counter()
                    outputs.append(render_docx(html, partial / "report.docx", title=title,
                                               author=author))
                    timings["docx"] = time.perf_counter() - t0
                    # The Word styles are an input like the layouts: hashed, copied, fingerprinted.
                    inputs = [*inputs, {"path": relative_to_root(default_reference()),
                                        "sha256": sha256_file(default_reference())}]
            except RenderError as exc:  # kept as a failed run, with what was made
                if archive.is_disk_full_error(exc):
                    raise
                failure = exc

        t0 = time.perf_counter()
        extra = [{"path": shown, "sha256": manifest["params_file"]["sha256"]},
                 {"path": manifest["notebook_template"]["path"],
                  "sha256": manifest["notebook_template"]["sha256"]}]
        manifest["inputs"] = copy_inputs(partial, [*inputs, *extra])[: len(inputs)]
        manifest["outputs"] = {p.name: sha256_file(p) for p in outputs}
        manifest["status"] = "ok" if failure is None else "failed"
        if isinstance(failure, ExecutionError):
            failure.file = relative_to_root(build / "archive" / str(year) / slug
                                            / run_id / "data" / NOTEBOOK_NAME)
            manifest["error"] = {**failure.to_dict(), "step": "execution",
                                 "cell_index": failure.failure.cell_index,
                                 "exec_count": failure.failure.exec_count,
                                 "ename": failure.failure.ename, "evalue": failure.failure.evalue}
        elif failure is not None:
            manifest["error"] = {**failure.to_dict(), "step": "render"}
        manifest["ended_utc"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        manifest["timings"] = {k: round(v, 4) for k, v in timings.items()}
        make_run_bag(partial, manifest, bagging_date=_bagging_date(started))
        with deferred_interrupts() as interrupts:  # archived from here on: finish the steps
            run_dir = archive.finish_run(partial, run_id)
            latest = None
            if failure is None and archive.point_latest(build, int(year), slug, run_dir):
                latest = archive.latest_link(build, int(year), slug)
        timings["archive"] = time.perf_counter() - t0
    except BaseException as exc:
        archive.discard_run(partial)
        if isinstance(exc, Exception) and archive.is_disk_full_error(exc):
            raise _disk_full(build, int(year), slug, run_id) from None
        raise
    files = {p.name: payload_path(run_dir, p.name) for p in outputs}
    files["manifest.json"] = run_dir / "manifest.json"
    return RunResult(run_id, manifest["status"], run_dir, latest, files, timings, failure,
                     manifest["left_out_outputs"], interrupted=bool(interrupts))


def _disk_full(build: Path, year: int, slug: str, run_id: str) -> DiskFullError:
    """The one-line error of a run the disk had no room for: what is left."""
    final = archive.commune_archive(build, year, slug) / run_id
    if final.is_dir():  # archived; only the latest link could not be moved
        return DiskFullError("disk full: the run was archived, but the latest link could not "
                             "be moved to it; earlier runs are unchanged",
                             file=relative_to_root(final))
    return DiskFullError("disk full: the run could not be written; the unfinished run was "
                         "removed, earlier runs and the latest link are unchanged",
                         file=relative_to_root(archive.commune_archive(build, year, slug)))


def _new_manifest(run_id, commune, year, params, secrets, shown, params_path, notebook,
                  started) -> tuple[dict[str, Any], Any]:
    """The manifest of a new run, before execution, and the report font."""
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
        "period": params["period"],
        "year": int(year),
        "parameters": params,
        "secret_parameters_given": sorted(secrets),
        "params_file": {"path": shown, "sha256": sha256_file(params_path)},
        "notebook_template": {"path": relative_to_root(notebook), "sha256": sha256_file(notebook)},
        "started_utc": started.isoformat(timespec="seconds"),
        "environment": environment({"family": font.family, "source": font.source}),
    }
    return manifest, font
