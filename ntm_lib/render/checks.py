"""Inspections around a PDF render: what text will be drawn, which fonts were embedded.

:func:`document_text` feeds the glyph check made before WeasyPrint runs;
:func:`document_fonts` and :func:`foreign_fonts` the font check made after it
(:func:`pdf_fonts` reads the same from a PDF file, for tests and audits).
"""
from __future__ import annotations

import io
import os
import re
from html.parser import HTMLParser

from ntm_lib.fonts import SerifFont

__all__ = ["document_text", "document_fonts", "pdf_fonts", "foreign_fonts"]

_CSS_CONTENT = re.compile(r"content\s*:\s*(['\"])(.*?)\1", re.I | re.S)


class _TextCollector(HTMLParser):
    """Text WeasyPrint will draw: text nodes outside <head>, ``alt`` attributes
    (drawn when an image fails) and CSS ``content: "..."`` strings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0  # depth inside <script>, <title>
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "title", "template"):
            self._skip += 1
        self._style = tag == "style"
        self.parts += [v for k, v in attrs if k in ("alt",) and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "title", "template") and self._skip:
            self._skip -= 1
        if tag == "style":
            self._style = False

    def handle_data(self, data: str) -> None:
        if self._style:
            self.parts += [m.group(2) for m in _CSS_CONTENT.finditer(data)]
        elif not self._skip:
            self.parts.append(data)


def document_text(html: str) -> str:
    """All text of ``html`` that ends up drawn in the PDF (see :class:`_TextCollector`)."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return "".join(collector.parts)


def _walk_fonts(obj, seen: set[int], found: list) -> None:
    """Collect every font dictionary reachable from ``obj`` through resource
    dictionaries: the pages', and those of the forms (XObjects), patterns
    and Type 3 fonts they use. Content streams are not read."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, ArrayObject):
        for value in obj:
            _walk_fonts(value, seen, found)
        return
    if not isinstance(obj, DictionaryObject):
        return
    if obj.get("/Type") == "/Font":
        found.append(obj)
    for key in ("/Pages", "/Kids", "/Resources", "/Font", "/XObject", "/Pattern",
                "/DescendantFonts"):
        value = obj.get(key)
        if value is None:
            continue
        if key in ("/Font", "/XObject", "/Pattern"):  # name -> object dictionaries
            value = value.get_object()
            for item in value.values():
                _walk_fonts(item, seen, found)
        else:
            _walk_fonts(value, seen, found)
    if obj.get("/Subtype") == "/Type3" and "/Resources" in obj:
        _walk_fonts(obj["/Resources"], seen, found)


def _embedded_family(font_dict) -> str | None:
    """Family name (name ID 1) inside the font program embedded for ``font_dict``."""
    from fontTools.ttLib import TTFont

    descriptor = font_dict.get("/FontDescriptor")
    if descriptor is None and "/DescendantFonts" in font_dict:
        descriptor = font_dict["/DescendantFonts"][0].get_object().get("/FontDescriptor")
    if descriptor is None:
        return None
    descriptor = descriptor.get_object()
    for key in ("/FontFile2", "/FontFile3", "/FontFile"):
        if key in descriptor:
            try:
                program = TTFont(io.BytesIO(descriptor[key].get_object().get_data()), lazy=True)
                return program["name"].getDebugName(1)
            except Exception:
                return None
    return None


def pdf_fonts(pdf: str | os.PathLike[str] | bytes) -> dict[str, str | None]:
    """Every font of a PDF: BaseFont name (subset prefix ``ABCDEF+`` removed) to
    the family named inside the embedded font program (None when not embedded
    or unreadable)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    found: list = []
    _walk_fonts(reader.trailer["/Root"], set(), found)
    fonts = {}
    for font_dict in found:
        base = str(font_dict.get("/BaseFont", f"{font_dict.get('/Subtype', '?')} font"))
        name = _base_font_name(base)
        family = _embedded_family(font_dict)
        if fonts.get(name) is None:  # a Type0 font and its descendant share the name
            fonts[name] = family
    return fonts


def _base_font_name(name: str) -> str:
    """A PDF font name without its leading ``/`` and subset tag (``ABCDEF+``)."""
    return re.sub(r"^[A-Z]{6}\+", "", name.lstrip("/"))


def document_fonts(document) -> dict[str, str | None]:
    """Every font a rendered WeasyPrint ``document`` drew with (after
    ``write_pdf``: the fonts the PDF embeds, subset): PDF font name (without
    the subset prefix) to the family named inside the font program, as
    :func:`pdf_fonts` reads it back from the PDF, without parsing the PDF."""
    from fontTools.ttLib import TTFont

    fonts: dict[str, str | None] = {}
    for font in document.fonts.values():
        name = _base_font_name(font.name.decode("latin-1"))
        try:
            family = TTFont(io.BytesIO(font.file_content), lazy=True,
                            fontNumber=font.index)["name"].getDebugName(1)
        except Exception:  # noqa: BLE001 - unreadable: reported as foreign
            family = None
        if fonts.get(name) is None:
            fonts[name] = family
    return fonts


def foreign_fonts(fonts: dict[str, str | None], font: SerifFont) -> set[str]:
    """Fonts of the PDF whose embedded program is not ``font``'s family."""
    from fontTools.ttLib import TTFont

    expected = {TTFont(str(p), lazy=True)["name"].getDebugName(1) for p in font.files.values()}
    return {f"{name} ({family or 'not embedded'})" for name, family in fonts.items()
            if family not in expected}
