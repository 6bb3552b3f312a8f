"""Parcels for Dask workers that do not share the project's disk.

A report reads four kinds of files, all at paths relative to the project
(the input log, :mod:`ntm_lib.load.inputs`, records them as such): its
params file, its commune's tables (``data/communes/<code>/``), the shared
tables (``data/reference/``, ``data/registry/``: every other file under
``data/``), and the notebook with its layouts (``notebooks/layouts/``:
templates and the Word styles). :func:`shared_parcel` packs the shared part
once per batch, :func:`task_parcel` the part of one report; the finished
run comes back as :func:`pack_folder` of its bag.

Every parcel is a plain (uncompressed) tar written deterministically
(sorted names, no times, owners or modes: the same files give the same
bytes, so its SHA-256 names its content). :func:`read_members` is the only
way one is opened: regular files only (no link, device or folder entry),
relative names without ``..``, each name once, under named size limits, and
optionally only below given prefixes; :func:`write_members` writes them
under a folder with no symbolic link followed.
"""
from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path, PurePosixPath
from typing import Iterable

from ..errors import LimitError, OptionError, UnsafePathError
from ..limits import MiB
from ..safeio import open_nofollow, sha256_bytes
from ..tarball import pack_files

#: Largest shared parcel (reference tables, registry, notebook, layouts).
SHARED_BYTES = 256 * MiB
#: Largest parcel of one report (params file and the commune's tables).
TASK_BYTES = 64 * MiB
#: Largest finished run a worker may return (a run is about 1 MiB).
RUN_BYTES = 256 * MiB
#: Most files in any one parcel.
MEMBERS = 20_000


def folder_files(folder: Path, prefix: str = "", *, follow: bool = False,
                 limit: int = RUN_BYTES) -> list[tuple[str, bytes]]:
    """``(prefix + relative name, bytes)`` of every regular file below
    ``folder``, sorted. With ``follow`` False (a run folder) a symbolic link
    is refused; with True (project files, read as a report reads them)
    links are followed. Missing ``folder``: no files.

    Raises :class:`UnsafePathError` for a link (``follow`` False) or a file
    that is neither regular nor a folder; :class:`LimitError` past ``limit``
    bytes or :data:`MEMBERS` files.
    """
    files: list[tuple[str, bytes]] = []
    total = 0
    if not folder.is_dir():
        return files
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() and not follow:
            raise UnsafePathError("a run folder holds a symbolic link; refusing to send it",
                                  file=str(path))
        if path.is_dir():
            continue
        if not path.is_file():
            raise UnsafePathError("not a regular file; refusing to send it", file=str(path))
        if follow:
            data = path.read_bytes()
        else:
            with open_nofollow(path) as f:
                data = f.read()
        total += len(data)
        files.append((prefix + path.relative_to(folder).as_posix(), data))
        if total > limit or len(files) > MEMBERS:
            raise LimitError("too much to send to or from a Dask worker", file=str(folder),
                             expected=f"at most {limit // MiB} MiB in {MEMBERS} files")
    return files


def pack_folder(folder: Path, *, limit: int = RUN_BYTES) -> bytes:
    """:func:`pack_files` of the regular files below ``folder`` (a run's bag);
    a symbolic link in it is refused (:class:`UnsafePathError`)."""
    return pack_files(folder_files(folder, limit=limit))


def check_name(name: str, prefixes: tuple[str, ...] | None = None) -> str:
    """``name`` when it is a safe relative posix path (below one of
    ``prefixes`` when given), else :class:`UnsafePathError`."""
    if not name or "\0" in name or "\\" in name or name.startswith("/"):
        raise UnsafePathError("a parcel names an absolute or empty path; refused", found=name)
    parts = PurePosixPath(name).parts
    if any(p in ("..", ".", "") for p in parts) or PurePosixPath(name).as_posix() != name:
        raise UnsafePathError("a parcel names a path leading out of its folder; refused",
                              found=name)
    if prefixes is not None and not name.startswith(prefixes):
        raise UnsafePathError("a parcel holds a file it has no business holding; refused",
                              found=name, expected=" or ".join(prefixes))
    return name


def read_members(data: bytes, *, limit: int, prefixes: tuple[str, ...] | None = None,
                 what: str = "parcel") -> list[tuple[str, bytes]]:
    """The files of tar ``data``, checked, in the tar's order.

    Raises
    ------
    UnsafePathError
        Not a tar; a member that is not a regular file (symbolic or hard
        link, device, FIFO, folder, sparse file); an absolute name, one with
        ``..``, ``.`` or a backslash; a name given twice; a name outside
        ``prefixes`` (when given).
    LimitError
        ``data`` or its files exceed ``limit`` bytes, or more than
        :data:`MEMBERS` members.
    """
    if len(data) > 2 * limit:  # tar headers and padding aside
        raise LimitError(f"{what} too large", expected=f"at most {limit // MiB} MiB",
                         found=f"{len(data) // MiB} MiB")
    out: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    folders: set[str] = set()
    total = 0
    try:
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:")
    except tarfile.TarError:
        raise UnsafePathError(f"the {what} is not a tar archive; refused") from None
    with tar:
        try:
            for member in tar:
                if len(out) >= MEMBERS:
                    raise LimitError(f"{what} holds too many files",
                                     expected=f"at most {MEMBERS}")
                if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
                    raise UnsafePathError(f"the {what} holds a link, folder or device entry; "
                                          "refused", found=member.name)
                name = check_name(member.name, prefixes)
                parents = {name.rsplit("/", i)[0] for i in range(1, name.count("/") + 1)}
                if name in seen or name in folders or parents & seen:
                    raise UnsafePathError(f"the {what} names a file twice (or as a folder "
                                          "too); refused", found=name)
                seen.add(name)
                folders |= parents
                total += member.size
                if total > limit:
                    raise LimitError(f"{what} too large", expected=f"at most {limit // MiB} MiB")
                handle = tar.extractfile(member)
                out.append((name, handle.read() if handle else b""))
        except tarfile.TarError as exc:
            raise UnsafePathError(f"the {what} is a damaged tar archive ({exc}); refused") from None
    return out


def write_members(members: Iterable[tuple[str, bytes]], dest: Path) -> None:
    """Write checked members (:func:`read_members`) below ``dest``: new files
    only (``O_EXCL``), no symbolic link followed, folders made as needed.

    Raises :class:`UnsafePathError` when a file exists already or a folder
    on the way is a link or a file."""
    dest = Path(dest)
    for name, data in members:
        target = dest.joinpath(*name.split("/"))
        folder = dest
        for part in name.split("/")[:-1]:
            folder = folder / part
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise UnsafePathError("a folder of the parcel is a link or a file; refused",
                                      file=str(folder))
            folder.mkdir(exist_ok=True)
        try:
            with open_nofollow(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL) as f:
                f.write(data)
        except FileExistsError:
            raise UnsafePathError("the parcel would overwrite a file; refused",
                                  file=str(target)) from None


def relative_in(path: Path, root: Path, what: str) -> str:
    """``path`` relative to ``root`` (links not resolved), posix; an
    :class:`OptionError` when it is outside (a worker without this disk could
    not find it at the same place)."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path(os.path.abspath(root))).as_posix()
    except ValueError:
        raise OptionError(f"with --scheduler, the {what} must be inside the project "
                          "(workers receive the project's files at the same relative paths)",
                          file=str(path), expected=f"a file under {root}") from None


def shared_parcel(root: Path, notebook: Path) -> tuple[bytes, str]:
    """The files every report of a batch reads: under ``data/`` all but
    ``data/communes/``, the notebook at its path in the project, and
    ``notebooks/layouts/``. Returns the tar and its SHA-256.

    Raises :class:`OptionError` for a notebook outside the project;
    :class:`LimitError` past :data:`SHARED_BYTES`."""
    notebook_name = relative_in(notebook, root, "notebook")  # refused before anything is read
    files: dict[str, bytes] = {}
    data = root / "data"
    if data.is_dir():
        for entry in sorted(data.iterdir()):
            if entry.name == "communes":
                continue
            if entry.is_dir():
                files.update(folder_files(entry, f"data/{entry.name}/", follow=True,
                                          limit=SHARED_BYTES))
            elif entry.is_file():
                files[f"data/{entry.name}"] = entry.read_bytes()
    files.update(folder_files(root / "notebooks" / "layouts", "notebooks/layouts/", follow=True,
                              limit=SHARED_BYTES))
    files[notebook_name] = Path(notebook).read_bytes()
    if sum(len(v) for v in files.values()) > SHARED_BYTES:
        raise LimitError("the files shared by the reports are too large to send",
                         expected=f"at most {SHARED_BYTES // MiB} MiB")
    packed = pack_files(files.items())
    return packed, sha256_bytes(packed)


def task_parcel(root: Path, params: Path, code: str | None) -> tuple[bytes, str]:
    """One report's own files: its params file and ``data/communes/<code>/``.
    Returns the tar and the params file's path relative to the project."""
    relative = relative_in(params, root, "params file")
    files = [(relative, Path(params).read_bytes())]
    if code and code.isdigit():
        files += folder_files(root / "data" / "communes" / code, f"data/communes/{code}/",
                              follow=True, limit=TASK_BYTES)
    return pack_files(files), relative


#: What a task parcel may hold (checked on the worker).
TASK_PREFIXES = ("params/", "data/communes/")
#: What a shared parcel may hold.
SHARED_PREFIXES = ("data/", "notebooks/")
