"""One way to write a tar: deterministic, so the same files give the same bytes.

Used for the library copy kept as evidence (:mod:`ntm_lib.run.codecopy`,
gzip-compressed) and for what a Dask task carries and returns
(:mod:`ntm_lib.batch.shipping`, which also holds the bounded reader).
"""
from __future__ import annotations

import io
import tarfile
from typing import Iterable

__all__ = ["pack_files"]


def pack_files(files: Iterable[tuple[str, bytes]]) -> bytes:
    """A deterministic tar of ``(relative posix name, bytes)`` pairs,
    sorted by name (PAX format, mode 0644, time 0, owner 0)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
