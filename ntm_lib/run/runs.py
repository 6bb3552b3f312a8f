"""Reading archived runs back: the latest successful run of a commune-year,
its manifest and its files, whatever the run folder's layout (files beside
``manifest.json``, or under a BagIt ``data/`` folder).

Light on purpose (standard library only): the incremental check of a batch
reads every commune's last manifest with it, before any heavy import.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

MANIFEST = "manifest.json"
#: Folders of ``build/archive/<year>/`` that are not communes.
ROLLUP_PREFIX = "rollup-"


@dataclass
class ArchivedRun:
    """One archived run: its folder (resolved) and its manifest."""

    run_dir: Path
    manifest: dict[str, Any] = field(repr=False)

    @property
    def run_id(self) -> str:
        return self.manifest.get("run_id") or self.run_dir.name

    @property
    def status(self) -> str | None:
        return self.manifest.get("status")

    def file(self, name: str) -> Path | None:
        """Path of output ``name`` (``report.html``...) or ``manifest.json``,
        or None when the run has no such file."""
        for candidate in (self.run_dir / name, self.run_dir / "data" / name):
            if candidate.is_file():
                return candidate
        return None

    def outputs(self) -> dict[str, Path]:
        """Every output the manifest lists, plus ``manifest.json``, that exists."""
        found = {name: self.file(name) for name in self.manifest.get("outputs") or {}}
        found[MANIFEST] = self.run_dir / MANIFEST
        return {k: v for k, v in found.items() if v is not None}


def read_run(run_dir: Path) -> ArchivedRun | None:
    """The run in ``run_dir``, or None when it has no readable manifest."""
    try:
        manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return ArchivedRun(run_dir.resolve(), manifest) if isinstance(manifest, dict) else None


def latest_ok(build: Path, year: int, slug: str) -> ArchivedRun | None:
    """The run ``build/<year>/<slug>`` points at, when it succeeded."""
    link = build / str(year) / slug
    if not link.exists():
        return None
    run = read_run(link)
    return run if run and run.status == "ok" else None


def run_folders(build: Path, year: int, slug: str) -> list[Path]:
    """Finished run folders of a commune-year, oldest first (run ids sort by
    start time; partial and legacy folders are left out)."""
    folder = build / "archive" / str(year) / slug
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.is_dir() and p.name[:1].isdigit()),
                  key=lambda p: p.name)


def newest_run(build: Path, year: int, slug: str) -> ArchivedRun | None:
    """The most recently started finished run, ok or failed."""
    for folder in reversed(run_folders(build, year, slug)):
        run = read_run(folder)
        if run is not None:
            return run
    return None


def commune_slugs(build: Path, year: int) -> Iterator[str]:
    """Slugs of every commune with runs archived for ``year``, sorted."""
    folder = build / "archive" / str(year)
    if folder.is_dir():
        yield from sorted(p.name for p in folder.iterdir()
                          if p.is_dir() and not p.name.startswith((".", ROLLUP_PREFIX)))


def relative(path: Path, start: Path) -> str:
    """``path`` relative to ``start`` with ``/`` (for links and records)."""
    return Path(os.path.relpath(path, start)).as_posix()
