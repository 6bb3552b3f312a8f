"""Reports built by Dask workers that share no disk with the batch.

A worker needs only ``ntm-workbook`` installed (the same library, checked
by digest). For each report the batch sends what it reads
(:mod:`ntm_lib.batch.shipping`): the shared parcel once per worker, the
report's own parcel with its task. The worker writes them into a private
project folder of its own (``NTM_HOME``), builds the report there with
:func:`ntm_lib.batch.worker.run_task`, as a pool worker does, and returns the
:class:`~ntm_lib.batch.worker.Outcome` and the finished run (its bag, as a
tar); the private folder is then emptied. The batch checks the bag
(:func:`receive`) and archives it into its own ``build/`` exactly as a local
run is archived: same layout, the latest link moved only for a successful
run that started last, nothing overwritten.

The manifest records the project as the batch's machine sees it (git
commit, whether the library differs from it: :func:`project_state`); its
paths are relative to the project, so the report files have the same bytes
as a local batch's.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import NtmError, UnsafePathError
from ..run import archive
from ..safeio import sha256_bytes
from . import shipping
from .plan import Task
from .worker import Outcome

#: The files at the top of a run's bag (all else is under ``data/``).
BAG_TAGS = ("bag-info.txt", "bagit.txt", "manifest-sha256.txt", "manifest.json",
            "tagmanifest-sha256.txt")

_lock = threading.Lock()  # one report at a time per worker process (NTM_HOME is global)
_here: dict[str, Any] = {}


class RefusedRun(NtmError):
    """A run returned by a worker failed its checks: it is not archived."""


def library() -> str:
    """This process's library digest (``environment.library_sha256``)."""
    from ..run.manifest import library_digest

    return library_digest()


def mismatch(worker_library: str, wanted: str, worker: str = "a Dask worker") -> str | None:
    """The message refusing a worker whose library differs, or None."""
    if worker_library == wanted:
        return None
    return (f"{worker} has another ntm_lib (library digest {worker_library[:12]}) than this "
            f"batch ({wanted[:12]}): install the same ntm-workbook there, then run again")


# ----------------------------------------------------------------------------- worker side


def _base(dask_worker: Any = None) -> Path:
    """This worker process's folder: in the Dask worker's scratch space (which
    Dask removes when the worker closes) when there is one, else a temporary
    folder removed when the process exits."""
    if "base" not in _here:
        root = getattr(dask_worker, "local_directory", None)
        if root is None:
            try:
                from distributed import get_worker

                root = get_worker().local_directory
            except (ImportError, ValueError, AttributeError):
                pass
        base = Path(tempfile.mkdtemp(prefix="ntm-project-", dir=root))
        import atexit

        atexit.register(shutil.rmtree, base, ignore_errors=True)
        _here["base"] = base
    return _here["base"]


def _project(shared: bytes | None, digest: str, notebook: str, dask_worker: Any = None) -> Path:
    """The private project holding the shared parcel ``digest`` (written
    when it changes); ``NTM_HOME`` points at it."""
    project = _base(dask_worker) / "project"
    if _here.get("shared") != digest:
        if shared is None:
            raise NtmError("the worker has not received the batch's shared files")
        if sha256_bytes(shared) != digest:
            raise UnsafePathError("the shared files arrived damaged (SHA-256 differs)")
        members = shipping.read_members(shared, limit=shipping.SHARED_BYTES, what="shared parcel",
                                        prefixes=(*shipping.SHARED_PREFIXES, notebook))
        shutil.rmtree(project, ignore_errors=True)
        project.mkdir(parents=True)
        (project / "params").mkdir()
        shipping.write_members(members, project)
        _here["shared"] = digest
    os.environ["NTM_HOME"] = str(project)
    return project


def _clear(project: Path) -> None:
    """Remove what one report brought or made: params, its tables, build."""
    for name in ("params", "data/communes", "build"):
        shutil.rmtree(project / name, ignore_errors=True)


def prepare(shared: bytes, digest: str, notebook: str, fork_kernels: bool,
            dask_worker: Any = None) -> dict[str, Any]:
    """Ready this worker (``client.run``): private project, report modules,
    kernel forker. Returns ``{"library", "pid"}``; nothing raised for a
    library that differs (the batch refuses it by the digest returned)."""
    from ..redact import install_stream_redaction
    from .worker import prepare_worker

    install_stream_redaction()
    with _lock:
        _project(shared, digest, notebook, dask_worker)
    prepare_worker(fork_kernels=fork_kernels)
    return {"library": library(), "pid": os.getpid()}


def build_shipped(task: Task, parcel: bytes, params: str, shared: bytes | None, digest: str,
                  notebook: str, reason: str, timeout: float | None, fork_kernels: bool,
                  wanted: str, state: dict[str, Any],
                  explicit_notebook: bool) -> tuple[Outcome, bytes | None]:
    """Build one report from its parcels (on a Dask worker); never raises.

    Returns the outcome (``run_dir`` and ``outputs`` relative to the run) and
    the run's bag as a tar (None when no run was archived)."""
    from ..redact import install_stream_redaction
    from ..run.manifest import shipped_project_state
    from .pool import unfinished
    from .worker import run_task

    install_stream_redaction()
    refused = mismatch(library(), wanted, f"the Dask worker {os.uname().nodename}:{os.getpid()}")
    if refused:
        return unfinished((task, reason), "failed", refused), None
    with _lock:
        try:
            project = _project(shared, digest, notebook)
            _clear(project)
            shipping.write_members(shipping.read_members(
                parcel, limit=shipping.TASK_BYTES, prefixes=shipping.TASK_PREFIXES,
                what="task parcel"), project)
        except Exception as exc:  # noqa: BLE001 - stays with this report
            return unfinished((task, reason), "failed",
                              f"cannot ready the worker: {_line(exc)}"), None
        try:
            with shipped_project_state(state):
                outcome = run_task(replace(task, params=project / params), project / "build",
                                   project / notebook if explicit_notebook else None,
                                   reason=reason, timeout=timeout, fork_kernels=fork_kernels)
            bag = None
            if outcome.run_dir:
                run_dir = Path(outcome.run_dir)
                try:
                    bag = shipping.pack_folder(run_dir)
                except Exception as exc:  # noqa: BLE001 - an error Dask could not send back
                    outcome.status = "failed"  # would leave the batch waiting for it
                    outcome.error = {"message": f"the run could not be sent back: {_line(exc)}"}
                outcome.outputs = {k: Path(v).relative_to(run_dir).as_posix()
                                   for k, v in outcome.outputs.items()}
                outcome.run_dir = run_dir.name
            return outcome, bag
        finally:
            _clear(project)


def _line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:500]


# ----------------------------------------------------------------------------- batch side


def _verify(folder: Path, run_id: str, year: int, params_sha: str) -> dict[str, Any]:
    """Check an unpacked run: a valid bag (every payload and tag file has its
    recorded SHA-256, none missing or extra), only the bag's own files at
    its top, and a manifest for this run. Returns the manifest."""
    import bagit

    extra = sorted(p.name for p in folder.iterdir() if p.name not in (*BAG_TAGS, "data"))
    if extra:
        raise RefusedRun(f"unexpected files at the top of the run: {', '.join(extra)}")
    bag = None
    try:
        bag = bagit.Bag(str(folder))
        bag.validate(processes=1)
    except bagit.BagError as exc:
        said = _difference(folder, bag) or str(exc).splitlines()[0]
        raise RefusedRun(f"the bag does not verify: {said}") from None
    tags = set(bag.tagfile_entries())
    for name in ("manifest.json", "manifest-sha256.txt", "bag-info.txt", "bagit.txt"):
        if name not in tags:
            raise RefusedRun(f"the tag manifest does not cover {name}")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("run_id") != run_id or manifest.get("year") != year:
        raise RefusedRun("the manifest is not this run's (run id or year differs)")
    if (manifest.get("params_file") or {}).get("sha256") != params_sha:
        raise RefusedRun("the run was not made from the params file sent")
    from ..safeio import sha256_file

    for name, digest in (manifest.get("outputs") or {}).items():
        path = folder / "data" / str(name)
        if "/" in str(name) or not path.is_file() or sha256_file(path) != digest:
            raise RefusedRun(f"output {name} differs from its manifest")
    return manifest


def _difference(folder: Path, bag: Any) -> str | None:
    """The first file of ``folder`` that differs from the bag's manifests."""
    from ..safeio import sha256_file

    entries = getattr(bag, "entries", None) or {}
    for name, hashes in sorted(entries.items()):
        path = folder / name
        if not path.is_file():
            return f"{name} missing"
        if sha256_file(path) != hashes.get("sha256"):
            return f"{name} changed"
    for path in sorted((folder / "data").rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name not in entries:
            return f"{name} not in the bag's manifest"
    return None


def receive(outcome: Outcome, bag: bytes | None, task: Task, build: Path,
            params_sha: str) -> Outcome:
    """Archive the run a worker returned into ``build`` as a local run is
    archived, and return the outcome with paths in ``build``. A run that
    fails a check (:func:`read_members`, :func:`_verify`) is not archived:
    the outcome is then failed, saying why."""
    from ..run.codecopy import keep_library_copy

    outcome.year, outcome.slug = task.year, task.slug  # the batch's names, not the worker's
    if bag is None:
        outcome.run_dir, outcome.outputs = None, {}
        return outcome
    run_id = str(outcome.run_id or "")
    partial = None
    try:
        if not archive.is_run_id(run_id) or outcome.run_dir != run_id:
            raise RefusedRun(f"not a run id: {run_id[:40]!r}")
        members = shipping.read_members(bag, limit=shipping.RUN_BYTES, what="returned run")
        partial = archive.start_run(build, task.year, task.slug, run_id)
        shipping.write_members(members, partial)
        manifest = _verify(partial, run_id, task.year, params_sha)
        outputs = {k: partial.parent.joinpath(run_id, *shipping.check_name(v).split("/"))
                   for k, v in outcome.outputs.items()}
        final = archive.finish_run(partial, run_id)
        partial = None
    except BaseException as exc:
        if partial is not None:  # interrupted or refused: nothing of it is left
            archive.discard_run(partial)
        if not isinstance(exc, (NtmError, OSError)):
            raise
        message = exc.message if isinstance(exc, NtmError) else str(exc)
        if archive.is_disk_full_error(exc):
            message = "disk full: the run could not be archived here; nothing of it was kept"
        found = f" ({exc.found})" if isinstance(exc, NtmError) and exc.found else ""
        return replace(outcome, status="failed", run_dir=None, outputs={}, run_id=None,
                       error={"type": "RefusedRun",
                              "message": f"the run returned by {outcome.worker} was refused: "
                                         f"{message}{found}"})
    environment = manifest.get("environment") or {}
    if environment.get("library_copy") and environment.get("library_sha256") == library():
        keep_library_copy(build, library())  # as a local run keeps it: once per digest
    if manifest.get("status") == "ok":
        archive.point_latest(build, task.year, task.slug, final)
    outcome.run_dir = str(final)
    outcome.outputs = {k: str(v) for k, v in outputs.items()}
    error = outcome.error or {}
    if str(error.get("file") or "").startswith("build/archive/"):  # the worker's own build/
        from ..paths import relative_to_root

        error["file"] = relative_to_root(final / error["file"].split(f"/{run_id}/", 1)[-1])
    return outcome


def project_state() -> dict[str, Any]:
    """The project's git state and whether the library differs from it, as
    this machine sees them (:func:`ntm_lib.run.manifest.project_state`)."""
    from ..run.manifest import project_state as state

    return state()
