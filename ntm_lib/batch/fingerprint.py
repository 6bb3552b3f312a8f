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

Hashing every output of 3,321 runs (2.5 GB) on every rerun took longer
than the rest of the check, so a batch keeps what it hashed in
``build/<year>/.fingerprints.json`` (:class:`HashCache`): per file its
size, modification and change times (ns), inode and device, and its
SHA-256. A file is hashed again unless all five are unchanged. Any write,
``touch`` (also one setting the old modification time back), rename over
the file or ``chmod`` changes the change time, which no user program can
set back, so a tampered file is always re-hashed and found; a file hashed
within 2 s of its last change is not remembered (the clock could not tell
a later change in the same tick). The cache only ever saves a hash; a
digest is trusted when it equals the manifest's, never otherwise. Like
the manifests it sits beside, it guards against accidents and ordinary
edits, not against someone who rewrites the build folder at will (``ntm
verify`` rehashes everything).

The files a report reads follow from the library and the parameters, so an
unchanged library and params read the same files. Package versions, the
time and the machine are not part of the fingerprint. ``--force`` rebuilds
anyway. This path reads manifests and hashes files only: no kernel and no
heavy import.
"""
from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from ..paths import project_root
from ..run.runs import ArchivedRun, read_run
from ..run.archive import latest_link, latest_run_dir
from ..safeio import sha256_file, sha256_now
from .plan import Task

TAG_MANIFEST = "tagmanifest-sha256.txt"
#: The hash cache of a year's batches: ``build/<year>/.fingerprints.json``.
CACHE_NAME = ".fingerprints.json"
CACHE_SCHEMA = "ntm.hashcache.v1"
#: A file changed less than this long before it was hashed is not remembered.
RACY_NS = 2_000_000_000


class HashCache:
    """SHA-256 of files, reused while their stat data are unchanged (see
    the module docstring). ``hashed`` and ``reused`` count the look-ups."""

    def __init__(self, entries: dict[str, list] | None = None) -> None:
        self._old = entries or {}
        self._new: dict[str, list] = {}
        #: Digests already given in this batch: a shared input (the registry,
        #: a reference table) is looked at once, not once per commune.
        self._given: dict[str, str | None] = {}
        self.hashed = self.reused = 0

    @classmethod
    def load(cls, path: Path) -> "HashCache":
        """The cache in ``path``; an empty one when it is missing, a link or unreadable."""
        from ..errors import NtmError
        from ..safeio import read_bytes_nofollow

        try:
            data = json.loads(read_bytes_nofollow(path, limit=256 << 20))
        except (OSError, NtmError, ValueError):
            return cls()
        ok = isinstance(data, dict) and data.get("schema") == CACHE_SCHEMA \
            and isinstance(data.get("files"), dict)
        return cls(data["files"] if ok else None)

    def digest(self, path: Path) -> str | None:
        """SHA-256 of ``path`` now (None when missing or not a regular file);
        the same answer for the same path for the rest of the batch."""
        key = str(path)
        if key in self._given:
            return self._given[key]
        digest = self._given[key] = self._digest(path, key)
        return digest

    def _digest(self, path: Path, key: str) -> str | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
        entry = self._new.get(key) or self._old.get(key)
        if isinstance(entry, list) and len(entry) == 6 and entry[:5] == stamp:
            self.reused += 1
            self._new[key] = entry
            return entry[5]
        try:
            digest = sha256_file(path)
        except OSError:
            return None
        self.hashed += 1
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > RACY_NS:
            self._new[key] = [*stamp, digest]
        return digest

    def save(self, path: Path, within: Path, *, keep_unused: bool = False) -> None:
        """Write the entries used since loading, atomically; the others are
        dropped (files of runs no longer the latest) unless ``keep_unused``
        (a batch over some communes only keeps the others'). A cache that
        cannot be written is left out silently (it only saves time)."""
        from ..errors import NtmError
        from ..safeio import atomic_write

        files = {**self._old, **self._new} if keep_unused else self._new
        text = json.dumps({"schema": CACHE_SCHEMA, "files": files}, separators=(",", ":"))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text, within=within, redact=False)
        except (OSError, NtmError):
            pass


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


def check(task: Task, build: Path, notebook: Path, *, library: str | None = None,
          hashes: HashCache | None = None) -> Freshness:
    """Apply the incremental rule to ``task`` (see the module's docstring).

    ``library`` is the current library digest (computed when not given);
    ``hashes`` a :class:`HashCache` for the files' digests (without one,
    every file is hashed, each shared input once per process).
    """
    now = hashes.digest if hashes is not None else sha256_now
    run_dir = latest_run_dir(build, task.year, task.slug)
    run = read_run(run_dir) if run_dir is not None else None
    if run is None or run.status != "ok":
        link = latest_link(build, task.year, task.slug)
        if run_dir is None and (link.is_symlink() or link.exists()):
            return Freshness(False, "the latest link names no run of this archive")
        return Freshness(False, "no successful run yet")
    m = run.manifest
    if (m.get("params_file") or {}).get("sha256") != now(task.params):
        return Freshness(False, "params changed", run)
    if (m.get("notebook_template") or {}).get("sha256") != sha256_now(notebook):
        return Freshness(False, "notebook template changed", run)
    recorded = (m.get("environment") or {}).get("library_sha256")
    if recorded != (library or library_sha256()):
        return Freshness(False, "library changed", run)
    inputs = m.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        return Freshness(False, "no inputs recorded", run)
    root = str(project_root())
    for item in inputs:  # as text, not Path: 80,000 of them at the country's size
        digest = now(os.path.join(root, item["path"]))  # an absolute path stays itself
        if digest is None:
            return Freshness(False, f"input missing: {item['path']}", run)
        if digest != item.get("sha256"):
            return Freshness(False, f"input changed: {item['path']}", run)
    damage = tampered(run, hashes)
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


def tampered(run: ArchivedRun, hashes: HashCache | None = None) -> str | None:
    """What of ``run`` no longer has its recorded bytes (the first found),
    or None: each output listed in the manifest, and, for a bag, the
    manifest and payload manifest against the tag manifest (digests through
    ``hashes`` when given)."""
    now = hashes.digest if hashes is not None else sha256_now
    outputs = run.manifest.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        return "no outputs recorded"
    folder = str(run.run_dir)
    for name, digest in outputs.items():
        for where in (f"data/{name}", str(name)):  # a bag's payload, or beside the manifest
            path = os.path.join(folder, where)
            try:
                info = os.lstat(path)  # a link is not followed: it counts as changed
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or now(path) != digest:
                return f"{where} changed"
            break
        else:
            return f"{name} missing"
    if os.path.exists(os.path.join(folder, "bagit.txt")):
        tags = _tag_digests(run.run_dir)
        if tags is None:
            return f"{TAG_MANIFEST} unreadable"
        for name in ("manifest.json", "manifest-sha256.txt"):
            path = os.path.join(folder, name)
            if os.path.islink(path) or name not in tags or now(path) != tags[name]:
                return f"{name} changed"
    return None
