"""The kinds of workbook cell (the ``kind`` of a :class:`~ntm_lib.workbook.spec.Field`)
and the parser of each: a registry, not an ``if`` chain."""
from __future__ import annotations

from typing import Any, Callable

from .cells import parse_paragraphs, parse_text
from .numbers import (
    parse_date,
    parse_int,
    parse_money,
    parse_number,
    parse_percent,
    parse_percent_of_plan,
    parse_report_date,
)
from .words import (
    parse_code,
    parse_criterion,
    parse_quarter,
    parse_section,
    parse_status,
    parse_support_kind,
    parse_year,
)

#: kind -> parser. ``set_id`` and ``style_id`` are checked against the
#: reference data by the reader; here they are text.
KINDS: dict[str, Callable[[Any, str], Any]] = {
    "text": parse_text,
    "paragraph": parse_paragraphs,
    "int": parse_int,
    "number": parse_number,
    "percent": parse_percent,
    "percent_of_plan": parse_percent_of_plan,
    "points": parse_number,
    "money": parse_money,
    "date": parse_date,
    "report_date": parse_report_date,
    "code": parse_code,
    "year": parse_year,
    "criterion": parse_criterion,
    "status": parse_status,
    "quarter": parse_quarter,
    "section": parse_section,
    "support_kind": parse_support_kind,
    "set_id": parse_text,
    "style_id": parse_text,
}
