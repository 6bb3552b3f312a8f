"""Generate ``notebooks/layouts/reference.docx``, the Word styles of ``report.docx``.

Run ``python -m ntm_lib.render.make_reference_docx [OUT]`` (default
``notebooks/layouts/reference.docx``); the result is byte-identical from run to
run for the same python-docx version (fixed zip dates, no creation date).

The reference document is the one place the DOCX's look is defined, as in
pandoc's or Quarto's ``reference-doc``: :func:`ntm_lib.render.docx_report.render_docx`
opens it, removes its body and writes the report with its styles, page set-up
(section margins, size, headers) and page-number header. An office may replace
the file with its own template saved from Word, as long as it keeps the style
names listed in :data:`STYLES` (Word's built-in names, plus the ``NTM ...``
ones); the renderer refuses a reference lacking one, naming it.

Layout rules (Decree 30/2020/NĐ-CP, Annex I, as in ``report.css``): A4
portrait; margins top and bottom 20 mm, left 30 mm, right 15 mm; Times New
Roman 13 pt; first-line indent 1 cm, paragraph spacing 6 pt; page numbers
centred in the top margin from page 2 (a PAGE field in the default header, an
empty first-page header); Quốc hiệu 12 pt bold capitals, Tiêu ngữ 13 pt bold;
issuing body 12 pt bold capitals; place and date 13 pt italic; document type
14 pt bold capitals; "Nơi nhận:" 12 pt bold italic, its list 11 pt; signer 13
pt bold capitals.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

__all__ = ["STYLES", "TABLE_STYLES", "build_reference", "main"]

FONT = "Times New Roman"
#: Paragraph styles the renderer uses: name -> (based on, properties).
#: Properties: size (pt), bold, italic, caps, align (left/center/right/justify),
#: indent_first (cm), indent_left (cm), hanging (cm), before/after (pt),
#: line (multiple), keep_next, border_bottom.
STYLES: dict[str, tuple[str | None, dict]] = {
    "Normal": (None, dict(size=13, before=0, after=0, line=1.0)),
    "Body Text": ("Normal", dict(align="justify", indent_first=1.0, after=6, line=1.1)),
    "Heading 1": ("Normal", dict(size=13, bold=True, before=12, after=6, keep_next=True,
                                 align="justify")),
    "Heading 2": ("Normal", dict(size=13, bold=True, before=6, after=6, keep_next=True,
                                 align="justify")),
    "Heading 3": ("Normal", dict(size=13, bold=True, italic=True, before=6, after=6,
                                 keep_next=True, align="justify")),
    "Title": ("Normal", dict(size=14, bold=True, caps=True, align="center", before=12, after=0,
                             keep_next=True)),
    "Subtitle": ("Normal", dict(size=14, bold=True, align="center", before=0, after=0,
                                keep_next=True)),
    "Caption": ("Normal", dict(size=12, italic=True, bold=False, align="center", before=3,
                               after=9)),
    "List Paragraph": ("Normal", dict(align="justify", indent_left=1.5, hanging=0.5, after=3,
                                      line=1.1)),
    "List Bullet": ("Normal", dict(align="justify", after=3, line=1.1)),
    "List Number": ("Normal", dict(align="justify", after=3, line=1.1)),
    "Header": ("Normal", dict(size=13, align="center")),
    "Footer": ("Normal", dict(size=13, align="center")),
    "NTM Issuer Parent": ("Normal", dict(size=12, caps=True, align="center")),
    "NTM Issuer": ("Normal", dict(size=12, bold=True, caps=True, align="center")),
    "NTM Issuer Mark": ("Normal", dict(size=13, bold=True, align="center")),
    "NTM Motto": ("Normal", dict(size=12, bold=True, caps=True, align="center")),
    "NTM Party Motto": ("Normal", dict(size=15, bold=True, caps=True, align="center")),
    "NTM Motto Line": ("Normal", dict(size=13, bold=True, align="center")),
    "NTM Rule": ("Normal", dict(size=2, align="center", border_bottom=True)),
    "NTM Number": ("Normal", dict(size=13, align="center", before=6)),
    "NTM Place Date": ("Normal", dict(size=13, italic=True, align="center", before=6)),
    "NTM Figure": ("Normal", dict(align="center", before=9, keep_next=True)),
    "NTM Recipients Title": ("Normal", dict(size=12, bold=True, italic=True)),
    "NTM Recipients": ("Normal", dict(size=11)),
    "NTM Signer": ("Normal", dict(size=13, bold=True, caps=True, align="center")),
    "NTM Signer Note": ("Normal", dict(size=13, italic=True, align="center")),
    "NTM Signature Space": ("Normal", dict(size=13, after=68)),
    "NTM Signer Name": ("Normal", dict(size=13, bold=True, align="center")),
    "NTM Appendix Title": ("Normal", dict(size=13, bold=True, align="center", after=2)),
    "NTM Appendix Subtitle": ("Normal", dict(size=13, italic=True, align="center", after=8)),
    "NTM Table Text": ("Normal", dict(size=12, align="center")),
    "NTM Table Heading": ("Normal", dict(size=12, bold=True, align="center", keep_next=True)),
    "NTM Note": ("Normal", dict(size=11, align="justify", after=3)),
}
#: Table styles: "Table Grid" (bordered data tables) and "NTM Layout Table"
#: (the header and signature grids: no borders, no cell margins).
TABLE_STYLES = ("Table Grid", "NTM Layout Table")
_KEEP_STYLE_IDS = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "TableGrid",
                   "Header", "Footer", "Heading1", "Heading2", "Heading3", "Title", "Subtitle",
                   "ListParagraph", "BodyText", "ListBullet", "ListNumber", "Caption", "Strong",
                   "Emphasis"}
_DROP_MEMBERS = ("docProps/thumbnail.jpeg", "word/stylesWithEffects.xml", "customXml/item1.xml",
                 "customXml/itemProps1.xml", "customXml/_rels/item1.xml.rels")
_ALIGN = {"left": "left", "center": "center", "right": "right", "justify": "both"}


def _set_fonts(rpr) -> None:
    """Times New Roman for every script slot, no theme font (Word would
    otherwise take the theme's Calibri/Cambria)."""
    from docx.oxml.ns import qn

    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{slot}"), FONT)


def _style_rpr(style):
    return style.element.get_or_add_rPr()


def _apply(style, props: dict) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    font = style.font
    rpr = _style_rpr(style)
    _set_fonts(rpr)
    for name in ("w:color", "w:sz", "w:szCs", "w:spacing", "w:kern"):
        for child in rpr.findall(qn(name)):
            rpr.remove(child)
    ppr = style.element.get_or_add_pPr()
    drop = ["w:pBdr"] + ([] if style.name.startswith("List ") else ["w:numPr"])
    for name in drop:
        for child in ppr.findall(qn(name)):
            ppr.remove(child)
    for child in style.element.findall(qn("w:link")):  # linked "... Char" styles use theme fonts
        style.element.remove(child)
    font.color.rgb = RGBColor(0, 0, 0)
    if "size" in props:
        font.size = Pt(props["size"])
    font.bold = props.get("bold", False)
    font.italic = props.get("italic", False)
    font.all_caps = props.get("caps", False)
    fmt = style.paragraph_format
    if "align" in props:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        fmt.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
                         "right": WD_ALIGN_PARAGRAPH.RIGHT,
                         "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}[props["align"]]
    if "indent_first" in props:
        fmt.first_line_indent = Cm(props["indent_first"])
    if "indent_left" in props:
        fmt.left_indent = Cm(props["indent_left"])
    if "hanging" in props:
        fmt.first_line_indent = -Cm(props["hanging"])
    if "before" in props:
        fmt.space_before = Pt(props["before"])
    if "after" in props:
        fmt.space_after = Pt(props["after"])
    if "line" in props:
        fmt.line_spacing_rule = WD_LINE_SPACING.MULTIPLE
        fmt.line_spacing = props["line"]
    fmt.keep_with_next = props.get("keep_next", False)
    fmt.widow_control = True
    if props.get("border_bottom"):
        ppr = style.element.get_or_add_pPr()
        borders = ppr.makeelement(qn("w:pBdr"), {})
        bottom = borders.makeelement(qn("w:bottom"), {qn("w:val"): "single", qn("w:sz"): "6",
                                                      qn("w:space"): "1", qn("w:color"): "000000"})
        borders.append(bottom)
        # CT_PPr's schema order: pBdr comes after keepNext/keepLines/pageBreakBefore/widowControl/numPr.
        ppr.insert_element_before(borders, "w:shd", "w:tabs", "w:suppressAutoHyphens",
                                  "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct",
                                  "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
                                  "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                                  "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                                  "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                                  "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                                  "w:pPrChange")


def _layout_table_style(doc) -> None:
    """"NTM Layout Table": no borders, no cell margins (the header and signature grids)."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    style = doc.styles.add_style("NTM Layout Table", WD_STYLE_TYPE.TABLE)
    style.base_style = doc.styles["Normal Table"]
    sides = "".join(f'<w:{s} w:val="nil"/>' for s in
                    ("top", "left", "bottom", "right", "insideH", "insideV"))
    margins = "".join(f'<w:{s} w:w="0" w:type="dxa"/>' for s in ("top", "left", "bottom", "right"))
    style.element.append(parse_xml(
        f'<w:tblPr {nsdecls("w")}><w:tblInd w:w="0" w:type="dxa"/>'
        f"<w:tblBorders>{sides}</w:tblBorders><w:tblCellMar>{margins}</w:tblCellMar></w:tblPr>"))


def _page_setup(doc) -> None:
    """A4 portrait, Decree 30/2020 margins, page number from page 2."""
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Mm

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance, section.footer_distance = Mm(8), Mm(8)
    section.gutter = 0
    section.different_first_page_header_footer = True
    header = section.header
    header.is_linked_to_previous = False
    paragraph = header.paragraphs[0]
    paragraph.style = doc.styles["Header"]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for xml in ('<w:r {ns}><w:fldChar w:fldCharType="begin"/></w:r>',
                '<w:r {ns}><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>',
                '<w:r {ns}><w:fldChar w:fldCharType="separate"/></w:r>',
                '<w:r {ns}><w:t>2</w:t></w:r>',
                '<w:r {ns}><w:fldChar w:fldCharType="end"/></w:r>'):
        paragraph._p.append(parse_xml(xml.format(ns=nsdecls("w"))))
    first = section.first_page_header
    first.is_linked_to_previous = False
    first.paragraphs[0].style = doc.styles["Header"]


def build_reference() -> bytes:
    """The reference document's bytes (deterministic)."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn

    from .docx_package import deterministic_zip

    doc = docx.Document()
    styles_el = doc.styles.element
    for style in list(styles_el.findall(qn("w:style"))):
        if style.get(qn("w:styleId")) not in _KEEP_STYLE_IDS:
            styles_el.remove(style)
    # Document defaults: Times New Roman 13 pt, Vietnamese for proofing.
    rpr_default = styles_el.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr_default)
    for child in rpr_default.findall(qn("w:lang")):
        rpr_default.remove(child)
    lang = rpr_default.makeelement(qn("w:lang"), {qn("w:val"): "vi-VN", qn("w:eastAsia"): "en-US",
                                                  qn("w:bidi"): "ar-SA"})
    rpr_default.append(lang)
    for child in rpr_default.findall(qn("w:sz")) + rpr_default.findall(qn("w:szCs")):
        child.set(qn("w:val"), "26")
    ppr_default = styles_el.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    for spacing in ppr_default.findall(qn("w:spacing")):
        spacing.set(qn("w:after"), "0")
        spacing.set(qn("w:line"), "240")
    for name, (base, props) in STYLES.items():
        try:
            style = doc.styles[name]
        except KeyError:
            style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if base:
            style.base_style = doc.styles[base]
        style.quick_style = True
        _apply(style, props)
    doc.styles["Normal"].paragraph_format.widow_control = True
    _layout_table_style(doc)
    # Data tables: 2 pt cell padding left and right (narrow columns such as "TT" keep
    # their text on one line: Word, unlike a browser, does not widen a fixed column).
    for side in ("left", "right"):
        for margin in doc.styles["Table Grid"].element.iter(qn(f"w:{side}")):
            if margin.getparent().tag == qn("w:tblCellMar"):
                margin.set(qn("w:w"), "40")
    _page_setup(doc)
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    props = doc.core_properties
    props.title, props.subject, props.keywords, props.category = "", "", "", ""
    props.author = "ntm_lib"
    props.comments = "Reference document of report.docx (ntm_lib/render/make_reference_docx.py)"
    props.language = "vi-VN"
    from .docx_package import set_core_dates

    set_core_dates(props)
    # Parts the template brings that nothing uses: their relationships go too.
    package = doc.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            package.drop_rel(rel_id) if hasattr(package, "drop_rel") else package.rels.pop(rel_id)
    for rel_id, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects") or rel.reltype.endswith("/customXml"):
            doc.part.drop_rel(rel_id) if hasattr(doc.part, "drop_rel") else doc.part.rels.pop(rel_id)
    buffer = io.BytesIO()
    doc.save(buffer)
    return deterministic_zip(buffer.getvalue(), drop=_DROP_MEMBERS)


def main(argv: list[str] | None = None) -> int:
    """Write the reference document (default ``notebooks/layouts/reference.docx``)."""
    from ntm_lib.paths import notebooks_dir
    from ntm_lib.safeio import atomic_write

    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else notebooks_dir() / "layouts" / "reference.docx"
    atomic_write(out, build_reference(), redact=False)
    print(out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
