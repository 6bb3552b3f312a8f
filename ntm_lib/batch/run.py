"""One batch, end to end: plan, skip what is up to date, build the rest in
parallel, record, roll up, index. This is what ``ntm batch`` calls.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

from ..errors import DiskFullError, NotebookError, NtmError, OptionError
from ..paths import build_dir, notebooks_dir, project_root, relative_to_root
from ..run.archive import is_disk_full_error, new_run_id
from ..safeio import check_build_folder
from . import fingerprint
from .plan import plan
from .record import BatchRecord, read_record, write_record
from .scan import slim
from .worker import Outcome

NOTEBOOK_NAME = "commune_report.ipynb"


class RecordNotWritten(DiskFullError):
    """The batch ran, but the disk filled up before its record (``batch.json``,
    ``batch.csv``) or index page was written; ``record`` holds it. The runs
    built are archived: the same ``ntm batch`` run again once there is room
    skips them as up to date and writes the record."""

    def __init__(self, record: BatchRecord, file: str) -> None:
        counts = ", ".join(f"{n} {s}" for s, n in record.counts.items() if n) or "nothing run"
        super().__init__(
            f"disk full: the batch record and index could not all be written ({counts}); "
            "the reports built "
            "are archived; once there is room, run the same ntm batch again: it skips what is "
            "up to date and writes the record", file=file)
        self.record = record


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (``ru_maxrss``,
    KiB on Linux, bytes on macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1 << 20 if sys.platform == "darwin" else 1 << 10), 1)


def new_batch_id(now: dt.datetime | None = None) -> str:
    """``20231205T083000.123456Z-1a2b3c``: as a run id, UTC start time to the
    microsecond plus 6 random hex digits."""
    return new_run_id(now)


def _skipped(task, freshness: fingerprint.Freshness) -> Outcome:
    run = freshness.run
    commune = run.manifest.get("commune") or {}
    return Outcome(task.year, task.slug, "skipped", code=commune.get("code"),
                   name=commune.get("name"), district_code=commune.get("district_code"),
                   province_code=commune.get("province_code"), run_id=run.run_id,
                   run_dir=str(run.run_dir), reason=freshness.reason,
                   outputs={k: str(v) for k, v in run.outputs().items()})


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="commune", disable=not enabled or None, file=sys.stderr,
                dynamic_ncols=True, leave=False)


def run_batch(
    year: int,
    communes: Iterable[str] = (),
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    timeout: float | None = None,
    build: str | Path | None = None,
    notebook: str | Path | None = None,
    rollup: bool = True,
    docx: bool = True,
    progress: bool = True,
    fork_kernels: bool = True,
    on_done: Callable[[Outcome], None] | None = None,
) -> BatchRecord:
    """Build the reports of ``year`` (every params file, or ``communes``).

    Parameters
    ----------
    workers:
        Reports built at once; default the number of CPUs.
    scheduler:
        None for a local process pool; ``"local"`` for a Dask LocalCluster on
        this machine; an address (``tcp://host:8786``) for an existing Dask
        cluster, whose workers need only ``ntm-workbook`` installed (the
        files a report reads go with its task: :mod:`ntm_lib.batch.cluster`).
    force:
        Rebuild even the reports whose fingerprint is unchanged.
    timeout:
        Seconds one report's notebook may run before its kernel is interrupted.
    rollup:
        Build the roll-up report of each province of the batch afterwards.
    docx:
        Write each report's ``report.docx`` too (False: ``--no-docx``).

    Returns
    -------
    BatchRecord
        Written to ``build/<year>/batch.json`` and ``batch.csv`` too;
        ``exit_code`` is 0 only when every commune was built or up to date.

    Raises
    ------
    OptionError
        ``build`` is a file; the Dask scheduler cannot be reached (checked
        before anything is built, also when every report is up to date).
    RecordNotWritten
        The disk filled up before the record was written (a commune whose
        run the disk had no room for is recorded as failed, disk full).
    """
    began = time.perf_counter()
    started = dt.datetime.now(dt.timezone.utc)
    if build:  # not the project root, nor in params/, data/, notebooks/ (named as given)
        check_build_folder(build)
    build = Path(build).resolve() if build else build_dir()
    if build.exists() and not build.is_dir():
        raise OptionError("--build names a file, not a folder", file=relative_to_root(build),
                          expected="a folder (created when missing)")
    notebook_path = Path(notebook).resolve() if notebook else notebooks_dir() / NOTEBOOK_NAME
    if not notebook_path.is_file():
        raise NotebookError("report notebook not found", file=relative_to_root(notebook_path))
    workers = max(1, workers or os.cpu_count() or 1)
    tasks = plan(year, communes)
    if not docx:
        from dataclasses import replace

        tasks = [replace(task, docx=False) for task in tasks]
    if scheduler:  # also when every report is up to date: a bad address is refused
        from .dask import check_scheduler

        check_scheduler(scheduler)
    record = BatchRecord(new_batch_id(started), int(year), started.isoformat(timespec="seconds"),
                         options={"workers": workers, "scheduler": scheduler, "force": force,
                                  "timeout": timeout, "communes": list(communes)})
    outcomes: dict[str, Outcome] = {}
    known: dict[str, fingerprint.ArchivedRun] = {}  # runs read by the checks, by folder
    jobs = []
    library = None if force else fingerprint.library_sha256()
    cache_path = build / str(year) / fingerprint.CACHE_NAME
    hashes = None if force else fingerprint.HashCache.load(cache_path)
    for task in tasks:
        if force:
            jobs.append((task, "forced"))
            continue
        fresh = fingerprint.check(task, build, notebook_path, library=library, hashes=hashes)
        if fresh.run is not None:
            known[str(fresh.run.run_dir)] = slim(fresh.run)
        if fresh.fresh:
            outcomes[task.key] = _skipped(task, fresh)
        else:
            jobs.append((task, fresh.reason))
    if hashes is not None and build.is_dir():
        hashes.save(cache_path, build, keep_unused=bool(list(communes)))

    bar = _progress(len(tasks), progress)
    bar.update(len(outcomes))

    def done(outcome: Outcome) -> None:
        bar.update(1)
        if outcome.status == "failed":
            bar.write(f"failed: {outcome.slug}: {(outcome.error or {}).get('message', '')}",
                      file=sys.stderr)
        if on_done:
            on_done(outcome)

    interrupted = False
    if jobs:
        common = dict(build=build, notebook=notebook if notebook is None else notebook_path,
                      home=project_root(), workers=workers, timeout=timeout,
                      fork_kernels=fork_kernels, on_done=done)
        if scheduler:
            from .dask import run_dask

            results, interrupted = run_dask(jobs, scheduler=scheduler, **common)
        else:
            from .pool import run_local

            results, interrupted = run_local(jobs, **common)
        outcomes.update((o.key, o) for o in results)
    bar.close()
    record.outcomes = [outcomes[t.key] for t in tasks]
    record.interrupted = interrupted
    from .scan import scan_year

    scan = scan_year(build, int(year), known=known)  # the archive as it is now, read once
    if rollup and not interrupted:
        from .rollups import rollups_for

        record.rollups = rollups_for(record, build, force=force, scan=scan)
    record.ended_utc = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    record.seconds = time.perf_counter() - began
    record.peak_rss_mb = peak_rss_mb()
    from .index import write_index

    try:
        write_record(record, build)
        write_index(build, int(year), read_record(build, int(year)), scan=scan)
    except (OSError, NtmError) as exc:
        if not is_disk_full_error(exc):
            raise
        raise RecordNotWritten(record, relative_to_root(build / str(year))) from None
    return record
