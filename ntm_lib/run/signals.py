"""SIGTERM handled like Ctrl-C (SIGINT).

``kill PID``, ``timeout``, a service manager stopping the job: each sends
SIGTERM, which by default ends Python at once, leaving a partial run folder
and a kernel behind. Inside :func:`interrupt_on_sigterm` it raises
``KeyboardInterrupt`` instead, so ``ntm run`` and ``ntm batch`` clean up
exactly as after Ctrl-C: unfinished runs are removed, finished ones kept,
the kernels shut down, the exit code is 130.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


def _interrupt(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises ``KeyboardInterrupt`` in the main
    thread (elsewhere signals cannot be handled: the block runs unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
