"""The serif font of the report: Times New Roman when installed, else Liberation Serif.

Decree 30/2020/NĐ-CP, Annex I, requires "phông chữ tiếng Việt Times New Roman"
(Unicode, TCVN 6909:2001) for administrative documents. Times New Roman is not
free, so this package vendors **Liberation Serif 2.1.5** (SIL Open Font
License 1.1, see ``LICENSE-LiberationSerif.txt``): metric-compatible with
Times New Roman (same advance widths, so the same line breaks and page
breaks) and covering every Vietnamese letter.

The choice is made once per process by :func:`report_serif` and shared by the
PDF renderer (``@font-face`` rules) and the charts
(:func:`register_with_matplotlib`). ``NTM_SERIF=bundled`` forces the vendored
font, for byte-identical PDFs across machines; ``NTM_SERIF=system`` requires
the installed Times New Roman.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ntm_lib.errors import RenderError

__all__ = ["SerifFont", "STYLES", "report_serif", "missing_glyphs", "register_with_matplotlib"]

#: The four faces every report font must provide.
STYLES = ("regular", "bold", "italic", "bold-italic")

SYSTEM_FAMILY = "Times New Roman"
BUNDLED_FAMILY = "Liberation Serif"
_BUNDLED_DIR = Path(__file__).resolve().parent
_BUNDLED_FILES = {
    "regular": "LiberationSerif-Regular.ttf",
    "bold": "LiberationSerif-Bold.ttf",
    "italic": "LiberationSerif-Italic.ttf",
    "bold-italic": "LiberationSerif-BoldItalic.ttf",
}
# Every letter of the Vietnamese alphabet with its tones, both cases: a system
# font lacking one of them (old "core fonts" builds) is not used.
VIETNAMESE_LETTERS = unicodedata.normalize(
    "NFC",
    "ĂÂĐÊÔƠƯăâđêôơư"
    "ÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ"
    "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ",
)
# Name-table subfamily (name ID 2) of each style.
_SUBFAMILY = {"regular": "regular", "book": "regular", "bold": "bold", "italic": "italic", "bold italic": "bold-italic"}
_FONT_DIRS = (
    "/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts",
    "/Library/Fonts", "/System/Library/Fonts", "~/Library/Fonts", "C:/Windows/Fonts",
)
_REGISTERED: set[str] = set()
_FAMILY_NAMES: dict[str, str] = {}


@dataclass(frozen=True)
class SerifFont:
    """A serif family with its four faces.

    Attributes
    ----------
    family:
        The family name as CSS and matplotlib know it ("Times New Roman" or
        "Liberation Serif").
    files:
        Style ("regular", "bold", "italic", "bold-italic") to TrueType file.
    source:
        ``"system"`` (installed Times New Roman) or ``"bundled"`` (vendored
        Liberation Serif).
    """

    family: str
    files: dict[str, Path] = field(hash=False)
    source: str

    @property
    def regular(self) -> Path:
        """The regular face, the file glyph coverage is checked against."""
        return self.files["regular"]


def bundled_serif() -> SerifFont:
    """The vendored Liberation Serif 2.1.5 (always available)."""
    return SerifFont(
        BUNDLED_FAMILY,
        {style: _BUNDLED_DIR / name for style, name in _BUNDLED_FILES.items()},
        "bundled",
    )


def _read_names(path: Path) -> tuple[str, str] | None:
    """(family, subfamily) from a font's name table, or None when unreadable."""
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(str(path), lazy=True, fontNumber=0)
        names = font["name"]
        family = names.getDebugName(16) or names.getDebugName(1)
        sub = names.getDebugName(17) or names.getDebugName(2)
    except Exception:  # a broken or non-TrueType file: not our font
        return None
    return (family or "", sub or "")


def _faces_from(paths: list[Path], family: str) -> dict[str, Path]:
    """The four styles of ``family`` among ``paths``, judged by each file's own name table.

    Reading the name table is what keeps fontconfig substitutes (DejaVu Serif
    answering for "Times New Roman") out.
    """
    faces: dict[str, Path] = {}
    for path in sorted(paths):
        names = _read_names(path)
        if not names or names[0].casefold() != family.casefold():
            continue
        style = _SUBFAMILY.get(names[1].casefold())
        if style and style not in faces:
            faces[style] = path
    return faces


def _fontconfig_candidates(family: str) -> list[Path]:
    """Files fontconfig lists for exactly ``family`` (``fc-list`` never substitutes)."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return []
    try:
        out = subprocess.run(
            [fc_list, f":family={family}", "file"],
            capture_output=True, text=True, timeout=20, check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [Path(line.strip().rstrip(":")) for line in out.splitlines() if line.strip()]


def _folder_candidates() -> list[Path]:
    """TrueType files named like Times New Roman in the usual font folders."""
    found = []
    for folder in _FONT_DIRS:
        root = Path(os.path.expanduser(folder))
        if root.is_dir():
            found += [p for p in root.rglob("*") if p.suffix.lower() == ".ttf"
                      and p.name.lower().startswith("times")]
    return found


def _system_times() -> SerifFont | None:
    """Installed Times New Roman with four faces covering Vietnamese, else None."""
    candidates = _fontconfig_candidates(SYSTEM_FAMILY) or _folder_candidates()
    faces = _faces_from(candidates, SYSTEM_FAMILY)
    if set(faces) != set(STYLES):
        return None
    if any(missing_glyphs(VIETNAMESE_LETTERS, path) for path in faces.values()):
        return None
    return SerifFont(SYSTEM_FAMILY, faces, "system")


@lru_cache(maxsize=1)
def report_serif() -> SerifFont:
    """The serif font of every report, chosen once per process.

    Times New Roman when all four faces are installed and cover Vietnamese
    (Decree 30/2020/NĐ-CP, Annex I), else the bundled Liberation Serif. The
    environment variable ``NTM_SERIF`` overrides: ``bundled`` always uses
    Liberation Serif, ``system`` requires Times New Roman.

    Raises
    ------
    RenderError
        ``NTM_SERIF=system`` and no usable Times New Roman is installed, or
        ``NTM_SERIF`` holds another value.
    """
    choice = os.environ.get("NTM_SERIF", "").strip().lower()
    if choice not in ("", "auto", "system", "bundled"):
        raise RenderError(
            "unknown font choice", expected="auto, system or bundled", found=choice,
            column="NTM_SERIF",
        )
    if choice == "bundled":
        return bundled_serif()
    system = _system_times()
    if system is not None:
        return system
    if choice == "system":
        raise RenderError(
            "NTM_SERIF=system but Times New Roman (regular, bold, italic, bold italic, "
            "with Vietnamese letters) is not installed"
        )
    return bundled_serif()


@lru_cache(maxsize=16)
def _cmap(font_file: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    try:
        return frozenset(TTFont(font_file, lazy=True, fontNumber=0).getBestCmap())
    except Exception as exc:
        raise RenderError(f"cannot read font: {exc}", file=font_file) from exc


def missing_glyphs(text: str, font_file: str | Path) -> set[str]:
    """Characters of ``text`` that ``font_file`` has no glyph for.

    Whitespace and control/format characters (categories Cc, Cf, Zl, Zp,
    e.g. soft hyphen, zero-width joiner) are ignored: they draw nothing.

    Parameters
    ----------
    text:
        Any text; NFD combining marks count as characters of their own.
    font_file:
        A TrueType/OpenType file, read with fontTools (its best cmap).

    Returns
    -------
    set of str
        Empty when every visible character is in the font.

    Raises
    ------
    RenderError
        The font file cannot be read.

    Examples
    --------
    >>> sorted(missing_glyphs("Nậm Mòn \\u2603", bundled_serif().regular))
    ['☃']
    """
    cmap = _cmap(str(font_file))
    return {
        ch for ch in set(text)
        if not ch.isspace()
        and unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
        and ord(ch) not in cmap
    }


def register_with_matplotlib(font: SerifFont | None = None) -> str:
    """Add the report font's four faces to matplotlib and return its family name.

    Use the result as ``rcParams["font.family"]`` (or ``font.serif``) so that
    charts use the same face as the text around them.

    Parameters
    ----------
    font:
        The font to register; :func:`report_serif` when omitted.

    Returns
    -------
    str
        The family name matplotlib knows the font by.
    """
    from matplotlib import font_manager

    font = font or report_serif()
    for path in font.files.values():
        if str(path) not in _REGISTERED:
            font_manager.fontManager.addfont(str(path))
            _REGISTERED.add(str(path))
    regular = str(font.regular)
    if regular not in _FAMILY_NAMES:  # reading the name parses the file: once per process
        _FAMILY_NAMES[regular] = font_manager.FontProperties(fname=regular).get_name()
    return _FAMILY_NAMES[regular]

