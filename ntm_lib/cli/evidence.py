"""``ntm verify``, ``ntm show``, ``ntm trace``: check and read archived runs."""
from __future__ import annotations

import argparse
from pathlib import Path

from ._args import year_type


def register(sub) -> None:
    verify = sub.add_parser("verify", help="check archived runs file by file (BagIt)")
    verify.add_argument("path", type=Path,
                        help="a run folder, build/<year>/<slug>, or build/<year> for a whole year")
    verify.set_defaults(func=_verify)

    show = sub.add_parser("show", help="print the parameters and recorded figures of a run")
    show.add_argument("path", type=Path, help="a run folder or build/<year>/<slug>")
    show.set_defaults(func=_show)

    trace = sub.add_parser("trace", help="name the input files and rows a figure came from")
    trace.add_argument("--commune", required=True, help='commune code ("02881") or slug')
    trace.add_argument("--year", required=True, type=year_type)
    trace.add_argument("--figure", required=True, help="figure name, e.g. criteria_met")
    trace.add_argument("--run", type=Path, help="a run folder (default: the latest successful run)")
    trace.add_argument("--build", type=Path, help="output folder (default build/)")
    trace.set_defaults(func=_trace)


def _verify(args: argparse.Namespace) -> int:
    from ..evidence import verify
    from ..evidence.show import printable

    reports = verify(args.path)
    for report in reports:
        print("\n".join(printable(line) for line in report.lines()))
    runs = [r for r in reports if r.kind != "link"]
    links = len(reports) - len(runs)
    failed = sum(not r.ok for r in runs)
    print(f"{len(runs) - failed} of {len(runs)} run(s) verified"
          + (f", {failed} FAILED" if failed else "")
          + (f"; {links} link(s) leading to no run of this archive" if links else ""))
    return 1 if failed or links else 0


def _show(args: argparse.Namespace) -> int:
    from ..evidence import describe, open_run

    print("\n".join(describe(open_run(args.path))))
    return 0


def _trace(args: argparse.Namespace) -> int:
    from ..evidence import latest_run, open_run, trace

    run = open_run(args.run) if args.run else latest_run(args.commune, args.year, args.build)
    print("\n".join(trace(run, args.figure)))
    return 0
