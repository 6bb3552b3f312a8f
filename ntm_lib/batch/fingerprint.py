"""The incremental rule: is a commune-year's last successful run still up to date?

A run is skipped when its *fingerprint* equals that of the last successful
run of the same commune-year (``build/<year>/<slug>``), that is when all of
these hold, read from that run's ``manifest.json`` and checked now:

1. the params file's SHA-256 is the one recorded (``params_file``);
2. the notebook template's SHA-256 is the one recorded (``notebook_template``);
3. the library's digest (``environment.library_sha256``, over the files of
   ``ntm_lib``) is the one recorded;
4. every input file the run read (``inputs``: data tables, registry,
   reference tables) still exists with the SHA-256 recorded;
5. the run itself is intact: ``build/<year>/<slug>`` names a run of this
   commune's archive (not a link out of ``build/`` or to nothing), each
   output (HTML, PDF, notebook) still has the SHA-256 its manifest records,
   and the manifest itself the one the bag's ``tagmanifest-sha256.txt``
   records (a tampered report is rebuilt, not skipped). This reads three
   outputs and two small files per commune, not the whole bag: ``ntm
   verify`` checks every byte.

The files a report reads follow from the library and the parameters, so an
unchanged library and params read the same files. Package versions, the
time and the machine are not part of the fingerprint. ``--force`` rebuilds
anyway. This path reads manifests and hashes files only: no kernel and no
heavy import.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..paths import project_root
from ..run.runs import ArchivedRun, read_run
from ..run.archive import latest_link, latest_run_dir
from ..safeio import sha256_file, sha256_now
from .plan import Task

TAG_MANIFEST = "tagmanifest-sha256.txt"


@dataclass(frozen=True)
class Freshness:
    """``fresh`` when the last successful run (``run``) is up to date;
    otherwise ``reason`` says what changed."""

    fresh: bool
    reason: str
    run: ArchivedRun | None = None


def library_sha256() -> str:
    """The digest the manifest records as ``environment.library_sha256``."""
    from ..run.manifest import library_digest

    return library_digest()


def check(task: Task, build: Path, notebook: Path, *, library: str | None = None) -> Freshness:
    """Apply the incremental rule to ``task`` (see the module's docstring).

    ``library`` is the current library digest (computed when not given).
    """
    run_dir = latest_run_dir(build, task.year, task.slug)
    run = read_run(run_dir) if run_dir is not None else None
    if run is None or run.status != "ok":
        link = latest_link(build, task.year, task.slug)
        if run_dir is None and (link.is_symlink() or link.exists()):
            return Freshness(False, "the latest link names no run of this archive")
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
    damage = tampered(run)
    if damage:
        return Freshness(False, f"archived run changed: {damage}", run)
    return Freshness(True, "unchanged since run " + run.run_id, run)


def _tag_digests(run_dir: Path) -> dict[str, str] | None:
    """``path -> sha256`` of the bag's tag manifest (None when there is none)."""
    from ..errors import NtmError
    from ..safeio import read_bytes_nofollow

    try:
        text = read_bytes_nofollow(run_dir / TAG_MANIFEST, limit=1 << 20).decode("utf-8")
    except (OSError, NtmError, UnicodeDecodeError):
        return None
    digests = {}
    for line in text.splitlines():
        digest, _, name = line.strip().partition(" ")
        if name:
            digests[name.strip().lstrip("*")] = digest.lower()
    return digests


def tampered(run: ArchivedRun) -> str | None:
    """What of ``run`` no longer has its recorded bytes (the first found),
    or None: each output listed in the manifest, and, for a bag, the
    manifest and payload manifest against the tag manifest."""
    outputs = run.manifest.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        return "no outputs recorded"
    for name, digest in outputs.items():
        path = next((p for p in (run.run_dir / "data" / str(name), run.run_dir / str(name))
                     if p.exists() or p.is_symlink()), None)
        if path is None:
            return f"{name} missing"
        if path.is_symlink() or not path.is_file() or sha256_now(path) != digest:
            return f"{path.relative_to(run.run_dir).as_posix()} changed"
    if (run.run_dir / "bagit.txt").exists():
        tags = _tag_digests(run.run_dir)
        if tags is None:
            return f"{TAG_MANIFEST} unreadable"
        for name in ("manifest.json", "manifest-sha256.txt"):
            path = run.run_dir / name
            if path.is_symlink() or name not in tags or sha256_now(path) != tags[name]:
                return f"{name} changed"
    return None
