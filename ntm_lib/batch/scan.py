"""One pass over a year's archive: each commune's latest successful run and
its newest run, every manifest read once.

The index page, the roll-ups' incremental checks and the roll-ups
themselves all ask, for every commune of a year, "which run does
``build/<year>/<slug>`` name, and is there a newer (failed) one?". Asked
one commune at a time (:func:`ntm_lib.run.runs.latest_ok` then
:func:`~ntm_lib.run.runs.newest_run`) that reads two manifests per commune
per question: 3,321 communes and 35 roll-ups made 230,000 reads. Here each
commune costs one ``readlink``, one folder listing and one manifest read
(two when its newest run is not the one its link names). Standard library
only, like :mod:`ntm_lib.run.runs`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..run.runs import ArchivedRun, commune_slugs, read_run, run_folders


#: What the index, the roll-ups and their checks read of a run's manifest;
#: a scan keeps only these (a whole manifest is some 100 kB in memory, and
#: a scan holds 3,321 of them).
KEPT = ("schema", "run_id", "status", "commune", "period", "year", "error", "outputs")


def slim(run: ArchivedRun | None) -> ArchivedRun | None:
    """``run`` with only the manifest fields a scan needs (:data:`KEPT`)."""
    if run is None:
        return None
    return ArchivedRun(run.run_dir, {k: run.manifest[k] for k in KEPT if k in run.manifest})


@dataclass(frozen=True)
class CommuneRuns:
    """``ok``: the run ``build/<year>/<slug>`` names when it succeeded
    (None otherwise); ``newest``: the most recently started finished run,
    ok or failed (None when there is none)."""

    slug: str
    ok: ArchivedRun | None
    newest: ArchivedRun | None

    @property
    def run(self) -> ArchivedRun | None:
        """The run that speaks for the commune: ``ok``, else ``newest``."""
        return self.ok or self.newest

    @property
    def newer_failed(self) -> bool:
        """Whether a failed run started after the successful one."""
        return bool(self.newest is not None and self.newest.status == "failed" and (
            self.ok is None or self.newest.run_dir.name > self.ok.run_dir.name))


def commune_runs(build: Path, year: int, slug: str,
                 known: dict[str, ArchivedRun] | None = None) -> CommuneRuns:
    """The runs of one commune-year (as ``latest_ok`` and ``newest_run``
    would find them, each manifest read once). ``known``: runs already read
    in this process, by resolved folder (the batch's incremental checks
    read every latest run's manifest moments before)."""
    link = build / str(year) / slug
    ok = None
    if link.exists():
        run = (known or {}).get(os.path.realpath(link)) or slim(read_run(link))
        ok = run if run and run.status == "ok" else None
    newest = None
    for folder in reversed(run_folders(build, year, slug)):
        if ok is not None and os.path.realpath(folder) == str(ok.run_dir):
            newest = ok
            break
        newest = slim(read_run(folder))
        if newest is not None:
            break
    return CommuneRuns(slug, ok, newest)


def scan_year(build: Path, year: int, slugs=None,
              known: dict[str, ArchivedRun] | None = None) -> dict[str, CommuneRuns]:
    """``slug -> CommuneRuns`` of every commune with runs archived for
    ``year`` (or of ``slugs``), sorted by slug; ``known`` as for
    :func:`commune_runs`."""
    names = sorted(set(commune_slugs(build, int(year)) if slugs is None else slugs))
    return {slug: commune_runs(build, int(year), slug, known) for slug in names}
