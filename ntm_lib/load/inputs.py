"""The input log: which data files a run read, with their digests.

Every table that :func:`ntm_lib.load.tables.read_table` reads without a
problem is recorded here; the report manifest lists this log as the inputs
of a run, so that a report can be traced to the exact bytes it was built
from. The log lives for the process: reset it at the start of each run.
"""
from __future__ import annotations

import threading
from typing import Any

from ..safeio import sha256_bytes

_INPUTS: dict[str, dict[str, Any]] = {}
_LOCK = threading.Lock()


def inputs_read() -> list[dict[str, Any]]:
    """Every file a loader has read without a problem since the last reset.

    Returns
    -------
    list of dict
        In order of first read, one entry per file: ``path`` (str, relative
        to the project root with ``/`` separators; absolute when outside it),
        ``sha256`` (str, hex digest of the bytes read) and ``rows`` (int,
        number of data rows). A file read twice is listed once, with the
        digest and row count of the latest read.
    """
    with _LOCK:
        return [dict(entry) for entry in _INPUTS.values()]


def reset_inputs_read() -> None:
    """Forget the files read so far (call at the start of a report run)."""
    with _LOCK:
        _INPUTS.clear()


def record_input(path: str, data: bytes, rows: int) -> None:
    """Log that ``path`` (already relative to the root) was read as ``data``."""
    entry = {"path": path, "sha256": sha256_bytes(data), "rows": rows}
    with _LOCK:
        _INPUTS[path] = entry
