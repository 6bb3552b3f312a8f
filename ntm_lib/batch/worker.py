"""What runs inside a batch worker process (local pool or Dask worker).

:func:`run_task` builds one commune-year with :func:`ntm_lib.run.build_report`,
the very function ``ntm run`` calls, and turns whatever happens into an
:class:`Outcome` (plain data, picklable): a failure never escapes as an
exception, so one commune cannot stop the others.

:func:`prepare_worker` readies the process once: it imports the heavy
modules (papermill, nbconvert, WeasyPrint, pandas) and starts the kernel
forker (:mod:`ntm_lib.batch.kernel`), so each report pays for its own
kernel and work only.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .plan import Task, params_code

#: Steps whose seconds a record keeps, from the run's manifest timings.
STEPS = ("kernel_start", "execution", "html", "pdf", "docx", "archive")

_READY: dict[str, Any] = {}


@dataclass
class Outcome:
    """The result of one task.

    ``status``: ``ran`` (built now), ``skipped`` (up to date), ``failed``,
    ``interrupted`` (stopped by Ctrl-C: nothing of it is presented as
    finished) or ``not run`` (never started). ``reason`` says why it ran or
    was skipped; ``error`` holds ``message`` and, for a notebook failure,
    ``cell`` (index), ``ename`` and ``evalue``; ``run_dir`` and ``outputs``
    are absolute paths as text (the record makes them relative).
    """

    year: int
    slug: str
    status: str
    seconds: float = 0.0
    code: str | None = None
    name: str | None = None
    district_code: str | None = None
    province_code: str | None = None
    run_id: str | None = None
    run_dir: str | None = None
    reason: str = ""
    error: dict[str, Any] | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    worker: str | None = None
    #: The peak resident set size so far, MiB (ru_maxrss), of the worker
    #: process or of its kept render child (:mod:`ntm_lib.render.kept`),
    #: whichever is higher.
    peak_rss_mb: float | None = None

    @property
    def key(self) -> str:
        return f"{self.year}/{self.slug}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _quiet_asyncio() -> None:
    """A report interrupted mid-cell leaves nbclient tasks whose errors
    asyncio logs, traceback included, when they are collected (and a kernel
    start cut short, a coroutine never awaited); the report's outcome
    already says it was interrupted. Shown with ``--debug``."""
    import logging

    if not os.environ.get("NTM_DEBUG"):
        import warnings

        logger = logging.getLogger("asyncio")
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
        # Nor the coroutine of a kernel start the interrupt cut short.
        warnings.filterwarnings("ignore", message="coroutine .* was never awaited",
                                category=RuntimeWarning)
        sys.unraisablehook = _quiet_unraisable


def _quiet_unraisable(unraisable) -> None:
    """An interrupt can land inside ``asyncio``'s event loop constructor
    (nbclient makes one per report); the half-built loop then fails in its
    ``__del__`` and Python prints "Exception ignored in ... BaseEventLoop.__del__"
    with a traceback. That one is left out; anything else is printed as
    Python would."""
    where = getattr(unraisable.object, "__qualname__", "")
    if where.endswith("EventLoop.__del__") and unraisable.exc_type is AttributeError:
        return
    sys.__unraisablehook__(unraisable)


def keep_render_child() -> bool:
    """Keep one render child for this worker's renders unless the environment
    says ``NTM_KEEP_RENDER_CHILD=0``; whether it is kept."""
    from ntm_lib.render import kept

    if os.environ.get("NTM_KEEP_RENDER_CHILD", "1").strip() == "0":
        kept.release()
        return False
    kept.keep()
    return True


def prepare_worker(*, fork_kernels: bool = True) -> None:
    """Ready this process for reports (once; later calls do nothing): the
    kernel forker, the heavy imports, and one kept render child for all its
    renders (:mod:`ntm_lib.render.kept`) unless ``NTM_KEEP_RENDER_CHILD=0``,
    which forks a child per render as ``ntm run`` does (the same bytes;
    ``bench/bench_render_child.py`` compares the two)."""
    if _READY:
        return
    _quiet_asyncio()
    if fork_kernels:  # first: the forker's imports overlap with this process's
        from . import kernel

        kernel.install()
    import ntm_lib.render  # noqa: F401  nbconvert, WeasyPrint
    import ntm_lib.run  # noqa: F401  papermill, nbclient, pandas

    keep_render_child()
    _READY["pid"] = os.getpid()


def _commune_fields(outcome: Outcome, manifest: dict[str, Any] | None) -> None:
    commune = (manifest or {}).get("commune") or {}
    outcome.code = commune.get("code") or outcome.code
    outcome.name = commune.get("name") or outcome.name
    outcome.district_code = commune.get("district_code")
    outcome.province_code = commune.get("province_code")


def _error_of(exc: BaseException) -> dict[str, Any]:
    from ..errors import ExecutionError, NtmError

    error: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc).splitlines()[0]
                             if str(exc) else type(exc).__name__}
    if isinstance(exc, NtmError):
        error["file"] = exc.file
    if isinstance(exc, ExecutionError):  # the notebook is in ``file``; the cell says where
        error.update(message=exc.message, cell=exc.failure.cell_index, exec_count=exc.failure.exec_count,
                     ename=exc.failure.ename, evalue=exc.failure.evalue)
    return error


def run_task(task: Task, build: str | Path, notebook: str | Path | None = None, *,
             reason: str = "", timeout: float | None = None,
             fork_kernels: bool = True) -> Outcome:
    """Build ``task`` now; never raises but for KeyboardInterrupt.

    ``timeout`` (seconds) bounds the notebook's execution: past it the
    kernel is interrupted (the running cell fails with the time named), and
    killed if it does not stop.
    """
    import json

    prepare_worker(fork_kernels=fork_kernels)
    from ..errors import NtmError
    from ..load import resolve_commune
    from ..run import build_report
    from ..run.execute import execution_time_limit

    began = time.perf_counter()
    outcome = Outcome(task.year, task.slug, "failed", reason=reason,
                      worker=f"{os.uname().nodename}:{os.getpid()}")
    # The time limit is kept by the execution itself (ntm_lib.run.execute); the
    # watchdog only kills a kernel still alive well past it.
    watchdog = _Watchdog(timeout + _Watchdog.GRACE) if timeout else None
    limited = False
    try:
        code = params_code(task.params) or task.slug
        commune = resolve_commune(code, year=task.year)
        outcome.code, outcome.name = commune.code, commune.name
        if task.slug not in _report_slugs(commune.slug):
            raise NtmError(f"this params file is for {commune.name} ({commune.code}), whose "
                           f"slug is {commune.slug}: name it {commune.slug}.yaml (or "
                           f"{commune.slug}-<period>.yaml for a period report)",
                           file=str(task.params))
        if watchdog:
            watchdog.start()
        # Data are checked by the notebook itself: a bad table fails its
        # cell and keeps the executed notebook, as any batch failure does.
        with execution_time_limit(timeout):
            result = build_report(commune.code, task.year, params_path=task.params,
                                  notebook=notebook, build=build, check_data=False,
                                  docx=task.docx)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - a failure stays with its commune
        outcome.error = _error_of(exc)
        limited = getattr(exc, "time_limit", None) is not None
    else:
        manifest_path = result.outputs.get("manifest.json")
        manifest = None
        if manifest_path and manifest_path.exists():
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        _commune_fields(outcome, manifest)
        outcome.run_id, outcome.run_dir = result.run_id, str(result.run_dir)
        outcome.outputs = {name: str(path) for name, path in result.outputs.items()}
        recorded = (manifest or {}).get("timings") or {}
        outcome.timings = {k: round(float(v), 4) for k, v in {**recorded, **result.timings}.items()
                           if k in STEPS and v is not None}
        if result.status == "ok":
            outcome.status = "ran"
        else:
            outcome.error = _error_of(result.error) if result.error else {"message": "failed"}
            limited = getattr(result.error, "time_limit", None) is not None
    finally:
        if watchdog:
            watchdog.cancel()
    if watchdog and (watchdog.fired or limited) and outcome.status == "failed" and outcome.error:
        outcome.error["timeout"] = timeout
        outcome.error["message"] = (f"timed out after {timeout:g} s: "
                                    + outcome.error.get("message", ""))
    outcome.seconds = round(time.perf_counter() - began, 3)
    from ntm_lib.render import kept

    from .run import peak_rss_mb

    outcome.peak_rss_mb = max(peak_rss_mb(), kept.child_peak_rss_mb() or 0.0)
    return outcome


class _Watchdog:
    """Interrupts this worker's kernel when a report runs past its time:
    SIGINT first (the cell fails with KeyboardInterrupt, named in the
    record), SIGKILL after a grace period if the kernel does not stop."""

    GRACE = 10.0

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.fired = False
        self._cancelled = False
        self._timer: threading.Timer | None = None

    def start(self) -> None:
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        from . import kernel

        self.fired = True
        if self._cancelled:
            return
        if not kernel.live_kernels():  # time ran out while the kernel was starting:
            self._timer = threading.Timer(0.1, self._fire)  # interrupt it once it is up
            self._timer.daemon = True
            self._timer.start()
            return
        kernel.signal_kernels(signal.SIGINT)
        self._timer = threading.Timer(self.GRACE, kernel.signal_kernels, (signal.SIGKILL,))
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        self._cancelled = True
        if self._timer:
            self._timer.cancel()


def _report_slugs(slug: str) -> set[str]:
    """The params file names a commune's reports may have: its slug (the
    year) and ``<slug>-<period>`` for each period of ``periods.csv``."""
    from ..load.periods import load_periods
    from ..run.report import report_slug

    return {report_slug(slug, p) for p in load_periods()}
