"""Run folders: every run gets its own folder, written aside and moved into
place only when complete; the per-commune path points at the latest
successful run.

Layout under ``build/``::

    archive/<year>/<slug>/<run_id>/        one folder per run (ok or failed)
    archive/<year>/<slug>/.partial-<id>/   a run being written (never read)
    <year>/<slug> -> archive/<year>/<slug>/<run_id>   latest successful run

Nothing archived is overwritten: run ids are unique (UTC time plus random
hex), the move into place is a single ``rename``, and the latest pointer is
a symbolic link replaced atomically, under a lock, and only ever moved to a
later run. A process killed at any moment (``kill -9``) leaves either a
complete run or a partial folder that no reader looks at and that the next
run of the same commune removes (its ``.pid`` names a dead process).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import secrets
import shutil
import time
from pathlib import Path

PARTIAL_PREFIX = ".partial-"


def new_run_id(now: dt.datetime | None = None) -> str:
    """``20231205T083000Z-1a2b3c``: UTC start time plus 6 random hex digits."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def commune_archive(build: Path, year: int, slug: str) -> Path:
    """``build/archive/<year>/<slug>``: all runs of one commune-year."""
    return build / "archive" / str(year) / slug


def latest_link(build: Path, year: int, slug: str) -> Path:
    """``build/<year>/<slug>``: the pointer to the latest successful run."""
    return build / str(year) / slug


def start_run(build: Path, year: int, slug: str, run_id: str) -> Path:
    """Create and return the partial folder of a new run, after removing the
    partial folders of runs whose process is gone."""
    sweep_partials(commune_archive(build, year, slug))
    folder = commune_archive(build, year, slug) / f"{PARTIAL_PREFIX}{run_id}"
    folder.mkdir(parents=True, exist_ok=False)
    (folder / PID_FILE).write_text(str(os.getpid()), encoding="utf-8")
    return folder


PID_FILE = ".pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_partials(folder: Path) -> list[Path]:
    """Remove ``.partial-*`` folders left by dead processes; return them."""
    removed = []
    if not folder.is_dir():
        return removed
    for partial in folder.glob(f"{PARTIAL_PREFIX}*"):
        try:
            pid = int((partial / PID_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pid = None
        if pid is None:
            # Between mkdir and writing .pid: only a minute-old one is stale.
            try:
                young = time.time() - partial.stat().st_mtime < 60
            except OSError:
                continue
            if young:
                continue
        elif pid == os.getpid() or _alive(pid):
            continue
        shutil.rmtree(partial, ignore_errors=True)
        removed.append(partial)
    return removed


def seal_run(partial: Path) -> None:
    """Drop the partial folder's ``.pid`` before it is packaged (it is not
    evidence); a sweep leaves a young partial without one alone."""
    (partial / PID_FILE).unlink(missing_ok=True)


def finish_run(partial: Path, run_id: str) -> Path:
    """Move a complete run into place (one rename); return its folder."""
    final = partial.parent / run_id
    if final.exists():
        raise FileExistsError(f"run folder {final} already exists; refusing to overwrite it")
    os.rename(partial, final)
    return final


def discard_run(partial: Path) -> None:
    """Remove an unfinished run's partial folder (interrupted or broken)."""
    shutil.rmtree(partial, ignore_errors=True)


def point_latest(build: Path, year: int, slug: str, run_dir: Path) -> Path:
    """Make ``build/<year>/<slug>`` point at ``run_dir``, atomically.

    Runs of the same commune may finish in any order: the pointer only moves
    to a run that started later than the one it names (run ids sort by start
    time), under an exclusive lock. A real folder left at that path by an
    older layout is moved into the archive first, never deleted.
    """
    link = latest_link(build, year, slug)
    link.parent.mkdir(parents=True, exist_ok=True)
    lock_path = commune_archive(build, year, slug) / ".latest.lock"
    with open(lock_path, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if link.is_symlink():
            current = Path(os.readlink(link)).name
            if current > run_dir.name and (link.parent / os.readlink(link)).exists():
                return link
        elif link.exists():
            keep = commune_archive(build, year, slug) / f"legacy-{new_run_id()}"
            os.rename(link, keep)
        tmp = link.with_name(f".{link.name}.{secrets.token_hex(4)}.tmp")
        os.symlink(os.path.relpath(run_dir, link.parent), tmp)
        os.replace(tmp, link)
    return link
