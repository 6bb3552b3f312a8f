"""Vietnamese number, money and date formats (Babel, locale ``vi``).

Conventions (``domain.md``, "Text and number conventions"; Decree 30/2020/NĐ-CP
for dates in the place-date line): decimal comma and thousands dot
("1.234,5"), percent written "31,58%", money in reports in "triệu đồng"
(million VND), dates "09/02/2023" in tables and "ngày 09 tháng 02 năm 2023" in
prose, with a leading zero on days below 10 and on months 1 and 2 (we pad every
month: "tháng 12", "tháng 02").

A change measured in percentage points is written "10 điểm phần trăm", never a
bare "%", so it cannot be mistaken for a relative change.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Iterable

from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal

LOCALE = "vi"


def _check_number(value: float, what: str) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError(f"{what}: no value to format")
    return value


def format_number(value: float, decimals: int = 2) -> str:
    """A number with Vietnamese separators and at most ``decimals`` decimals.

    >>> format_number(1234.5)
    '1.234,5'
    >>> format_number(10)
    '10'

    Raises ``ValueError`` for ``None`` or NaN.
    """
    _check_number(value, "number")
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def format_percent(value: float, decimals: int = 2) -> str:
    """``value`` given in percent (31.578947 means 31.58 %) as "31,58%".

    >>> format_percent(6 / 19 * 100)
    '31,58%'
    >>> format_percent(100)
    '100%'
    """
    return f"{format_number(value, decimals)}%"


def format_points(value: float, decimals: int = 2) -> str:
    """A difference of two percentages, in percentage points.

    >>> format_points(10)
    '10 điểm phần trăm'
    """
    return f"{format_number(value, decimals)} điểm phần trăm"


def format_million_vnd(value: float, decimals: int = 2) -> str:
    """An amount in million VND, as written in reports.

    >>> format_million_vnd(10)
    '10 triệu đồng'
    >>> format_million_vnd(1234.5)
    '1.234,5 triệu đồng'
    """
    return f"{format_number(value, decimals)} triệu đồng"


def format_count_of(count: int, total: int) -> str:
    """"13/19": a count out of a total; counts below 10 get a leading zero when
    the total has two digits, as official reports write them ("06/19").

    >>> format_count_of(6, 19)
    '06/19'
    >>> format_count_of(3, 10)
    '03/10'
    >>> format_count_of(3, 5)
    '3/5'
    """
    width = len(str(total))
    return f"{count:0{width}d}/{total}"


def format_date(value: dt.date) -> str:
    """"09/02/2023" (dd/mm/yyyy), for tables and after "ngày" in prose."""
    return _babel_date(value, "dd/MM/yyyy", locale=LOCALE)


def format_date_long(value: dt.date) -> str:
    """"ngày 09 tháng 02 năm 2023", the long form used in prose and headers."""
    return f"ngày {value.day:02d} tháng {value.month:02d} năm {value.year}"


def format_place_date(place: str, day: int | None, month: int, year: int) -> str:
    """The place-date line of a document: "Lào Cai, ngày 05 tháng 12 năm 2023".

    ``day`` ``None`` leaves the day blank for a draft awaiting signature, as
    such drafts are circulated: "Lào Cai, ngày …… tháng 12 năm 2023".
    Raises ``ValueError`` for an impossible date.
    """
    if day is None:
        dt.date(year, month, 1)  # validates month and year
        return f"{place}, ngày …… tháng {month:02d} năm {year}"
    return f"{place}, {format_date_long(dt.date(year, month, day))}"


def join_vi(items: Iterable[str], last: str = "và") -> str:
    """Join with commas and "và" before the last item: "A, B và C"."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


_ROMAN_QUARTERS = {1: "I", 2: "II", 3: "III", 4: "IV"}


def format_quarter(quarter: int) -> str:
    """A quarter in Roman numerals, as reports write them ("Quý II/2023").

    >>> format_quarter(2)
    'II'

    Raises ``ValueError`` outside 1-4.
    """
    if quarter not in _ROMAN_QUARTERS:
        raise ValueError(f"a quarter is 1 to 4, not {quarter}")
    return _ROMAN_QUARTERS[quarter]
