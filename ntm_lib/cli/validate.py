"""``ntm validate``: check what is already in data/ and params/."""
from __future__ import annotations

import argparse
import sys

from ._args import year_type


def register(sub) -> None:
    cmd = sub.add_parser(
        "validate",
        help="check data/ and params/: every table, params file and consistency rule",
        description="Load every table and params file of each commune-year with all their "
                    "checks, then evaluate the consistency rules of "
                    "data/reference/validation_rules.csv. Exit code 0 when nothing is wrong "
                    "(warnings are listed), 2 when a table or params file has errors, or when "
                    "a rule fails with --strict.",
    )
    cmd.add_argument("--year", type=year_type, help="only this year (default: every year found)")
    cmd.add_argument("--commune", help='only this commune: code ("02881") or slug ("nam-mon")')
    cmd.add_argument("--strict", action="store_true", help="count rule warnings as errors")
    cmd.add_argument("--verbose", "-v", action="store_true",
                     help="also list the rules that held and those not checked (no data)")
    cmd.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from ..validate.project import check_project

    result = check_project(year=args.year, commune=args.commune)
    for error in result.errors:
        print(f"error: {error}", file=sys.stderr)
    if not result.items and not result.errors:
        print("nothing to check: no commune-year matches")
    for item in result.items:
        counts = {s: sum(o.status == s for o in item.outcomes) for s in ("ok", "failed", "skipped")}
        print(f"{item.commune.code} {item.commune.name}, {item.year}: {len(item.errors)} error(s), "
              f"{counts['failed']} warning(s); rules: {counts['ok']} held, "
              f"{counts['failed']} failed, {counts['skipped']} not checked (no data)")
        for note in item.notes:
            print(f"  note: {note}")
        for error in item.errors:
            print(f"  error: {error}")
        for outcome in item.outcomes:
            if outcome.warning is not None:
                w = outcome.warning
                print(f"  warning [{w.rule_id}, {w.importance}]: {w.message_vi}")
            elif args.verbose:
                print(f"  {outcome.status} [{outcome.rule.rule_id}]")
    errors = result.error_count + (result.warning_count if args.strict else 0)
    print(f"{result.error_count} error(s), {result.warning_count} warning(s) in "
          f"{len(result.items)} commune-year(s)")
    return 2 if errors else 0
