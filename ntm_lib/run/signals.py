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


@contextmanager
def deferred_interrupts() -> Iterator[list[int]]:
    """Within the block, SIGINT and SIGTERM are noted, not raised: for the
    last steps of a run that is already archived (moving the latest link,
    saying what was built), which an interrupt could only leave half-said.
    Yields the list of the signals that arrived (empty when none did).
    Outside the main thread (a batch worker's thread) nothing changes."""
    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return

    def note(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
        got.append(signum)

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield got
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
