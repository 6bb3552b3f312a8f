"""Cluster mode of the batch benchmark: ``ntm batch`` through a real Dask
scheduler and two real workers that share no disk with the project, against
the local pool with 2 workers, on the same synthetic communes.

The scheduler (``dask scheduler``) and the workers (``dask worker --nthreads
1 --nworkers 1``) are started here, each in an empty folder of its own,
without ``NTM_HOME``: the workers see nothing of the project and receive
what each report reads with its task. Both sides are timed as whole ``ntm
batch --force`` processes in ``--rounds`` interleaved rounds, after one
untimed warm-up batch each (the workers are long-lived, as a cluster's are).
Reports are compared by SHA-256 (report.html, report.pdf, report.docx and
the executed notebook) between the last local and the last cluster batch::

    .venv/bin/python bench/batch_cluster.py --communes 8 --rounds 3

Writes ``bench/results/cluster-<date>.json`` (every figure and the command).
``cluster_mode(args)`` is what ``bench/bench_batch.py`` calls.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REPORT_FILES = ("report.html", "report.pdf", "report.docx", "commune_report.ipynb")
#: Dask settings for the workers, as README recommends: no statistical profiler.
WORKER_ENV = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
              "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL": "5s"}


class DaskCluster:
    """A real ``dask scheduler`` and ``workers`` ``dask worker`` processes
    on 127.0.0.1, each started in an empty folder of its own below
    ``folder``, in a process group of its own (stopped with it), without
    ``NTM_HOME``. ``extra_env`` and ``worker_args`` go to the workers.
    ``address`` is the scheduler's ``tcp://127.0.0.1:PORT``."""

    def __init__(self, folder: Path, workers: int = 2, *, extra_env: dict | None = None,
                 worker_args: tuple[str, ...] = ()) -> None:
        self.folder, self.workers = Path(folder), workers
        self.extra_env, self.worker_args = dict(extra_env or {}), tuple(worker_args)
        self.processes: list[subprocess.Popen] = []
        self.address = ""

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k != "NTM_HOME"}
        return {**env, **WORKER_ENV, **self.extra_env}

    def _start(self, name: str, args: list[str], env: dict) -> None:
        cwd = self.folder / name
        cwd.mkdir(parents=True)
        log = open(self.folder / f"{name}.log", "wb")
        self.processes.append(subprocess.Popen(
            [str(BIN / "dask"), *args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True))

    def __enter__(self) -> "DaskCluster":
        info = self.folder / "scheduler.json"
        env = self._env()
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(info)],
                    {k: v for k, v in env.items() if k not in self.extra_env})
        try:
            deadline = time.monotonic() + 60
            while not info.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            self.address = json.loads(info.read_text())["address"]
            for i in range(self.workers):
                folder = self.folder / f"worker-{i + 1}"
                self._start(f"worker-{i + 1}", [
                    "worker", self.address, "--nthreads", "1", "--nworkers", "1",
                    "--no-dashboard", "--local-directory", str(folder), *self.worker_args], env)
            self.wait_workers(self.workers)
        except BaseException:
            self.close()
            raise
        return self

    def wait_workers(self, n: int, timeout: float = 120) -> None:
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(n, timeout=timeout)

    def close(self) -> list[int]:
        """Stop every process group started (SIGTERM, SIGKILL after 30 s);
        return the group ids that had to be killed."""
        killed = []
        for process in reversed(self.processes):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                killed.append(process.pid)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and alive(process.pid):
                time.sleep(0.2)
            if alive(process.pid):
                killed.append(process.pid)
                os.killpg(process.pid, signal.SIGKILL)
        return killed

    def __exit__(self, *exc) -> None:
        self.close()


def alive(pgid: int) -> bool:
    """Whether any process of process group ``pgid`` is still running."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def synthetic_project(folder: Path, communes: int, seed: int = 5) -> Path:
    """``ntm synth`` of ``communes`` communes plus Nậm Mòn, copied with its
    notebooks folder as real files (the project stands alone)."""
    made = folder / "made"
    done = subprocess.run([str(BIN / "ntm"), "synth", "--communes", str(communes), "--year",
                           "2023", "--out", str(made), "--seed", str(seed), "--province", "10",
                           "--copy-real", "02881"], capture_output=True, text=True,
                          env={**os.environ, "NTM_HOME": str(ROOT)})
    if done.returncode:
        raise SystemExit(done.stderr)
    home = folder / "project"
    shutil.copytree(made, home, symlinks=False)
    shutil.rmtree(made)
    return home


def batch(home: Path, build: str, *extra: str) -> tuple[float, subprocess.CompletedProcess]:
    """One whole ``ntm batch --force --no-rollup`` process; its seconds."""
    cmd = [str(BIN / "ntm"), "batch", "--year", "2023", "--force", "--no-rollup",
           "--build", str(home / build), *extra]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=home, env={**os.environ, "NTM_HOME": str(home)},
                          capture_output=True, text=True)
    return time.perf_counter() - start, done


def digests(build: Path) -> dict[str, str]:
    """``<slug>/<file>`` -> SHA-256 of the report files of each latest run."""
    out = {}
    for link in sorted((build / "2023").iterdir()):
        if link.is_symlink():
            for name in REPORT_FILES:
                path = link / "data" / name
                if path.exists():
                    out[f"{link.name}/{name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def report_seconds(build: Path) -> list[float]:
    """Each report's seconds in its worker, from the batch record."""
    record = json.loads((build / "2023" / "batch.json").read_text(encoding="utf-8"))
    return [c["seconds"] for c in record["communes"] if c.get("status") == "ran"]


def cluster_mode(args: argparse.Namespace) -> dict:
    """Run the comparison (``args.communes``, ``args.rounds``); return the figures."""
    folder = Path(tempfile.mkdtemp(prefix="ntm-bench-cluster-"))
    try:
        home = synthetic_project(folder, args.communes)
        reports = args.communes + 1
        with DaskCluster(folder / "cluster", 2) as cluster:
            sides = {"local": ("build-local", "--workers", "2"),
                     "cluster": ("build-cluster", "--scheduler", cluster.address)}
            times: dict[str, list[float]] = {"local": [], "cluster": []}
            per_report: dict[str, list[float]] = {"local": [], "cluster": []}
            warm = {}
            for name, (build, *extra) in sides.items():
                warm[name], done = batch(home, build, *extra)
                if done.returncode:
                    raise SystemExit(f"{name} batch exited {done.returncode}:\n{done.stderr}")
            for _ in range(args.rounds):
                for name, (build, *extra) in sides.items():
                    seconds, done = batch(home, build, *extra)
                    if done.returncode:
                        raise SystemExit(f"{name} batch exited {done.returncode}:\n{done.stderr}")
                    times[name].append(seconds)
                    per_report[name] += report_seconds(home / build)
        local, remote = digests(home / "build-local"), digests(home / "build-cluster")
        medians = {k: statistics.median(v) for k, v in times.items()}
        per_min = {k: round(reports * 60 / v, 2) for k, v in medians.items()}
        return {
            "command": " ".join([".venv/bin/python", "bench/batch_cluster.py", "--communes",
                                 str(args.communes), "--rounds", str(args.rounds)]),
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "reports": reports, "rounds": args.rounds, "workers": 2,
            "seconds": {k: [round(x, 2) for x in v] for k, v in times.items()},
            "warm_up_seconds": {k: round(v, 2) for k, v in warm.items()},
            "median_seconds": {k: round(v, 2) for k, v in medians.items()},
            "reports_per_minute": per_min,
            "median_report_seconds_in_worker": {k: round(statistics.median(v), 2)
                                                for k, v in per_report.items() if v},
            "ratio_cluster_to_local": round(per_min["cluster"] / per_min["local"], 3),
            "files_compared": len(local),
            "sha256_match": bool(local) and local == remote,
            "cpu_count": os.cpu_count(),
            "note": "whole ntm batch --force --no-rollup processes; medians of interleaved "
                    "rounds; the cluster's workers are started once (as a cluster's are), "
                    "the pool's with each batch; other processes may share the CPU",
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=8, help="synthetic communes (+ Nậm Mòn)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timed rounds")
    args = parser.parse_args(argv)
    figures = cluster_mode(args)
    out = ROOT / "bench" / "results" / f"cluster-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    print(f"written: {out.relative_to(ROOT)}")
    return 0 if figures["sha256_match"] else 1


if __name__ == "__main__":
    sys.exit(main())
