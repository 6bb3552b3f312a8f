"""Rendering within a wall-time limit: the work runs in a child process.

nbconvert and WeasyPrint run Python code that calls into C (Pango's line
breaking, the regular-expression engine); a pathological document can keep
them inside one C call for minutes, where neither a signal handler nor a
Python timer is ever run. :func:`run_limited` therefore runs the work in a
forked child process: a copy of this one, with its imported modules, font
set-up and caches, so it starts in milliseconds. The child sends back what
the work returned (the bytes of the HTML or PDF) or the error it raised;
past the limit (:data:`ntm_lib.limits.RENDER_SECONDS`) it is killed and
:class:`~ntm_lib.errors.RenderError` names the limit. The child writes no
file: the caller writes the bytes it got, so a killed render leaves nothing
behind. Nothing here depends on signals in this process, so it works the
same in the main thread of ``ntm run``, in a worker of ``ntm batch`` and in
a Dask worker's thread.

A batch worker keeps one such child for all its renders instead of forking
one per render (:mod:`ntm_lib.render.kept`), with the same limit and errors.

Without ``os.fork`` (Windows) the work runs in this process, without a limit.
"""
from __future__ import annotations

import os
import pickle
import select
import signal
import time
from typing import Any, Callable

from .. import limits
from ..errors import NtmError, RenderError

_CHUNK = 1 << 16


def run_limited(work: Callable[..., Any], *args: Any, what: str,
                seconds: float | None = None, file: str | None = None) -> Any:
    """``work(*args)``, computed in a child process given ``seconds``
    (default :data:`ntm_lib.limits.RENDER_SECONDS`, read at each call): the
    process's kept render child when it keeps one (:func:`ntm_lib.render.kept.keep`),
    else a child forked for this call.

    The result must be picklable (bytes, text). An :class:`NtmError` raised
    by ``work`` is raised here as the same class with the same fields; any
    other exception becomes a :class:`RenderError` naming it.

    Raises
    ------
    RenderError
        The limit passed (the child is killed), the child died, or ``work``
        raised something other than an :class:`NtmError`. ``what`` names the
        step in the message ("the PDF"), ``file`` is the error's file.
    NtmError
        What ``work`` raised.
    """
    seconds = limits.RENDER_SECONDS if seconds is None else seconds
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        return work(*args)
    from . import kept

    result = kept.serve(work, args, seconds=seconds, what=what, file=file)
    if result is kept.NOT_SERVED:
        result = _in_own_child(work, args, seconds, what, file)
    return _returned(result, what, file)


def _in_own_child(work: Callable[..., Any], args: tuple, seconds: float, what: str,
                  file: str | None) -> tuple:
    """The outcome of ``work(*args)`` computed in a child forked for it alone."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, exit without running this process's exit code
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as out:
                out.write(pickled(outcome(work, args)))
        finally:
            os._exit(0)
    os.close(write_end)
    began = time.monotonic()
    try:
        payload = _receive(read_end, began + seconds)
    except BaseException:  # over time, or interrupted: the child must not outlive us
        _kill(pid)
        raise
    finally:
        os.close(read_end)
    if payload is None:
        _kill(pid)
        raise over_time(what, seconds, file)
    _, status = os.waitpid(pid, 0)
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - nothing usable came back
        raise RenderError(f"rendering {what} stopped unexpectedly "
                          f"({exit_status(status)})", file=file) from None


def _returned(result: tuple, what: str, file: str | None) -> Any:
    kind, *rest = result
    if kind == "ok":
        return rest[0]
    if kind == "error":
        raise _rebuilt(*rest)
    raise RenderError(f"rendering {what} failed: {rest[0]}", file=file)


def over_time(what: str, seconds: float, file: str | None) -> RenderError:
    """The error of a render stopped at its time limit."""
    return RenderError(f"rendering {what} took longer than {seconds:g} s and was stopped "
                       "(limit limits.RENDER_SECONDS)", file=file,
                       expected=f"at most {seconds:g} s", found=f"over {seconds:g} s")


def outcome(work: Callable[..., Any], args: tuple) -> tuple:
    """``("ok", value)``, ``("error", class, message, fields)`` for an
    :class:`NtmError`, or ``("crash", text)``: what a render child sends
    back (through :func:`pickled`)."""
    try:
        return ("ok", work(*args))
    except NtmError as exc:
        return ("error", type(exc), exc.message, dict(vars(exc)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as text
        return ("crash", f"{type(exc).__name__}: {exc}"[:2000])


def pickled(message: Any) -> bytes:
    """``message`` pickled; when it cannot be, a ``("crash", text)`` outcome
    saying so (pickled), in its place."""
    try:
        return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001
        return pickle.dumps(("crash", f"the result could not be sent back ({exc})"))


def _receive(fd: int, deadline: float) -> bytes | None:
    """Everything written to ``fd`` until it closes, or None at ``deadline``."""
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def exit_status(status: int) -> str:
    """A child's wait status in words."""
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}" if os.WIFEXITED(status) else "unknown status"


def _rebuilt(cls: type, message: str, state: dict) -> NtmError:
    """The error the child raised, as the same class with the same fields
    (typed errors have their own constructors, so ``pickle`` cannot make
    them from their message alone)."""
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error
