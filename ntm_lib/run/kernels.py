"""How report kernels are launched: the ``python3`` kernel spec, with a
provisioner of this project.

A kernel launched as jupyter_client does it by default shares the stderr of
the command: messages of the kernel's own machinery (a ZMQ stream closed
while the kernel is shut down after a failed cell, for one) would then print
tracebacks in the middle of ``ntm run``'s clean error report. What a cell
writes, even at the level of file descriptors, reaches the notebook through
the kernel's messages, not that stream. :class:`QuietProvisioner` launches
the kernel as usual with its stderr sent to ``/dev/null``, unless
``NTM_DEBUG`` is set (``ntm --debug``).

:func:`use_provisioner` points this process's ``python3`` kernels at a
provisioner (registered under ``jupyter_client.kernel_provisioners`` in
``pyproject.toml``) through a kernel spec in a private Jupyter data folder
put first on ``JUPYTER_PATH``. The first call wins: a batch worker sets the
kernel forker (``ntm_lib.batch.kernel``) before any report runs.

:class:`ReadyClient` is the client ``execute_notebook`` talks to the kernel
with: jupyter_client's own, with a ready check that does not sit idle.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client import protocol_version_info
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.provisioning import LocalProvisioner

KERNEL_NAME = "python3"
QUIET_PROVISIONER = "ntm-local-provisioner"

_installed: str | None = None
_lock = threading.Lock()


def show_kernel_stderr() -> bool:
    """True when kernels should write to this command's stderr (debugging)."""
    return bool(os.environ.get("NTM_DEBUG") or os.environ.get("NTM_BATCH_DEBUG"))


class QuietProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernels write their own stderr to /dev/null
    (see the module docstring)."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        if not show_kernel_stderr():
            kwargs.setdefault("stderr", subprocess.DEVNULL)
        return await super().launch_kernel(cmd, **kwargs)


def _kernel_spec_dir(provisioner: str) -> Path:
    """A Jupyter data folder whose ``python3`` spec names ``provisioner``."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME).to_dict()
    spec.setdefault("metadata", {})["kernel_provisioner"] = {
        "provisioner_name": provisioner, "config": {}}
    folder = Path(tempfile.mkdtemp(prefix="ntm-kernels-"))
    target = folder / "kernels" / KERNEL_NAME
    target.mkdir(parents=True)
    (target / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return folder


def use_provisioner(provisioner: str = QUIET_PROVISIONER) -> str:
    """Make this process's ``python3`` kernels use ``provisioner``, unless a
    provisioner was chosen already; return the one in use."""
    global _installed
    with _lock:
        if _installed is None:
            folder = _kernel_spec_dir(provisioner)
            os.environ["JUPYTER_PATH"] = os.pathsep.join(
                p for p in (str(folder), os.environ.get("JUPYTER_PATH", "")) if p)
            _installed = provisioner
        return _installed


#: Seconds the ready check listens on IOPub for the kernel's status after a
#: ``kernel_info`` reply (and for more messages while draining them).
IOPUB_QUIET = 0.02
READY_CLIENT = "ntm_lib.run.kernels.ReadyClient"


class ReadyClient(AsyncKernelClient):
    """jupyter_client's asynchronous client, with a ready check that does not
    idle.

    The stock ``wait_for_ready`` (jupyter_client 8) sends ``kernel_info``,
    waits for the reply, then listens 0.2 s for a message on IOPub (to know
    the subscription is live) and afterwards until IOPub has been silent for
    0.2 s: a fixed 0.2-0.4 s per report in which neither the kernel nor this
    process works. This one keeps the same checks (a ``kernel_info_reply`` on
    shell, then a message on IOPub, asking again when none came, the kernel's
    death and the timeout) with :data:`IOPUB_QUIET` seconds of listening; the
    messages drained are the kernel's status of that request, which nbclient
    would ignore anyway (it reads only replies to its own requests).

    Raises
    ------
    RuntimeError
        The kernel died before replying, or did not reply within ``timeout``
        seconds (as the stock client).
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=IOPUB_QUIET * 5)
                except Empty:
                    pass  # IOPub not subscribed yet: ask again
                else:
                    major = int(reply["content"]["protocol_version"].split(".")[0])
                    if major != protocol_version_info[0]:
                        self.session.adapt_version = major
                    break
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        while True:
            try:
                await self.iopub_channel.get_msg(timeout=IOPUB_QUIET)
            except Empty:
                break
