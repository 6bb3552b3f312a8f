"""The code that made a report, kept with its evidence.

A manifest names the library by ``environment.library_sha256`` (a digest
over the files of ``ntm_lib``, :func:`ntm_lib.run.manifest.library_digest`)
and the git commit. When the work tree has uncommitted changes (or there is
no git), the commit does not say which code ran; so the library's files are
kept once per digest, content-addressed, in
``build/code/ntm_lib-<library_sha256>.tar.gz``, and the manifest names that
file (``environment.library_copy``). The archive is deterministic (sorted
names, no times, no owners), so the same code gives the same bytes; it is
written once and never overwritten. The notebook and its layouts are inputs
of each run and are already copied into its bag.

:func:`check_library_copy` recomputes the digest from an archive's files.
"""
from __future__ import annotations

import gzip
import hashlib
import tarfile
from functools import lru_cache
from pathlib import Path

from ..errors import UnsafePathError
from ..safeio import atomic_write, sha256_bytes
from ..tarball import pack_files

CODE_DIR = "code"
#: Largest library copy read back (the library is about 2 MiB).
LIBRARY_COPY_BYTES = 64 * 2**20


def library_files() -> list[tuple[str, Path]]:
    """(relative path, file) of every file the library digest covers, sorted."""
    package = Path(__file__).resolve().parent.parent
    return sorted((p.relative_to(package).as_posix(), p) for p in package.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def _archive() -> bytes:
    return gzip.compress(pack_files((f"ntm_lib/{name}", path.read_bytes())
                                    for name, path in library_files()), mtime=0)


def keep_library_copy(build: Path, digest: str) -> str:
    """Store the library's files under ``build/code/`` once for ``digest``;
    return the archive's path relative to ``build``."""
    relative = f"{CODE_DIR}/ntm_lib-{digest}.tar.gz"
    target = build / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            atomic_write(target, _archive(), overwrite=False, redact=False, within=build)
        except UnsafePathError:  # another run stored it first
            pass
    return relative


def check_library_copy(path: Path) -> str:
    """The library digest recomputed from the files of archive ``path``
    (equal to the digest in its name when intact)."""
    from ..errors import LimitError

    digest = hashlib.sha256()
    with tarfile.open(path, "r:gz") as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
        if sum(m.size for m in members) > LIBRARY_COPY_BYTES or len(members) > 5000:
            raise LimitError("library copy too large to check", file=str(path),
                             expected=f"at most {LIBRARY_COPY_BYTES // 2**20} MiB of files")
        for member in members:
            data = tar.extractfile(member).read()
            digest.update(member.name.removeprefix("ntm_lib/").encode("utf-8") + b"\0")
            digest.update(sha256_bytes(data).encode("ascii"))
    return digest.hexdigest()


def library_changed(digest: str, root: str) -> bool:
    """Whether the library that has ``digest`` may differ from the git
    commit the manifest names: True when ``root`` is not a git checkout or
    ``ntm_lib/`` has uncommitted changes or files git does not track.
    Asked once per process and digest; inside
    :func:`~ntm_lib.run.manifest.shipped_project_state`, the batch machine's answer."""
    from .manifest import shipped_state

    shipped = shipped_state()
    if shipped is not None:
        return bool(shipped["library_changed"])
    return _library_changed(digest, root)


@lru_cache(maxsize=8)
def _library_changed(digest: str, root: str) -> bool:
    import subprocess

    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", "ntm_lib"], cwd=root,
                             capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return True
    package = Path(__file__).resolve().parent.parent
    if package.parent != Path(root).resolve():  # the library is installed from elsewhere
        return True
    return bool(out.stdout.strip())
