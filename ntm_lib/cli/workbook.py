"""``ntm template`` and ``ntm import``: the data workbook.

Exit codes: 0 done; 2 bad arguments or a bad workbook (nothing written);
1 the data could not be written (disk full, permission), every file then
left as it was.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._args import year_type


def register(sub) -> None:
    tpl = sub.add_parser(
        "template", help="write the data workbook of one commune-year, filled with what is known",
        description="Write an Excel workbook to fill in: one sheet per kind of fact, Vietnamese "
                    "headings, drop-down lists, a guide sheet; pre-filled with the commune, the "
                    "criteria of the set, last year's statuses and whatever data/ and params/ "
                    "already hold for the year.")
    tpl.add_argument("--commune", required=True,
                     help='commune code ("02881"), slug ("nam-mon") or name ("Nậm Mòn"), on the map '
                          "in force at the end of --year (districts until 2024, the map of "
                          "01/7/2025 from 2025)")
    tpl.add_argument("--province", help="province code or name, to tell same-named communes apart")
    tpl.add_argument("--district", help="district code or name (years before 2025 only)")
    tpl.add_argument("--year", required=True, type=year_type, help="year reported on, e.g. 2024")
    tpl.add_argument("--out", type=Path, help="workbook to write, *.xlsx (default "
                     "<slug>-<year>.xlsx); never inside params/ or data/")
    tpl.add_argument("--force", action="store_true",
                     help="replace the workbook if it exists (otherwise an existing file is "
                          "refused)")
    tpl.add_argument("--criteria-set", help="criteria set id (default: that of the params file, "
                                            "else the national set in force in the year)")
    tpl.set_defaults(func=template_command)

    imp = sub.add_parser(
        "import", help="check a filled workbook, then write data/ and params/ for its commune-year",
        description="Read a filled workbook (also one saved by LibreOffice), check every sheet "
                    "and cell, and report every problem at once with its sheet and cell. Exit "
                    "code 2 and nothing written when anything is wrong; otherwise the tables "
                    "and the params file are written all together and the changes listed. "
                    "Consistency rules that fail are listed as warnings.")
    imp.add_argument("workbook", type=Path, help="the .xlsx file")
    imp.add_argument("--dry-run", action="store_true", help="check and list changes, write nothing")
    imp.add_argument("--strict", action="store_true",
                     help="refuse the import when a consistency rule fails")
    imp.set_defaults(func=import_command)


def template_command(args: argparse.Namespace) -> int:
    from ..workbook import gather, write_template
    from ..workbook.template import check_target

    if args.out is not None:  # refused before anything is gathered
        check_target(args.out, force=args.force)
    known = gather(args.commune, args.year, criteria_set=args.criteria_set,
                   province=args.province, district=args.district)
    out = args.out or Path(f"{known.commune.slug}-{args.year}.xlsx")
    write_template(out, known, force=args.force)
    c = known.commune
    where = f", {c.district_type_vi} {c.district_name}" if c.district_name else ""
    print(f"wrote {out}: {c.type_vi} {c.name} ({c.code}){where}, {c.province_type_vi} "
          f"{c.province_name}, năm {args.year}, bộ tiêu chí {known.main.set_id}")
    print(f"fill it in, then: ntm import {out}")
    return 0


def import_command(args: argparse.Namespace) -> int:
    from ..errors import NtmError
    from ..workbook import WorkbookError, read_workbook, write_import

    try:
        data = read_workbook(args.workbook)
    except (NtmError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a layout nobody foresaw: say so plainly, no traceback
        if args.debug:
            raise
        raise WorkbookError(f"không đọc được sổ ({type(exc).__name__}: {exc}); chạy lại với "
                            "ntm --debug import để xem chi tiết và báo cho người bảo trì",
                            file=args.workbook.name, code="unexpected") from None
    dry = args.dry_run or args.strict
    result = write_import(data, dry_run=dry)
    for note in data.notes:
        print(f"note: {note}")
    for warning in result.warnings:
        print(f"warning [{warning.rule_id}, {warning.importance}]: {warning.message_vi}")
    if args.strict and result.warnings:
        print(f"error: {len(result.warnings)} consistency warning(s) with --strict: nothing "
              "written", file=sys.stderr)
        return 2
    if args.strict and not args.dry_run:
        result = write_import(data)
    verb = "would change" if args.dry_run else "imported"
    print(f"{verb} {data.file}: xã {data.commune.name} ({data.commune.code}), năm {data.year}")
    for change in result.changes:
        print(f"  {change.describe()}")
    return 0
