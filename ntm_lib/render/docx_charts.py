"""Charts of the report for Word: the SVG itself and a 220 ppi PNG of it.

Word 2016 and later draw an SVG picture (the ``asvg:svgBlip`` extension of
[MS-ODRAWXML] 2.26.1.1) as vectors, sharp at any print resolution; every
other reader (LibreOffice 7, older Word) draws the PNG each picture must also
carry. The PNG is rasterised by resvg (``resvg-py``, a Rust renderer shipped as
a wheel: no system library, nothing fetched) at :data:`PNG_DPI` dots per inch
of the size the chart is printed at, with the report serif loaded from its
files only (system fonts are skipped: the same pixels on every machine).

The SVG given to Word names "Times New Roman" first, the font Word has; the
chart's own names ("NTM Report Serif", the embedded copy of the HTML) mean
nothing outside the HTML page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ntm_lib.errors import RenderError
from ntm_lib.fonts import SerifFont

__all__ = ["PNG_DPI", "Chart", "chart_for_word", "without_idle_clips"]

#: Resolution of the PNG every picture carries, at its printed size: Word's
#: own default picture resolution (Word 2016 and later, File > Options >
#: Advanced > Image Size and Quality > Default resolution: "220 ppi", to
#: which Word compresses pictures when it saves a document). A finer PNG
#: costs more to make and is not kept once the office saves the file.
PNG_DPI = 220
_LENGTH = re.compile(r"^\s*([0-9.]+)\s*(pt|px|mm|cm|in)?\s*$")
_TO_PT = {"pt": 1.0, None: 0.75, "px": 0.75, "mm": 72 / 25.4, "cm": 72 / 2.54, "in": 72.0}
_FAMILY = re.compile(r"(font-family\s*:\s*)([^;\"}]+)")
_CLIP_RECT = re.compile(
    r'<clipPath id="([^"]+)">\s*<rect x="([-0-9.e]+)" y="([-0-9.e]+)" '
    r'width="([0-9.e]+)" height="([0-9.e]+)"\s*/>\s*</clipPath>')
_CLIPPED_PATH = re.compile(r'<path d="([^"]*)" clip-path="url\(#([^)"]+)\)"( style="[^"]*")?')
_LINES_ONLY = re.compile(r"^[\sMLZz0-9.eE+-]*$")
_NUMBER = re.compile(r"[-+]?(?:[0-9]*\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?")


@dataclass(frozen=True)
class Chart:
    """One chart ready for Word: ``svg`` (UTF-8 document), ``png`` (bytes),
    ``width_pt``/``height_pt`` the printed size in points."""

    svg: bytes
    png: bytes
    width_pt: float
    height_pt: float


def _points(value: str | None) -> float | None:
    match = _LENGTH.match(value or "")
    return float(match.group(1)) * _TO_PT[match.group(2)] if match else None


def without_idle_clips(svg: str) -> str:
    """``svg`` without the clip paths that clip nothing: a filled, unstroked
    ``<path>`` made only of absolute straight lines (``M``/``L``/``Z``, as
    matplotlib writes bars and areas) whose points all lie inside the
    rectangle of its ``<clipPath>`` draws the same pixels without it.

    matplotlib clips every artist to its axes; resvg draws each clip as a
    mask over the whole picture, which makes a bar chart several times
    slower to rasterise. Anything else (strokes, curves, transforms, clips
    that are not one rectangle, points outside) keeps its clip.
    """
    rects = {m.group(1): tuple(float(v) for v in m.groups()[1:]) for m in _CLIP_RECT.finditer(svg)}

    def prune(match: re.Match) -> str:
        data, clip, style = match.group(1), match.group(2), match.group(3) or ""
        rect = rects.get(clip)
        if rect is None or not _LINES_ONLY.match(data) or "stroke" in style:
            return match.group(0)
        x, y, w, h = rect
        values = [float(v) for v in _NUMBER.findall(data)]
        xs, ys = values[0::2], values[1::2]
        if (not values or len(values) % 2 or min(xs) < x or max(xs) > x + w
                or min(ys) < y or max(ys) > y + h):
            return match.group(0)
        return f'<path d="{data}"{style}'

    return _CLIPPED_PATH.sub(prune, svg)


def chart_for_word(fragment: str, max_width_pt: float, font: SerifFont,
                   dpi: float = PNG_DPI) -> Chart:
    """The chart of one inline ``<svg>`` element of the report HTML.

    Parameters
    ----------
    fragment:
        ``<svg ...>...</svg>`` as the HTML holds it.
    max_width_pt:
        Width of the text block: a wider chart is scaled down to it (as the
        report CSS does, ``max-width: 100%``), keeping its proportions.
    font:
        The report serif; its four faces are the only fonts resvg sees.
    dpi:
        Resolution of the PNG at the printed size (:data:`PNG_DPI`).

    Raises
    ------
    RenderError
        The SVG is not well-formed, has no width and height, or resvg fails.
    """
    import xml.etree.ElementTree as ET

    import resvg_py

    from .svg_images import standalone_svg

    document = standalone_svg(fragment)
    if document is None:
        raise RenderError("a chart of the HTML is not well-formed SVG", file="report.docx")
    root = ET.fromstring(document)
    width, height = _points(root.get("width")), _points(root.get("height"))
    if not width or not height:
        raise RenderError("a chart has no width and height", expected="lengths such as 432pt",
                          found=f"{root.get('width')} x {root.get('height')}")
    scale = min(1.0, max_width_pt / width)
    width_pt, height_pt = width * scale, height * scale
    text = document.decode("utf-8")
    # resvg sizes the picture by ``dpi`` (its ``width``/``zoom`` options refuse
    # point-sized SVGs): the chart's points times ``dpi``/72 pixels.
    word_svg = _FAMILY.sub(lambda m: m.group(1) + "'Times New Roman', " + m.group(2), text)
    try:
        png = bytes(resvg_py.svg_to_bytes(
            svg_string=without_idle_clips(text), dpi=dpi * scale, skip_system_fonts=True,
            font_files=[str(p) for p in font.files.values()], serif_family=font.family,
            font_family=font.family, background="#ffffff"))
    except ValueError as exc:
        raise RenderError(f"cannot rasterise a chart: {exc}", file="report.docx") from exc
    return Chart(word_svg.encode("utf-8"), png, width_pt, height_pt)
