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
    run.add_argument("--build", type=Path, help="output folder (default build/)")
    run.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from ..run import build_report

    result = build_report(args.commune, args.year, params_path=args.params,
                          notebook=args.notebook, build=args.build)
    if result.status != "ok":
        what = "the report notebook failed" if isinstance(result.error, ExecutionError) \
            else "the report could not be rendered"
        print(f"error: {what}: {result.error}", file=sys.stderr)
        print(f"  the failed run is kept in {relative_to_root(result.run_dir)}/ "
              f"(executed notebook in data/)", file=sys.stderr)
        return 1
    shown = os.path.relpath(result.latest, Path.cwd())
    print(f"report built (run {result.run_id}), in {shown}/:")
    for path in result.outputs.values():
        print(f"  {os.path.join(shown, path.relative_to(result.run_dir))}")
    print(f"archived as a BagIt bag in {relative_to_root(result.run_dir)}/")
    return 0
