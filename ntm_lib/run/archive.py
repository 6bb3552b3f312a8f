"""Run folders: every run gets its own folder, written aside and moved into
place only when complete; the per-commune path points at the latest
successful run.

Layout under ``build/``::

    archive/<year>/<slug>/<run_id>/             one folder per run (ok or failed)
    archive/<year>/<slug>/.partial-<id>/        a run being written (never read)
    archive/<year>/<slug>/.partial-<id>.lock    held (``flock``) by the process writing it
    <year>/<slug> -> archive/<year>/<slug>/<run_id>   latest successful run

Nothing archived is overwritten: run ids are unique (UTC start time to the
microsecond plus random hex), the move into place is a single ``rename``,
and the latest pointer is a symbolic link replaced atomically, under a lock,
and only ever moved to a run that started later. A link that does not name a
run of this archive (one leading out of ``build/``, a dangling one, one
made by hand) is replaced. No symbolic link leading out of ``build/`` is
written through (:func:`check_archive`).

A process killed at any moment (``kill -9``) leaves either a complete run or
a partial folder that no reader looks at: its lock file is then no longer
held, and the next run of the same commune removes it, whatever its age
(:mod:`ntm_lib.run.partials`).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import secrets
from pathlib import Path

from ..errors import OptionError, UnsafePathError
from ..safeio import check_build_folder, check_within, open_nofollow
from .partials import (PARTIAL_PREFIX, discard, open_partial, release, signals_held,
                       sweep_partials, unlink_quietly)

LATEST_LOCK = ".latest.lock"
#: ``20231205T083000.123456Z-1a2b3c``; ids of older versions lack the microseconds.
RUN_ID = re.compile(r"^(\d{8}T\d{6})(?:\.(\d{6}))?Z-([0-9a-f]{6})$")


def new_run_id(now: dt.datetime | None = None) -> str:
    """``20231205T083000.123456Z-1a2b3c``: UTC start time to the microsecond
    plus 6 random hex digits. Ids sort by start time (:func:`run_sort_key`)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(3)}"


def is_run_id(name: str) -> bool:
    """Whether ``name`` is a run id (this version's or an older one)."""
    return RUN_ID.match(name) is not None


def run_sort_key(name: str) -> tuple[str, str, str]:
    """Sort key of a run id: start second, microseconds (0 for older ids),
    random part. Names that are not run ids sort first."""
    match = RUN_ID.match(name)
    if not match:
        return ("", "", name)
    return (match.group(1), match.group(2) or "000000", match.group(3))


def commune_archive(build: Path, year: int, slug: str) -> Path:
    """``build/archive/<year>/<slug>``: all runs of one commune-year."""
    return build / "archive" / str(year) / slug


def latest_link(build: Path, year: int, slug: str) -> Path:
    """``build/<year>/<slug>``: the pointer to the latest successful run."""
    return build / str(year) / slug


def _shown(path: Path) -> str:
    """``path`` as messages show it, relative to the project; a link at its
    end is named, not resolved."""
    from ..paths import relative_to_root

    return f"{relative_to_root(Path(path).parent)}/{Path(path).name}"


def check_archive(build: Path, year: int, slug: str) -> None:
    """Refuse a build folder a run cannot be archived in, before anything is
    written or run.

    Raises
    ------
    OptionError
        ``build`` is a file, the project root, or in the project's
        ``params/``, ``data/`` or ``notebooks/``
        (:func:`~ntm_lib.safeio.check_build_folder`).
    UnsafePathError
        A folder of the archive (``archive/``, ``archive/<year>``,
        ``archive/<year>/<slug>``, ``<year>``) is a file, or a symbolic link
        leading out of ``build``; the lock file ``.latest.lock`` is a
        symbolic link or not a regular file.
    """
    build = Path(build)
    check_build_folder(build)  # not the project root, nor in params/, data/, notebooks/
    if build.exists() and not build.is_dir():
        raise OptionError("the build folder is a file, not a folder", file=_shown(build),
                          expected="a folder (created when missing)")
    folder = commune_archive(build, year, slug)
    for path in (build / "archive", folder.parent, folder, latest_link(build, year, slug).parent):
        if path.is_symlink():
            check_within(path, build)
        if path.exists() and not path.is_dir():
            raise UnsafePathError("a file stands where a folder of the archive belongs",
                                  file=_shown(path))
    lock = folder / LATEST_LOCK
    if lock.is_symlink():
        raise UnsafePathError("refusing to follow a symbolic link (the lock file must be a "
                              "plain file; remove it)", file=_shown(lock))
    if lock.exists() and not lock.is_file():
        raise UnsafePathError("the lock file is not a regular file (remove it)", file=_shown(lock))


def start_run(build: Path, year: int, slug: str, run_id: str) -> Path:
    """Create and return the partial folder of a new run, holding its lock
    file, after removing the partial folders of runs whose process is gone.

    Raises the errors of :func:`check_archive`;
    :class:`~ntm_lib.errors.DiskFullError` when the disk is full.
    """
    check_archive(build, year, slug)
    folder = commune_archive(build, year, slug)
    partial = partial_folder(build, year, slug, run_id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        sweep_partials(folder)
        open_partial(partial)
    except OSError as exc:
        _raise_disk_full(exc, folder)
        raise
    return partial


def partial_folder(build: Path, year: int, slug: str, run_id: str) -> Path:
    """``archive/<year>/<slug>/.partial-<run_id>``: where run ``run_id`` is written."""
    return commune_archive(build, year, slug) / f"{PARTIAL_PREFIX}{run_id}"


def _raise_disk_full(exc: OSError, where: Path) -> None:
    from ..errors import DiskFullError
    from ..safeio import is_disk_full

    if is_disk_full(exc):
        raise DiskFullError("disk full: no room to start the run; nothing was changed",
                            file=_shown(where)) from None


def finish_run(partial: Path, run_id: str) -> Path:
    """Move a complete run into place (one rename) and release its lock;
    return its folder."""
    final = partial.parent / run_id
    if final.exists() or final.is_symlink():
        raise UnsafePathError("run folder already exists; refusing to overwrite it",
                              file=_shown(final))
    with signals_held():
        os.rename(partial, final)
        release(partial)
    return final


def discard_run(partial: Path) -> None:
    """Remove an unfinished run's partial folder (interrupted or broken) and
    release its lock (:func:`ntm_lib.run.partials.discard`)."""
    discard(partial)


def latest_run_dir(build: Path, year: int, slug: str) -> Path | None:
    """The run folder ``build/<year>/<slug>`` points at, when it is a
    finished run of this commune's archive (``archive/<year>/<slug>/<run
    id>``, with its ``manifest.json``); None for a missing, dangling or
    foreign link (one leading out of ``build/``, to another commune, to a
    folder that is not a run)."""
    link = latest_link(build, year, slug)
    if not link.is_symlink():
        return None
    target = Path(os.path.realpath(link))
    home = Path(os.path.realpath(commune_archive(build, year, slug)))
    if target.parent != home or not is_run_id(target.name) or not target.is_dir():
        return None
    if not (target / "manifest.json").is_file():
        return None
    return target


def point_latest(build: Path, year: int, slug: str, run_dir: Path) -> bool:
    """Make ``build/<year>/<slug>`` point at ``run_dir``, atomically; return
    whether it does now.

    Runs of the same commune may finish in any order: under an exclusive
    lock, the pointer is left alone only when it names a run of this archive
    that started later (:func:`run_sort_key`); any other link is replaced. A
    real folder or file left at that path is moved into the archive
    (``legacy-<id>``), never deleted.

    Raises :class:`UnsafePathError` for an unsafe archive
    (:func:`check_archive`).
    """
    check_archive(build, year, slug)
    link = latest_link(build, year, slug)
    link.parent.mkdir(parents=True, exist_ok=True)
    folder = commune_archive(build, year, slug)
    try:
        lock = open_nofollow(folder / LATEST_LOCK, os.O_RDWR | os.O_CREAT)
    except IsADirectoryError:
        raise UnsafePathError("the lock file is not a regular file (remove it)",
                              file=_shown(folder / LATEST_LOCK)) from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = latest_run_dir(build, year, slug)
        if current is not None and current != Path(os.path.realpath(run_dir)) \
                and run_sort_key(current.name) > run_sort_key(run_dir.name):
            return False
        if not link.is_symlink() and link.exists():
            os.rename(link, folder / f"legacy-{new_run_id()}")
        tmp = link.with_name(f".{link.name}.{secrets.token_hex(4)}.tmp")
        os.symlink(os.path.relpath(run_dir, link.parent), tmp)
        try:
            os.replace(tmp, link)
        except BaseException:
            unlink_quietly(tmp)
            raise
    return True


def is_disk_full_error(exc: BaseException | None) -> bool:
    """Whether ``exc`` or an error it was raised from (``__cause__`` or
    ``__context__``, also when raised ``from None``) is a full disk."""
    from ..errors import DiskFullError
    from ..safeio import is_disk_full

    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, DiskFullError) or is_disk_full(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


__all__ = [
    "PARTIAL_PREFIX", "RUN_ID", "check_archive", "commune_archive", "discard_run",
    "finish_run", "is_disk_full_error", "is_run_id", "latest_link", "latest_run_dir",
    "new_run_id", "partial_folder", "point_latest", "run_sort_key", "start_run",
    "sweep_partials",
]
