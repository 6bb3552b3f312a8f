"""Embed the report font in the HTML, subset to the characters it uses.

Without it, a browser draws the report with whatever its system calls
"Times New Roman" or "Liberation Serif": on a machine whose Liberation Serif
is the old 1.x (no Vietnamese letters) every "ế", "ộ", "ư" falls back to
another font, mid-word. Embedding the four faces of
:func:`ntm_lib.fonts.report_serif` as WOFF ``data:`` URIs (subset with
fontTools: about 30 KB a face) makes the HTML look the same everywhere and
stay self-contained. Timestamps are not recalculated, so the same text gives
the same bytes.

Every subset holds a fixed repertoire (:data:`REPERTOIRE`: printable ASCII,
all Vietnamese letters, common typographic marks) plus any other character
the text uses. Reports of different communes therefore usually share one
subset, made once (a subset costs about 0.4 s of CPU) and kept, in the
process and in the cache folder (:func:`cache_dir`), and a reader's small
edit in the browser still renders.
"""
from __future__ import annotations

import base64
import html as html_lib
import io
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from ..paths import cache_dir
from ..errors import DiskFullError, UnsafePathError
from ..fonts import SerifFont, report_serif
from ..safeio import atomic_write, sha256_bytes

#: The family name the report CSS lists first (see report.css).
EMBEDDED_FAMILY = "NTM Report Serif"
_FACES = {"regular": ("normal", "normal"), "bold": ("bold", "normal"),
          "italic": ("normal", "italic"), "bold-italic": ("bold", "italic")}
_TAG = re.compile(r"<[^>]+>")
_STYLE = re.compile(r"<style\b.*?</style>", re.DOTALL | re.IGNORECASE)
_TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # ngang, huyền, hỏi, ngã, sắc, nặng
_VOWELS = "aăâeêioôơuưy"


def _vietnamese_letters() -> str:
    """The 134 Vietnamese letters beyond ASCII, composed (NFC): 12 vowels x 6
    tones in both cases, and đ/Đ."""
    letters = {unicodedata.normalize("NFC", v + t) for v in _VOWELS + _VOWELS.upper() for t in _TONES}
    return "".join(sorted(letters | {"đ", "Đ"}))


#: Characters every embedded subset holds, whatever the text.
REPERTOIRE = ("".join(chr(c) for c in range(0x20, 0x7F)) + _vietnamese_letters()
              + "\u00a0–—‘’“”…•·°±×÷≤≥≠№‰«»")


def text_of(html: str) -> str:
    """Every character a reader can see: text nodes (SVG text included) and
    ``alt``/``title`` attributes, entities decoded."""
    body = _STYLE.sub(" ", html)
    attrs = " ".join(re.findall(r'\s(?:alt|title)="([^"]*)"', body))
    return html_lib.unescape(_TAG.sub(" ", body) + " " + attrs)


#: Bump when the subsetting options change, so cached subsets are made again.
_SUBSET_RECIPE = b"woff-all-features-all-names-notdef-outline-1"


@lru_cache(maxsize=16)
def _subset_woff(path: str, characters: str) -> bytes:
    """The WOFF subset of the font at ``path``, made once per set of
    characters: from this process's memory, from the cache folder (the same
    bytes: subsetting is deterministic), or made now (about 0.1 s a face)
    and cached."""
    import fontTools

    key = sha256_bytes(b"\0".join([
        Path(path).read_bytes(), characters.encode("utf-8"),
        fontTools.version.encode("ascii"), _SUBSET_RECIPE]))
    cached = cache_dir() / "fonts" / f"{key}.woff"
    try:
        return cached.read_bytes()
    except OSError:
        pass
    data = _make_subset(path, characters)
    try:  # a cache: when it cannot be written, the subset is simply made again next time
        cached.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(cached, data, redact=False)
    except (OSError, DiskFullError, UnsafePathError):
        pass
    return data


def _make_subset(path: str, characters: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]
    font = TTFont(path, recalcTimestamp=False, lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = "woff"
    font.save(buffer, reorderTables=False)
    return buffer.getvalue()


def font_face_css(characters: str, font: SerifFont | None = None) -> str:
    """``@font-face`` rules for the four faces, subset to :data:`REPERTOIRE`
    and ``characters``."""
    font = font or report_serif()
    wanted = "".join(sorted(set(characters + REPERTOIRE) - set("\n\r\t")))
    rules = []
    for style, path in font.files.items():
        weight, slant = _FACES[style]
        data = base64.b64encode(_subset_woff(str(path), wanted)).decode("ascii")
        rules.append(
            f'@font-face {{ font-family: "{EMBEDDED_FAMILY}"; font-weight: {weight}; '
            f"font-style: {slant}; src: url(data:font/woff;base64,{data}) format(\"woff\"); }}"
        )
    return "\n".join(rules)


def embed_fonts(html: str, font: SerifFont | None = None) -> str:
    """``html`` with a ``<style>`` of embedded font faces before ``</head>``."""
    css = font_face_css(text_of(html), font)
    return html.replace("</head>", f'<style id="ntm-fonts">\n{css}\n</style>\n</head>', 1)
