"""Rendering room: notebook -> HTML (nbconvert) -> PDF (WeasyPrint), and the report font."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import nbformat
from ntm_lib.notebook.parts import left_out, mark
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from pypdf import PdfReader

from ntm_lib.errors import GlyphMissingError, RenderError
from ntm_lib.fonts import (
    SerifFont,
    bundled_serif,
    missing_glyphs,
    register_with_matplotlib,
    report_serif,
)
from ntm_lib.fonts import _faces_from, _fontconfig_candidates
from ntm_lib.render import render_html, render_pdf
from ntm_lib.render.checks import document_text, pdf_fonts

VI = "Nậm Mòn, Bắc Hà, Lào Cai — Thủy lợi và phòng, chống thiên tai; Môi trường và an toàn thực phẩm"
TITLE = "Báo cáo xây dựng nông thôn mới xã Nậm Mòn năm 2023"
A4 = (595.28, 841.89)
TOP_MARGIN_PT = 20 / 25.4 * 72
SVG = """<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
 width="460pt" height="200pt" viewBox="0 0 460 200">
<metadata><dc:date>2024-01-01</dc:date></metadata>
<defs><rect id="bar" width="40" height="100"/></defs>
<use xlink:href="#bar" x="20" y="60" fill="#3b6ea5"/>
<text x="20" y="190" font-family="NTM Serif" font-size="14">Tiêu chí đạt chuẩn</text>
</svg>"""
TABLE = (
    '<table class="data"><thead><tr><th>TT</th><th>Tiêu chí</th><th>Kết quả</th></tr></thead>'
    '<tbody><tr><td>3</td><td>Thủy lợi và phòng, chống thiên tai</td><td class="num">Đạt</td></tr>'
    '<tr><td>17</td><td>Môi trường và an toàn thực phẩm</td><td class="num">Chưa đạt</td></tr>'
    "</tbody></table>"
)
PARAGRAPH = (
    "Định hướng giúp cấp ủy, chính quyền xã xác định các nội dung ưu tiên trong năm 2023 nhằm "
    "duy trì các tiêu chí đã đạt và hoàn thiện các tiêu chí không duy trì được năm 2022; quản lý "
    "tốt công tác quy hoạch xây dựng nông thôn mới, đồng thời rà soát và trình cấp có thẩm quyền "
    "bổ sung, điều chỉnh kịp thời đối với các nội dung chưa phù hợp."
)


def sample_notebook(*, decomposed: bool = False) -> nbformat.NotebookNode:
    """Markdown in Vietnamese, an HTML table, an SVG chart, a removed cell, and
    enough paragraphs for a second page."""
    text = unicodedata.normalize("NFD", VI) if decomposed else VI
    return new_notebook(cells=[
        new_markdown_cell(f"# Báo cáo\n\n{text}"),
        new_code_cell("show_table_secret_code()", outputs=[new_output(
            "display_data", data={"text/html": TABLE, "text/plain": "<table>"},
            metadata=mark("layout"))]),
        new_code_cell("draw_chart_secret_code()", outputs=[new_output(
            "display_data", data={"image/svg+xml": SVG, "text/plain": "<Figure>"},
            metadata=mark("chart"))]),
        new_code_cell("removed_cell_secret_code()", metadata={"tags": ["remove-cell"]},
                      outputs=[new_output("stream", name="stdout", text="REMOVED OUTPUT")]),
        new_markdown_cell("\n\n".join([PARAGRAPH] * 14)),
    ])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("render")
    html = render_html(sample_notebook(), folder / "report.html", title=TITLE,
                       author="Hội Nông dân tỉnh Lào Cai")
    pdf = render_pdf(html, folder / "report.pdf")
    return html, pdf


def html_doc(folder: Path, body: str, name: str = "doc.html") -> Path:
    path = folder / name
    path.write_text(
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Thử</title></head>'
        f"<body>{body}</body></html>", encoding="utf-8")
    return path


def lines_with_height(page) -> list[tuple[float, str]]:
    """(baseline height from the bottom of the page, text) of every text run."""
    runs: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            runs.append((tm[4] * cm[1] + tm[5] * cm[3] + cm[5], text.strip()))

    page.extract_text(visitor_text=visit)
    return runs


# ------------------------------------------------------------------ HTML

def test_html_is_standalone_document(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="vi">' in html
    assert re.search(r'<meta charset="utf-8"/?>', html)
    assert f"<title>{TITLE}</title>" in html
    assert "<script" not in html.lower()
    for attr, url in re.findall(r'\b(src|href)="([^"]*)"', html):
        assert url.startswith(("data:", "#")), f'{attr}="{url}"'
    assert "<link" not in html.lower()


def test_html_has_outputs_but_no_code(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    assert "secret_code" not in html
    assert "REMOVED OUTPUT" not in html
    assert "In&nbsp;[" not in html and "Out[" not in html
    assert '<table class="data">' in html
    assert "<svg" in html and "<?xml" not in html and "<!DOCTYPE svg" not in html
    assert "<metadata" not in html


def test_html_text_is_nfc(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", html)
    assert VI in html


def test_html_decomposed_input_is_composed(tmp_path):
    html = render_html(sample_notebook(decomposed=True), tmp_path / "r.html", title=TITLE)
    assert VI in html.read_text(encoding="utf-8")


def test_html_same_notebook_same_bytes(tmp_path):
    a = render_html(sample_notebook(), tmp_path / "a.html", title=TITLE)
    b = render_html(sample_notebook(), tmp_path / "b.html", title=TITLE)
    assert a.read_bytes() == b.read_bytes()


def test_html_accepts_a_notebook_path(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(sample_notebook(), path)
    html = render_html(path, tmp_path / "out" / "r.html", title=TITLE)
    assert VI in html.read_text(encoding="utf-8")
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_html_refuses_external_images(tmp_path):
    nb = new_notebook(cells=[new_markdown_cell("![logo](https://example.com/logo.png)")])
    with pytest.raises(RenderError, match="example.com/logo.png"):
        render_html(nb, tmp_path / "r.html", title=TITLE)
    assert not (tmp_path / "r.html").exists()


def tiny_png() -> str:
    """A 2x2 red PNG, base64 (as a notebook stores image/png)."""
    import base64
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


def test_other_output_types_render(tmp_path):
    """Report parts of every kind render; what is not a part (printed text,
    a bare value, a PNG a library showed, warnings) stays out of the document."""
    nb = new_notebook(cells=[
        new_code_cell("md()", outputs=[new_output("display_data", data={
            "text/markdown": "**Tiêu chí 17** đạt", "text/plain": "md"}, metadata=mark("prose"))]),
        new_code_cell("42", outputs=[new_output("execute_result", execution_count=1, data={
            "text/plain": "13/19 tiêu chí"})]),
        new_code_cell("img()", outputs=[new_output("display_data", data={
            "image/png": tiny_png(), "text/plain": "<Figure>"},
            metadata={"image/png": {"width": 200}, **mark("chart")})]),
        new_code_cell("fig", outputs=[new_output("display_data", data={
            "image/png": tiny_png(), "text/plain": "<Figure size 400x200 with 1 Axes>"})]),
        new_code_cell("print()", outputs=[new_output("stream", name="stdout", text="Đã in ra")]),
        new_code_cell("warn()", outputs=[new_output("stream", name="stderr", text="FutureWarning")]),
    ])
    html = render_html(nb, tmp_path / "r.html", title=TITLE)
    text = html.read_text(encoding="utf-8")
    assert "<strong>Tiêu chí 17</strong> đạt" in text
    assert "13/19 tiêu chí" not in text and "Đã in ra" not in text and "<Figure" not in text
    [img] = re.findall(r"<img\b[^>]*>", text)
    assert re.search(r'\ssrc="data:image/png;base64,[A-Za-z0-9+/=]+"', img)
    assert ' width="200"' in img and ' alt="Hình"' in img
    assert "FutureWarning" not in text
    pdf_text = PdfReader(render_pdf(html, tmp_path / "r.pdf")).pages[0].extract_text()
    assert "Tiêu chí 17 đạt" in pdf_text and "Đã in ra" not in pdf_text
    assert [o["preview"] for o in left_out(nb)] == [
        "13/19 tiêu chí", "<Figure size 400x200 with 1 Axes>", "Đã in ra", "FutureWarning"]


def test_html_shows_cell_errors(tmp_path):
    nb = new_notebook(cells=[new_code_cell("1/0", outputs=[new_output(
        "error", ename="ZeroDivisionError", evalue="division by zero",
        traceback=["\x1b[31mZeroDivisionError\x1b[0m: division by zero"])])])
    html = render_html(nb, tmp_path / "r.html", title=TITLE).read_text(encoding="utf-8")
    assert "output-error" in html and "ZeroDivisionError" in html and "\x1b" not in html


# ------------------------------------------------------------------- PDF

def test_pdf_text_is_the_vietnamese_text(rendered):
    text = PdfReader(rendered[1]).pages[0].extract_text()
    assert unicodedata.is_normalized("NFC", text)
    for phrase in ("Nậm Mòn", "Bắc Hà", "Lào Cai", "Thủy lợi", "Môi trường", "an toàn thực phẩm",
                   "Tiêu chí đạt chuẩn"):
        assert phrase in text


def test_pdf_is_a4_with_metadata(rendered):
    reader = PdfReader(rendered[1])
    assert len(reader.pages) >= 2
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - A4[0]) <= 1 and abs(height - A4[1]) <= 1
    assert reader.metadata.title == TITLE
    assert reader.metadata.author == "Hội Nông dân tỉnh Lào Cai"
    assert reader.trailer["/Root"]["/Lang"] == "vi"
    assert "/CreationDate" not in reader.metadata and "/ModDate" not in reader.metadata


def test_pdf_page_numbers_top_centre_not_on_first_page(rendered):
    reader = PdfReader(rendered[1])
    top = A4[1] - TOP_MARGIN_PT
    first = [t for y, t in lines_with_height(reader.pages[0]) if y > top]
    second = [t for y, t in lines_with_height(reader.pages[1]) if y > top]
    assert first == []
    assert second == ["2"]


def test_pdf_embeds_only_the_report_serif(rendered):
    fonts = pdf_fonts(rendered[1].read_bytes())
    assert fonts
    assert set(fonts.values()) == {report_serif().family}


def test_pdf_missing_glyph_is_named(tmp_path):
    html = html_doc(tmp_path, "<p>Nậm Mòn ☃ 中</p>")
    with pytest.raises(GlyphMissingError) as info:
        render_pdf(html, tmp_path / "r.pdf")
    assert set(info.value.characters) == {"\u2603", "\u4e2d"}
    assert "U+2603" in str(info.value)
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize("body", [
    '<img src="https://example.com/a.png" alt="a">',
    '<img src="local.png" alt="a">',
    '<style>@import url("http://example.com/x.css");</style><p>x</p>',
])
def test_pdf_fetches_nothing(tmp_path, body):
    (tmp_path / "local.png").write_bytes(b"not really a png")
    with pytest.raises(RenderError, match="refusing to fetch"):
        render_pdf(html_doc(tmp_path, body), tmp_path / "r.pdf")


def test_pdf_fallback_font_is_an_error(tmp_path):
    body = '<svg width="200" height="40"><text x="0" y="20" font-family="DejaVu Sans">Tiêu chí</text></svg>'
    if not _fontconfig_candidates("DejaVu Sans"):
        pytest.skip("no DejaVu Sans installed to fall back to")
    with pytest.raises(RenderError, match="fallback font"):
        render_pdf(html_doc(tmp_path, body), tmp_path / "r.pdf")


def test_pdf_reproducible_with_source_date_epoch(rendered, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1701734400")  # 2023-12-05 00:00 UTC
    a = render_pdf(rendered[0], tmp_path / "a.pdf").read_bytes()
    b = render_pdf(rendered[0], tmp_path / "b.pdf").read_bytes()
    assert a == b
    assert PdfReader(tmp_path / "a.pdf").metadata["/CreationDate"].startswith("D:20231205000000")


def test_pdf_reproducible_without_source_date_epoch(rendered, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    a = render_pdf(rendered[0], tmp_path / "a.pdf").read_bytes()
    assert a == rendered[1].read_bytes()


def test_document_text_is_what_gets_drawn():
    html = ('<html><head><title>Tiêu đề ☃</title><style>.x::before { content: "Ghi chú: "; }</style>'
            '<script>var s = "中";</script></head><body><p>Nậm Mòn</p><img alt="Biểu đồ" src="data:,">'
            "</body></html>")
    text = document_text(html)
    assert "Nậm Mòn" in text and "Biểu đồ" in text and "Ghi chú: " in text
    assert "☃" not in text and "中" not in text


# ----------------------------------------------------------------- fonts

def test_bundled_serif_covers_vietnamese():
    font = bundled_serif()
    assert font.family == "Liberation Serif" and font.source == "bundled"
    assert set(font.files) == {"regular", "bold", "italic", "bold-italic"}
    assert all(path.is_file() for path in font.files.values())
    assert (font.regular.parent / "LICENSE-LiberationSerif.txt").is_file()
    for path in font.files.values():
        assert missing_glyphs(VI + "ĐđƠơƯư ẶặỆệỰựỸỹ", path) == set()


def test_missing_glyphs_ignores_spaces_and_controls():
    regular = bundled_serif().regular
    assert missing_glyphs("a\u00a0b\tc\n\u200b\u00ad", regular) == set()
    assert missing_glyphs("Trời lạnh \u2603", regular) == {"\u2603"}


def test_report_serif_is_times_new_roman_or_bundled():
    font = report_serif()
    assert isinstance(font, SerifFont)
    assert (font.family, font.source) in {("Times New Roman", "system"), ("Liberation Serif", "bundled")}
    assert report_serif() is font  # cached


def test_substitutes_are_not_taken_for_times_new_roman():
    # fontconfig answers "Times New Roman" with DejaVu Serif or Liberation Serif
    # when it is missing; the name table of each file must decide.
    others = _fontconfig_candidates("DejaVu Serif") + _fontconfig_candidates("Liberation Serif")
    others += list(bundled_serif().files.values())
    assert _faces_from(others, "Times New Roman") == {}


def test_register_with_matplotlib():
    from matplotlib import font_manager

    family = register_with_matplotlib()
    assert family == report_serif().family
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert Path(found).resolve() in {p.resolve() for p in report_serif().files.values()}


# --------------------------------------------------------------------------- speed-ups with the same output


def test_inline_svg_goes_to_the_pdf_renderer_as_an_image():
    from ntm_lib.render.svg_images import standalone_svg, svg_as_images

    lowered = ('<p>x</p><svg height="20pt" viewbox="0 0 40 20" width="40pt" '
               'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
               '<metadata><rdf:rdf></rdf:rdf></metadata><defs><clippath id="c"><rect height="5" '
               'width="5"></rect></clippath></defs><use xlink:href="#c"></use></svg><p>y</p>')
    document = standalone_svg(lowered[8:-8]).decode("utf-8")
    assert 'viewBox="0 0 40 20"' in document and "<clipPath" in document
    assert "metadata" not in document
    html = svg_as_images(lowered)
    assert html.startswith("<p>x</p><img ") and html.endswith("<p>y</p>") and "<svg" not in html
    broken = '<svg xmlns="http://www.w3.org/2000/svg"><g></svg>'
    assert svg_as_images(broken) == broken  # not XML: left inline, drawn the same


def test_pdf_of_a_chart_is_the_same_whether_inline_or_image(tmp_path, monkeypatch):
    import ntm_lib.render.pdf as pdf_module

    html = html_doc(tmp_path, f'<figure>{SVG[SVG.index("<svg"):]}<figcaption>Biểu đồ 1</figcaption></figure>')
    render_pdf(html, tmp_path / "image.pdf")
    monkeypatch.setattr(pdf_module, "svg_as_images", lambda text: text)
    render_pdf(html, tmp_path / "inline.pdf")
    image, inline = (PdfReader(tmp_path / name) for name in ("image.pdf", "inline.pdf"))
    assert len(image.pages) == len(inline.pages) == 1
    text = image.pages[0].extract_text()
    assert text == inline.pages[0].extract_text()
    assert "Tiêu chí đạt chuẩn" in unicodedata.normalize("NFC", text)
    assert pdf_fonts(tmp_path / "image.pdf") == pdf_fonts(tmp_path / "inline.pdf")


def test_groups_holding_only_an_unused_id_are_dissolved():
    from ntm_lib.render.svg_images import standalone_svg

    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
           '<defs><g id="marker"><path d="M 0 0 L 1 1"/></g></defs>'
           '<g id="axes_1"><g id="xtick_1"><use xlink:href="#marker" x="3"/></g>'
           '<g id="text_1" transform="rotate(90)"><text>Quý I</text></g></g></svg>')
    document = standalone_svg(svg).decode("utf-8")
    assert 'id="axes_1"' not in document and 'id="xtick_1"' not in document
    assert '<g id="marker">' in document  # referenced by <use>
    assert '<g id="text_1" transform="rotate(90)">' in document  # draws something
    assert document.index('xlink:href="#marker"') < document.index("Quý I")


def test_embedded_font_subset_is_shared_by_reports_in_vietnamese():
    from ntm_lib.render.embed import REPERTOIRE, font_face_css

    assert all(c in REPERTOIRE for c in "Nậm Mòn Bắc Hà Đồng Ỹ ỹ – “”")
    assert font_face_css("Xã Nậm Mòn") == font_face_css("Xã Bản Phố, huyện Bắc Hà")
    assert font_face_css("Xã Nậm Mòn") != font_face_css("Xã Nậm Mòn ∑")  # beyond: added


def test_font_subsets_are_cached_between_processes(tmp_path, monkeypatch):
    from ntm_lib.render import embed

    monkeypatch.setenv("NTM_CACHE_DIR", str(tmp_path / "cache"))
    embed._subset_woff.cache_clear()
    made = embed.font_face_css("Xã Nậm Mòn")
    assert len(list((tmp_path / "cache" / "fonts").glob("*.woff"))) == 4  # one per face
    embed._subset_woff.cache_clear()
    assert embed.font_face_css("Xã Nậm Mòn") == made  # read back: the same bytes
    monkeypatch.setenv("NTM_CACHE_DIR", str(tmp_path / "cache" / "fonts" / next(
        (tmp_path / "cache" / "fonts").glob("*.woff")).name))  # a file: cannot be a folder
    embed._subset_woff.cache_clear()
    assert embed.font_face_css("Xã Nậm Mòn") == made  # made again, nothing cached
    embed._subset_woff.cache_clear()


def test_warm_up_makes_the_renderers_set_up_once(monkeypatch):
    """The warm-up of ``ntm run`` (during the execution) leaves the exporter,
    WeasyPrint's font set-up and the Word metrics made; a failing warm-up is
    silent (the render itself reports the problem, with its place)."""
    from ntm_lib.render import docx_report, html, pdf, warm

    warm.finish(warm.start(docx=True))
    assert html._exporter.cache_info().currsize == 1
    assert pdf._font_setup.cache_info().currsize >= 1
    assert docx_report._metrics.cache_info().currsize >= 2

    def broken(**_kw):
        raise RuntimeError("no fontconfig")

    monkeypatch.setattr(warm, "ready", broken)
    thread = warm.start(docx=False)
    warm.finish(thread)
    assert not thread.is_alive()
    warm.finish(None)


def test_the_pdf_and_the_word_document_share_each_chart_made_standalone():
    from ntm_lib.render.svg_images import standalone_svg

    fragment = ('<svg xmlns="http://www.w3.org/2000/svg" width="10pt" height="5pt" viewbox="0 0 10 5">'
                '<g id="patch_1"><path d="M 0 0 L 10 5"/></g></svg>')
    standalone_svg.cache_clear()
    first = standalone_svg(fragment)
    assert b'viewBox="0 0 10 5"' in first and b"<g" not in first  # case restored, group dissolved
    assert standalone_svg(fragment) is first
    assert standalone_svg.cache_info().hits == 1
