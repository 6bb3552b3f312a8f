"""Reading one spreadsheet cell the way people type it.

Each parser takes the cell's value as openpyxl gives it (``None``, ``str``,
``int``, ``float``, ``bool``, ``datetime``) and its number format, and
returns the value in the tables' terms, or raises :class:`BadCell` with a
message in plain Vietnamese and what the cell should hold. What is read,
not refused: text in decomposed Unicode (NFD) is composed (NFC); numbers
written as text with a decimal comma and thousands dots ("1.234,5",
"31,58%"); a cell formatted as percent (0.3158 shown as 31,58%); dates as
Excel dates or as text "09/02/2023"; a code whose leading zero a
spreadsheet dropped (2881 -> "02881"). What is refused, with the reason:
text in a legacy encoding (TCVN3, VNI), a date that does not exist
(31/02/2023), a status mark that does not say which status ("x").
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import Any, Callable

from ..load._encoding import legacy_character
from ..textnorm import match_key, nfc
from .spec import (
    NARRATIVE_SECTIONS,
    STATUS_CHOICES,
    STATUS_MARKS,
    STATUS_WORDS,
    SUPPORT_KINDS,
    YEAR_ROW_WORDS,
)


class BadCell(ValueError):
    """A cell that cannot be read as its kind: ``message`` (Vietnamese) and
    ``expected`` (what it should hold); ``code`` is a machine reason."""

    def __init__(self, message: str, expected: str | None = None, code: str = "bad_value") -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.code = code


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """A key for comparing words typed with or without diacritics: NFC,
    tone placement, case, spacing and punctuation ignored, diacritics and
    "đ" folded ("Không đạt", "khong dat", "KHÔNG  ĐẠT" are one key)."""
    text = match_key(text).replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = re.sub(r"[^\w%]+", " ", text)
    return " ".join(text.split())


# --------------------------------------------------------------------------- legacy text

# Characters that occur in TCVN3 ("ABC") text read as Latin-1 and never in VNI:
# tone-marked a, ă, â, đ, ê, ô, ơ, ư and the capitals Ă Â Đ Ê Ô Ơ Ư.
_TCVN3_MARKS = set("µ¸¶·¹¨»¾¼½©®ª«¬¡¢§£¤¥¦\u00ad")
# VNI writes a vowel then a Latin-1 letter for its marks ("Vieät", "chaøo").
_VNI_PAIR = re.compile(r"[aeiouyAEIOUY][\u00c0-\u00ff]")


def legacy_encoding(text: str) -> str | None:
    """The legacy encoding ``text`` seems to be in, or None when it reads as
    Unicode Vietnamese: "TCVN3 (ABC)" for "B¸t X¸t", "VNI" for "Vieät Nam",
    "TCVN3 hoặc VNI" when the characters do not tell."""
    if legacy_character(text) is None:
        return None
    if any(c in _TCVN3_MARKS for c in text):
        return "TCVN3 (ABC)"
    if _VNI_PAIR.search(text):
        return "VNI"
    return "TCVN3 hoặc VNI"


def _legacy_problem(text: str) -> BadCell | None:
    encoding = legacy_encoding(text)
    if encoding is None:
        return None
    fonts = {"TCVN3 (ABC)": " (phông .VnTime)", "VNI": " (phông VNI-Times)"}.get(encoding, "")
    return BadCell(
        f"chữ viết bằng bảng mã cũ {encoding}{fonts}, không phải Unicode: hãy chuyển sang "
        "Unicode (ví dụ UniKey: Công cụ chuyển mã) rồi nhập lại",
        "chữ tiếng Việt Unicode", code="legacy_encoding")


# --------------------------------------------------------------------------- text


def _text(value: Any, fmt: str) -> str:
    if isinstance(value, bool):
        raise BadCell("ô ghi giá trị đúng/sai, không phải chữ", "chữ")
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        raise BadCell("Excel đã hiểu ô này là ngày tháng: định dạng ô là Văn bản (Text) "
                      "rồi gõ lại", "chữ", code="date_in_text")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = nfc(str(value))
    problem = _legacy_problem(text)
    if problem:
        raise problem
    return " ".join(text.split())


def parse_text(value: Any, fmt: str = "General") -> str:
    """Text: NFC, spaces and line breaks collapsed, legacy encodings refused."""
    return _text(value, fmt)


def parse_paragraphs(value: Any, fmt: str = "General") -> list[str]:
    """A paragraph cell: each non-empty line is a paragraph (text pasted from
    Word keeps its paragraphs as lines)."""
    lines = [_text(line, fmt) for line in str(value).replace("\r", "\n").split("\n")]
    return [line for line in lines if line]


# --------------------------------------------------------------------------- numbers

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
    raw = text
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
    if isinstance(value, bool) or isinstance(value, (dt.datetime, dt.date, dt.time)):
        raise BadCell("không phải là số", expected, code="not_a_number")
    if isinstance(value, (int, float)):
        number = float(value)
        if "%" in (fmt or ""):
            number = round(number * 100, 10)  # a cell formatted as percent holds the fraction
        return number
    text = nfc(str(value)).strip()
    problem = _legacy_problem(text)
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
            import calendar

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


# --------------------------------------------------------------------------- codes and words


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
    text = _text(value, fmt)
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
        text = _text(value, fmt)
        if fold(text) in keys:
            return keys[fold(text)]
        raise BadCell(f"không có {what} này", "một trong: " + ", ".join(choices.values()),
                      code="bad_choice")
    return parse


parse_section = _choice(NARRATIVE_SECTIONS, "mục")
parse_support_kind = _choice(SUPPORT_KINDS, "loại hỗ trợ")

#: kind -> parser. ``set_id`` and ``style_id`` are checked against the
#: reference data by the reader; here they are text.
KINDS: dict[str, Callable[[Any, str], Any]] = {
    "text": parse_text,
    "paragraph": parse_paragraphs,
    "int": parse_int,
    "number": parse_number,
    "percent": parse_percent,
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
