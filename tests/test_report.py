"""Report context, names and the notebook's prose, without a kernel: real
data, edited copies; the notebook's own %%report cells and layouts rendered
as ntm run renders them."""
from __future__ import annotations

import re
import shutil

import nbformat
import pytest

from ntm_lib.errors import ParameterError
from ntm_lib.notebook import NAMES, ProseError, start
from ntm_lib.notebook.prose import render
from ntm_lib.params import load_params
from ntm_lib.report import figures_of, prepare_report

NOTEBOOK = "notebooks/commune_report.ipynb"


@pytest.fixture
def params(root):
    return load_params(root / "params" / "2023" / "nam-mon.yaml")


@pytest.fixture
def data_copy(root, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(root / "data", target)
    return target


def notebook_html(root, report) -> str:
    """The %%report cells and %layout lines of the report notebook, rendered
    in order with ``report`` (what the kernel shows, without one)."""
    nb = nbformat.read(root / NOTEBOOK, as_version=4)
    out = []
    for cell in nb.cells:
        src = cell.source
        if cell.cell_type != "code":
            continue
        if src.startswith("%%report"):
            first, _, body = src.partition("\n")
            out.append(report.prose(body, markdown=first.strip() != "%%report html"))
        elif src.startswith("%layout"):
            out.append(report.layout(src.split()[1]))
    return "\n".join(out)


def text_of(html: str) -> str:
    inline = re.sub(r"</?(?:span|em|strong)\b[^>]*>", "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", inline).split())


def sample_report(root, tmp_path, edit=None, data_dir=None):
    path = root / "params" / "2023" / "nam-mon.yaml"
    if edit:
        text = edit(path.read_text(encoding="utf-8"))
        path = tmp_path / "nam-mon.yaml"
        path.write_text(text, encoding="utf-8")
    return start("02881", 2023, path, data_dir=data_dir)


def test_sample_context(params):
    ctx = prepare_report(params)
    assert ctx.current.met_count == 13 and ctx.previous.met_count == 12
    assert ctx.changes.gained == (8,)
    assert ctx.advanced.met == (8, 15, 16)
    assert ctx.band.band_id == "30-to-50"
    assert ctx.totals["visits"] == 16 and ctx.inconsistencies == []
    assert ctx.poverty.percent_of_plan == 100


def test_names_hold_the_seed_figures(root, tmp_path):
    n = sample_report(root, tmp_path).names
    assert {name for name, _, _ in NAMES} <= set(n)
    assert n.criteria.met_count == 13 and n.criteria.size == 19 and n.criteria.not_met_count == 6
    assert [c.number for c in n.criteria.not_met] == [1, 2, 10, 11, 17, 18]
    assert round(n.criteria.percent_not_met, 2) == 31.58  # 6/19, the seed's band (a)
    assert [c.number for c in n.changes.gained] == [8] and n.changes.lost == []
    assert n.totals.visits == 16 and n.totals.support_million_vnd == 10
    assert n.poverty.percent_of_plan == 100 and n.band.key_criteria_not_met
    assert n.narrative.closing.startswith("Trên đây là báo cáo kết quả giúp đỡ xã Nậm Mòn, huyện Bắc Hà")


def test_notebook_states_the_seed_facts(root, tmp_path):
    text = text_of(notebook_html(root, sample_report(root, tmp_path)))
    assert ("- Các tiêu chí đã đạt chuẩn: 13/19 tiêu chí: Tiêu chí 3 (Điện); Tiêu chí 4 (Trường học)"
            not in text)  # numbers are the set's own: 3 is Thủy lợi
    assert "- Các tiêu chí đã đạt chuẩn: 13/19 tiêu chí: Tiêu chí 3 (Thủy lợi và phòng, chống thiên tai)" in text
    assert "- Các tiêu chí chưa đạt chuẩn: 06/19 tiêu chí: Tiêu chí 1 (Quy hoạch)" in text
    assert "đạt lại 1 tiêu chí: Tiêu chí 8 (Thông tin và Truyền thông)" in text
    assert "xã đạt 03/19 tiêu chí, đó là: tiêu chí số 8 - Thông tin và truyền thông" in text
    assert "bằng 100% kế hoạch" in text and "(31,58%)" in text
    assert "Tổng năm 2023 7 16 10 13/19" in text
    assert "Nơi nhận: - VPĐP NTM tỉnh; - BCĐ các CT MTQG huyện Bắc Hà;" in text
    assert "{{" not in text and "}}" not in text


def test_header_follows_the_party_style(root, tmp_path):
    html = sample_report(root, tmp_path).layout("header")
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in html and 'class="issuer-mark">*<' in html
    assert "HỘI NÔNG DÂN TỈNH LÀO CAI" in html and "-BC/HNDT" in html
    assert "tháng 12 năm 2023" in html


def test_state_style_header_and_dated_report(root, tmp_path):
    def edit(text):
        return (text.replace("header_style: party", "header_style: state")
                .replace('report_date: "2023-12"', 'report_date: "2023-12-05"')
                .replace('document_number: ""', 'document_number: "125"')
                .replace("document_code: BC/HNDT", "document_code: BC-UBND"))
    report = sample_report(root, tmp_path, edit)
    html = report.layout("header")
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html and "Độc lập - Tự do - Hạnh phúc" in html
    assert "Số: 125/BC-UBND" in text_of(html) and "Lào Cai, ngày 05 tháng 12 năm 2023" in html
    assert "(Kèm theo Báo cáo số 125/BC-UBND, ngày 05/12/2023" in text_of(report.layout("appendix"))


def test_free_text_states_a_computed_number(root, tmp_path):
    def edit(text):
        return text.replace("Trên đây là báo cáo", "Còn {{ criteria.not_met_count }} tiêu chí chưa đạt. Trên đây là báo cáo")
    report = sample_report(root, tmp_path, edit)
    assert report.names.narrative.closing.startswith("Còn 6 tiêu chí chưa đạt. Trên đây")


def test_unknown_name_in_free_text_names_file_and_field(root, tmp_path):
    def edit(text):
        return text.replace("Trên đây là báo cáo", "Xã {{ commune.nmae }}: trên đây là báo cáo")
    # refused when the params file is loaded, before any kernel, with its line
    with pytest.raises(ParameterError, match=r"nam-mon.yaml, line \d+, parameter narrative.closing: "
                                             r"unknown attribute \{\{ commune.nmae \}\} \(did you "
                                             r"mean \{\{ commune.name \}\}\?\)"):
        sample_report(root, tmp_path, edit)


def test_typo_in_prose_names_line_and_name(root, tmp_path):
    report = sample_report(root, tmp_path)
    with pytest.raises(ProseError) as info:
        report.prose("Một dòng.\n\nCòn {{ critera.not_met_count }} tiêu chí.", first_line=2)
    assert info.value.name == "critera" and info.value.row == 4
    assert "did you mean criteria?" in str(info.value)


def test_values_are_escaped_and_never_markdown():
    html = render("Xã {{ name }} *đẹp*", {"name": "<b>A_b_c*</b>"})
    assert html == "<p>Xã &lt;b&gt;A_b_c*&lt;/b&gt; <em>đẹp</em></p>"


def test_filters_format_the_vietnamese_way():
    html = render("{{ 13 | count_of(19) }} = {{ 13 | percent_of(19) }}; {{ 10 | million_vnd }}; "
                  "{{ 10 | points }}; {{ 1234.5 | number }}; {{ ['A', 'B', 'C'] | join_vi }}", {})
    assert html == "<p>13/19 = 68,42%; 10 triệu đồng; 10 điểm phần trăm; 1.234,5; A, B và C</p>"


def test_inconsistent_quarters_give_a_data_quality_note(root, tmp_path, data_copy):
    path = data_copy / "communes" / "02881" / "quarterly.csv"
    text = path.read_text(encoding="utf-8").replace("2023,2,3,7,0,12,19", "2023,2,3,8,0,12,19")
    path.write_text(text, encoding="utf-8")
    report = sample_report(root, tmp_path, data_dir=data_copy)
    html = report.layout("appendix")
    assert "Chất lượng số liệu" in html
    assert "Số lượt trực tiếp về xã làm việc: số liệu các quý cho 17, trong khi số liệu cả năm ghi 16" in html
    warnings = {f["name"]: f["value"] for f in figures_of(report.context)}["data_warnings"]
    assert len(warnings) == 1


def test_missing_poverty_row_says_no_data(root, tmp_path, data_copy):
    path = data_copy / "communes" / "02881" / "poverty.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    report = sample_report(root, tmp_path, data_dir=data_copy)
    assert report.names.poverty is None
    text = text_of(notebook_html(root, report))
    assert "- Giảm nghèo: không có số liệu." in text
    assert "không có số liệu" in report.layout("appendix")


def test_document_numbers_never_break(root, tmp_path):
    html = notebook_html(root, sample_report(root, tmp_path))
    assert '<span class="nowrap">18/2022/QĐ-TTg</span>' in html


def test_readme_lists_every_name(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    for name, meaning, _ in NAMES:
        assert f"| `{name}` | {meaning} |" in readme


def test_each_report_keeps_its_own_input_log(params):
    first = prepare_report(params)
    second = prepare_report(params)
    paths = [e["path"] for e in first.inputs.entries()]
    assert "data/communes/02881/quarterly.csv" in paths and "data/reference/criteria.csv" in paths
    assert first.inputs is not second.inputs
    assert first.inputs.entries() == second.inputs.entries()  # same bytes, same digests
