"""Execute a report notebook with papermill, in its own kernel.

Parameters are validated by the caller before they get here; this module
checks the notebook has a ``parameters`` cell (papermill would only warn),
runs it, and turns papermill's failure into an :class:`ExecutionError`
naming the cell. The executed notebook is written even when a cell fails, so
the failing cell and its traceback stay visible.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import CellFailure, ExecutionError, NotebookError
from ..params import parameters_cell
from ..paths import relative_to_root
from .kernels import use_provisioner

#: Seconds allowed for the kernel to start, and for any one cell.
START_TIMEOUT = 60
CELL_TIMEOUT = 600


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
) -> ExecutionTimings:
    """Run ``template`` with ``parameters`` injected; write the executed
    notebook to ``output``.

    Raises
    ------
    NotebookError
        The template is unreadable or has no ``parameters`` cell.
    ExecutionError
        A cell raised (or timed out, or the kernel died); ``output`` holds the
        executed notebook with the failing cell.
    """
    import time

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

    template, output = Path(template), Path(output)
    try:
        nb = json.loads(template.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotebookError(f"cannot read the notebook: {exc}", file=relative_to_root(template)) from None
    try:
        parameters_cell(nb)
    except NotebookError as exc:
        raise NotebookError(exc.message, file=relative_to_root(template)) from None

    began = time.perf_counter()
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
        raise ExecutionError(
            CellFailure(-1, None, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else ""),
            file=relative_to_root(output),
        ) from None
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    total = time.perf_counter() - began
    return timings_of(json.loads(output.read_text(encoding="utf-8")), total)
