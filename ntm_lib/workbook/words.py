"""Codes and words as people type them: commune codes, years, criterion
numbers, statuses, quarters, and the choices of drop-down lists.

Statuses are compared after :func:`~ntm_lib.workbook.cells.fold` (case,
diacritics, tone placement and spacing ignored): "Đạt", "đạt", "DAT" are
met; "Không đạt", "Chưa đạt" not met; a mark such as "x" is refused, since
it does not say which status.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from ..textnorm import nfc
from .cells import BadCell, fold, parse_text
from .numbers import parse_int
from .spec import (
    NARRATIVE_SECTIONS,
    STATUS_CHOICES,
    STATUS_MARKS,
    STATUS_WORDS,
    SUPPORT_KINDS,
    YEAR_ROW_WORDS,
)


def parse_code(value: Any, fmt: str = "General") -> str:
    """A 5-digit commune code, kept as text; a code that lost its leading
    zeros (2881, a number) is padded back ("02881")."""
    expected = "mã xã gồm 5 chữ số, ví dụ 02881"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = nfc(str(value)).strip().replace(" ", "")
    if not text.isdigit():
        raise BadCell("mã xã chỉ gồm chữ số", expected, code="bad_code")
    if len(text) > 5:
        raise BadCell(f"mã xã có {len(text)} chữ số", expected, code="bad_code")
    return text.zfill(5)


def parse_year(value: Any, fmt: str = "General") -> int:
    """A year 2010..2100."""
    year = parse_int(value, fmt)
    if not 2010 <= year <= 2100:
        raise BadCell("năm không hợp lệ", "năm gồm 4 chữ số, từ 2010 đến 2100", code="bad_year")
    return year


def parse_criterion(value: Any, fmt: str = "General") -> int:
    """A criterion number: 8, "8", "08", "8.", "TC 8", "Tiêu chí 8"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return parse_int(value, fmt)
    text = fold(str(value))
    m = re.fullmatch(r"(?:tieu chi|tc)?\s*([0-9]{1,3})", text)
    if not m:
        raise BadCell("không phải số thứ tự tiêu chí", "số tiêu chí, ví dụ 8", code="bad_criterion")
    return int(m.group(1))


_STATUS_KEYS = {fold(word): status for word, status in STATUS_WORDS.items()}
_STATUS_EXPECTED = ", ".join(STATUS_CHOICES[:-1]) + " hoặc " + STATUS_CHOICES[-1]


def parse_status(value: Any, fmt: str = "General") -> str | None:
    """"Đạt" -> "met"; "Không đạt", "Chưa đạt" -> "not_met"; "Không có số
    liệu" -> None. Case, diacritics and tone placement do not matter; a mark
    such as "x" is refused, since it does not say which status."""
    text = parse_text(value, fmt)
    key = fold(text)
    if key in _STATUS_KEYS:
        return _STATUS_KEYS[key]
    if key in {fold(m) for m in STATUS_MARKS} or text in STATUS_MARKS:
        raise BadCell(f"dấu '{text}' không cho biết đạt hay không đạt", _STATUS_EXPECTED,
                      code="status_mark")
    raise BadCell("không hiểu tình trạng này", _STATUS_EXPECTED, code="bad_status")


def parse_quarter(value: Any, fmt: str = "General") -> int | str:
    """1..4 from "Quý I", "I", "1", "Q1", "Quý 1"; "year" for the year row."""
    expected = "Quý I, Quý II, Quý III, Quý IV hoặc Cả năm"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = parse_int(value, fmt)
        if 1 <= number <= 4:
            return number
        raise BadCell("quý chỉ từ 1 đến 4", expected, code="bad_quarter")
    key = fold(str(value))
    if key in {fold(w) for w in YEAR_ROW_WORDS} or key.startswith("ca nam") or key.startswith("tong"):
        return "year"
    m = re.fullmatch(r"(?:quy|q)?\s*(iv|iii|ii|i|[1-4])", key)
    if m:
        return {"i": 1, "ii": 2, "iii": 3, "iv": 4}.get(m.group(1)) or int(m.group(1))
    raise BadCell("không hiểu quý này", expected, code="bad_quarter")


def _choice(choices: dict[str, str], what: str) -> Callable[[Any, str], str]:
    keys = {}
    for code, label in choices.items():
        keys[fold(code)] = code
        keys[fold(label)] = code

    def parse(value: Any, fmt: str = "General") -> str:
        text = parse_text(value, fmt)
        if fold(text) in keys:
            return keys[fold(text)]
        raise BadCell(f"không có {what} này", "một trong: " + ", ".join(choices.values()),
                      code="bad_choice")
    return parse


parse_section = _choice(NARRATIVE_SECTIONS, "mục")
parse_support_kind = _choice(SUPPORT_KINDS, "loại hỗ trợ")
