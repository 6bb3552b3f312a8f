"""One render child kept for many renders, in a batch worker.

:func:`ntm_lib.render.bounded.run_limited` runs each render (HTML, PDF,
Word) in a child process so that a render stuck inside a C call can be
killed at its time limit. Forking a new child per render throws away, with
the child, everything the render learned: the C type declarations cffi
parses for WeasyPrint and Pango, WeasyPrint's style and font caches, Babel's
and fontTools' tables, and the pages copied on write. In a batch worker that
is paid for every report: ``bench/bench_render_child.py`` (24 synthetic
reports, five interleaved batches on the 2-CPU bench machine) measured 2.39
CPU-s per report with one kept child against 2.69 with a child per render,
and the same bytes.

:func:`keep` makes this process keep one render child instead: forked at the
first render (from this process as it is then, renderers readied), it
receives each render as a pickled ``(work, args)`` over a pipe, runs it and
sends back the same result :func:`~ntm_lib.render.bounded.run_limited`
would have. Each render keeps the limits it had:

- past its time limit the child is killed, as a per-render child was; the
  next render forks a new one;
- a child that dies (a crash in C, the out-of-memory killer) is reported as
  "stopped unexpectedly", and the next render forks a new one;
- a child retires after :data:`RENDERS_PER_CHILD` renders or once its
  peak resident memory passes :data:`ntm_lib.limits.RENDER_CHILD_MB`, so
  caches cannot grow without end; the next render forks a fresh one.

The child ignores Ctrl-C (its parent stops it) and exits when the pipe from
its parent closes, so it never outlives the worker. Renders whose arguments
cannot be pickled, and renders made while another thread of this process
is using the child, get a child of their own as before. ``ntm run`` (one
report) does not call :func:`keep`: each of its renders has its own child.
"""
from __future__ import annotations

import atexit
import os
import pickle
import select
import signal
import struct
import threading
import time
from typing import Any, Callable

from .. import limits

__all__ = ["keep", "kept", "release", "serve", "child_peak_rss_mb", "NOT_SERVED",
           "RENDERS_PER_CHILD"]

#: Renders one kept child makes before it retires (a fresh fork replaces it).
RENDERS_PER_CHILD = 200
#: Returned by :func:`serve` when the render was not sent to the kept child.
NOT_SERVED = object()
_HEADER = struct.Struct("!Q")
_LOCK = threading.Lock()
_KEEP_PID: int | None = None
_CHILD: "_Child | None" = None
_PEAK_MB: float | None = None


def keep() -> None:
    """Keep one render child in this process from now on (idempotent)."""
    global _KEEP_PID
    if hasattr(os, "fork"):
        _KEEP_PID = os.getpid()


def release() -> None:
    """Stop the kept child (if any) and go back to one child per render."""
    global _KEEP_PID, _CHILD
    with _LOCK:
        if _CHILD is not None:
            _CHILD.stop()
        _CHILD, _KEEP_PID = None, None


def kept() -> bool:
    """Whether this process keeps a render child (:func:`keep` was called here)."""
    return _KEEP_PID == os.getpid()


def child_peak_rss_mb() -> float | None:
    """The highest peak resident set size, MiB, a kept child of this process
    reported after a render (None when none rendered)."""
    return _PEAK_MB


def serve(work: Callable[..., Any], args: tuple, *, seconds: float, what: str,
          file: str | None) -> Any:
    """``work(*args)`` computed in the kept child, as a pickled outcome tuple
    (see :func:`ntm_lib.render.bounded.outcome`); or :data:`NOT_SERVED`
    when this process keeps no child, another thread is using it, or the
    arguments cannot be pickled.

    Raises :class:`~ntm_lib.errors.RenderError` when the render passed
    ``seconds`` (the child is killed) or the child died.
    """
    global _CHILD
    if not kept() or not _LOCK.acquire(blocking=False):
        return NOT_SERVED
    try:
        try:
            request = pickle.dumps((work, args), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - not picklable: a child of its own
            return NOT_SERVED
        child = _CHILD if _CHILD is not None and _CHILD.alive() else None
        if child is None:
            child = _CHILD = _Child.fork()
        try:
            try:
                child.send(request)
            except OSError:  # the child went away between two renders: a fresh one
                child.stop()
                child = _CHILD = _Child.fork()
                child.send(request)
            reply = child.receive(time.monotonic() + seconds)
        except BaseException:  # interrupted (a request or reply half sent): stop the child
            child.stop()
            _CHILD = None
            raise
        if reply is None or reply is EOFError:
            status = child.stop()
            _CHILD = None
            from .bounded import exit_status, over_time
            if reply is None:
                raise over_time(what, seconds, file)
            from ..errors import RenderError
            raise RenderError(f"rendering {what} stopped unexpectedly ({exit_status(status)})",
                              file=file)
        result, retiring, peak_mb = pickle.loads(reply)
        _note_peak(peak_mb)
        if retiring:
            child.stop()
            _CHILD = None
        return pickle.loads(result)
    finally:
        _LOCK.release()


def _note_peak(peak_mb: float) -> None:
    global _PEAK_MB
    _PEAK_MB = peak_mb if _PEAK_MB is None else max(_PEAK_MB, peak_mb)


class _Child:
    """The parent's handle on one kept child: its pid and the two pipe ends."""

    def __init__(self, pid: int, to_child: int, from_child: int) -> None:
        self.pid, self.to_child, self.from_child = pid, to_child, from_child
        self.owner = os.getpid()

    @classmethod
    def fork(cls) -> "_Child":
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(request_w)
                os.close(reply_r)
                _loop(request_r, reply_w)
            finally:
                os._exit(0)
        os.close(request_r)
        os.close(reply_w)
        child = cls(pid, request_w, reply_r)
        atexit.register(child.stop)
        return child

    def alive(self) -> bool:
        if self.owner != os.getpid() or self.pid is None:
            return False
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return done == 0

    def send(self, payload: bytes) -> None:
        _write_all(self.to_child, _HEADER.pack(len(payload)) + payload)

    def receive(self, deadline: float) -> bytes | None | type[EOFError]:
        """The reply; None past ``deadline``; ``EOFError`` when the child died."""
        header = _read_exactly(self.from_child, _HEADER.size, deadline)
        if header is None or header is EOFError:
            return header
        return _read_exactly(self.from_child, _HEADER.unpack(header)[0], deadline)

    def stop(self) -> int:
        """Close the pipes, kill the child if it still runs, reap it; its wait status."""
        status = 0
        if self.pid is None or self.owner != os.getpid():
            return status
        for fd in (self.to_child, self.from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done == 0:
                os.kill(self.pid, signal.SIGKILL)
                _, status = os.waitpid(self.pid, 0)
        except (ChildProcessError, ProcessLookupError):
            pass
        self.pid = None
        return status


def _loop(requests: int, replies: int) -> None:
    """The kept child: render what comes until the parent closes the pipe
    or the child retires."""
    import resource

    from .bounded import outcome, pickled

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    done = 0
    while True:
        header = _read_exactly(requests, _HEADER.size, None)
        if header is None or header is EOFError:
            return
        payload = _read_exactly(requests, _HEADER.unpack(header)[0], None)
        if payload is None or payload is EOFError:
            return
        try:
            work, args = pickle.loads(payload)
        except Exception as exc:  # noqa: BLE001
            result: Any = ("crash", f"the render could not be received ({exc})")
        else:
            result = outcome(work, args)
        done += 1
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        retiring = done >= RENDERS_PER_CHILD or peak_mb >= limits.RENDER_CHILD_MB
        reply = pickled((pickled(result), retiring, round(peak_mb, 1)))
        try:
            _write_all(replies, _HEADER.pack(len(reply)) + reply)
        except OSError:
            return
        if retiring:
            return


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes | None | type[EOFError]:
    chunks, left = [], size
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                return None
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
