"""Decoding input files strictly as UTF-8, and spotting legacy Vietnamese text.

Old Vietnamese files are often in 8-bit encodings made for special fonts:
TCVN3 ("ABC", fonts ``.VnTime``) and VNI (fonts ``VNI-Times``). Read as
UTF-8 they are either invalid (most TCVN3/VNI bytes are not valid UTF-8
sequences) or, when some tool has already "converted" them through Latin-1 /
Windows-1252, valid UTF-8 full of characters that never occur in Vietnamese:
"B¸t X¸t" is TCVN3 for *Bát Xát*, "Mêng Kh¬ng" for *Mường Khương*,
"Vieät Nam" is VNI for *Việt Nam*. Both cases must be stopped at the door,
never passed through as text.
"""
from __future__ import annotations

import re
import unicodedata

_REMEDY = (
    "save it as UTF-8 (in Excel: 'CSV UTF-8'); a legacy Vietnamese encoding "
    "such as TCVN3 (ABC, .VnTime fonts) or VNI is a likely cause: convert it "
    "to Unicode first (e.g. with UniKey's converter)"
)

# Latin-1 Supplement letters that Vietnamese uses (NFC). Every other character
# of U+00A1..U+00FF, bar a few symbols of ordinary text, is a sign of TCVN3 or
# VNI bytes decoded as Latin-1 / Windows-1252.
_VIETNAMESE_LATIN1 = set("ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý")
_ORDINARY_SYMBOLS = set("\u00a0°±«»©§×")
# Windows-1252 puts these at 0x80..0x9F; TCVN3/VNI text read as cp1252 shows them.
_CP1252_EXTRAS = set("ŒœŠšŸŽžƒˆ˜‹›")


def decode_utf8(data: bytes) -> tuple[str | None, tuple[int, str] | None]:
    """Decode ``data`` strictly as UTF-8.

    Returns
    -------
    ``(text, None)`` on success, with a leading byte-order mark removed
    (Excel's "CSV UTF-8" writes one); ``(None, (line, reason))`` when the
    bytes are not UTF-8, where ``line`` is the 1-based line of the first bad
    byte and ``reason`` names that byte, its position in the line, how many
    lines are affected, and how to fix the file.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, _decode_failure(data, exc)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


def _decode_failure(data: bytes, exc: UnicodeDecodeError) -> tuple[int, str]:
    start = exc.start
    line_start = data.rfind(b"\n", 0, start) + 1
    line = data.count(b"\n", 0, start) + 1
    bad_lines = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines.append(number)
    more = f"; {len(bad_lines)} line(s) affected" if len(bad_lines) > 1 else ""
    return line, (
        f"not valid UTF-8: byte 0x{data[start]:02X} at line {line}, byte "
        f"{start - line_start + 1} of the line{more}; {_REMEDY}"
    )


def legacy_character(text: str) -> str | None:
    """The first character of ``text`` that marks TCVN3/VNI text read as
    Latin-1 (``'¸'`` in "B¸t X¸t"), or None when the text looks like Unicode
    Vietnamese.

    >>> legacy_character("B¸t X¸t")
    '¸'
    >>> legacy_character("Bát Xát") is None
    True
    """
    for char in text:
        code = ord(char)
        if char in _CP1252_EXTRAS:
            return char
        if 0xA0 <= code <= 0xFF and char not in _VIETNAMESE_LATIN1 | _ORDINARY_SYMBOLS:
            return char
    return None


def legacy_message(char: str) -> str:
    """Why a text cell holding ``char`` is refused, and what to do."""
    return (
        f"text looks like a legacy Vietnamese encoding (character {char!r}, "
        f"U+{ord(char):04X}, does not occur in Vietnamese); the file was probably "
        "converted from TCVN3 (ABC) or VNI without a Vietnamese converter: "
        "convert the original with a Unicode converter (e.g. UniKey) and save as UTF-8"
    )


# Characters refused in report text: C0 and C1 control characters and DEL
# (a NUL or an escape sequence has no place in a printed report), and the
# bidirectional embeddings, overrides and isolates U+202A-U+202E and
# U+2066-U+2069, which reorder what a reader sees ("Trojan Source"). Line
# breaks and tabs are allowed in multi-line text only (a carriage return
# only before a line feed, as a CSV written on Windows holds it).
_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNSAFE_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_MULTI_LINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]|\r(?!\n)")


def unsafe_character(text: str, *, multiline: bool = False) -> str | None:
    """The first control or bidirectional-control character of ``text``,
    or None. With ``multiline`` a line feed, a tab and a carriage return
    before a line feed are allowed.

    >>> unsafe_character("Nậm Mòn") is None
    True
    >>> unsafe_character("a\\u202eb")
    '\\u202e'
    """
    found = (_UNSAFE_MULTI_LINE if multiline else _UNSAFE_ONE_LINE).search(text)
    return found.group()[0] if found else None


def unsafe_message(char: str, *, multiline: bool = False) -> str:
    """Why text holding ``char`` (from :func:`unsafe_character`) is refused."""
    code = ord(char)
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        kind = f"the bidirectional control U+{code:04X} ({unicodedata.name(char)})"
        why = "it reorders the text a reader sees"
    else:
        kind = f"the control character U+{code:04X}"
        why = ("it cannot be printed" if multiline or char not in "\n\t\r"
               else "a line break or tab is not allowed in a one-line text")
    return f"text holds {kind}: {why}; remove it"
