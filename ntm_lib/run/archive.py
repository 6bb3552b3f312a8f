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
held, and the next run of the same commune removes it, whatever its age.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import secrets
import shutil
import signal
import socket
from contextlib import contextmanager
from pathlib import Path

from ..errors import OptionError, UnsafePathError
from ..safeio import check_within, open_nofollow

PARTIAL_PREFIX = ".partial-"
LOCK_SUFFIX = ".lock"
LATEST_LOCK = ".latest.lock"
#: ``20231205T083000.123456Z-1a2b3c``; ids of older versions lack the microseconds.
RUN_ID = re.compile(r"^(\d{8}T\d{6})(?:\.(\d{6}))?Z-([0-9a-f]{6})$")

_held: dict[Path, int] = {}  # partial folder -> descriptor of its held lock file


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
        ``build`` is a file.
    UnsafePathError
        A folder of the archive (``archive/``, ``archive/<year>``,
        ``archive/<year>/<slug>``, ``<year>``) is a file, or a symbolic link
        leading out of ``build``; the lock file ``.latest.lock`` is a
        symbolic link or not a regular file.
    """
    build = Path(build)
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


def _lock_of(partial: Path) -> Path:
    return partial.with_name(partial.name + LOCK_SUFFIX)


def _take_lock(path: Path) -> int:
    """Create the lock file ``path`` already locked: it is written under a
    temporary name, locked, then linked into place, so a lock file is never
    seen unlocked while its process lives."""
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode("ascii"))
        os.link(tmp, path)
    except BaseException:
        os.close(fd)
        _unlink(tmp)
        raise
    _unlink(tmp)
    return fd


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _release(partial: Path) -> None:
    fd = _held.pop(partial, None)
    _unlink(_lock_of(partial))
    if fd is not None:
        os.close(fd)


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
        _held[partial] = _take_lock(_lock_of(partial))
        partial.mkdir()
    except BaseException as exc:
        discard_run(partial)
        if isinstance(exc, OSError):
            _raise_disk_full(exc, folder)
        raise
    return partial


def partial_folder(build: Path, year: int, slug: str, run_id: str) -> Path:
    """``archive/<year>/<slug>/.partial-<run_id>``: where run ``run_id`` is written."""
    return commune_archive(build, year, slug) / f"{PARTIAL_PREFIX}{run_id}"


@contextmanager
def _signals_held():
    """Ctrl-C and SIGTERM wait until the block is done (a second interrupt
    must not stop the removal of an unfinished run halfway)."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _raise_disk_full(exc: OSError, where: Path) -> None:
    from ..errors import DiskFullError
    from ..safeio import is_disk_full

    if is_disk_full(exc):
        raise DiskFullError("disk full: no room to start the run; nothing was changed",
                            file=_shown(where)) from None


def _stale(lock: Path) -> int | None:
    """A descriptor holding ``lock`` when its process is gone (the caller
    closes it), else None. A lock file that cannot be opened is not taken."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino != os.stat(lock, follow_symlinks=False).st_ino:
            raise BlockingIOError  # replaced meanwhile: not the one we locked
    except OSError:
        os.close(fd)
        return None
    return fd


#: Seconds a lock file's temporary name may exist unlocked (microseconds in practice).
TMP_GRACE = 60.0


def _age(path: Path) -> float:
    import time

    try:
        return time.time() - path.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _legacy_alive(partial: Path) -> bool:
    """Partial folders of older versions named their process in ``.pid``."""
    try:
        pid = int((partial / ".pid").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return pid == os.getpid() or _alive(pid)


def sweep_partials(folder: Path) -> list[Path]:
    """Remove the ``.partial-*`` folders (and their lock files) of processes
    that are gone, whatever their age; return the folders removed. A
    partial folder whose lock file is held belongs to a live run and stays;
    one without a lock file was left by a killed process. A symbolic link
    named like a partial folder is removed, never followed."""
    removed: list[Path] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(PARTIAL_PREFIX):
            continue
        if entry.is_symlink():
            _unlink(entry)
            continue
        if entry.is_dir():
            lock = _lock_of(entry)
            fd = None
            if lock.is_symlink():
                _unlink(lock)  # never a lock of ours: not followed
            elif lock.exists():
                fd = _stale(lock)
                if fd is None:
                    continue  # its run is alive
            elif entry in _held or _legacy_alive(entry):
                continue
            shutil.rmtree(entry, ignore_errors=True)
            _unlink(lock)
            if fd is not None:
                os.close(fd)
            removed.append(entry)
        elif name.endswith((LOCK_SUFFIX, ".tmp")):  # a lock whose folder is gone
            if name.endswith(LOCK_SUFFIX) and (folder / name[: -len(LOCK_SUFFIX)]).is_dir():
                continue  # handled with its folder
            if name.endswith(".tmp") and _age(entry) < TMP_GRACE:
                continue  # a lock being made: held a moment later
            fd = _stale(entry)
            if fd is not None:
                _unlink(entry)
                os.close(fd)
    return removed


def seal_run(partial: Path) -> None:
    """Kept for callers of older versions: the lock file lives beside the
    partial folder, outside the bag, so there is nothing to remove."""


def finish_run(partial: Path, run_id: str) -> Path:
    """Move a complete run into place (one rename) and release its lock;
    return its folder."""
    final = partial.parent / run_id
    if final.exists() or final.is_symlink():
        raise UnsafePathError("run folder already exists; refusing to overwrite it",
                              file=_shown(final))
    with _signals_held():
        os.rename(partial, final)
        _release(partial)
    return final


def discard_run(partial: Path) -> None:
    """Remove an unfinished run's partial folder (interrupted or broken) and
    release its lock; only a partial folder this process started (holds the
    lock of) is touched. An interrupt arriving meanwhile waits until it is
    done."""
    if partial not in _held:
        return
    with _signals_held():
        if partial.is_symlink():
            _unlink(partial)
        else:
            shutil.rmtree(partial, ignore_errors=True)
        _release(partial)


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
            _unlink(tmp)
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
