"""The input log: which data files a run read, with their digests.

Every table that :func:`ntm_lib.load.tables.read_table` reads without a
problem is recorded in the log being collected (:func:`collect_inputs`);
the report manifest lists a run's log as its inputs, so that a report can
be traced to the exact bytes it was built from. A log is a value: it belongs
to the ``with`` block (and the thread or task) that collects it, never to
the process, so two reports prepared in one process never share one::

    with collect_inputs() as log:
        criteria_set = load_criteria_set("ntm-commune-2021-2025")
    log.entries()   # [{"path": "data/reference/criteria_sets.csv", "sha256": ..., "rows": 3}, ...]

Reads outside any ``with collect_inputs()`` are not logged.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Any, Iterator

from ..safeio import sha256_bytes


class InputLog:
    """The files read while the log was being collected."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Any]] = {}

    def add(self, path: str, data: bytes, rows: int) -> None:
        """Log that ``path`` (relative to the project root) was read as ``data``."""
        self._entries[path] = {"path": path, "sha256": sha256_bytes(data), "rows": rows}

    def clear(self) -> None:
        """Forget the files logged so far."""
        self._entries.clear()

    def entries(self) -> list[dict[str, Any]]:
        """In order of first read, one entry per file: ``path`` (str, relative
        to the project root with ``/`` separators; absolute when outside it),
        ``sha256`` (str, hex digest of the bytes read) and ``rows`` (int,
        number of data rows; 0 for a template). A file read twice is listed
        once, with the digest and row count of the latest read."""
        return [dict(e) for e in self._entries.values()]


_CURRENT: contextvars.ContextVar[InputLog | None] = contextvars.ContextVar("ntm_inputs",
                                                                           default=None)


@contextmanager
def collect_inputs(log: InputLog | None = None) -> Iterator[InputLog]:
    """Collect the files read inside the ``with`` block into ``log`` (a new
    :class:`InputLog` when not given), which it yields."""
    log = log if log is not None else InputLog()
    token = _CURRENT.set(log)
    try:
        yield log
    finally:
        _CURRENT.reset(token)


def record_input(path: str, data: bytes, rows: int) -> None:
    """Log a read into the log being collected, if any."""
    log = _CURRENT.get()
    if log is not None:
        log.add(path, data, rows)
