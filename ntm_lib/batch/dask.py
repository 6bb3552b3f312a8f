"""Running a batch's tasks on Dask distributed: a LocalCluster on this
machine (``--scheduler local``) or an existing cluster (``--scheduler
tcp://host:8786``).

The workers share no disk with the batch (:mod:`ntm_lib.batch.cluster`):
each task carries what its report reads, the files every report reads are
sent once to every worker (``client.scatter(..., broadcast=True)``), and the
finished run comes back as a tar, is checked and archived here, as a local
run is. A worker needs only ``ntm-workbook`` installed: one whose library
digest differs from this batch's is refused before anything is built
(exit code 2). Each worker process builds one report at a time (start
workers with ``--nthreads 1``; a LocalCluster has one thread per worker
process) with the same :func:`ntm_lib.batch.worker.run_task` as a pool
worker, so the reports are the same, byte for byte.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

from ..errors import NtmError, OptionError
from ..run import archive
from ..safeio import sha256_bytes
from . import cluster, shipping
from .plan import params_code
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


def _parcels(jobs: Sequence[Job], root: Path, notebook: Path | None, build: Path,
             results: dict[int, Outcome], on_done: Callable[[Outcome], None]) -> dict:
    """``{None: (shared parcel, its SHA-256, notebook path in the project)}``
    and ``{i: (task parcel, params path in the project, params SHA-256)}`` for
    each job that can go; a job that cannot (its archive unsafe, a file
    unreadable) is failed in ``results`` at once, as a pool worker fails it
    before a kernel starts."""
    from .run import NOTEBOOK_NAME

    template = notebook or Path(root) / "notebooks" / NOTEBOOK_NAME
    shared, digest = shipping.shared_parcel(root, template)
    out: dict = {None: (shared, digest, shipping.relative_in(template, root, "notebook"))}
    for i, (task, reason) in enumerate(jobs):
        try:
            archive.check_archive(build, task.year, task.slug)
            parcel, params_rel = shipping.task_parcel(root, task.params, params_code(task.params))
            out[i] = (parcel, params_rel, sha256_bytes(Path(task.params).read_bytes()))
        except (NtmError, OSError) as exc:
            message = exc.message if isinstance(exc, NtmError) else str(exc)
            results[i] = unfinished((task, reason), "failed", message)
            on_done(results[i])
    return out


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
    """Run ``jobs`` on Dask; same contract as :func:`ntm_lib.batch.pool.run_local`.

    ``home`` is the project whose files the tasks carry; ``build`` where the
    returned runs are archived. Raises :class:`OptionError` (exit code 2)
    when the scheduler cannot be reached, a worker's library differs, or the
    notebook or a params file is outside ``home``."""
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    cluster_ = None
    if scheduler == "local":
        with dask.config.set(LOCAL_CLUSTER_CONFIG):
            cluster_ = LocalCluster(n_workers=max(1, min(workers, len(jobs))), threads_per_worker=1,
                                   processes=True, dashboard_address=None)
        client = Client(cluster_)
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
        parcels = _parcels(jobs, home, notebook, build, results, on_done)
        shared, digest, notebook_rel = parcels.pop(None)
        wanted, state = cluster.library(), cluster.project_state()
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except TimeoutError:
            raise OptionError(f"cannot use the Dask scheduler: no worker joined it within "
                              f"{CONNECT_TIMEOUT} s", found=scheduler,
                              expected="a scheduler with at least one worker") from None
        for worker, ready in client.run(cluster.prepare, shared, digest, notebook_rel,
                                        fork_kernels).items():
            refused = cluster.mismatch(ready["library"], wanted, f"the Dask worker {worker}")
            if refused:
                raise OptionError(f"cannot use the Dask scheduler: {refused}", found=scheduler,
                                  expected="workers with the same ntm-workbook as this batch")
        # Sent once to every worker, not with each task (a worker that joins
        # later gets it from a peer).
        shared_future = client.scatter(shared, broadcast=True, hash=False)
        for i, (parcel, params_rel, params_sha) in parcels.items():
            task, reason = jobs[i]
            future = client.submit(
                cluster.build_shipped, task, parcel, params_rel, shared_future, digest,
                notebook_rel, reason, timeout, fork_kernels, wanted, state, notebook is not None,
                pure=False, key=f"ntm-report-{task.year}-{task.slug}-{os.urandom(3).hex()}")
            futures[future] = (i, params_sha)
        for future in as_completed(list(futures)):
            i, params_sha = futures[future]
            try:
                outcome, bag = future.result()
                outcome = cluster.receive(outcome, bag, jobs[i][0], build, params_sha)
            except (KeyboardInterrupt, OptionError):
                raise
            except Exception as exc:  # noqa: BLE001 - a lost worker, a task error
                outcome = unfinished(jobs[i], "failed", f"{type(exc).__name__}: {exc}")
            results[i] = outcome
            on_done(outcome)
    except KeyboardInterrupt:
        interrupted = True
        for future, (i, _sha) in futures.items():
            if i not in results:
                status = "interrupted" if future.status == "processing" else "not run"
                future.cancel()
                results[i] = unfinished(jobs[i], status, "")
    finally:
        client.close()
        if cluster_ is not None:
            cluster_.close()
    for i in range(len(jobs)):
        results.setdefault(i, unfinished(jobs[i], "not run", ""))
    return [results[i] for i in range(len(jobs))], interrupted
