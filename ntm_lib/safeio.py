"""The one way the product hashes, writes and reads its own files.

* :func:`sha256_file` / :func:`sha256_bytes`: every digest of the product.
* :func:`atomic_write`: every file the product writes. The bytes go to a
  temporary file created beside the target with ``O_EXCL | O_NOFOLLOW``,
  are flushed to disk, then moved over the target with one ``rename``: a
  reader sees the old file or the new one, never half of one. Text is
  redacted first (:mod:`ntm_lib.redact`). A full disk removes the temporary
  file and raises :class:`~ntm_lib.errors.DiskFullError`; the target is
  untouched. ``overwrite=False`` refuses an existing target (files people
  made are never overwritten without ``--force``).
* :func:`check_within`: a path the product writes or reads as evidence must
  not pass through a symbolic link leading outside its root folder.
* :func:`read_bytes_nofollow` / :func:`open_nofollow`: evidence is read
  without following a symbolic link at the last component.
"""
from __future__ import annotations

import errno
import hashlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from .errors import DiskFullError, UnsafePathError
from .redact import redact_bytes, redact_text

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_BLOCK = 1 << 16


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, *, follow_symlinks: bool = True) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks. With
    ``follow_symlinks=False`` a symbolic link is refused
    (:class:`UnsafePathError`)."""
    digest = hashlib.sha256()
    with open_nofollow(path) if not follow_symlinks else open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=4096)
def _sha256_cached(path: str, mtime_ns: int, size: int) -> str:
    return sha256_file(path)


def sha256_now(path: str | Path) -> str | None:
    """SHA-256 of ``path`` now (None when missing), each file hashed once per
    process while its modification time and size stay the same (the
    registry and reference tables are checked for every commune of a batch)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return _sha256_cached(str(path), info.st_mtime_ns, info.st_size)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is an ``OSError`` for a full disk or quota."""
    return isinstance(exc, OSError) and exc.errno in _DISK_FULL


def check_within(path: str | Path, root: str | Path) -> Path:
    """Return ``path`` made absolute, or raise :class:`UnsafePathError` when
    following its symbolic links leads outside ``root`` (a link in the build
    folder pointing at ``/etc`` or at another project). ``path`` need not
    exist; the parts that do are resolved."""
    path = Path(os.path.abspath(path))
    root_real = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    if real != root_real and root_real not in real.parents:
        raise UnsafePathError(
            f"refusing to follow a symbolic link out of {root}: it leads to {real}",
            file=str(path))
    return path


def open_nofollow(path: str | Path, flags: int = os.O_RDONLY, mode: int = 0o644):
    """Open ``path`` as a binary file object without following a symbolic
    link at its last component (``O_NOFOLLOW``); a link raises
    :class:`UnsafePathError`. ``flags`` are ``os.open`` flags; the mode of
    the returned object follows them (``rb``, ``r+b`` or ``wb``)."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError("refusing to follow a symbolic link", file=str(path)) from None
        raise
    access = flags & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
    kind = {os.O_RDONLY: "rb", os.O_WRONLY: "wb", os.O_RDWR: "r+b"}[access]
    return os.fdopen(fd, kind)


def read_bytes_nofollow(path: str | Path, *, limit: int | None = None) -> bytes:
    """The bytes of a regular file, refusing a symbolic link
    (:class:`UnsafePathError`) and, with ``limit``, a file over ``limit``
    bytes (:class:`~ntm_lib.errors.LimitError`)."""
    with open_nofollow(path) as f:
        if limit is not None:
            from .errors import LimitError
            from .limits import _size

            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise LimitError("file too large to read", file=str(path),
                                 expected=f"at most {_size(limit)}", found=_size(size))
        return f.read()


def atomic_write(path: str | Path, data: bytes | str, *, encoding: str = "utf-8",
                 newline: str | None = None, overwrite: bool = True, redact: bool = True,
                 within: str | Path | None = None, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` atomically and safely; return ``path``.

    Parameters
    ----------
    data:
        Bytes, or text encoded with ``encoding`` (explicitly UTF-8 by
        default); ``newline`` as for :func:`open` (``"\\r\\n"`` turns every
        ``"\\n"`` into CRLF).
    overwrite:
        False: an existing ``path`` (or a link there) raises
        :class:`UnsafePathError` and nothing is written.
    redact:
        Replace secret values first (:func:`ntm_lib.redact.redact_text`).
    within:
        The folder ``path`` must stay in (:func:`check_within`).

    Raises
    ------
    UnsafePathError
        ``path`` is a folder, exists while ``overwrite`` is False, or leads
        out of ``within`` through a symbolic link.
    DiskFullError
        The disk filled up; the temporary file is removed, ``path`` untouched.
    OSError
        Any other failure to write (the temporary file is removed).
    """
    path = Path(path)
    if within is not None:
        check_within(path.parent, within)
    if path.is_dir() and not path.is_symlink():
        raise UnsafePathError("a folder stands where a file is to be written", file=str(path))
    if not overwrite and (path.exists() or path.is_symlink()):
        raise UnsafePathError("file exists; refusing to overwrite it (use --force)",
                              file=str(path))
    if isinstance(data, str):
        if redact:
            data = redact_text(data)
        if newline not in (None, "", "\n"):
            data = data.replace("\n", newline)
        data = data.encode(encoding)
    elif redact:
        data = redact_bytes(data)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open_nofollow(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if path appeared meanwhile: never clobbered
            os.unlink(tmp)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if is_disk_full(exc):
            raise DiskFullError(f"disk full: could not write the file ({exc.strerror}); "
                                "nothing in place was changed", file=str(path)) from None
        if isinstance(exc, FileExistsError) and not overwrite:
            raise UnsafePathError("file exists; refusing to overwrite it (use --force)",
                                  file=str(path)) from None
        raise
    return path


# --------------------------------------------------------------------------- input files


def input_roots() -> tuple[Path, ...]:
    """The folders an input file of the project may be reached in through
    symbolic links: the project root (:func:`ntm_lib.paths.project_root`)
    and the notebooks shipped with the product (a synthetic project's
    ``notebooks`` is a link to them; they are the product's own code)."""
    from .paths import _PACKAGE_ROOT, project_root

    return (project_root(), _PACKAGE_ROOT / "notebooks")


def leads_out_of_project(path: str | Path) -> bool:
    """True when ``path`` lies in the project folder as written (symbolic
    links not followed) but following its links (of the file or of any
    folder above it inside the project) leads outside every folder of
    :func:`input_roots`. A path outside the project, given on the command
    line, is the user's own choice: False. ``path`` need not exist."""
    from .paths import project_root

    absolute = Path(os.path.abspath(path))
    root = project_root()
    if not _inside(absolute, Path(os.path.abspath(root))) \
            and not _inside(absolute, Path(os.path.realpath(root))):
        return False
    real = Path(os.path.realpath(absolute))
    return not any(_inside(real, Path(os.path.realpath(r))) for r in input_roots())


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def project_path(path: str | Path) -> str:
    """``path`` relative to the project root as written (links not
    followed), else absolute: how an input is named in messages, never by
    the target of a link."""
    from .paths import project_root

    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(project_root()).as_posix()
    except ValueError:
        return absolute.as_posix()


def open_input(path: str | Path, *, what: str = "file"):
    """Open the input file ``path`` for reading (binary file object) without
    blocking on a FIFO and without following a symbolic link out of the
    project: the checked, resolved path is opened with ``O_NOFOLLOW``, so a
    link swapped in afterwards is not followed either.

    Raises
    ------
    UnsafePathError
        :func:`leads_out_of_project`; the message names ``path`` as written
        in the project (:func:`project_path`), never where the link leads,
        and nothing of the target is read.
    OSError
        The file cannot be opened (missing, no permission).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if leads_out_of_project(path):
        raise UnsafePathError(f"cannot read the {what} through a symbolic link leading out of "
                              "the project: links out are not followed (put the file itself "
                              "here)", file=project_path(path))
    try:  # the checked path itself, no link at its end (one swapped in is not followed)
        fd = os.open(os.path.realpath(path), flags | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError(f"cannot read the {what}: a symbolic link appeared while it "
                                  "was read; not followed", file=project_path(path)) from None
        raise
    import stat

    if stat.S_ISDIR(os.fstat(fd).st_mode):  # a file object cannot hold a folder
        os.close(fd)
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def check_build_folder(build: str | Path) -> Path:
    """Return ``build`` when runs may be archived there, else raise
    :class:`~ntm_lib.errors.OptionError` (exit code 2): the build folder
    (followed through its symbolic links) must not be the project root
    itself nor lie in the project's ``params/``, ``data/`` or ``notebooks/``,
    whose files are inputs (``ntm run --build params`` would write run
    archives among the params files). Checked before anything is written."""
    from .errors import OptionError
    from .paths import project_root

    build = Path(build)
    real = Path(os.path.realpath(build))
    root = Path(os.path.realpath(project_root()))
    if real == root:
        raise OptionError("refusing to write runs into the project folder itself: choose a "
                          "build folder such as build/", file=str(build))
    for name in ("params", "data", "notebooks"):
        inputs = Path(os.path.realpath(root / name))
        if _inside(real, inputs):
            raise OptionError(f"refusing to write runs inside the project's {name}/ folder: its "
                              "files are inputs; choose a build folder such as build/",
                              file=str(build))
    return build
