"""Running a batch's tasks on this machine: a pool of worker processes.

Each worker is a process of its own (a fork of a server process that has
imported the report modules, see :func:`_context`), readied once by
:func:`ntm_lib.batch.worker.prepare_worker`, and builds one report at a
time, each with its own kernel and run folder. A worker that dies takes only
its current report with it: that report is recorded as failed and the pool
is started again for the rest. Ctrl-C stops the batch: reports not started
are cancelled, the running ones are interrupted (their partial folders are
removed by ``build_report``), and what finished stays finished.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Sequence

from .plan import Task
from .worker import Outcome

Job = tuple[Task, str]  # a task and why it runs


_state = {"running": False, "terminating": False, "interrupted": False}


def _on_signal(signum: int, frame) -> None:  # noqa: ARG001 - signal handler signature
    """In a worker: SIGINT or SIGTERM during a report interrupts it once (its
    partial run is removed, its kernel shut down, the parent records it as
    interrupted; a second signal, such as Ctrl-C reaching the worker and the
    batch forwarding it, does not cut that clean-up short), and after SIGTERM
    the worker then exits; while idle, SIGINT is ignored and SIGTERM ends the
    worker at once. After an interrupt, reports already queued to this worker
    are not started. No traceback either way."""
    if signum == signal.SIGTERM:
        _state["terminating"] = True
    if _state["running"]:
        if not _state["interrupted"]:
            _state["interrupted"] = True
            raise KeyboardInterrupt
        return
    _state["interrupted"] = True
    if signum == signal.SIGTERM:
        os._exit(128 + signum)


def _watch_batch(pid: int) -> None:
    """End this worker as SIGTERM would once the batch process ``pid`` is
    gone (killed with ``kill -9`` alone): a worker, and through it the fork
    server, its kernel forker and kernels, never outlive the batch waiting
    for work. Watched from a daemon thread: a pidfd where Linux has one (no
    confusion with a new process of the same pid), else once a second."""
    import threading

    def wait_gone() -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            import select

            select.select([fd], [], [])  # readable once the process has exited
        else:
            import time

            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
                time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=wait_gone, name="ntm-watch-batch", daemon=True).start()


def _init_worker(home: str, fork_kernels: bool, batch_pid: int | None = None) -> None:
    signal.signal(signal.SIGINT, _on_signal)  # first: an interrupt during the imports is quiet
    signal.signal(signal.SIGTERM, _on_signal)
    if batch_pid:
        _watch_batch(batch_pid)
    os.environ["NTM_HOME"] = home
    from ..redact import install_stream_redaction
    from .worker import prepare_worker

    install_stream_redaction()  # what a worker prints is redacted as the command's output
    prepare_worker(fork_kernels=fork_kernels)


def _call(task: Task, build: str, notebook: str | None, reason: str,
          timeout: float | None, fork_kernels: bool) -> Outcome:
    from .worker import run_task

    if _state["interrupted"]:  # queued before the interrupt: not started
        raise KeyboardInterrupt
    _state["running"] = True
    try:
        return run_task(task, build, notebook, reason=reason, timeout=timeout,
                        fork_kernels=fork_kernels)
    finally:
        _state["running"] = False
        if _state["terminating"]:  # cleaned up after SIGTERM: now end as it asked
            os._exit(128 + signal.SIGTERM)


#: Modules a worker imports to build reports (papermill, nbclient, nbconvert,
#: WeasyPrint, pandas, ``ntm_lib``'s rooms): loaded once by the fork server.
WORKER_PRELOAD = (
    "pandas", "jupyter_client", "papermill", "nbclient", "nbconvert", "weasyprint",
    "ntm_lib.run", "ntm_lib.render", "ntm_lib.batch.worker",
)


def _context() -> multiprocessing.context.BaseContext:
    """``forkserver`` where the platform has it: a server process imports
    :data:`WORKER_PRELOAD` once and every worker is a fork of it (about a
    second of CPU less per worker than a fresh interpreter importing them,
    and nothing else is shared: the server has read no project file and runs
    no thread); ``spawn`` elsewhere."""
    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:
        return multiprocessing.get_context("spawn")
    context.set_forkserver_preload(list(WORKER_PRELOAD))
    return context


def unfinished(job: Job, status: str, message: str) -> Outcome:
    """The outcome of a job that did not finish (interrupted, not run, lost)."""
    task, reason = job
    error = {"message": message} if status == "failed" else None
    return Outcome(task.year, task.slug, status, reason=reason, error=error)


def run_local(
    jobs: Sequence[Job],
    *,
    build: Path,
    notebook: Path | None,
    home: Path,
    workers: int,
    timeout: float | None = None,
    fork_kernels: bool = True,
    on_done: Callable[[Outcome], None] = lambda o: None,
) -> tuple[list[Outcome], bool]:
    """Run ``jobs`` on ``workers`` processes; return the outcomes (in the
    order of ``jobs``) and whether the batch was interrupted."""
    results: dict[int, Outcome] = {}
    pending = list(range(len(jobs)))
    interrupted = False
    context = _context()
    while pending and not interrupted:
        executor = ProcessPoolExecutor(
            max_workers=max(1, min(workers, len(pending))), mp_context=context,
            initializer=_init_worker, initargs=(str(home), fork_kernels, os.getpid()))
        futures: dict[Future, int] = {}
        running: set[int] = set()
        try:
            for i in pending:
                task, reason = jobs[i]
                futures[executor.submit(_call, task, str(build),
                                        str(notebook) if notebook else None,
                                        reason, timeout, fork_kernels)] = i
            waiting = set(futures)
            while waiting:
                done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                for future in done:
                    i = futures[future]
                    try:
                        results[i] = future.result()
                    except BrokenProcessPool:
                        # A worker died (killed, out of memory): the reports in
                        # flight are failed; those not started run in a new pool.
                        if future.running() or i in running:
                            results[i] = unfinished(jobs[i], "failed", "the worker process died")
                        else:
                            continue
                    except Exception as exc:  # noqa: BLE001
                        results[i] = unfinished(jobs[i], "failed", f"{type(exc).__name__}: {exc}")
                    on_done(results[i])
                running = {futures[f] for f in waiting if f.running()}
            executor.shutdown(wait=True)
        except KeyboardInterrupt:
            interrupted = True
            started = {i for f, i in futures.items() if f.running() or f.done()}
            # The executor cancels what has not started, in its own thread: a
            # future cancelled here could meet a worker's death there (Python
            # 3.11 then raises InvalidStateError in that thread).
            workers_now = multiprocessing.active_children()  # the pool's workers
            executor.shutdown(wait=False, cancel_futures=True)
            _interrupt(workers_now)
            for future, i in futures.items():
                if i in results or future.cancelled():
                    continue
                try:
                    outcome = future.result(timeout=120)
                except BaseException:  # noqa: BLE001 - interrupted or lost
                    continue
                if (outcome.error or {}).get("type") != "KeyboardInterrupt":
                    results[i] = outcome  # it finished before the interrupt reached it
                    on_done(outcome)
            for process in workers_now:  # until every worker has exited
                process.join()
            for i in pending:
                if i not in results:
                    results[i] = unfinished(jobs[i], "interrupted" if i in started else "not run",
                                            "")
        before, pending = len(pending), [i for i in pending if i not in results]
        if pending and len(pending) == before:  # the pool broke before running anything
            for i in pending:
                results[i] = unfinished(jobs[i], "failed", "the worker processes could not start")
                on_done(results[i])
            pending = []
    return [results[i] for i in range(len(jobs))], interrupted


def _interrupt(processes) -> None:
    """Interrupt the workers' running reports (Ctrl-C from a terminal reaches
    them already; a SIGINT or SIGTERM sent to this process alone does not)."""
    for process in processes:
        try:
            os.kill(process.pid, signal.SIGINT)
        except (OSError, AttributeError):
            pass
