"""The incremental rule: is a commune-year's last successful run still up to date?

A run is skipped when its *fingerprint* equals that of the last successful
run of the same commune-year (``build/<year>/<slug>``), that is when all of
these hold, read from that run's ``manifest.json`` and checked now:

1. the params file's SHA-256 is the one recorded (``params_file``);
2. the notebook template's SHA-256 is the one recorded (``notebook_template``);
3. the library's digest (``environment.library_sha256``, over the files of
   ``ntm_lib``) is the one recorded;
4. every input file the run read (``inputs``: data tables, registry,
   reference tables) still exists with the SHA-256 recorded.

The files a report reads follow from the library and the parameters, so an
unchanged library and params read the same files. Package versions, the
time and the machine are not part of the fingerprint. ``--force`` rebuilds
anyway. This path reads manifests and hashes files only: no kernel and no
heavy import.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..paths import project_root
from ..rollup.runs import ArchivedRun, latest_ok
from .plan import Task


@dataclass(frozen=True)
class Freshness:
    """``fresh`` when the last successful run (``run``) is up to date;
    otherwise ``reason`` says what changed."""

    fresh: bool
    reason: str
    run: ArchivedRun | None = None


@lru_cache(maxsize=4096)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_now(path: Path) -> str | None:
    """SHA-256 of ``path`` now (None when missing). The registry and the
    reference tables are read by every commune: each file is hashed once
    per process (keyed by path, modification time and size)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _sha256(str(path), stat.st_mtime_ns, stat.st_size)


def library_sha256() -> str:
    """The digest the manifest records as ``environment.library_sha256``."""
    from ..run.manifest import library_digest

    return library_digest()


def check(task: Task, build: Path, notebook: Path, *, library: str | None = None) -> Freshness:
    """Apply the incremental rule to ``task`` (see the module's docstring).

    ``library`` is the current library digest (computed when not given).
    """
    run = latest_ok(build, task.year, task.slug)
    if run is None:
        return Freshness(False, "no successful run yet")
    m = run.manifest
    if (m.get("params_file") or {}).get("sha256") != sha256_now(task.params):
        return Freshness(False, "params changed", run)
    if (m.get("notebook_template") or {}).get("sha256") != sha256_now(notebook):
        return Freshness(False, "notebook template changed", run)
    recorded = (m.get("environment") or {}).get("library_sha256")
    if recorded != (library or library_sha256()):
        return Freshness(False, "library changed", run)
    inputs = m.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        return Freshness(False, "no inputs recorded", run)
    root = project_root()
    for item in inputs:
        path = Path(item["path"])
        now = sha256_now(path if path.is_absolute() else root / path)
        if now is None:
            return Freshness(False, f"input missing: {item['path']}", run)
        if now != item.get("sha256"):
            return Freshness(False, f"input changed: {item['path']}", run)
    return Freshness(True, "unchanged since run " + run.run_id, run)
