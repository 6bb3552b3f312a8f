"""``ntm run``: build one commune-year report."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import ExecutionError
from ..paths import relative_to_root
from ._args import year_type


def register(sub) -> None:
    run = sub.add_parser("run", help="build one commune-year report (notebook, HTML, PDF, manifest)")
    run.add_argument("--commune", required=True, help='commune code ("02881") or slug ("nam-mon")')
    run.add_argument("--year", required=True, type=year_type, help="year reported on, e.g. 2023")
    run.add_argument("--params", type=Path, help="params YAML (default params/<year>/<slug>.yaml)")
    run.add_argument("--notebook", type=Path,
                     help="report notebook (default notebooks/commune_report.ipynb)")
    run.add_argument("--period", help="report period: q1-q4, 6m, 9m or year (default: the "
                                      "params file's; the default params file of a period is "
                                      "params/<year>/<slug>-<period>.yaml)")
    run.add_argument("--build", type=Path, help="output folder (default build/)")
    run.add_argument("--no-docx", action="store_true",
                     help="do not write report.docx (the Word document) beside the HTML and PDF")
    run.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from ..run import build_report
    from ..run.signals import deferred_interrupts, interrupt_on_sigterm

    with interrupt_on_sigterm():  # kill/timeout clean up as Ctrl-C does
        result = build_report(args.commune, args.year, params_path=args.params,
                              notebook=args.notebook, build=args.build, period=args.period,
                              docx=not args.no_docx)
    with deferred_interrupts() as interrupts:  # the run is archived: say so in full
        code = _say_built(result)
    if result.interrupted or interrupts:
        print("note: interrupted after the run was archived; the run above is complete",
              file=sys.stderr)
    return code


def _say_built(result) -> int:
    """Print what :func:`build_report` built; the exit code (0 ok, 1 failed run)."""
    _say_left_out(result.left_out)
    if result.status != "ok":
        what = "the report notebook failed" if isinstance(result.error, ExecutionError) \
            else "the report could not be rendered"
        print(f"error: {what}: {result.error}", file=sys.stderr)
        print(f"  the failed run is kept in {relative_to_root(result.run_dir)}/ "
              f"(executed notebook in data/)", file=sys.stderr)
        return 1
    # Shown through the latest link only when it names this very run.
    shown = os.path.relpath(result.latest or result.run_dir, Path.cwd())
    print(f"report built (run {result.run_id}), in {shown}/:")
    for path in result.outputs.values():
        print(f"  {os.path.join(shown, path.relative_to(result.run_dir))}")
    print(f"archived as a BagIt bag in {relative_to_root(result.run_dir)}/")
    if result.latest is None:
        print("  (the latest link was left on a run of this commune that started later)")
    return 0


def _say_left_out(outputs: list) -> None:
    """Name the outputs that stay in the notebook and not in the report."""
    if not outputs:
        return
    print(f"note: {len(outputs)} output(s) of cells are not in the report (kept in the "
          "executed notebook, listed in manifest.json as left_out_outputs):", file=sys.stderr)
    for o in outputs[:10]:
        print(f"  cell {o['cell']}: {o['what']}: {o['preview']}", file=sys.stderr)
    if len(outputs) > 10:
        print(f"  ... and {len(outputs) - 10} more", file=sys.stderr)
