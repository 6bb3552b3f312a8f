"""Running a batch's tasks on Dask distributed: a LocalCluster on this
machine (``--scheduler local``) or an existing cluster (``--scheduler
tcp://host:8786``).

The tasks are the same calls as in the local pool
(:func:`ntm_lib.batch.worker.run_task`), so the reports are the same. Each
Dask worker runs one report at a time (a LocalCluster has one thread per
worker process) and is readied like a pool worker. Workers of an existing
cluster must see the project and the build folder at the same paths (a
shared file system) and have ``ntm_lib`` installed.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

from ..errors import OptionError
from .pool import Job, unfinished
from .worker import Outcome


#: Seconds to reach an existing scheduler before giving up.
CONNECT_TIMEOUT = 20

#: Dask settings for the LocalCluster this command starts (an existing
#: cluster keeps its own): no statistical profiler sampling the worker's
#: threads every 10 ms and system metrics every 5 s instead of 0.5 s, CPU the
#: reports need more (each task runs for seconds; nothing here reads them).
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.multiprocessing-method": "forkserver",
}


#: Seconds :func:`check_scheduler` waits for the scheduler's port to answer.
PROBE_TIMEOUT = 10
_EXPECTED = '"local" or the address of a running scheduler, e.g. tcp://dask-scheduler:8786'


def check_scheduler(address: str) -> None:
    """Refuse a ``--scheduler`` that cannot be used, cheaply (no Dask import):
    an address without a port, or a ``tcp://`` / ``tls://`` one whose port
    does not answer within :data:`PROBE_TIMEOUT` seconds. Other transports
    are checked when the batch connects.

    Raises :class:`OptionError` (exit code 2) naming the address.
    """
    import socket

    if address == "local":
        return
    scheme, sep, rest = address.rpartition("://")
    if sep and scheme not in ("tcp", "tls"):
        return
    host, colon, port = rest.rpartition(":")
    if not colon or not host:
        raise OptionError(f"cannot use the Dask scheduler: missing port number in address "
                          f"{address!r}", found=address, expected=_EXPECTED)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise OptionError("cannot use the Dask scheduler: the port is not a number from 1 to "
                          "65535", found=address, expected=_EXPECTED)
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise OptionError(f"cannot use the Dask scheduler: nothing answers at {host}:{port} "
                          f"({reason})", found=address, expected=_EXPECTED) from None


def _prepare(home: str, fork_kernels: bool) -> int:
    os.environ["NTM_HOME"] = home
    from ..redact import install_stream_redaction
    from .worker import prepare_worker

    install_stream_redaction()  # what a worker prints is redacted as the command's output

    prepare_worker(fork_kernels=fork_kernels)
    return os.getpid()


def _call(task, build: str, notebook: str | None, reason: str, timeout: float | None,
          home: str, fork_kernels: bool) -> Outcome:
    os.environ["NTM_HOME"] = home
    from ..redact import install_stream_redaction
    from .worker import run_task

    install_stream_redaction()  # also in a worker restarted since _prepare ran

    return run_task(task, build, notebook, reason=reason, timeout=timeout,
                    fork_kernels=fork_kernels)


def run_dask(
    jobs: Sequence[Job],
    *,
    scheduler: str,
    build: Path,
    notebook: Path | None,
    home: Path,
    workers: int,
    timeout: float | None = None,
    fork_kernels: bool = True,
    on_done: Callable[[Outcome], None] = lambda o: None,
) -> tuple[list[Outcome], bool]:
    """Run ``jobs`` on Dask; same contract as :func:`ntm_lib.batch.pool.run_local`."""
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler == "local":
        with dask.config.set(LOCAL_CLUSTER_CONFIG):
            cluster = LocalCluster(n_workers=max(1, min(workers, len(jobs))), threads_per_worker=1,
                                   processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, ValueError, TypeError) as exc:  # unreachable, refused, not an address
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise OptionError(f"cannot use the Dask scheduler: {reason}", found=scheduler,
                              expected=_EXPECTED) from None
    results: dict[int, Outcome] = {}
    interrupted = False
    futures = {}
    try:
        client.run(_prepare, str(home), fork_kernels)
        for i, (task, reason) in enumerate(jobs):
            future = client.submit(_call, task, str(build), str(notebook) if notebook else None,
                                   reason, timeout, str(home), fork_kernels, pure=False,
                                   key=f"ntm-report-{task.year}-{task.slug}-{os.urandom(3).hex()}")
            futures[future] = i
        for future in as_completed(list(futures)):
            i = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker, a task error
                outcome = unfinished(jobs[i], "failed", f"{type(exc).__name__}: {exc}")
            results[i] = outcome
            on_done(outcome)
    except KeyboardInterrupt:
        interrupted = True
        for future, i in futures.items():
            if i not in results:
                status = "interrupted" if future.status == "processing" else "not run"
                future.cancel()
                results[i] = unfinished(jobs[i], status, "")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    for i in range(len(jobs)):
        results.setdefault(i, unfinished(jobs[i], "not run", ""))
    return [results[i] for i in range(len(jobs))], interrupted
