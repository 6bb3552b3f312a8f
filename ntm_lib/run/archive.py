"""Run folders: every run gets its own folder, written aside and moved into
place only when complete; the per-commune path points at the latest
successful run.

Layout under ``build/``::

    archive/<year>/<slug>/<run_id>/        one folder per run (ok or failed)
    archive/<year>/<slug>/.partial-<id>/   a run being written (never read)
    <year>/<slug> -> archive/<year>/<slug>/<run_id>   latest successful run

Nothing archived is overwritten: run ids are unique (UTC time plus random
hex), the move into place is a single ``rename``, and the latest pointer is
a symbolic link replaced atomically.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from pathlib import Path

PARTIAL_PREFIX = ".partial-"


def new_run_id(now: dt.datetime | None = None) -> str:
    """``20231205T083000Z-1a2b3c``: UTC start time plus 6 random hex digits."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def commune_archive(build: Path, year: int, slug: str) -> Path:
    """``build/archive/<year>/<slug>``: all runs of one commune-year."""
    return build / "archive" / str(year) / slug


def latest_link(build: Path, year: int, slug: str) -> Path:
    """``build/<year>/<slug>``: the pointer to the latest successful run."""
    return build / str(year) / slug


def start_run(build: Path, year: int, slug: str, run_id: str) -> Path:
    """Create and return the partial folder of a new run."""
    folder = commune_archive(build, year, slug) / f"{PARTIAL_PREFIX}{run_id}"
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def finish_run(partial: Path, run_id: str) -> Path:
    """Move a complete run into place (one rename); return its folder."""
    final = partial.parent / run_id
    if final.exists():
        raise FileExistsError(f"run folder {final} already exists; refusing to overwrite it")
    os.rename(partial, final)
    return final


def discard_run(partial: Path) -> None:
    """Remove an unfinished run's partial folder (interrupted or broken)."""
    shutil.rmtree(partial, ignore_errors=True)


def point_latest(build: Path, year: int, slug: str, run_dir: Path) -> Path:
    """Make ``build/<year>/<slug>`` point at ``run_dir``, atomically.

    A real folder left at that path by an older layout is moved into the
    archive first, never deleted.
    """
    link = latest_link(build, year, slug)
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() and not link.is_symlink():
        keep = commune_archive(build, year, slug) / f"legacy-{new_run_id()}"
        os.rename(link, keep)
    tmp = link.with_name(f".{link.name}.{secrets.token_hex(4)}.tmp")
    os.symlink(os.path.relpath(run_dir, link.parent), tmp)
    os.replace(tmp, link)
    return link
