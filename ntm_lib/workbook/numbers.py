"""Numbers and dates as people type them in a spreadsheet.

Vietnamese conventions first (domain: decimal comma, thousands dot,
dd/mm/yyyy), with the habits of other locales read when only one reading is
possible ("0.5", "1,234.5"); a cell formatted as percent holds the fraction.
Each parser takes openpyxl's value and the cell's number format and returns
the value, or raises :class:`~ntm_lib.workbook.cells.BadCell`.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from typing import Any

from .. import limits
from ..textnorm import nfc
from .cells import BadCell, legacy_problem

_NUMBER_TEXT = re.compile(r"[+-]?[0-9.,]+%?")


def number_from_text(text: str) -> float:
    """A number written as text, Vietnamese style first.

    >>> number_from_text("1.234,5"), number_from_text("31,58%"), number_from_text("10.000")
    (1234.5, 31.58, 10000.0)

    Rules: when both "." and "," occur the last one is the decimal sign;
    a lone "," is a decimal comma; dots followed by groups of three digits
    are thousands dots ("1.234" is 1234); any other single "." is a decimal
    point ("0.5"). A final "%" is dropped (the unit is the column's).
    """
    raw = text if len(text) <= 40 else text[:40] + "…"  # as shown in a message
    text = text.replace("\u00a0", "").replace(" ", "").replace("\u2009", "")
    if not _NUMBER_TEXT.fullmatch(text) or not any(c.isdigit() for c in text):
        raise BadCell("không phải là số", code="not_a_number")
    text = text.rstrip("%")
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        group = "." if decimal == "," else ","
        whole, _, frac = text.rpartition(decimal)
        if not re.fullmatch(rf"[0-9]{{1,3}}(\{group}[0-9]{{3}})*", whole) or not frac.isdigit():
            raise BadCell(f"số viết không đúng dấu phân cách: {raw!r}", code="not_a_number")
        return sign * float(whole.replace(group, "") + "." + frac)
    if "," in text:
        if text.count(",") > 1:
            if not re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+", text):
                raise BadCell(f"số có nhiều dấu phẩy: {raw!r}", code="not_a_number")
            return sign * float(text.replace(",", ""))
        return sign * float(text.replace(",", "."))
    if "." in text:
        if re.fullmatch(r"[0-9]{1,3}(\.[0-9]{3})+", text) and not text.startswith("0."):
            return sign * float(text.replace(".", ""))
        if text.count(".") > 1:
            raise BadCell(f"số có nhiều dấu chấm: {raw!r}", code="not_a_number")
    return sign * float(text)


def _number(value: Any, fmt: str, expected: str) -> float:
    number = _raw_number(value, fmt, expected)
    if math.isnan(number):
        raise BadCell("không phải là số", expected, code="not_a_number")
    if not math.isfinite(number) or abs(number) >= 10 ** limits.INTEGER_DIGITS:
        raise BadCell("số quá lớn", f"{expected}; phần nguyên tối đa {limits.INTEGER_DIGITS} "
                      "chữ số (giới hạn limits.INTEGER_DIGITS)", code="number_too_large")
    return number


def _raw_number(value: Any, fmt: str, expected: str) -> float:
    if isinstance(value, bool) or isinstance(value, (dt.datetime, dt.date, dt.time)):
        raise BadCell("không phải là số", expected, code="not_a_number")
    if isinstance(value, int) and abs(value) >= 10 ** limits.INTEGER_DIGITS:
        return math.inf  # a 400-digit whole number is no float
    if isinstance(value, (int, float)):
        number = float(value)
        if "%" in (fmt or ""):
            number = round(number * 100, 10)  # a cell formatted as percent holds the fraction
        return number
    text = nfc(str(value)).strip()
    problem = legacy_problem(text)
    if problem:
        raise problem
    try:
        return round(number_from_text(text), 10)
    except BadCell as bad:
        raise BadCell(bad.message, expected, bad.code) from None


def parse_int(value: Any, fmt: str = "General") -> int:
    """A whole number >= 0 ("3", 3, "3,0"; "1.234" is 1234)."""
    expected = "một số nguyên không âm, ví dụ 3"
    number = _number(value, fmt, expected)
    if not number.is_integer():
        raise BadCell("không phải số nguyên", expected, code="not_whole")
    if number < 0:
        raise BadCell("không được là số âm", expected, code="negative")
    return int(number)


def parse_number(value: Any, fmt: str = "General") -> float:
    """A number >= 0, decimal comma or point ("31,58", "10.5", "1.234,5")."""
    expected = "một số không âm, ví dụ 31,58"
    number = _number(value, fmt, expected)
    if number < 0:
        raise BadCell("không được là số âm", expected, code="negative")
    return number


def parse_percent(value: Any, fmt: str = "General") -> float:
    """A percentage 0..100 ("31,58", "31,58%", or 0.3158 in a percent cell)."""
    number = parse_number(value, fmt)
    if number > 100:
        raise BadCell("tỷ lệ phần trăm lớn hơn 100", "một số từ 0 đến 100", code="out_of_range")
    return number


def parse_percent_of_plan(value: Any, fmt: str = "General") -> float:
    """Progress against a plan, percent of the plan: may pass 100 (the
    domain's "5,02%/năm bằng 125,5% kế hoạch"); "125,5", "125,5%"."""
    return parse_number(value, fmt)


def parse_money(value: Any, fmt: str = "General") -> float:
    """Million VND; an amount of a million or more looks like đồng and is refused."""
    number = parse_number(value, fmt)
    if number >= 1_000_000:
        raise BadCell("số tiền này có vẻ ghi bằng đồng, không phải triệu đồng",
                      "số tiền bằng triệu đồng (10.000.000 đồng ghi 10)", code="unit_dong")
    return number


# --------------------------------------------------------------------------- dates

_DMY = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")
_YMD = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_MY = re.compile(r"(?:tháng\s*)?([0-9]{1,2})\s*[/.-]\s*([0-9]{4})|tháng\s*([0-9]{1,2})\s*năm\s*([0-9]{4})")
_DATE_EXPECTED = "một ngày dạng ngày/tháng/năm, ví dụ 09/02/2023"


def _real_date(year: int, month: int, day: int, shown: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        if 1 <= month <= 12:
            days = calendar.monthrange(year, month)[1]
            reason = f"tháng {month} năm {year} chỉ có {days} ngày"
        else:
            reason = "không có tháng " + str(month)
        raise BadCell(f"ngày {shown} không có thật: {reason}", _DATE_EXPECTED,
                      code="impossible_date") from None


def parse_date(value: Any, fmt: str = "General") -> dt.date:
    """A date: an Excel date, or text dd/mm/yyyy (also with "-" or "."),
    or yyyy-mm-dd. 31/02/2023 is refused: February 2023 has 28 days."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel serial date shown as a number
            from openpyxl.utils.datetime import from_excel

            return from_excel(value).date()
        raise BadCell("không phải là ngày", _DATE_EXPECTED, code="not_a_date")
    text = nfc(str(value)).strip()
    m = _DMY.fullmatch(text)
    if m:
        day, month, year = (int(g) for g in m.groups())
        return _real_date(year, month, day, text)
    m = _YMD.fullmatch(text)
    if m:
        year, month, day = (int(g) for g in m.groups())
        return _real_date(year, month, day, text)
    if re.fullmatch(r"[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2}", text):
        raise BadCell("năm chỉ có 2 chữ số", "năm ghi đủ 4 chữ số, ví dụ 09/02/2023",
                      code="two_digit_year")
    raise BadCell("không phải là ngày", _DATE_EXPECTED, code="not_a_date")


def parse_report_date(value: Any, fmt: str = "General") -> str:
    """``yyyy-mm-dd`` from a date, or ``yyyy-mm`` from a month ("12/2023",
    "tháng 12 năm 2023", or an Excel date shown without its day)."""
    if isinstance(value, (dt.datetime, dt.date)):
        shown_day = "d" in (fmt or "").lower().replace("dddd", "")
        date = value.date() if isinstance(value, dt.datetime) else value
        return date.isoformat() if shown_day else f"{date.year:04d}-{date.month:02d}"
    text = nfc(str(value)).strip().lower()
    m = _MY.fullmatch(text)
    if m:
        month, year = (int(g) for g in (m.group(1) or m.group(3), m.group(2) or m.group(4)))
        if not 1 <= month <= 12:
            raise BadCell(f"không có tháng {month}", "ngày/tháng/năm hoặc tháng/năm",
                          code="impossible_date")
        return f"{year:04d}-{month:02d}"
    try:
        return parse_date(value, fmt).isoformat()
    except BadCell as bad:
        raise BadCell(bad.message, "ngày/tháng/năm, hoặc tháng/năm nếu chưa có ngày ký",
                      bad.code) from None
