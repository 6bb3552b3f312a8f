"""Execute a report notebook with papermill, in its own kernel.

Parameters are validated by the caller before they get here; this module
checks the notebook has a ``parameters`` cell (papermill would only warn),
runs it, and turns papermill's failure into an :class:`ExecutionError`
naming the cell. The executed notebook is written even when a cell fails, so
the failing cell and its traceback stay visible.

A wall-time limit on the whole execution (``ntm batch --timeout``) is kept
by nbclient itself: the kernel's start and every cell are given only the
time left until the deadline, and the kernel is killed at once when it
passes (a signal to the kernel would not do: ipykernel ignores SIGINT
between cells and while it starts, so an interrupt sent then was lost and
only a kill seconds later stopped it). Set it with ``time_limit`` or, around
code that calls :func:`execute_notebook` (``build_report``), with
:func:`execution_time_limit`.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import math
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..errors import CellFailure, ExecutionError, NotebookError
from ..params import parameters_cell, read_notebook
from ..paths import relative_to_root
from .kernels import READY_CLIENT, use_provisioner

#: Seconds allowed for the kernel to start, and for any one cell.
START_TIMEOUT = 60
CELL_TIMEOUT = 600

_TIME_LIMIT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "ntm_execution_time_limit", default=None)


@contextmanager
def execution_time_limit(seconds: float | None) -> Iterator[None]:
    """Within the block, every :func:`execute_notebook` of this thread (as
    called by ``build_report``) is limited to ``seconds`` of wall time,
    kernel start included; None means no limit. A notebook over its time
    fails with an :class:`ExecutionError` whose ``time_limit`` attribute is
    ``seconds`` (see :func:`execute_notebook`)."""
    token = _TIME_LIMIT.set(seconds)
    try:
        yield
    finally:
        _TIME_LIMIT.reset(token)


@dataclass(frozen=True)
class ExecutionTimings:
    """Seconds spent: ``kernel_start`` (from papermill's start to the first
    cell), ``cells`` (sum of cell durations), ``total`` (whole execution,
    kernel start and shutdown included)."""

    kernel_start: float
    cells: float
    total: float


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def timings_of(notebook: Mapping[str, Any], total: float) -> ExecutionTimings:
    """Split ``total`` using papermill's per-cell metadata of ``notebook``."""
    meta = notebook.get("metadata", {}).get("papermill", {})
    start = _parse_time(meta.get("start_time"))
    cells = [c.get("metadata", {}).get("papermill", {}) for c in notebook.get("cells", [])]
    starts = [_parse_time(c.get("start_time")) for c in cells if c.get("start_time")]
    durations = [float(c.get("duration") or 0) for c in cells]
    kernel = (min(starts) - start).total_seconds() if start and starts else 0.0
    return ExecutionTimings(kernel_start=max(kernel, 0.0), cells=sum(durations), total=total)


def execute_notebook(
    template: str | Path,
    output: str | Path,
    parameters: Mapping[str, Any],
    *,
    cwd: str | Path,
    kernel_name: str = "python3",
    start_timeout: int = START_TIMEOUT,
    cell_timeout: int = CELL_TIMEOUT,
    time_limit: float | None = None,
) -> ExecutionTimings:
    """Run ``template`` with ``parameters`` injected; write the executed
    notebook to ``output``.

    ``time_limit`` (seconds, default the one of :func:`execution_time_limit`,
    else none) bounds the whole execution: past it the running cell (or the
    kernel's start) is stopped, the kernel killed, and the executed notebook
    written with what ran.

    Raises
    ------
    NotebookError, LimitError
        The template is not a readable notebook (not a regular file, over
        :data:`ntm_lib.limits.NOTEBOOK_BYTES`, not JSON, not an object with
        cells) or has no ``parameters`` cell.
    ExecutionError
        A cell raised (or timed out, or the kernel died); ``output`` holds the
        executed notebook with the failing cell. Past ``time_limit``, its
        ``failure.ename`` is ``"TimeoutError"`` and its ``time_limit``
        attribute the limit.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    # IPC transport: the kernel talks over Unix sockets, not TCP ports, so
    # kernels started side by side cannot collide on a port, and nothing
    # listens on the network. The sockets live in a private temporary folder
    # (jupyter_client would otherwise create them in the working directory).
    use_provisioner()  # the kernel's own stderr stays out of the command's output
    sockets = Path(tempfile.mkdtemp(prefix="ntm-kernel-"))
    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(sockets / "kernel")
    config.AsyncKernelManager.client_class = READY_CLIENT  # no idle 0.2 s waits at start

    template, output = Path(template), Path(output)
    try:
        nb = read_notebook(template)
        parameters_cell(nb)
    except NotebookError as exc:
        shutil.rmtree(sockets, ignore_errors=True)
        raise NotebookError(exc.message, file=relative_to_root(template)) from None
    except BaseException:
        shutil.rmtree(sockets, ignore_errors=True)
        raise

    limit = time_limit if time_limit is not None else _TIME_LIMIT.get()
    began = time.perf_counter()
    deadline = time.monotonic() + limit if limit is not None else None
    running: dict[str, Any] = {"cells": []}  # the notebook being run, the cells started
    if deadline is not None:
        config.NotebookClient.timeout_func = _time_left(deadline, cell_timeout, running["cells"])
        config.NotebookClient.on_notebook_start = lambda notebook, **_: running.update(nb=notebook)
        config.NotebookClient.shutdown_kernel = "immediate"  # no grace period past the time
        start_timeout = int(max(1, min(start_timeout, math.ceil(limit))))
    quiet = _QuietTimeouts()
    logging.getLogger("papermill").addFilter(quiet)
    try:
        pm.execute_notebook(
            str(template), str(output),
            parameters=dict(parameters),
            kernel_name=kernel_name,
            cwd=str(cwd),
            progress_bar=False,
            log_output=False,
            start_timeout=start_timeout,
            execution_timeout=cell_timeout,
            config=config,
            # Save once at the end (papermill writes the notebook on failure
            # too), not after every cell: ~0.6 s of CPU per report.
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as exc:
        raise ExecutionError(
            CellFailure(exc.cell_index, exc.exec_count, exc.ename, exc.evalue, exc.source),
            file=relative_to_root(output),
        ) from None
    except Exception as exc:  # kernel died, timeout while starting, ...
        if deadline is not None and time.monotonic() >= deadline - 0.05:
            raise _timed_out(limit, output, running) from None
        raise ExecutionError(
            CellFailure(-1, None, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else ""),
            file=relative_to_root(output),
        ) from None
    finally:
        logging.getLogger("papermill").removeFilter(quiet)
        shutil.rmtree(sockets, ignore_errors=True)
    total = time.perf_counter() - began
    return timings_of(json.loads(output.read_text(encoding="utf-8")), total)


class _QuietTimeouts(logging.Filter):
    """Drops nbclient's "Timeout waiting for execute reply" log line: the
    time limit is reported once, as the run's error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Timeout waiting for execute reply")


def _time_left(deadline: float, cell_timeout: int, started: list):
    """nbclient's ``timeout_func``: each cell may run until ``deadline``
    (and at most ``cell_timeout``); each cell started is appended to
    ``started``, to name the one that ran out of time."""

    def timeout(cell) -> float:
        started.append(cell)
        return max(0.001, min(float(cell_timeout), deadline - time.monotonic()))

    return timeout


def _timed_out(limit: float, output: Path, running: dict[str, Any]) -> ExecutionError:
    """The error of a notebook stopped at its time limit, naming the cell
    running then (its index in the executed notebook) or the kernel's start.
    The notebook as far as it ran is written to ``output``, the stopped cell
    ending with the error, so the failed run keeps it as evidence."""
    import nbformat

    started, nb = running["cells"], running.get("nb")
    where = "in this cell" if started else "while the kernel was starting"
    evalue = f"the notebook ran past its time limit of {limit:g} s and was stopped {where}"
    index = -1
    if nb is not None:
        if started:
            cell = started[-1]
            index = next((i for i, c in enumerate(nb.cells) if c is cell), -1)
            cell.setdefault("outputs", []).append(nbformat.v4.new_output(
                "error", ename="TimeoutError", evalue=evalue, traceback=[f"TimeoutError: {evalue}"]))
        try:
            nbformat.write(nb, str(output))
        except (OSError, ValueError):
            pass  # no notebook: the run is reported without one
    source = started[-1].get("source", "") if started else ""
    error = ExecutionError(CellFailure(index, None, "TimeoutError", evalue, source),
                           file=relative_to_root(output))
    error.time_limit = limit  # type: ignore[attr-defined]
    return error
