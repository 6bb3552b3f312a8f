"""Putting the files of an import in place, all or nothing.

:func:`check_target` refuses, before anything is written, a target that
cannot be replaced by a file (a folder, a symbolic link, a file where one
of its folders should be, a link out of ``data/`` or ``params/``, a folder
without write permission). :func:`replace_all` then keeps a backup of each
file it replaces, writes each with :func:`ntm_lib.safeio.atomic_write`, and
on any failure restores every file and removes every new one, so an import
that fails half-way changes nothing and leaves nothing stray.
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from ..errors import DiskFullError, NtmError, UnsafePathError
from ..paths import relative_to_root
from ..safeio import atomic_write, check_within, is_disk_full, open_nofollow


def check_target(path: Path, root: Path) -> None:
    """Raise when ``path`` cannot be replaced by a file of the import.

    Raises
    ------
    UnsafePathError
        ``path`` leads out of ``root`` through a symbolic link, is itself a
        symbolic link, a folder or another non-file, or a file stands where
        one of its folders should be.
    NtmError
        Its folder cannot be written in (permission): exit code 1.
    """
    check_within(path.parent, root)
    blocking = blocking_file(path)
    if blocking is not None:
        raise UnsafePathError("a file stands where a folder should be; nothing was written",
                              file=relative_to_root(blocking))
    shown = f"{relative_to_root(path.parent)}/{path.name}"  # the link itself, if one
    if path.is_symlink():
        raise UnsafePathError("a symbolic link stands where the file is to be written; "
                              "refusing to replace it; nothing was written", file=shown)
    if path.is_dir():
        raise UnsafePathError("a folder stands where the file is to be written; nothing was "
                              "written", file=shown)
    if path.exists() and not path.is_file():
        raise UnsafePathError("this is not a regular file; refusing to replace it; nothing was "
                              "written", file=shown)
    folder = next(f for f in (path.parent, *path.parent.parents) if f.exists())
    if not os.access(folder, os.W_OK | os.X_OK):
        raise NtmError("cannot write in this folder (permission denied); nothing was written",
                       file=relative_to_root(folder))


def blocking_file(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` when it is not a folder
    (a file where a folder should be), else None."""
    for folder in path.parents:
        if folder.exists() or folder.is_symlink():
            return None if folder.is_dir() else folder
    return None


def replace_all(texts: dict[Path, str]) -> None:
    """Put every text in place, all or nothing.

    Each existing target first gets a backup beside it (a hard link, else a
    copy: ``.<name>.<hex>.ntm-bak``); then each file is written with
    :func:`~ntm_lib.safeio.atomic_write`. When any step fails (a full disk,
    a folder that appeared, a permission, an interrupt) every file already
    replaced is restored from its backup, every new file and folder is
    removed, and the error is raised; on success the backups are removed.
    Nothing of the import is left behind either way.

    Raises
    ------
    DiskFullError
        The disk filled up (exit code 1); every file is as it was.
    UnsafePathError
        A target turned into a folder or a link meanwhile (exit code 2).
    NtmError
        Any other failure to write (exit code 1), or, should restoring fail,
        which files could not be restored and where their backups are.
    """
    backups: dict[Path, Path] = {}
    written: list[Path] = []
    created: list[Path] = []
    try:
        for path in texts:
            created += _make_folders(path.parent)
            if path.exists():
                backups[path] = _backup(path)
        for path, text in texts.items():
            atomic_write(path, text, redact=False)
            written.append(path)
    except BaseException as exc:
        lost = _roll_back(texts, written, backups, created)
        if lost:
            raise NtmError("the import failed and these files could not be restored; their "
                           "backups are beside them: " + ", ".join(lost)) from exc
        if isinstance(exc, (NtmError, KeyboardInterrupt)) or not isinstance(exc, OSError):
            raise
        if is_disk_full(exc):
            raise DiskFullError(f"disk full ({exc.strerror}); every file was left as it was",
                                file=exc.filename) from None
        raise NtmError(f"could not write ({exc.strerror or exc}); every file was left as it was",
                       file=exc.filename) from None
    for backup in backups.values():
        _remove(backup)


def _make_folders(folder: Path) -> list[Path]:
    missing = [f for f in (folder, *folder.parents) if not f.exists()][::-1]
    made = []
    for f in missing:
        f.mkdir()
        made.append(f)
    return made


def _backup(path: Path) -> Path:
    backup = path.with_name(f".{path.name}.{secrets.token_hex(4)}.ntm-bak")
    try:
        os.link(path, backup)  # the old bytes stay on this name when path is replaced
    except OSError as exc:
        if is_disk_full(exc):
            raise
        # No hard links here (some file systems): a copy, made exclusively.
        with open_nofollow(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL) as handle:
            try:
                shutil.copyfileobj(open_nofollow(path), handle)
                handle.flush()
                os.fsync(handle.fileno())
            except BaseException:
                backup.unlink()
                raise
    return backup


def _roll_back(texts: dict[Path, str], written: list[Path], backups: dict[Path, Path],
               created: list[Path]) -> list[str]:
    """Undo a partial import; return the files that could not be restored."""
    lost = []
    for path in texts:
        backup = backups.get(path)
        try:
            if backup is not None and path in written:
                os.replace(backup, path)
            elif backup is not None:
                backup.unlink()
            elif path in written:
                path.unlink()
        except OSError:
            lost.append(f"{relative_to_root(path)} ({backup.name if backup else 'new file'})")
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            pass
    return lost


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
