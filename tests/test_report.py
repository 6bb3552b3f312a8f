"""Report context and sections, without a kernel: real data, edited copies."""
from __future__ import annotations

import shutil

import pytest

from ntm_lib.errors import ParameterError
from ntm_lib.params import load_params
from ntm_lib.report import figures_of, prepare_report, sections as S


@pytest.fixture
def params(root):
    return load_params(root / "params" / "2023" / "nam-mon.yaml")


@pytest.fixture
def data_copy(root, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(root / "data", target)
    return target


def test_sample_context(params):
    ctx = prepare_report(params)
    assert ctx.current.met_count == 13 and ctx.previous.met_count == 12
    assert ctx.changes.gained == (8,)
    assert ctx.advanced.met == (8, 15, 16)
    assert ctx.band.band_id == "30-to-50"
    assert ctx.totals["visits"] == 16 and ctx.inconsistencies == []
    assert ctx.poverty.percent_of_plan == 100


def test_header_follows_the_party_style(params):
    html = S.header(prepare_report(params))
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in html and 'class="issuer-mark">*<' in html
    assert "HỘI NÔNG DÂN TỈNH LÀO CAI" in html and "-BC/HNDT" in html
    assert "tháng 12 năm 2023" in html


def test_state_style_header_and_dated_report(params):
    params.update(header_style="state", report_date="2023-12-05", document_number="125",
                  document_code="BC-UBND")
    html = S.header(prepare_report(params))
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html and "Độc lập - Tự do - Hạnh phúc" in html
    assert "Số: 125/BC-UBND" in html and "Lào Cai, ngày 05 tháng 12 năm 2023" in html


def test_unknown_placeholder_in_narrative(params):
    params["narrative"]["plans"] = ["Giúp xã {xa_name} hoàn thành kế hoạch."]
    with pytest.raises(ParameterError, match=r"unknown field \{xa_name\}") as info:
        prepare_report(params)  # before any section is drawn
    assert info.value.parameter == "narrative.plans.0"


def test_missing_parameter_in_namespace(params):
    del params["recipients"]
    with pytest.raises(ParameterError, match="recipients"):
        prepare_report(params)


def test_inconsistent_quarters_give_a_data_quality_note(params, data_copy):
    path = data_copy / "communes" / "02881" / "quarterly.csv"
    text = path.read_text(encoding="utf-8").replace("2023,2,3,7,0,12,19", "2023,2,3,8,0,12,19")
    path.write_text(text, encoding="utf-8")
    ctx = prepare_report(params, data_dir=data_copy)
    html = S.appendix(ctx)
    assert "Chất lượng số liệu" in html
    assert "Số lượt trực tiếp về xã làm việc: số liệu các quý cho 17, trong khi số liệu cả năm ghi 16" in html
    warnings = {f["name"]: f["value"] for f in figures_of(ctx)}["data_warnings"]
    assert len(warnings) == 1


def test_missing_poverty_row_says_no_data(params, data_copy):
    path = data_copy / "communes" / "02881" / "poverty.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    ctx = prepare_report(params, data_dir=data_copy)
    assert ctx.poverty is None
    assert "Giảm nghèo: không có số liệu" in S.results(ctx)
    assert "không có số liệu" in S.appendix(ctx)


def test_document_numbers_never_break(params):
    html = S.difficulties(prepare_report(params))
    assert '<span class="nowrap">18/2022/QĐ-TTg</span>' in html
