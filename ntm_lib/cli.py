"""``ntm``: the command line, a thin shell over the library.

Errors print as one line each (file, row, column, what was expected) and
exit non-zero; ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import NtmError
from .paths import relative_to_root


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ntm",
        description="Commune reports for the National Target Programs (NTM, GNBV, DTTS&MN).",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="build one commune-year report (notebook, HTML, PDF, manifest)")
    run.add_argument("--commune", required=True, help='commune code ("02881") or slug ("nam-mon")')
    run.add_argument("--year", required=True, type=int, help="year reported on, e.g. 2023")
    run.add_argument("--params", type=Path, help="params YAML (default params/<year>/<slug>.yaml)")
    run.add_argument("--notebook", type=Path, help="report notebook (default notebooks/commune_report.ipynb)")
    run.add_argument("--build", type=Path, help="output folder (default build/)")
    run.set_defaults(func=_cmd_run)
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from .run import build_report

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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ntm`` console script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except NtmError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: unfinished runs were removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
