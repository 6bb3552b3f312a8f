"""Kernels for batch workers: forked from a warm template, one per report.

A report's kernel normally costs a Python start, ipykernel's start and the
imports of pandas, matplotlib and ``ntm_lib`` (together over a second of
CPU), paid again for every commune. In a batch worker, :func:`install`
starts the forker (:mod:`ntm_lib.batch.zygote`), which has imported all of
that once, and makes the worker's ``python3`` kernel spec use
:class:`ForkProvisioner` (a jupyter_client kernel provisioner, registered as
``ntm-fork-provisioner``): every kernel papermill asks for is then a fresh
fork, a process of its own with its own state, given the environment and
working folder of that launch. Nothing else changes: ``build_report`` runs
as for ``ntm run``, with the kernel name ``python3``.

Kernel start has a timeout (:data:`START_TIMEOUT`) and one retry; with the
IPC transport (``ntm_lib.run.execute``) kernels started side by side do not
compete for ports. Anything unexpected (a kernel command that is not
ipykernel, the forker gone twice) falls back to a normal launch.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from ..run.kernels import QuietProvisioner, show_kernel_stderr, use_provisioner

PROVISIONER_NAME = "ntm-fork-provisioner"
#: Seconds a forked kernel has to bind its sockets; then one retry.
START_TIMEOUT = 30.0

#: Seconds a shut-down forked kernel is waited for (the forker reaps it at once).
REAP_WAIT = 0.1

_forker: "Forker | None" = None
_live: set[int] = set()
_live_lock = threading.Lock()


class KernelStartError(RuntimeError):
    """A forked kernel did not come up."""


class Forker:
    """Handle on the forker process (:mod:`ntm_lib.batch.zygote`)."""

    def __init__(self, cwd: str | Path | None = None) -> None:
        self.cwd = str(cwd or os.getcwd())
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        show = show_kernel_stderr()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "ntm_lib.batch.zygote"], cwd=self.cwd,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=None if show else subprocess.DEVNULL, text=True, bufsize=1,
        )
        self._ready = False  # its imports go on while the worker imports its own

    def _wait_ready(self) -> None:
        if not self._ready:
            if not self._proc.stdout.readline():
                raise KernelStartError("the kernel forker did not start")
            self._ready = True

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def fork(self, argv: list[str], env: dict[str, str], cwd: str,
             timeout: float = START_TIMEOUT) -> int:
        """A new kernel's pid, once it has bound its sockets."""
        request = {"argv": argv, "env": dict(env), "cwd": cwd, "timeout": timeout,
                   "show_stderr": show_kernel_stderr()}
        with self._lock:
            for attempt in (1, 2):
                if self._proc is None or self._proc.poll() is not None:
                    self.start()
                try:
                    self._wait_ready()
                    self._proc.stdin.write(json.dumps(request) + "\n")
                    self._proc.stdin.flush()
                    line = self._proc.stdout.readline()
                except (BrokenPipeError, OSError):
                    line = ""
                if line:
                    break
                self._proc = None  # the forker died: start another, once
            reply = json.loads(line) if line else {"error": "the kernel forker died"}
        if "pid" not in reply:
            raise KernelStartError(reply.get("error") or "kernel start failed")
        return int(reply["pid"])

    def close(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None


class _Forked:
    """The few ``subprocess.Popen`` methods LocalProvisioner uses, for a
    kernel that is the forker's child (reaped by the forker, so a finished
    kernel is simply a pid that no longer exists)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
                with _live_lock:
                    _live.discard(self.pid)
            except PermissionError:
                pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self.wait_gone(timeout, step=0.02):
            raise subprocess.TimeoutExpired(str(self.pid), timeout)
        return self.returncode or 0

    def wait_gone(self, seconds: float | None, *, step: float = 0.001) -> bool:
        """Poll every ``step`` seconds, up to ``seconds`` (None: no limit),
        until the kernel is gone; whether it is."""
        import time

        deadline = None if seconds is None else time.monotonic() + seconds
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(step)
        return True

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _ipykernel_args(cmd: list[str]) -> list[str] | None:
    """The arguments after ``-m ipykernel_launcher`` (None for another kernel)."""
    for i in range(len(cmd) - 1):
        if cmd[i] == "-m" and cmd[i + 1] in ("ipykernel_launcher", "ipykernel"):
            return list(cmd[i + 2:])
    return None


class ForkProvisioner(QuietProvisioner):
    """Launches ipykernel by forking the warm template (see the module doc)."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        args = _ipykernel_args(cmd)
        if _forker is None or args is None:
            return await super().launch_kernel(cmd, **kwargs)
        env = {k: str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        cwd = str(kwargs.get("cwd") or os.getcwd())
        try:
            pid = _forker.fork(args, env, cwd)
        except KernelStartError:
            pid = _forker.fork(args, env, cwd)  # one retry
        self.process = _Forked(pid)
        self.pid = self.pgid = pid  # the child leads its own session
        self.cwd = cwd
        with _live_lock:
            _live.add(pid)
        return self.connection_info

    async def shutdown_requested(self, restart: bool = False) -> None:
        """The notebook is done and its outputs are in: end the kernel now
        rather than wait for its own shutdown (off the report's critical
        path; a forked kernel holds nothing that needs a clean exit)."""
        if not restart and isinstance(self.process, _Forked):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                return
            # The forker reaps it within milliseconds; jupyter_client would
            # otherwise find it alive still and sleep 0.1 s before looking again.
            self.process.wait_gone(REAP_WAIT)


def install(cwd: str | Path | None = None) -> Forker:
    """Start the forker and route this process's ``python3`` kernels to it."""
    global _forker
    if _forker is None:
        from ..paths import project_root

        _forker = Forker(cwd or project_root())
        use_provisioner(PROVISIONER_NAME)
    return _forker


def live_kernels() -> set[int]:
    """Pids of the forked kernels of this process that are still running."""
    with _live_lock:
        return set(_live)


def signal_kernels(signum: int) -> None:
    """Send ``signum`` to every live forked kernel of this process."""
    for pid in live_kernels():
        try:
            os.killpg(pid, signum)
        except OSError:
            pass
