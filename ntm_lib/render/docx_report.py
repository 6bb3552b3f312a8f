"""The report as a Word document: report.html -> report.docx (python-docx).

The DOCX is written from the rendered HTML, the very file the reader sees, so
it states the same sentences in the same order. Its look comes from one
reference document, ``notebooks/layouts/reference.docx`` (styles, page size,
margins, page-number header; see :mod:`ntm_lib.render.make_reference_docx`),
which an office may replace with its own Word template: the body is removed,
every paragraph is written with one of its styles.

HTML (classes of ``report.css``) -> Word:

- ``table.doc-header`` -> a borderless 2 x 2 table ("NTM Layout Table"):
  issuing body (``NTM Issuer Parent``/``NTM Issuer``, ``*`` or a short rule)
  and number | motto (``NTM Motto``/``NTM Party Motto``, ``NTM Motto Line``
  with a rule as long as its text) and place-date (``NTM Place Date``);
- ``p.doc-title``/``p.doc-subtitle`` -> Title / Subtitle (and a short rule);
- ``h1``/``h2``/``h3``/``h4`` -> Title / Heading 1 / Heading 2 / Heading 3;
- ``p`` -> Body Text; ``li`` -> List Paragraph (``ul.documents`` items start
  with "+ ", as the report CSS draws them), List Bullet, List Number;
- ``figure.chart`` -> a picture (SVG for Word 2016+, 220 ppi PNG for the rest:
  :mod:`ntm_lib.render.docx_charts`) in ``NTM Figure``, the caption in Caption;
- ``section.appendix`` -> a new section on a new page, landscape when its
  table has more than :data:`PORTRAIT_MAX_COLUMNS` columns; its table a
  Word table ("Table Grid") whose ``rowspan``/``colspan`` cells are merged
  cells, the header row repeated on each page;
- ``div.closing-block`` -> the closing paragraph and a borderless table: "Nơi
  nhận" and its list | the signer's capacity, title, space, name.

The blanks the office fills in ("……": the document number, the day of the
date) are runs of their own, so typing over one keeps its formatting. Text is
NFC; every character must have a glyph in the report serif
(:func:`ntm_lib.fonts.report_serif`, Times New Roman or its metric twin), else
:class:`~ntm_lib.errors.GlyphMissingError` names it. The file is
deterministic (:mod:`ntm_lib.render.docx_package`).
"""
from __future__ import annotations

import io
import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from ntm_lib.errors import GlyphMissingError, RenderError
from ntm_lib.fonts import SerifFont, missing_glyphs, report_serif
from ntm_lib.safeio import atomic_write

__all__ = ["render_docx", "default_reference", "PORTRAIT_MAX_COLUMNS", "REQUIRED_STYLES"]

#: An appendix table with more columns than this gets a landscape page.
PORTRAIT_MAX_COLUMNS = 8
#: Styles the reference document must define.
REQUIRED_STYLES = (
    "Normal", "Body Text", "Heading 1", "Heading 2", "Heading 3", "Title", "Subtitle", "Caption",
    "List Paragraph", "List Bullet", "List Number", "Table Grid", "NTM Layout Table",
    "NTM Issuer Parent", "NTM Issuer", "NTM Issuer Mark", "NTM Motto", "NTM Party Motto",
    "NTM Motto Line", "NTM Rule", "NTM Number", "NTM Place Date", "NTM Figure",
    "NTM Recipients Title", "NTM Recipients", "NTM Signer", "NTM Signer Note",
    "NTM Signature Space", "NTM Signer Name", "NTM Appendix Title", "NTM Appendix Subtitle",
    "NTM Table Text", "NTM Table Heading", "NTM Note",
)
_SVG = re.compile(r"<svg\b.*?</svg\s*>", re.DOTALL | re.IGNORECASE)
_STYLE = re.compile(r"<(style|script)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_BLANK = re.compile(r"(…+|\.{4,})")
_SPACE = re.compile(r"[ \t\n\r\f]+")
_HEADINGS = {"h1": "Title", "h2": "Heading 1", "h3": "Heading 2", "h4": "Heading 3",
             "h5": "Heading 3", "h6": "Heading 3"}
_SVG_EXT = "{96DAC541-7B7A-43D3-8B79-37D633B846F1}"
_SVG_NS = "http://schemas.microsoft.com/office/drawing/2016/SVG/main"
_IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
_EMU_PER_PT = 12700


def default_reference() -> Path:
    """``notebooks/layouts/reference.docx`` of the project."""
    from ntm_lib.paths import notebooks_dir

    return notebooks_dir() / "layouts" / "reference.docx"


def _classes(tag) -> list[str]:
    return tag.get("class") or []


class _Runs:
    """Inline content of one HTML element as (text, bold, italic, underline,
    vertical, break) runs, whitespace collapsed as a browser does."""

    def __init__(self) -> None:
        self.items: list[list] = []
        self._space = True  # at the start: leading spaces dropped

    def text(self, text: str, fmt: tuple) -> None:
        text = _SPACE.sub(" ", text)
        if self._space:
            text = text.lstrip(" ")
        if not text:
            return
        self._space = text.endswith(" ")
        if self.items and self.items[-1][1] == fmt and not self.items[-1][2]:
            self.items[-1][0] += text
        else:
            self.items.append([text, fmt, False])

    def line_break(self) -> None:
        if self.items:
            self.items[-1][0] = self.items[-1][0].rstrip(" ")
        self.items.append(["", (), True])
        self._space = True

    def finish(self) -> list[list]:
        while self.items and not self.items[-1][2] and not self.items[-1][0].strip():
            self.items.pop()
        if self.items and not self.items[-1][2]:
            self.items[-1][0] = self.items[-1][0].rstrip(" ")
        return self.items


def _inline(node, runs: _Runs, fmt: tuple = (False, False, False, None)) -> None:
    from bs4 import NavigableString, Tag
    from bs4.element import Comment

    for child in node.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            runs.text(str(child), fmt)
        elif isinstance(child, Tag):
            bold, italic, under, vert = fmt
            name = child.name
            if name == "br":
                runs.line_break()
                continue
            if "nowrap" in _classes(child):  # kept on one line: no-break spaces
                runs.text(_SPACE.sub(" ", child.get_text()).strip(" ").replace(" ", "\u00a0"), fmt)
                continue
            if name in ("b", "strong", "th"):
                bold = True
            elif name in ("i", "em", "cite", "var"):
                italic = True
            elif name == "u":
                under = True
            elif name in ("sup", "sub"):
                vert = name
            _inline(child, runs, (bold, italic, under, vert))


class _Writer:
    """Walks the HTML of the report and writes the Word document."""

    def __init__(self, doc, font: SerifFont, charts: list[str]) -> None:
        from docx.shared import Emu

        self.doc = doc
        self.font = font
        self.charts = charts
        self.text: list[str] = []
        section = doc.sections[-1]
        self.text_width = Emu(section.page_width - section.left_margin - section.right_margin)
        self.in_appendix = False
        self.landscape = False

    # ------------------------------------------------------------ paragraphs
    def paragraph(self, node, style: str, *, container=None, prefix: str = "",
                  runs: list | None = None):
        """A paragraph of ``style`` holding the inline content of ``node``."""
        if runs is None:
            collected = _Runs()
            if prefix:
                collected.text(prefix, (False, False, False, None))
            _inline(node, collected)
            runs = collected.finish()
        target = container if container is not None else self.doc
        paragraph = target.add_paragraph(style=style)
        self.add_runs(paragraph, runs)
        return paragraph

    def add_runs(self, paragraph, runs: list) -> None:
        from docx.enum.text import WD_BREAK

        for text, fmt, is_break in runs:
            if is_break:
                (paragraph.runs[-1] if paragraph.runs else paragraph.add_run()).add_break(
                    WD_BREAK.LINE)
                continue
            text = unicodedata.normalize("NFC", text)
            self.text.append(text)
            bold, italic, under, vert = fmt
            for piece in _BLANK.split(text):  # blanks to fill in: runs of their own
                if not piece:
                    continue
                run = paragraph.add_run(piece)
                if bold:
                    run.bold = True
                if italic:
                    run.italic = True
                if under:
                    run.underline = True
                if vert == "sup":
                    run.font.superscript = True
                elif vert == "sub":
                    run.font.subscript = True

    def rule(self, container, width_emu: int, text_emu: int, paragraph=None) -> None:
        """An "NTM Rule" paragraph (new, or ``paragraph``) whose bottom border
        is ``text_emu`` long, centred in a block ``width_emu`` wide."""
        from docx.shared import Emu

        if paragraph is None:
            paragraph = container.add_paragraph(style="NTM Rule")
        else:
            paragraph.style = self.doc.styles["NTM Rule"]
        indent = max(0, (width_emu - text_emu) // 2)
        paragraph.paragraph_format.left_indent = Emu(indent)
        paragraph.paragraph_format.right_indent = Emu(indent)

    def text_width_emu(self, text: str, size_pt: float, bold: bool, caps: bool = False) -> int:
        """Printed width of ``text`` in the report serif (its advance widths)."""
        face = self.font.files["bold" if bold else "regular"]
        widths, cmap, units = _metrics(str(face))
        text = unicodedata.normalize("NFC", text.upper() if caps else text)
        total = sum(widths.get(cmap.get(ord(c), ""), 0) for c in text)
        return int(total / units * size_pt * _EMU_PER_PT)

    # ----------------------------------------------------------------- walk
    def block(self, node) -> None:
        from bs4 import NavigableString, Tag

        for child in node.children:
            if isinstance(child, NavigableString):
                if str(child).strip() and child.__class__.__name__ == "NavigableString":
                    self.paragraph_from_text(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            self.element(child)

    def paragraph_from_text(self, text: str) -> None:
        runs = _Runs()
        runs.text(text, (False, False, False, None))
        self.paragraph(None, "Body Text", runs=runs.finish())

    def element(self, tag) -> None:
        name, classes = tag.name, _classes(tag)
        if name in ("style", "script", "title", "head", "template"):
            return
        if name == "table" and "doc-header" in classes:
            self.header(tag)
        elif name == "table" and "signature" in classes:
            self.signature(tag)
        elif name == "table":
            self.data_table(tag)
        elif name == "section" and "appendix" in classes:
            self.appendix(tag)
        elif name == "figure":
            self.figure(tag)
        elif name in _HEADINGS:
            self.paragraph(tag, _HEADINGS[name])
        elif name == "p":
            self.p(tag)
        elif name in ("ul", "ol"):
            self.list(tag)
        elif name == "svg":
            self.picture(tag)
        elif name == "pre":
            self.paragraph(tag, "Normal")
        elif name == "div" and "appendix-title" in classes:
            self.paragraph(tag, "NTM Appendix Title")
        elif name == "div" and "appendix-subtitle" in classes:
            self.paragraph(tag, "NTM Appendix Subtitle")
        elif name == "div" and "note" in classes:
            self.paragraph(tag, "NTM Note")
        elif name in ("div", "section", "main", "article", "body", "html", "span", "header",
                      "footer", "aside", "nav", "blockquote", "details", "summary"):
            if any(getattr(c, "name", None) in _BLOCK_TAGS for c in tag.children):
                self.block(tag)
            elif tag.get_text(strip=True):
                self.paragraph(tag, "Body Text")
        elif tag.get_text(strip=True):
            self.paragraph(tag, "Body Text")

    def p(self, tag) -> None:
        classes = _classes(tag)
        if "doc-title" in classes:
            self.paragraph(tag, "Title")
        elif "doc-subtitle" in classes:
            self.paragraph(tag, "Subtitle")
            self.rule(self.doc, int(self.text_width), int(self.text_width * 0.3))
        elif "note" in classes:
            self.paragraph(tag, "NTM Note")
        else:
            self.paragraph(tag, "Body Text")

    def list(self, tag) -> None:
        classes = _classes(tag)
        for item in tag.find_all("li", recursive=False):
            if "documents" in classes:
                self.paragraph(item, "List Paragraph", prefix="+ ")
            elif "criteria-list" in classes:
                self.paragraph(item, "Body Text")
            else:
                self.paragraph(item, "List Number" if tag.name == "ol" else "List Bullet")

    # --------------------------------------------------------------- header
    def layout_table(self, rows: int, widths: list[float]):
        """A borderless table of ``len(widths)`` columns (fractions of the text width)."""
        from docx.shared import Emu

        table = self.doc.add_table(rows=rows, cols=len(widths))
        table.style = self.doc.styles["NTM Layout Table"]
        table.autofit = False
        _fixed_layout(table)
        for row in table.rows:
            for cell, fraction in zip(row.cells, widths):
                cell.width = Emu(int(self.text_width * fraction))
        for column, fraction in zip(table.columns, widths):
            column.width = Emu(int(self.text_width * fraction))
        return table

    def header(self, tag) -> None:
        """The Decree 30/2020 header grid: issuing body | motto, number | place-date."""
        party = "party" in _classes(tag)
        cells = [td for tr in tag.find_all("tr") for td in tr.find_all("td", recursive=False)]
        widths = [0.4, 0.6]
        table = self.layout_table(2, widths)
        grid = [table.cell(0, 0), table.cell(0, 1), table.cell(1, 0), table.cell(1, 1)]
        for index, (td, cell) in enumerate(zip(cells, grid)):
            width = int(self.text_width * widths[index % 2])
            first = cell.paragraphs[0]
            used = False

            def put(node, style, _cell=cell):
                nonlocal used
                if not used:
                    first.style = self.doc.styles[style]
                    collected = _Runs()
                    _inline(node, collected)
                    self.add_runs(first, collected.finish())
                    used = True
                    return first
                return self.paragraph(node, style, container=_cell)

            classes = _classes(td)
            if "doc-number" in classes:
                put(td, "NTM Number")
                continue
            if "place-date" in classes:
                put(td, "NTM Place Date")
                continue
            for div in td.find_all("div", recursive=False):
                kind = _classes(div)
                if "issuer-parent" in kind:
                    put(div, "NTM Issuer Parent")
                elif "issuer-name" in kind:
                    put(div, "NTM Issuer")
                elif "issuer-mark" in kind:
                    put(div, "NTM Issuer Mark")
                elif "issuer-rule" in kind:
                    self.rule(cell, width, int(width * 0.35), None if used else first)
                    used = True
                elif "motto-1" in kind:
                    style = "NTM Party Motto" if party else "NTM Motto"
                    put(div, style)
                    if div.find(class_="ruled") is not None:
                        size = 15 if party else 12
                        self.rule(cell, width, self.text_width_emu(div.get_text(), size, True, True))
                elif "motto-2" in kind:
                    put(div, "NTM Motto Line")
                    self.rule(cell, width, self.text_width_emu(div.get_text(), 13, True))
                else:
                    put(div, "NTM Number")
            if not used and td.get_text(strip=True):
                put(td, "NTM Number")

    # ------------------------------------------------------------ signature
    def signature(self, tag) -> None:
        table = self.layout_table(1, [0.5, 0.5])
        _cant_split(table.rows[0])
        left, right = table.cell(0, 0), table.cell(0, 1)
        for cell, td in ((left, tag.find("td", class_="recipients")),
                         (right, tag.find("td", class_="signer"))):
            first = cell.paragraphs[0]
            cell._tc.remove(first._p)
            if td is None:
                cell.add_paragraph()
                continue
            for child in td.find_all(["p", "div", "ul", "ol"], recursive=False):
                kind = _classes(child)
                if child.name in ("ul", "ol"):
                    for item in child.find_all("li", recursive=False):
                        self.paragraph(item, "NTM Recipients", container=cell)
                elif "recipients-title" in kind:
                    self.paragraph(child, "NTM Recipients Title", container=cell)
                elif "signer-space" in kind:
                    cell.add_paragraph(style="NTM Signature Space")
                elif "signer-name" in kind:
                    self.paragraph(child, "NTM Signer Name", container=cell)
                elif "signer-note" in kind:
                    self.paragraph(child, "NTM Signer Note", container=cell)
                elif cell is right:
                    self.paragraph(child, "NTM Signer", container=cell)
                else:
                    self.paragraph(child, "NTM Recipients", container=cell)
            if not cell.paragraphs:
                cell.add_paragraph()

    # ------------------------------------------------------------ appendix
    def appendix(self, tag) -> None:
        from docx.enum.section import WD_ORIENT, WD_SECTION

        columns = max((_grid_width(t) for t in tag.find_all("table")), default=0)
        landscape = columns > PORTRAIT_MAX_COLUMNS
        # Values, not the Section: python-docx keeps the body's sectPr for the newest section.
        last = self.doc.sections[-1]
        width, height, orientation = last.page_width, last.page_height, last.orientation
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        section.different_first_page_header_footer = False  # numbered like any later page
        if landscape and orientation != WD_ORIENT.LANDSCAPE:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = height, width
        self._set_width()
        self.in_appendix = True
        self.block(tag)
        self.in_appendix = False
        if landscape:  # what follows the appendix is portrait again
            after = self.doc.add_section(WD_SECTION.NEW_PAGE)
            after.orientation = orientation
            after.page_width, after.page_height = width, height
            self._set_width()

    def _set_width(self) -> None:
        from docx.shared import Emu

        section = self.doc.sections[-1]
        self.text_width = Emu(section.page_width - section.left_margin - section.right_margin)

    # --------------------------------------------------------------- tables
    def data_table(self, tag) -> None:
        """A bordered Word table; ``rowspan``/``colspan`` cells merged."""
        from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
        from docx.shared import Emu

        rows = [tr for tr in tag.find_all("tr") if tr.find_parent("table") is tag]
        if not rows:
            return
        caption = tag.find("caption", recursive=False)
        if caption is not None:
            self.paragraph(caption, "NTM Table Heading")
        placed, width = _grid(rows)
        table = self.doc.add_table(rows=len(rows), cols=width)
        table.style = self.doc.styles["Table Grid"]
        table.autofit = False
        _fixed_layout(table)
        fractions = _column_fractions(tag, width)
        for index, column in enumerate(table.columns):
            column.width = Emu(int(self.text_width * fractions[index]))
        for row in table.rows:
            for index, cell in enumerate(row.cells):
                cell.width = Emu(int(self.text_width * fractions[index]))
        centred = "appendix-table" in _classes(tag)
        for r, tr in enumerate(rows):
            header = tr.find_parent("thead") is not None or all(
                c.name == "th" for c in tr.find_all(["td", "th"], recursive=False))
            if header:
                _repeat_header(table.rows[r])
            _cant_split(table.rows[r])
            total = "total" in _classes(tr)
            for cell_tag, (row0, col0, rowspan, colspan) in placed[r]:
                cell = table.cell(row0, col0)
                if rowspan > 1 or colspan > 1:
                    cell = cell.merge(table.cell(row0 + rowspan - 1, col0 + colspan - 1))
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                style = "NTM Table Heading" if cell_tag.name == "th" else "NTM Table Text"
                paragraph = cell.paragraphs[0]
                paragraph.style = self.doc.styles[style]
                collected = _Runs()
                _inline(cell_tag, collected, (total, False, False, None))
                self.add_runs(paragraph, collected.finish())
                kind = _classes(cell_tag)
                if not centred and cell_tag.name == "td":
                    from docx.enum.text import WD_ALIGN_PARAGRAPH

                    paragraph.alignment = (WD_ALIGN_PARAGRAPH.RIGHT if "num" in kind
                                           else WD_ALIGN_PARAGRAPH.CENTER if "center" in kind
                                           else WD_ALIGN_PARAGRAPH.LEFT)
        self.doc.add_paragraph(style="Normal")  # Word needs a paragraph between two tables

    # --------------------------------------------------------------- charts
    def figure(self, tag) -> None:
        for svg in tag.find_all("svg"):
            self.picture(svg)
        for img in tag.find_all("img"):
            alt = img.get("alt")
            if alt:
                self.paragraph_from_text(alt)
        caption = tag.find("figcaption")
        if caption is not None:
            self.paragraph(caption, "Caption")

    def picture(self, svg_tag) -> None:
        from docx.opc.packuri import PackURI
        from docx.opc.part import Part
        from docx.shared import Emu
        from lxml import etree

        from .docx_charts import chart_for_word

        index = int(svg_tag.get("data-ntm-chart", "-1"))
        if not 0 <= index < len(self.charts):
            return
        chart = chart_for_word(self.charts[index], self.text_width / _EMU_PER_PT, self.font)
        paragraph = self.doc.add_paragraph(style="NTM Figure")
        run = paragraph.add_run()
        shape = run.add_picture(io.BytesIO(chart.png), width=Emu(int(chart.width_pt * _EMU_PER_PT)),
                                height=Emu(int(chart.height_pt * _EMU_PER_PT)))
        package = self.doc.part.package
        part = Part(PackURI(package.next_partname("/word/media/image%d.svg")), "image/svg+xml",
                    chart.svg, package)
        rel_id = self.doc.part.relate_to(part, _IMAGE_REL)
        blip = shape._inline.xpath(".//a:blip")[0]
        a = blip.nsmap.get("a") or "http://schemas.openxmlformats.org/drawingml/2006/main"
        ext_list = etree.SubElement(blip, f"{{{a}}}extLst")
        ext = etree.SubElement(ext_list, f"{{{a}}}ext")
        ext.set("uri", _SVG_EXT)
        svg_blip = etree.SubElement(ext, f"{{{_SVG_NS}}}svgBlip", nsmap={"asvg": _SVG_NS})
        svg_blip.set("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed",
                     rel_id)


_BLOCK_TAGS = {"p", "div", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "figure",
               "section", "pre", "svg", "main", "article", "blockquote"}


@lru_cache(maxsize=8)
def _metrics(face: str) -> tuple[dict[str, int], dict[int, str], int]:
    """(advance width per glyph name, cmap, units per em) of a font file."""
    from fontTools.ttLib import TTFont

    font = TTFont(face, lazy=True)
    return ({name: adv for name, (adv, _lsb) in font["hmtx"].metrics.items()},
            dict(font.getBestCmap()), font["head"].unitsPerEm)


def ready(font: SerifFont) -> None:
    """Import what :func:`render_docx` needs and read the serif's metrics,
    once per process (the render's child process inherits them)."""
    import bs4  # noqa: F401
    import docx  # noqa: F401
    import resvg_py  # noqa: F401

    from . import docx_package  # noqa: F401

    for style in ("regular", "bold"):
        _metrics(str(font.files[style]))


def _grid_width(table) -> int:
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    return _grid(rows)[1] if rows else 0


def _span(tag, name: str) -> int:
    try:
        return max(1, min(int(tag.get(name, 1)), 1000))
    except (TypeError, ValueError):
        return 1


def _grid(rows) -> tuple[list[list[tuple]], int]:
    """Place each cell of ``rows`` in the table grid, as HTML's table model does:
    per row, (cell, (row, column, rowspan, colspan)); and the number of columns."""
    taken: set[tuple[int, int]] = set()
    placed: list[list[tuple]] = []
    width = 0
    for r, tr in enumerate(rows):
        here = []
        c = 0
        for cell in tr.find_all(["td", "th"], recursive=False):
            while (r, c) in taken:
                c += 1
            rowspan = min(_span(cell, "rowspan"), len(rows) - r)
            colspan = _span(cell, "colspan")
            for dr in range(rowspan):
                for dc in range(colspan):
                    taken.add((r + dr, c + dc))
            here.append((cell, (r, c, rowspan, colspan)))
            c += colspan
        placed.append(here)
        width = max([width, c] + [col + 1 for row, col in taken if row == r])
    return placed, max(width, 1)


def _column_fractions(table, width: int) -> list[float]:
    """Column widths as fractions of the text width, from ``<col style="width:N%">``."""
    found: list[float] = []
    for col in table.find_all("col"):
        match = re.search(r"width\s*:\s*([0-9.]+)%", col.get("style", ""))
        span = _span(col, "span")
        found += [float(match.group(1)) / 100 if match else 0.0] * span
    found = (found + [0.0] * width)[:width]
    rest = max(0.0, 1.0 - sum(found))
    missing = [i for i, f in enumerate(found) if f == 0]
    for i in missing:
        found[i] = rest / len(missing) if rest else 1.0 / width
    total = sum(found)
    return [f / total for f in found]


def _fixed_layout(table) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    tbl_pr = table._tbl.tblPr
    tbl_pr.append(parse_xml(f'<w:tblLayout {nsdecls("w")} w:type="fixed"/>'))


def _repeat_header(row) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    row._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))


def _cant_split(row) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    row._tr.get_or_add_trPr().append(parse_xml(f'<w:cantSplit {nsdecls("w")}/>'))


def _check_reference(doc, reference: Path) -> None:
    names = {style.name for style in doc.styles}
    missing = [name for name in REQUIRED_STYLES if name not in names]
    if missing:
        raise RenderError(f"the reference document lacks the styles {', '.join(missing)}",
                          file=str(reference),
                          expected="the styles of ntm_lib/render/make_reference_docx.py")


def _docx_bytes(html: str, font: SerifFont, reference: Path, title: str, author: str) -> bytes:
    """The DOCX of ``html``; see :func:`render_docx`."""
    import docx
    from bs4 import BeautifulSoup
    from docx.oxml.ns import qn

    from .docx_package import deterministic_zip, set_core_dates

    charts: list[str] = []

    def placeholder(match: re.Match) -> str:
        charts.append(match.group(0))
        return f'<svg data-ntm-chart="{len(charts) - 1}"></svg>'

    light = _SVG.sub(placeholder, _STYLE.sub("", html))
    soup = BeautifulSoup(light, "html.parser")
    try:
        doc = docx.Document(str(reference))
    except Exception as exc:  # not a zip, not a Word document
        raise RenderError(f"cannot open the reference document: {exc}", file=str(reference)) from exc
    _check_reference(doc, reference)
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    writer = _Writer(doc, font, charts)
    root = soup.find("main") or soup.body or soup
    writer.block(root)
    text = "".join(writer.text)
    missing = missing_glyphs(text, font.regular)
    if missing:
        error = GlyphMissingError(missing, font=f"{font.family} ({font.regular.name})",
                                  where="report.docx")
        first = min(text.find(c) for c in missing if c in text)
        snippet = " ".join(text[max(first - 40, 0):first + 20].split())
        error.message += f", in the text “…{snippet}…”"
        raise error
    props = doc.core_properties
    props.title = unicodedata.normalize("NFC", title)
    props.author = unicodedata.normalize("NFC", author)
    props.language = "vi-VN"
    props.comments = ""
    set_core_dates(props)
    buffer = io.BytesIO()
    doc.save(buffer)
    return deterministic_zip(buffer.getvalue())


def render_docx(
    html_path: str | os.PathLike[str],
    docx_path: str | os.PathLike[str],
    *,
    reference: str | os.PathLike[str] | None = None,
    font: SerifFont | None = None,
    title: str = "",
    author: str = "",
) -> Path:
    """Write the Word document of a rendered report HTML (from :func:`render_html`).

    Parameters
    ----------
    html_path:
        ``report.html`` (UTF-8), the structure of ``report.css`` (module docstring).
    docx_path:
        Where to write; atomically (temporary file, then rename), folders created.
    reference:
        The reference document whose styles, page set-up and headers are used;
        default ``notebooks/layouts/reference.docx`` (:func:`default_reference`).
    font:
        The serif the glyph check and the chart pictures use;
        :func:`ntm_lib.fonts.report_serif` when omitted. The document itself
        names the reference's font (Times New Roman).
    title, author:
        Core properties of the document.

    Returns
    -------
    Path
        ``docx_path``.

    Raises
    ------
    GlyphMissingError
        A character of the text has no glyph in the serif (named, with the
        text around it).
    RenderError
        The HTML or the reference cannot be read, the reference lacks a style
        of :data:`REQUIRED_STYLES`, a chart cannot be rasterised,
        ``SOURCE_DATE_EPOCH`` is not a whole number, or the work took longer
        than :data:`ntm_lib.limits.RENDER_SECONDS` (it runs in a child
        process: :mod:`ntm_lib.render.bounded`; nothing is written then).
    """
    from .bounded import run_limited

    html_file, out = Path(html_path), Path(docx_path)
    reference_file = Path(reference) if reference else default_reference()
    font = font or report_serif()
    try:
        html = html_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RenderError(f"cannot read the HTML: {exc}", file=str(html_file)) from exc
    if not reference_file.is_file():
        raise RenderError("reference document not found", file=str(reference_file))
    data = run_limited(_docx_bytes, html, font, reference_file, title, author,
                       what=f"the Word document {out.name}", file=str(html_file))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, data, redact=False)  # drawn from the HTML, which is redacted
    return out
