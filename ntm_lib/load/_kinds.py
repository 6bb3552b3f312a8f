"""The kinds of cell a table column may hold: how to read one, how to say what
was expected, and which pandas dtype the column gets.

One entry per kind in :data:`KINDS` (a registry, not an ``if`` chain). A
parser receives the cell text already NFC-normalised and stripped, never
empty (empty cells are handled by :mod:`ntm_lib.load.tables`), and returns
the Python value or raises :class:`BadCell`.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from .. import limits
from ..errors import LimitError
from .encoding import legacy_character, legacy_message, unsafe_character, unsafe_message

if TYPE_CHECKING:  # pragma: no cover
    from .tables import Column


class BadCell(ValueError):
    """A cell that does not hold a value of its column's kind; ``expected``,
    when given, replaces the column's own description (a limit, say)."""

    def __init__(self, message: str, expected: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected


_INT = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]+")


def _parse_str(text: str, column: Column) -> str:
    char = legacy_character(text)
    if char is not None:
        raise BadCell(legacy_message(char))
    char = unsafe_character(text, multiline=True)
    if char is not None:
        raise BadCell(unsafe_message(char, multiline=True),
                      "text without control or bidirectional-control characters")
    try:
        limits.check_text(text, where="text")
    except LimitError as exc:
        limit = "WORD_CHARS" if "word" in exc.message else "TEXT_CHARS"
        raise BadCell(f"{exc.message.removeprefix('text: ')}: {exc.found}",
                      f"{exc.expected} (limit limits.{limit})") from None
    return text


def _too_large(digits: str) -> BadCell | None:
    """A :class:`BadCell` when the whole part ``digits`` has more digits
    than :data:`ntm_lib.limits.INTEGER_DIGITS` (leading zeros not counted)."""
    count = len(digits.lstrip("0"))
    if count <= limits.INTEGER_DIGITS:
        return None
    return BadCell(f"number too large ({count:,} digits)",
                   f"at most {limits.INTEGER_DIGITS} digits before the decimal point "
                   "(limit limits.INTEGER_DIGITS)")


def _parse_int(text: str, column: Column) -> int:
    if not _INT.fullmatch(text):
        raise BadCell("not a whole number")
    bad = _too_large(text)
    if bad:
        raise bad
    return int(text.lstrip("0") or "0")


def _parse_number(text: str, column: Column) -> float:
    if not _NUMBER.fullmatch(text):
        hint = " (use '.' as the decimal point, no thousands separator)" if "," in text else ""
        raise BadCell(f"not a number{hint}")
    bad = _too_large(text.lstrip("+-").partition(".")[0])
    if bad:
        raise bad
    value = float(text)
    if not math.isfinite(value):  # pragma: no cover - the digit limit keeps it finite
        raise BadCell("not a finite number")
    return value


def _parse_bool(text: str, column: Column) -> bool:
    lowered = text.casefold()
    if lowered not in ("true", "false"):
        raise BadCell("not a yes/no value")
    return lowered == "true"


def _parse_date(text: str, column: Column) -> dt.date:
    if not _DATE.fullmatch(text):
        raise BadCell("not a date in the form yyyy-mm-dd")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadCell("not a real calendar date") from None


def _parse_code(text: str, column: Column) -> str:
    if not _DIGITS.fullmatch(text):
        raise BadCell("a code holds digits only")
    if len(text) != column.width:
        hint = (
            " (leading zeros lost? store the column as text)"
            if len(text) < (column.width or 0)
            else ""
        )
        raise BadCell(f"code has {len(text)} digits, not {column.width}{hint}")
    return text


def _parse_enum(text: str, column: Column) -> str:
    if text not in (column.values or ()):
        raise BadCell("value not allowed")
    return text


def _objects(values: list[Any], column: Column) -> pd.Series:
    return pd.Series(values, dtype=object)


def _ints(values: list[Any], column: Column) -> pd.Series:
    series = pd.Series(pd.array(values, dtype="Int64"))
    if column.required and not series.isna().any():
        series = series.astype("int64")
    return series


def _floats(values: list[Any], column: Column) -> pd.Series:
    return pd.Series([np.nan if v is None else v for v in values], dtype="float64")


def _bools(values: list[Any], column: Column) -> pd.Series:
    series = pd.Series(pd.array(values, dtype="boolean"))
    if column.required and not series.isna().any():
        series = series.astype(bool)
    return series


@dataclass(frozen=True)
class Kind:
    """How one kind of column is read (``parse``), described (``expected``)
    and stored (``series``: values, with None for empty or bad cells, to a
    pandas Series)."""

    parse: Callable[[str, "Column"], Any]
    expected: Callable[["Column"], str]
    series: Callable[[list[Any], "Column"], pd.Series]
    dtype: str


KINDS: dict[str, Kind] = {
    "str": Kind(_parse_str, lambda c: "Unicode text", _objects, "object (str)"),
    "int": Kind(_parse_int, lambda c: "a whole number >= 0", _ints, "int64 (Int64 if optional)"),
    "number": Kind(
        _parse_number,
        lambda c: "a number with '.' as decimal point, e.g. 10.5",
        _floats,
        "float64",
    ),
    "bool": Kind(_parse_bool, lambda c: "true or false", _bools, "bool (boolean if optional)"),
    "date": Kind(
        _parse_date,
        lambda c: "a date yyyy-mm-dd, e.g. 2023-02-09",
        _objects,
        "object (datetime.date)",
    ),
    "code": Kind(
        _parse_code,
        lambda c: f"a code of exactly {c.width} digits, leading zeros kept",
        _objects,
        "object (str of digits)",
    ),
    "enum": Kind(
        _parse_enum,
        lambda c: "one of " + ", ".join(c.values or ()),
        _objects,
        "object (str)",
    ),
}
