"""Reading one spreadsheet cell the way people type it: the common part.

Each parser of this family (here, :mod:`~ntm_lib.workbook.numbers`,
:mod:`~ntm_lib.workbook.words`) takes the cell's value as openpyxl gives it
(``None``, ``str``, ``int``, ``float``, ``bool``, ``datetime``) and its
number format, and returns the value in the tables' terms, or raises
:class:`BadCell` with a message in plain Vietnamese and what the cell should
hold. Here: text, composed to NFC (text typed decomposed, NFD, reads the
same) with spaces collapsed, and refused when it is in a legacy encoding
(TCVN3 "B¸t X¸t", VNI "Vieät"), naming the encoding.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import Any

from .. import limits
from ..load.encoding import legacy_character
from ..textnorm import match_key, nfc


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


def legacy_problem(text: str) -> BadCell | None:
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
    _bounded(text)
    problem = legacy_problem(text)
    if problem:
        raise problem
    return " ".join(text.split())


def _bounded(text: str) -> None:
    """Refuse text over ``limits.TEXT_CHARS`` characters, or holding a word
    over ``limits.WORD_CHARS`` (it cannot be wrapped on a printed line)."""
    if len(text) > limits.TEXT_CHARS:
        raise BadCell(f"chữ quá dài ({_n(len(text))} ký tự)",
                      f"tối đa {_n(limits.TEXT_CHARS)} ký tự (giới hạn limits.TEXT_CHARS)",
                      code="text_too_long")
    longest = max((len(w) for w in text.split()), default=0)
    if longest > limits.WORD_CHARS:
        raise BadCell(f"có một từ dài {_n(longest)} ký tự, không xuống dòng được khi in",
                      f"từ dài tối đa {limits.WORD_CHARS} ký tự (giới hạn limits.WORD_CHARS)",
                      code="word_too_long")


def _n(number: int) -> str:
    """``number`` with Vietnamese thousands dots: 20.000."""
    return f"{number:,}".replace(",", ".")


def parse_text(value: Any, fmt: str = "General") -> str:
    """Text: NFC, spaces and line breaks collapsed, legacy encodings refused,
    at most ``limits.TEXT_CHARS`` characters and words of at most
    ``limits.WORD_CHARS``."""
    return _text(value, fmt)


def parse_paragraphs(value: Any, fmt: str = "General") -> list[str]:
    """A paragraph cell: each non-empty line is a paragraph (text pasted from
    Word keeps its paragraphs as lines); the cell as a whole at most
    ``limits.TEXT_CHARS`` characters."""
    if isinstance(value, str):
        _bounded(value)
    lines = [_text(line, fmt) for line in str(value).replace("\r", "\n").split("\n")]
    return [line for line in lines if line]
