"""The evidence manifest of one run (``manifest.json``).

Keys
----
``schema``: ``"ntm.manifest.v1"``; ``run_id``; ``status`` (``"ok"`` or
``"failed"``); ``commune`` (code, name, district, province and their codes);
``year``; ``parameters`` (as injected); ``inputs`` (list of ``{path, sha256,
rows}`` for every data file the notebook read); ``params_file`` and
``notebook_template`` (``{path, sha256}``);
``outputs`` (file name -> sha256); ``environment`` (Python, platform, key
package versions, ``library_sha256`` over the ``ntm_lib`` files, font, git
commit and whether the work tree had uncommitted changes); ``started_utc`` / ``ended_utc`` (ISO 8601, UTC); ``timings``
(seconds); ``error`` (for a failed run: cell, error name and value).
"""
from __future__ import annotations

import contextvars
import json
import os
import platform
import subprocess
import sys
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

from ..paths import project_root
from ..safeio import atomic_write, sha256_bytes, sha256_file

SCHEMA = "ntm.manifest.v1"
#: Packages whose versions are recorded.
KEY_PACKAGES = (
    "ntm-workbook", "papermill", "nbclient", "nbconvert", "nbformat", "ipykernel",
    "jupyter_client", "pandas", "numpy", "matplotlib", "babel", "weasyprint",
    "pydyf", "fonttools", "jsonschema", "pyyaml",
)


@lru_cache(maxsize=1)
def library_digest() -> str:
    """SHA-256 over the ``ntm_lib`` package's own files (code, templates,
    schemas, fonts), by relative path: changes whenever the library does,
    whatever its version number says."""
    package = Path(__file__).resolve().parent.parent
    parts = []
    for path in sorted(p for p in package.rglob("*") if p.is_file()
                       and "__pycache__" not in p.parts and p.suffix != ".pyc"):
        parts.append(path.relative_to(package).as_posix().encode("utf-8") + b"\0")
        parts.append(sha256_file(path).encode("ascii"))
    return sha256_bytes(b"".join(parts))


@lru_cache(maxsize=1)
def _installed_versions() -> tuple[tuple[str, str | None], ...]:
    versions: dict[str, str | None] = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return tuple(versions.items())


def package_versions() -> dict[str, str | None]:
    """Installed version of each of :data:`KEY_PACKAGES` (None if absent), as
    of the first call in this process: the modules a process has imported
    do not change when a package is upgraded under it."""
    return dict(_installed_versions())


#: The project's state as the batch's own machine saw it, for a run built by a
#: Dask worker in a private copy of the project (no git checkout there).
_SHIPPED_STATE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "ntm_shipped_project_state", default=None)


def project_state(root: Path | None = None) -> dict[str, Any]:
    """What a manifest records of the project itself rather than of the run:
    ``{"git": git_state(), "library_changed": bool}`` (plain data)."""
    from .codecopy import library_changed

    root = root or project_root()
    return {"git": git_state(root), "library_changed": library_changed(library_digest(),
                                                                        str(root))}


@contextmanager
def shipped_project_state(state: dict[str, Any]) -> Iterator[None]:
    """Inside the block (this thread or task), :func:`git_state` and
    :func:`~ntm_lib.run.codecopy.library_changed` answer with ``state`` (as
    :func:`project_state` gave it on the batch's machine): a run built from a
    private copy of the project records what a local run would."""
    token = _SHIPPED_STATE.set(dict(state))
    try:
        yield
    finally:
        _SHIPPED_STATE.reset(token)


def shipped_state() -> dict[str, Any] | None:
    """The state :func:`shipped_project_state` set, or None."""
    return _SHIPPED_STATE.get()


def git_state(root: Path | None = None) -> dict[str, Any]:
    """``{"commit": <hex or None>, "dirty": bool or None}`` of the project."""
    shipped = _SHIPPED_STATE.get()
    if shipped is not None:
        return dict(shipped["git"])
    root = root or project_root()

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                 timeout=20, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def environment(font: dict[str, Any] | None = None) -> dict[str, Any]:
    """Python, platform, package versions, git state and the report font."""
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "library_sha256": library_digest(),
        "git": git_state(),
        "font": font,
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH"),
    }


def write_manifest(path: str | Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest`` as UTF-8 JSON (sorted keys, 2-space indent), atomically."""
    return atomic_write(path, json.dumps(manifest, ensure_ascii=False, indent=2,
                                         sort_keys=True) + "\n")
