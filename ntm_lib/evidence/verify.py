"""Verify archived runs: every file of a bag still has the bytes it was
archived with, nothing was added, nothing went missing.

The bag's own manifests (``manifest-sha256.txt``, ``tagmanifest-sha256.txt``)
are the reference; parsing and the final verdict are the ``bagit`` package's,
so ``ntm verify`` agrees with any standard BagIt validator, and in addition
names each file that changed, was added or went missing.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import bagit

from ..errors import NtmError
from ..paths import relative_to_root

_MANIFEST_FILE = re.compile(r"^tagmanifest-[a-z0-9]+\.txt$")


class VerifyError(NtmError):
    """The path to verify holds no archived run."""


@dataclass
class BagReport:
    """Verification of one run: ``changed``, ``added``, ``missing`` (paths
    inside the bag) and ``errors`` (other BagIt failures, e.g. a broken
    ``bagit.txt``); ``ok`` when all are empty."""

    path: Path
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.added or self.missing or self.errors)

    def lines(self) -> list[str]:
        """One line per finding, for the command line."""
        where = relative_to_root(self.path)
        if self.ok:
            return [f"ok       {where}"]
        out = [f"FAILED   {where}"]
        out += [f"  changed  {p}" for p in self.changed]
        out += [f"  added    {p}" for p in self.added]
        out += [f"  missing  {p}" for p in self.missing]
        out += [f"  error    {e}" for e in self.errors]
        return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_bag(path: str | Path) -> BagReport:
    """Check one run folder (a bag) file by file, then with ``bagit``'s own
    validation; every difference is reported, none raised."""
    path = Path(path)
    report = BagReport(path.resolve())
    try:
        bag = bagit.Bag(str(path))
    except bagit.BagError as exc:
        report.errors.append(f"not a valid bag: {exc}")
        return report
    expected = {}
    for rel, hashes in bag.entries.items():
        if "sha256" in hashes:
            expected[rel.replace(os.sep, "/")] = hashes["sha256"]
    present = set()
    for folder, _dirs, files in os.walk(path):
        for name in files:
            rel = (Path(folder) / name).relative_to(path).as_posix()
            if "/" not in rel and _MANIFEST_FILE.match(rel):
                continue
            present.add(rel)
    for rel in sorted(expected):
        if rel not in present:
            report.missing.append(rel)
        elif _sha256(path / rel) != expected[rel]:
            report.changed.append(rel)
    report.added = sorted(present - set(expected))
    if report.ok:
        try:
            bag.validate(processes=1)
        except bagit.BagValidationError as exc:
            report.errors.append(str(exc))
    return report


def find_runs(path: str | Path) -> list[Path]:
    """Every archived run (a folder with ``bagit.txt``) at or under ``path``,
    following the ``build/<year>/<slug>`` links; for ``build/<year>`` also
    every run in ``build/archive/<year>``. Partial folders are skipped.

    Raises :class:`VerifyError` when there is none.
    """
    path = Path(path)
    if not path.exists():
        raise VerifyError("no such file or folder", file=str(path))
    roots = [path]
    archive_year = path.parent / "archive" / path.name
    if path.name.isdigit() and archive_year.is_dir():
        roots.append(archive_year)
    runs: dict[Path, Path] = {}
    for root in roots:
        for folder, dirs, files in os.walk(root, followlinks=True):
            dirs[:] = [d for d in dirs if not d.startswith(".partial-") and d != "data"]
            if "bagit.txt" in files:
                runs.setdefault(Path(folder).resolve(), Path(folder))
                dirs[:] = []
    if not runs:
        raise VerifyError("no archived run (BagIt bag) here", file=relative_to_root(path))
    return [runs[k] for k in sorted(runs)]


def verify(path: str | Path) -> list[BagReport]:
    """Verify every run found at ``path`` (see :func:`find_runs`)."""
    return [verify_bag(run) for run in find_runs(path)]
