"""``ntm run``: build one commune-year report."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..paths import relative_to_root


def register(sub) -> None:
    run = sub.add_parser("run", help="build one commune-year report (notebook, HTML, PDF, manifest)")
    run.add_argument("--commune", required=True, help='commune code ("02881") or slug ("nam-mon")')
    run.add_argument("--year", required=True, type=int, help="year reported on, e.g. 2023")
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
        print(f"error: the report notebook failed: {result.error}", file=sys.stderr)
        print(f"  executed notebook kept in {relative_to_root(result.run_dir)}/", file=sys.stderr)
        return 1
    shown = os.path.relpath(result.latest, Path.cwd())
    print(f"report built (run {result.run_id}), in {shown}/:")
    for name in result.outputs:
        print(f"  {shown}/{name}")
    print(f"archived in {relative_to_root(result.run_dir)}/")
    return 0
