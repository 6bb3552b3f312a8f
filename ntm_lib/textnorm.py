"""Vietnamese text normalisation used before any comparison or grouping.

Text is stored NFC-normalised (Unicode composed form). Names are compared
after :func:`match_key`, which also folds case and the two tone placements
that sources use interchangeably ("Thuỷ"/"Thủy", "hoá"/"hóa"): the old style
puts the tone on the second vowel of "oa, oe, uy", the new style on the first.
"""
from __future__ import annotations

import re
import unicodedata

# Tone marks as combining characters (NFD): grave, acute, hook above, tilde, dot below.
_TONES = "\u0300\u0301\u0309\u0303\u0323"
# Old-style placement on the second vowel of o-a, o-e, u-y, moved to the first:
# only when the pair ends the syllable ("hoá" -> "hóa", "thuỷ" -> "thủy"),
# not in "hoàng" or "quyết" where the placement is the same in both styles.
_OLD_STYLE = re.compile(
    rf"(?<![a-zđ])([^\W\d_]*?)([ou])([ae]|y)([{_TONES}])(?![^\W\d_])",
    re.IGNORECASE,
)


def nfc(text: str) -> str:
    """``text`` in Unicode NFC form (composed), as stored everywhere."""
    return unicodedata.normalize("NFC", text)


def is_nfc(text: str) -> bool:
    """True when ``text`` is already NFC (nothing decomposed)."""
    return unicodedata.is_normalized("NFC", text)


def _new_style_tones(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)

    def move(m: re.Match[str]) -> str:
        head, first, second, tone = m.groups()
        return f"{head}{first}{tone}{second}"

    return unicodedata.normalize("NFC", _OLD_STYLE.sub(move, decomposed))


def match_key(text: str) -> str:
    """A key for comparing names: NFC, new-style tone placement, case-folded,
    single spaces, no surrounding spaces or punctuation.

    >>> match_key("Môi trường và An toàn thực phẩm") == match_key("môi trường và an toàn thực phẩm")
    True
    >>> match_key("Thuỷ lợi") == match_key("Thủy lợi")
    True
    """
    text = _new_style_tones(nfc(text)).casefold()
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .;:,")
