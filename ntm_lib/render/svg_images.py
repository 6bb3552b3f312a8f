"""Inline SVG charts as ``<img>`` data URIs, for the PDF renderer only.

WeasyPrint computes CSS styles for every element of the HTML tree, the
hundreds of ``<g>``, ``<path>`` and ``<text>`` elements of an inline chart
included, and then styles them again in its own SVG renderer. Handing it the
same SVG as an image (``<img src="data:image/svg+xml;base64,...">``) skips
the first, wasted, pass: on the sample report the PDF takes about a third
less time and looks the same, pixel for pixel (the chart is drawn by the
same SVG renderer, with the same font configuration, at the same size: the
report CSS sizes ``img`` and ``svg`` alike).

The browser keeps the inline SVG of the HTML file: there, chart text uses the
font embedded in the page, which an SVG image could not.

An HTML serialiser may have lowered the case of SVG names (nbconvert's does:
``viewBox`` becomes ``viewbox``, ``clipPath`` ``clippath``); an HTML parser
restores them, an XML one does not. They are restored here with the tables
of the HTML standard ("adjust SVG attributes", "adjust SVG tag names"), the
``<metadata>`` block (RDF, never drawn) is dropped, and the result must parse
as XML with an ``<svg>`` root; an element that does not is left inline,
which draws the same, only slower. Groups that hold nothing but an unused
``id`` are dissolved (see :func:`standalone_svg`).
"""
from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from functools import lru_cache

__all__ = ["svg_as_images"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_INLINE_SVG = re.compile(r"<svg\b.*?</svg\s*>", re.DOTALL | re.IGNORECASE)
_REFERENCE = re.compile(r"""(?:href\s*=\s*["']\s*#|url\(\s*["']?#)([^"')\s]+)""")
_METADATA = re.compile(r"<metadata\b.*?</metadata\s*>", re.DOTALL | re.IGNORECASE)

#: HTML standard, 13.2.6.5 "adjust SVG tag names".
SVG_TAG_NAMES = {name.lower(): name for name in (
    "altGlyph", "altGlyphDef", "altGlyphItem", "animateColor", "animateMotion",
    "animateTransform", "clipPath", "feBlend", "feColorMatrix", "feComponentTransfer",
    "feComposite", "feConvolveMatrix", "feDiffuseLighting", "feDisplacementMap",
    "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR",
    "feGaussianBlur", "feImage", "feMerge", "feMergeNode", "feMorphology", "feOffset",
    "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
    "foreignObject", "glyphRef", "linearGradient", "radialGradient", "textPath",
)}


@lru_cache(maxsize=1)
def _attribute_names() -> tuple[dict[str, str], re.Pattern[str]]:
    """HTML standard, 13.2.6.5 "adjust SVG attributes" (the table tinyhtml5,
    WeasyPrint's HTML parser, applies), and a pattern finding them."""
    from tinyhtml5.constants import adjust_svg_attributes

    names = dict(adjust_svg_attributes)
    return names, re.compile(r"(?<=\s)(" + "|".join(map(re.escape, names)) + r")(?=\s*=)",
                             re.IGNORECASE)


_TAG = re.compile(r"(</?)(" + "|".join(SVG_TAG_NAMES) + r")(?=[\s/>])", re.IGNORECASE)


def _restore_case(fragment: str) -> str:
    names, attribute = _attribute_names()
    fragment = _TAG.sub(lambda m: m.group(1) + SVG_TAG_NAMES[m.group(2).lower()], fragment)
    return attribute.sub(lambda m: names[m.group(1).lower()], fragment)


@lru_cache(maxsize=16)
def standalone_svg(fragment: str) -> bytes | None:
    """``fragment`` (one ``<svg>...</svg>`` element of an HTML document) as a
    UTF-8 SVG document, or None when it is not well-formed SVG XML. The last
    few results are kept: the PDF and the Word document of a report ask for
    the same charts, one after the other in a batch worker's render child.

    Groups that only carry an ``id`` nobody refers to (matplotlib wraps
    every tick, label and patch in one) are dissolved into their parent: they
    change nothing drawn, and each costs the PDF renderer a cascade and a
    graphics state (about a tenth of the PDF's time on the sample report).
    """
    document = _restore_case(_METADATA.sub("", fragment)).encode("utf-8")
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        return None
    if root.tag != f"{{{SVG_NS}}}svg":
        return None
    styles = " ".join(el.text or "" for el in root.iter(f"{{{SVG_NS}}}style"))
    if "#" in styles:  # a selector may name a group's id: leave the drawing as it is
        return document
    referenced = set(_REFERENCE.findall(document.decode("utf-8")))
    _dissolve_groups(root, referenced)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="utf-8")


def _dissolve_groups(element: ET.Element, referenced: set[str]) -> None:
    children: list[ET.Element] = []
    for child in element:
        _dissolve_groups(child, referenced)
        if (child.tag == f"{{{SVG_NS}}}g" and set(child.attrib) <= {"id"}
                and child.get("id") not in referenced and not (child.text or "").strip()):
            children.extend(child)
        else:
            children.append(child)
    element[:] = children


def _replacement(match: re.Match[str]) -> str:
    document = standalone_svg(match.group(0))
    if document is None:
        return match.group(0)
    data = base64.b64encode(document).decode("ascii")
    return f'<img class="svg-chart" src="data:image/svg+xml;base64,{data}" alt="">'


def svg_as_images(html: str) -> str:
    """``html`` with each inline ``<svg>`` element replaced by an ``<img>``
    holding the same SVG as a ``data:`` URI (see the module docstring)."""
    if "<svg" not in html.lower():
        return html
    return _INLINE_SVG.sub(_replacement, html)
