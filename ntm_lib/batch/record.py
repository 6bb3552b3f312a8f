"""The batch record: what one batch did, per commune, as JSON and CSV.

Written under ``build/<year>/`` at the end of every batch (also an
interrupted one)::

    batch.json, batch.csv                  the latest batch
    batches/<batch_id>.json, .csv          every batch, kept

JSON: ``schema`` ``"ntm.batch.v1"``, ``batch_id``, ``year``, ``started_utc``,
``ended_utc``, ``seconds``, ``options`` (workers, scheduler, force, timeout),
``counts`` (by status), ``interrupted``, ``exit_code``, ``rollups`` and
``communes``: one entry per commune with ``slug``, ``code``, ``name``,
``status`` (ran / skipped / failed / interrupted / not run), ``seconds``,
``reason``, ``run_id``, ``run_dir``, ``error`` (``message``, and for a
notebook failure ``cell``, ``ename``, ``evalue``), ``timings`` (seconds per
step), ``outputs`` (file name -> path) and ``peak_rss_mb`` (the peak
resident set size, MiB, of the worker process that built it, so far: a
worker builds many reports; None for a commune skipped or not run). At the
top, ``peak_rss_mb`` is the batch process's own peak (``ru_maxrss``, MiB:
planning, checks, record, roll-up checks and index; not its workers or
kernels) and ``workers_peak_rss_mb`` the highest of the workers'. Paths are relative to the build
folder. The CSV has one row per commune with the same facts, flat, made
safe for a spreadsheet (:mod:`ntm_lib.csvsafe`: a cell starting like a
formula gets a leading ``'``).

Every secret value (:mod:`ntm_lib.redact`) is replaced in the record before
it is serialised (so no JSON or CSV escaping hides one from the pass), and
again by :func:`ntm_lib.safeio.atomic_write`, which writes every file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..csvsafe import csv_text as spreadsheet_csv
from ..redact import redact_obj, redact_text
from ..run.runs import relative
from ..safeio import atomic_write, check_within
from .worker import STEPS, Outcome

SCHEMA = "ntm.batch.v1"
STATUSES = ("ran", "skipped", "failed", "interrupted", "not run")
_OUTPUT_COLUMNS = {"notebook_path": "commune_report.ipynb", "html_path": "report.html",
                   "pdf_path": "report.pdf", "manifest_path": "manifest.json"}
CSV_COLUMNS = ("slug", "code", "name", "status", "seconds", "reason", "run_id", "cell",
               "error", *(f"{s}_s" for s in STEPS), *_OUTPUT_COLUMNS, "peak_rss_mb")


@dataclass
class BatchRecord:
    """A batch's record (see the module docstring for the fields)."""

    batch_id: str
    year: int
    started_utc: str
    ended_utc: str = ""
    seconds: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    rollups: list[dict[str, Any]] = field(default_factory=list)
    #: The batch process's peak resident set size, MiB (set when the batch ends).
    peak_rss_mb: float | None = None

    @property
    def workers_peak_rss_mb(self) -> float | None:
        """The highest peak RSS (MiB) a worker reported, or None."""
        peaks = [o.peak_rss_mb for o in self.outcomes if o.peak_rss_mb is not None]
        return max(peaks) if peaks else None

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(1 for o in self.outcomes if o.status == s) for s in STATUSES}

    @property
    def exit_code(self) -> int:
        """0 when every commune was built or up to date; 130 when interrupted; else 1."""
        if self.interrupted:
            return 130
        ok = all(o.status in ("ran", "skipped") for o in self.outcomes)
        return 0 if ok and all(r.get("status") != "failed" for r in self.rollups) else 1

    def to_dict(self, build: Path) -> dict[str, Any]:
        def rel(value: str | None) -> str | None:
            return relative(Path(value), build) if value else None

        communes = []
        for o in self.outcomes:
            row = o.to_dict()
            row.pop("year", None)
            row["run_dir"] = rel(o.run_dir)
            row["outputs"] = {k: rel(v) for k, v in o.outputs.items()}
            communes.append(row)
        return {
            "schema": SCHEMA, "batch_id": self.batch_id, "year": self.year,
            "started_utc": self.started_utc, "ended_utc": self.ended_utc,
            "seconds": round(self.seconds, 3), "options": self.options,
            "counts": self.counts, "interrupted": self.interrupted,
            "exit_code": self.exit_code, "peak_rss_mb": self.peak_rss_mb,
            "workers_peak_rss_mb": self.workers_peak_rss_mb,
            "rollups": self.rollups, "communes": communes,
        }


def csv_text(data: dict[str, Any], *, redacted: bool = False) -> str:
    """The CSV form of a record's dict (:meth:`BatchRecord.to_dict`):
    redacted (unless ``redacted`` says it already is) and neutralised for
    spreadsheets (:func:`ntm_lib.csvsafe.csv_text`, which redacts each cell again)."""
    rows = []
    for row in (data if redacted else redact_obj(data))["communes"]:
        error = row.get("error") or {}
        flat = {k: row.get(k) for k in ("slug", "code", "name", "status", "seconds", "reason",
                                         "run_id")}
        flat["cell"] = error.get("cell")
        flat["peak_rss_mb"] = row.get("peak_rss_mb")
        flat["error"] = error.get("message")
        flat.update({f"{k}_s": (row.get("timings") or {}).get(k) for k in STEPS})
        flat.update({col: (row.get("outputs") or {}).get(name)
                     for col, name in _OUTPUT_COLUMNS.items()})
        rows.append(flat)
    return spreadsheet_csv(rows, CSV_COLUMNS)


def write_record(record: BatchRecord, build: Path) -> dict[str, Path]:
    """Write the record (JSON and CSV, latest and kept), secrets redacted;
    return the paths.

    Raises
    ------
    UnsafePathError
        A folder stands where a record file goes, or ``build/<year>`` leads
        out of ``build`` through a symbolic link.
    DiskFullError
        The disk filled up (files already in place are left whole).
    """
    data = redact_obj(record.to_dict(build))
    text_json = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    text_csv = csv_text(data, redacted=True)
    year_dir = build / str(record.year)
    paths = {"json": year_dir / "batch.json", "csv": year_dir / "batch.csv",
             "kept_json": year_dir / "batches" / f"{record.batch_id}.json",
             "kept_csv": year_dir / "batches" / f"{record.batch_id}.csv"}
    for key, path in paths.items():
        check_within(path.parent, build)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text_json if key.endswith("json") else text_csv, within=build)
    return paths


def read_record(build: Path, year: int) -> dict[str, Any] | None:
    """The latest batch record of ``year``, or None."""
    try:
        return json.loads((build / str(year) / "batch.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def summary_table(record: BatchRecord, width: int = 100) -> str:
    """The end-of-batch table: commune, status, seconds, and for failures
    the cell and the error (for a failed cell, its error name and value: the
    part that says what is wrong, e.g. the file, row and column of bad data).
    Secrets are redacted before a long error is cut, so no part of one shows."""
    rows = [("commune", "status", "seconds", "cell", "error")]
    for o in record.outcomes:
        error = o.error or {}
        cell = error.get("cell")
        text = error.get("message") or ""
        if error.get("ename") and error.get("timeout") is None:  # the cell is in its own column
            text = f"{error['ename']}: {error.get('evalue') or ''}".rstrip(": ")
        rows.append((o.code + " " + o.slug if o.code else o.slug, o.status, f"{o.seconds:.1f}",
                     "" if cell is None else str(cell), redact_text(text)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for r in rows:
        head = "  ".join(r[i].ljust(widths[i]) if i != 2 else r[i].rjust(widths[i])
                         for i in range(4))
        tail = r[4]
        room = max(20, width - len(head) - 2)
        lines.append((head + "  " + (tail if len(tail) <= room else tail[: room - 1] + "…"))
                     .rstrip())
    counts = ", ".join(f"{n} {s}" for s, n in record.counts.items() if n)
    lines.append(f"{len(record.outcomes)} communes: {counts}; {record.seconds:.1f} s")
    return "\n".join(lines)
