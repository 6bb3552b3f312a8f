"""Partial run folders and their locks.

A run is written in ``archive/<year>/<slug>/.partial-<id>/``; beside it,
``.partial-<id>.lock`` is held with ``flock`` by the process writing it for
as long as it lives (the kernel lets go of it when the process ends, even by
``kill -9``). So a partial folder whose lock can be taken belongs to a
process that is gone, and :func:`sweep_partials` removes it at once,
whatever its age, sealed or not; one whose lock is held is left alone.
The lock file lives outside the folder, so nothing of it enters the bag.

Creating and removing a partial folder cannot be cut short by Ctrl-C or
SIGTERM (:func:`signals_held`): the interrupt is taken when the step is done.
"""
from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import signal
import socket
from contextlib import contextmanager
from pathlib import Path

PARTIAL_PREFIX = ".partial-"
LOCK_SUFFIX = ".lock"

_held: dict[Path, int] = {}  # partial folder -> descriptor of its held lock file


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
        unlink_quietly(tmp)
        raise
    unlink_quietly(tmp)
    return fd


def unlink_quietly(path: Path) -> None:
    """Remove a file or link; one already gone is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def release(partial: Path) -> None:
    """Remove the lock file of ``partial`` and let go of it."""
    fd = _held.pop(partial, None)
    unlink_quietly(_lock_of(partial))
    if fd is not None:
        os.close(fd)


@contextmanager
def signals_held():
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
    import stat

    from ..errors import NtmError
    from ..safeio import read_bytes_nofollow

    try:
        if not stat.S_ISREG(os.lstat(partial / ".pid").st_mode):
            return False  # a link, a FIFO: not one of ours
        pid = int(read_bytes_nofollow(partial / ".pid", limit=64))
    except (OSError, ValueError, NtmError):
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
            unlink_quietly(entry)
            continue
        if entry.is_dir():
            lock = _lock_of(entry)
            fd = None
            if lock.is_symlink():
                unlink_quietly(lock)  # never a lock of ours: not followed
            elif lock.exists():
                fd = _stale(lock)
                if fd is None:
                    continue  # its run is alive
            elif entry in _held or _legacy_alive(entry):
                continue
            shutil.rmtree(entry, ignore_errors=True)
            unlink_quietly(lock)
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
                unlink_quietly(entry)
                os.close(fd)
    return removed


def open_partial(partial: Path) -> Path:
    """Create ``partial`` and its held lock file, together or not at all."""
    with signals_held():
        _held[partial] = _take_lock(_lock_of(partial))
        try:
            partial.mkdir()
        except BaseException:
            discard(partial)
            raise
    return partial


def discard(partial: Path) -> None:
    """Remove a partial folder and release its lock; only one this process
    opened (holds the lock of) is touched. An interrupt arriving meanwhile
    waits until it is done."""
    if partial not in _held:
        return
    with signals_held():
        if partial.is_symlink():
            unlink_quietly(partial)
        else:
            shutil.rmtree(partial, ignore_errors=True)
        release(partial)
