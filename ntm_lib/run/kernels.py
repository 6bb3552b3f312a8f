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
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

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
