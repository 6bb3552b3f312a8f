"""``ntm batch``: build every commune report of a year, in parallel, incrementally."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ._args import positive_int, positive_seconds, year_type


def register(sub) -> None:
    batch = sub.add_parser(
        "batch", help="build the reports of a year: in parallel, skipping those up to date",
        description="Build every commune-year with a params file (params/<year>/*.yaml), or "
                    "those named with --commune. A report whose parameters, input data, "
                    "notebook template and library are unchanged since its last successful "
                    "run, and whose archived run is intact, is skipped (--force rebuilds). "
                    "Exit code 0 when every report was built or up to date, 1 when one "
                    "failed (or the disk filled up), 2 for bad options, 130 when interrupted "
                    "(Ctrl-C or SIGTERM).")
    batch.add_argument("--year", required=True, type=year_type, help="year reported on, e.g. 2023")
    batch.add_argument("--commune", action="append", default=[], metavar="CODE_OR_SLUG",
                       help="only this commune (repeat for several); default all with params")
    batch.add_argument("--workers", type=positive_int, default=None,
                       help=f"reports built at once (default the number of CPUs: {os.cpu_count()})")
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help='run on Dask: "local" starts a LocalCluster here; an address '
                            '(tcp://host:8786) uses an existing cluster')
    batch.add_argument("--force", action="store_true", help="rebuild even unchanged reports")
    batch.add_argument("--timeout", type=positive_seconds, default=None, metavar="SECONDS",
                       help="interrupt a report whose notebook runs longer than this")
    batch.add_argument("--notebook", type=Path,
                       help="report notebook (default notebooks/commune_report.ipynb)")
    batch.add_argument("--build", type=Path, help="output folder (default build/)")
    batch.add_argument("--no-rollup", action="store_true", help="do not build the roll-up reports")
    batch.add_argument("--no-docx", action="store_true",
                       help="do not write report.docx (the Word document) beside the HTML and PDF")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from ..batch.record import summary_table
    from ..batch.run import RecordNotWritten, run_batch
    from ..run.signals import interrupt_on_sigterm

    try:
        with interrupt_on_sigterm():  # kill/timeout stop the batch as Ctrl-C does
            record = run_batch(args.year, args.commune, workers=args.workers,
                               scheduler=args.scheduler, force=args.force, timeout=args.timeout,
                               build=args.build, notebook=args.notebook,
                               rollup=not args.no_rollup, docx=not args.no_docx,
                               progress=not args.quiet)
    except RecordNotWritten as exc:  # what was done is still shown, then the error line
        print(summary_table(exc.record))
        raise
    print(summary_table(record))
    for rollup in record.rollups:
        links = rollup.get("links") or {}
        shown = links.get("HTML") or (rollup.get("error") or {}).get("message") or ""
        print(f"roll-up {rollup.get('title')}: {rollup.get('status')} {shown}")
    year_dir = Path(args.build or "build") / str(args.year)
    if args.build is None:
        from ..paths import build_dir

        year_dir = build_dir() / str(args.year)
    shown = os.path.relpath(year_dir, Path.cwd())
    print(f"record: {shown}/batch.csv, {shown}/batch.json; index: {shown}/index.html")
    if record.interrupted:
        print("interrupted: finished reports were kept; the others were not built",
              file=sys.stderr)
    return record.exit_code
