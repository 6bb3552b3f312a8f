"""report.docx from a rendered report HTML: styles, header, appendix, page set-up,
blanks, determinism, glyph check (python-docx reads the file back; no kernel)."""
from __future__ import annotations

import zipfile

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Mm

from ntm_lib.errors import GlyphMissingError, RenderError
from ntm_lib.render.docx_report import REQUIRED_STYLES, default_reference, render_docx
from ntm_lib.render.make_reference_docx import build_reference

# A report HTML in the structure nbconvert writes for the sample (Nậm Mòn 2023),
# cut to what the DOCX must carry; the chart is a small matplotlib-style SVG.
CHART = ('<svg xmlns="http://www.w3.org/2000/svg" width="300pt" height="150pt" '
         'viewBox="0 0 300 150" version="1.1"><rect width="300" height="150" fill="#ffffff"/>'
         '<rect x="20" y="40" width="60" height="100" fill="#1f77b4"/>'
         '<text x="30" y="30" style="font-size: 12px; font-family: \'NTM Report Serif\', '
         '\'Liberation Serif\', serif">Quý I</text></svg>')
HTML = f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>t</title>
<style>p {{ color: #000 }}</style></head><body><main class="document">
<div class="cell"><div class="output output-html">
<table class="doc-header party"><tr><td class="issuer"><div class="issuer-name">HỘI NÔNG DÂN TỈNH LÀO CAI</div><div class="issuer-mark">*</div></td><td class="motto"><div class="motto-1"><span class="ruled">ĐẢNG CỘNG SẢN VIỆT NAM</span></div></td></tr><tr><td class="doc-number">Số ……-BC/HNDT</td><td class="place-date">Lào Cai, ngày …… tháng 12 năm 2023</td></tr></table>
<p class="doc-title">BÁO CÁO</p><p class="doc-subtitle">Kết quả giúp đỡ xã Nậm Mòn</p>
</div></div>
<div class="cell cell-markdown"><h2>I. Kết quả triển khai thực hiện</h2><h3>1. Công tác chỉ đạo</h3><h4>2.1. Nội dung giúp đỡ</h4></div>
<div class="output output-html"><p>- Các tiêu chí đã đạt chuẩn: 13/19 tiêu chí:
   Tiêu chí 3 (Thủy lợi và phòng, chống thiên tai).</p>
<ul class="documents"><li>Kế hoạch số <span class="nowrap">256a-KH/HNDT</span> ngày 09/02/2023: Kế hoạch giúp đỡ</li></ul>
<figure class="chart">{CHART}
<figcaption>Biểu đồ 1. Tình trạng các tiêu chí</figcaption></figure>
<div class="closing-block"><p class="closing">Trên đây là báo cáo./.</p><table class="signature"><tr><td class="recipients"><p class="recipients-title">Nơi nhận:</p><ul><li>- VPĐP NTM tỉnh;</li><li>- Lưu: VT, Ban KT-XH.</li></ul></td><td class="signer"><div class="signer-capacity">LÃNH ĐẠO ĐƠN VỊ GIÚP ĐỠ XÃ</div><div class="signer-title">Phó Chủ tịch HND tỉnh</div><div class="signer-space"></div><div class="signer-name">Nguyễn Văn A</div></td></tr></table></div>
<section class="appendix"><div class="appendix-title">Phụ lục: Kết quả giúp đỡ xã năm 2023</div><div class="appendix-subtitle">(Kèm theo Báo cáo số ……-BC/HNDT, ngày ……/12/2023)</div><table class="data appendix-table"><colgroup><col style="width:5%"><col style="width:15%"><col style="width:13%"><col style="width:13%"><col style="width:15%"><col style="width:14%"><col style="width:25%"></colgroup><thead><tr><th>TT</th><th>Thời gian báo cáo</th><th>Số văn bản</th><th>Số lượt</th><th>Ủng hộ (triệu đồng)</th><th>Số tiêu chí</th><th>Giảm tỷ lệ hộ nghèo so với kế hoạch năm</th></tr></thead><tbody><tr class="total"><td></td><td>Tổng năm 2023</td><td>7</td><td>16</td><td>10</td><td>13/19</td><td rowspan="5">Giảm 10 điểm phần trăm (bằng 100% kế hoạch năm 2023)</td></tr><tr><td>1</td><td class="nowrap">Quý I/2023</td><td>2</td><td>3</td><td>10</td><td>15/19</td></tr><tr><td>2</td><td>Quý II/2023</td><td>3</td><td>7</td><td>0</td><td>12/19</td></tr><tr><td>3</td><td>Quý III/2023</td><td>2</td><td>3</td><td>0</td><td>12/19</td></tr><tr><td>4</td><td>Quý IV/2023</td><td>0</td><td>3</td><td>0</td><td>13/19</td></tr></tbody></table></section>
</div></main></body></html>"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("docx")
    html = folder / "report.html"
    html.write_text(HTML, encoding="utf-8")
    out = render_docx(html, folder / "report.docx", title="Báo cáo năm 2023 - xã Nậm Mòn",
                      author="HỘI NÔNG DÂN TỈNH LÀO CAI")
    return html, out, docx.Document(str(out))


def _styled(document) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs if p.text.strip()]


def test_page_setup_is_decree_30(built):
    section = built[2].sections[0]
    mm = lambda *lengths: tuple(round(x.mm, 1) for x in lengths)  # stored in twips
    assert mm(section.page_width, section.page_height) == (210.0, 297.0)
    assert mm(section.top_margin, section.bottom_margin) == (20.0, 20.0)
    assert mm(section.left_margin, section.right_margin) == (30.0, 15.0)
    assert section.different_first_page_header_footer
    assert not "".join(p.text for p in section.first_page_header.paragraphs).strip()
    instr = section.header._element.xpath(".//w:instrText")
    assert [i.text.strip() for i in instr] == ["PAGE"]
    assert section.header.paragraphs[0].alignment == 1  # centred


def test_styles_name_times_new_roman(built):
    document = built[2]
    names = {s.name for s in document.styles}
    assert set(REQUIRED_STYLES) <= names
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size.pt == 13
    fonts = normal.element.rPr.find(qn("w:rFonts"))
    assert {fonts.get(qn(f"w:{s}")) for s in ("ascii", "hAnsi", "eastAsia", "cs")} == {
        "Times New Roman"}
    assert document.styles["Heading 1"].font.bold and document.styles["Caption"].font.italic


def test_paragraph_styles_in_order(built):
    styled = _styled(built[2])
    assert styled[:5] == [
        ("Title", "BÁO CÁO"),
        ("Subtitle", "Kết quả giúp đỡ xã Nậm Mòn"),
        ("Heading 1", "I. Kết quả triển khai thực hiện"),
        ("Heading 2", "1. Công tác chỉ đạo"),
        ("Heading 3", "2.1. Nội dung giúp đỡ"),
    ]
    # Whitespace collapsed as a browser does; "+ " drawn by the CSS is text here.
    assert ("Body Text", "- Các tiêu chí đã đạt chuẩn: 13/19 tiêu chí: Tiêu chí 3 "
            "(Thủy lợi và phòng, chống thiên tai).") in styled
    assert ("List Paragraph", "+ Kế hoạch số 256a-KH/HNDT ngày 09/02/2023: Kế hoạch giúp đỡ"
            .replace("số 256a", "số 256a")) in [(s, t.replace("\u00a0", " ")) for s, t in styled]
    assert ("Caption", "Biểu đồ 1. Tình trạng các tiêu chí") in styled
    assert ("NTM Appendix Title", "Phụ lục: Kết quả giúp đỡ xã năm 2023") in styled


def test_header_table_borderless_with_blanks_in_own_runs(built):
    table = built[2].tables[0]
    assert table.style.name == "NTM Layout Table"
    assert [[c.text for c in row.cells] for row in table.rows] == [
        ["HỘI NÔNG DÂN TỈNH LÀO CAI\n*", "ĐẢNG CỘNG SẢN VIỆT NAM\n"],
        ["Số ……-BC/HNDT", "Lào Cai, ngày …… tháng 12 năm 2023"],
    ]
    number, place = table.cell(1, 0).paragraphs[0], table.cell(1, 1).paragraphs[0]
    assert [r.text for r in number.runs] == ["Số ", "……", "-BC/HNDT"]
    assert [r.text for r in place.runs] == ["Lào Cai, ngày ", "……", " tháng 12 năm 2023"]
    assert place.style.name == "NTM Place Date" and place.style.font.italic
    assert table.cell(0, 1).paragraphs[0].style.name == "NTM Party Motto"
    # the rule under the motto is as long as its text: indents leave ~ its width
    rule = table.cell(0, 1).paragraphs[1]
    assert rule.style.name == "NTM Rule"
    width = table.columns[1].width - 2 * rule.paragraph_format.left_indent
    assert Mm(60) < width < Mm(80)  # "ĐẢNG CỘNG SẢN VIỆT NAM", 15 pt bold: about 69 mm


def test_signature_block(built):
    table = built[2].tables[1]
    left, right = table.cell(0, 0), table.cell(0, 1)
    assert [(p.style.name, p.text) for p in left.paragraphs] == [
        ("NTM Recipients Title", "Nơi nhận:"), ("NTM Recipients", "- VPĐP NTM tỉnh;"),
        ("NTM Recipients", "- Lưu: VT, Ban KT-XH.")]
    assert [(p.style.name, p.text) for p in right.paragraphs] == [
        ("NTM Signer", "LÃNH ĐẠO ĐƠN VỊ GIÚP ĐỠ XÃ"), ("NTM Signer", "Phó Chủ tịch HND tỉnh"),
        ("NTM Signature Space", ""), ("NTM Signer Name", "Nguyễn Văn A")]


def test_appendix_own_section_with_merged_cells(built):
    document = built[2]
    assert len(document.sections) == 2
    appendix = document.sections[1]
    assert appendix.start_type == 2  # new page
    assert not appendix.different_first_page_header_footer  # numbered
    assert appendix.page_width < appendix.page_height  # 7 columns fit portrait
    table = document.tables[2]
    assert table.style.name == "Table Grid" and len(table.rows) == 6
    assert len(table.columns) == 7
    assert {table.cell(r, 6).text for r in range(1, 6)} == {table.cell(1, 6).text}
    assert table.cell(3, 6).text == "Giảm 10 điểm phần trăm (bằng 100% kế hoạch năm 2023)"
    tcs = table._tbl.xpath("./w:tr/w:tc[7]/w:tcPr/w:vMerge")
    assert [v.get(qn("w:val")) for v in tcs] == ["restart", None, None, None, None]
    assert table.rows[0]._tr.xpath("./w:trPr/w:tblHeader")  # repeated header row
    assert [c.text for c in table.rows[1].cells[:6]] == ["", "Tổng năm 2023", "7", "16", "10",
                                                         "13/19"]
    assert all(r.bold for r in table.cell(1, 2).paragraphs[0].runs)  # the total row
    assert abs(table.columns[0].width - Mm(165) * 0.05) < Mm(0.1)  # <col style="width:5%">


def test_wide_appendix_is_landscape(tmp_path):
    cols = "".join(f"<th>C{i}</th>" for i in range(10))
    html = tmp_path / "r.html"
    html.write_text(f'<main class="document"><p>Trước.</p><section class="appendix"><table class='
                    f'"data"><tr>{cols}</tr></table></section><p>Sau.</p></main>', encoding="utf-8")
    document = docx.Document(str(render_docx(html, tmp_path / "r.docx")))
    orientations = [(s.orientation, s.page_width > s.page_height) for s in document.sections]
    assert orientations == [(0, False), (1, True), (0, False)]


def test_chart_is_png_at_220_ppi_and_svg(built):
    with zipfile.ZipFile(built[1]) as package:
        names = package.namelist()
        pngs = [n for n in names if n.endswith(".png")]
        svgs = [n for n in names if n.endswith(".svg")]
        assert len(pngs) == 1 and len(svgs) == 1
        from PIL import Image
        import io

        image = Image.open(io.BytesIO(package.read(pngs[0])))
        assert image.size == (917, 458)  # 300 x 150 pt = 4.17 x 2.08 in at 220 ppi
        assert b"'Times New Roman'" in package.read(svgs[0])
        document = package.read("word/document.xml").decode()
    assert "asvg:svgBlip" in document or "svgBlip" in document
    shape = built[2].inline_shapes[0]
    assert shape.width == 300 * 12700  # printed at its own size (narrower than the text)


def test_byte_identical_and_no_date(built, tmp_path, monkeypatch):
    html, first, _ = built
    second = render_docx(html, tmp_path / "again.docx", title="Báo cáo năm 2023 - xã Nậm Mòn",
                         author="HỘI NÔNG DÂN TỈNH LÀO CAI")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as package:
        assert {i.date_time for i in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert package.namelist()[0] == "[Content_Types].xml"
        core = package.read("docProps/core.xml").decode()
    assert "dcterms:created" not in core and "Nậm Mòn" in core
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dated = render_docx(html, tmp_path / "dated.docx")
    with zipfile.ZipFile(dated) as package:
        assert "2023-11-14T22:13:20Z" in package.read("docProps/core.xml").decode()
        assert {i.date_time for i in package.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_text_is_nfc(tmp_path):
    html = tmp_path / "r.html"
    html.write_text("<main><p>Nha\u0300 o\u031b\u0309 da\u0302n cu\u031b</p></main>", encoding="utf-8")
    document = docx.Document(str(render_docx(html, tmp_path / "r.docx")))
    assert document.paragraphs[0].text == "Nhà ở dân cư"


def test_missing_glyph_is_named(tmp_path):
    html = tmp_path / "r.html"
    html.write_text("<main><p>Thu nhập \u2603 bình quân</p></main>", encoding="utf-8")
    with pytest.raises(GlyphMissingError) as caught:
        render_docx(html, tmp_path / "r.docx")
    assert "U+2603" in str(caught.value) and "Thu nhập" in str(caught.value)
    assert not (tmp_path / "r.docx").exists()


def test_reference_lacking_a_style_is_refused(tmp_path):
    reference = tmp_path / "office.docx"
    plain = docx.Document()
    plain.save(str(reference))
    html = tmp_path / "r.html"
    html.write_text("<main><p>x</p></main>", encoding="utf-8")
    with pytest.raises(RenderError, match="lacks the styles .*NTM Layout Table"):
        render_docx(html, tmp_path / "r.docx", reference=reference)


def test_shipped_reference_is_what_the_generator_makes():
    assert default_reference().read_bytes() == build_reference()


_CLIP = ('<svg xmlns="http://www.w3.org/2000/svg" width="100pt" height="60pt" viewBox="0 0 100 60">'
         '<defs><clipPath id="p1"><rect x="10" y="5" width="80" height="50"/></clipPath></defs>'
         '{}</svg>')


@pytest.mark.parametrize("path, pruned", [
    ('<path d="M 20 50 L 40 50 L 40 10 L 20 10 z " clip-path="url(#p1)" style="fill: #2563eb"/>', True),
    # a point outside the rectangle: the clip cuts the bar
    ('<path d="M 20 50 L 40 50 L 40 2 L 20 2 z " clip-path="url(#p1)" style="fill: #2563eb"/>', False),
    # stroked: the stroke may reach past the rectangle
    ('<path d="M 20 50 L 40 50 z " clip-path="url(#p1)" style="fill: none; stroke: #000"/>', False),
    # a curve: its control points do not bound it
    ('<path d="M 20 50 C 40 50 40 10 20 10 z " clip-path="url(#p1)" style="fill: #000"/>', False),
    # a clip that is not this rectangle
    ('<path d="M 20 50 L 40 50 L 40 10 z " clip-path="url(#p2)" style="fill: #000"/>', False),
])
def test_idle_clips_are_dropped_only_when_they_clip_nothing(path, pruned):
    from ntm_lib.render.docx_charts import without_idle_clips

    svg = _CLIP.format(path)
    assert ("clip-path" not in without_idle_clips(svg)) is pruned
    assert without_idle_clips(svg).replace(' clip-path="url(#p1)"', "") == svg.replace(
        ' clip-path="url(#p1)"', "")  # nothing else changes


def test_dropping_idle_clips_keeps_the_pixels():
    """A bar inside its clip rasterises to the same pixels (to 1 level in 255) without it."""
    import io

    import resvg_py
    from PIL import Image, ImageChops

    from ntm_lib.render.docx_charts import without_idle_clips

    svg = _CLIP.format('<path d="M 20.3 50 L 40.7 50 L 40.7 10.2 L 20.3 10.2 z " '
                       'clip-path="url(#p1)" style="fill: #2563eb"/>')
    pictures = [Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(
        svg_string=s, dpi=300, background="#ffffff")))).convert("RGB")
        for s in (svg, without_idle_clips(svg))]
    assert "clip-path" not in without_idle_clips(svg)
    assert max(band[1] for band in ImageChops.difference(*pictures).getextrema()) <= 1
