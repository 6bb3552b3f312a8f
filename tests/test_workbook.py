"""The data workbook: template, import, the catalogue of bad workbooks, the
readings of what people type, and the round trip of the sample.

Every test works on a copy of data/ and params/ (NTM_HOME points at it), so
the project's own files are never touched.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import shutil
import unicodedata
from pathlib import Path

import openpyxl
import pytest
import yaml

from ntm_lib.cli import main
from ntm_lib.workbook import WorkbookError, read_workbook
from ntm_lib.workbook.cells import BadCell, legacy_encoding
from ntm_lib.workbook.numbers import number_from_text, parse_date, parse_percent, parse_report_date
from ntm_lib.workbook.words import parse_code, parse_status
from workbook_cases import CASES, cell, edit, form_value

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("criteria_status.csv", "quarterly.csv", "year_stated.csv", "poverty.csv",
          "documents.csv", "support.csv")


def copy_project(target: Path) -> Path:
    for part in ("data", "params"):
        shutil.copytree(ROOT / part, target / part)
    return target


def listing(root: Path) -> dict[str, str]:
    """Path -> SHA-256 of every file under data/ and params/."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for part in ("data", "params") for p in sorted((root / part).rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    root = copy_project(tmp_path / "project")
    monkeypatch.setenv("NTM_HOME", str(root))
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture(scope="module")
def sample_template(tmp_path_factory) -> Path:
    """The template of the sample (filled from its data), built once."""
    from ntm_lib.workbook import gather, write_template

    root = copy_project(tmp_path_factory.mktemp("template"))
    known = gather("02881", 2023, data_dir=root / "data", params_root=root / "params")
    return write_template(root / "nam-mon-2023.xlsx", known, data_dir=root / "data")


@pytest.fixture
def good(project, sample_template) -> Path:
    """A copy of the sample's template, which imports as is."""
    path = project.parent / "nam-mon-2023.xlsx"
    shutil.copyfile(sample_template, path)
    return path


def run(args, capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------- the catalogue


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 30
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("name,build,code,message", CASES, ids=[c[0] for c in CASES])
def test_bad_workbook_is_refused_with_a_clear_message(name, build, code, message, project, good,
                                                      capsys):
    bad = project.parent / f"{name}.xlsx"
    build(good, bad)
    before = listing(project)
    status, out, err = run(["import", str(bad)], capsys)
    assert status == 2, err
    assert "Traceback" not in err and "Traceback" not in out
    assert message in err, err
    assert listing(project) == before  # nothing written
    with pytest.raises(WorkbookError) as caught:
        read_workbook(bad)
    codes = {e.code for e in getattr(caught.value, "errors", [caught.value])}
    assert code in codes, codes


def test_every_problem_is_reported_at_once(project, good, capsys):
    bad = project.parent / "bad.xlsx"
    edit(lambda wb: [cell("Tiêu chí", "C7", "x")(wb), cell("Theo quý", "C6", "bảy")(wb),
                     cell("Văn bản", "C5", "31/02/2023")(wb)])(good, bad)
    status, _, err = run(["import", str(bad)], capsys)
    assert status == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 3, err
    for line, where in zip(lines, ["Tiêu chí!C7", "Theo quý!C6", "Văn bản!C5"]):
        assert f"bad.xlsx, {where}: " in line


def test_traceback_only_with_debug(project, good):
    bad = project.parent / "bad.xlsx"
    bad.write_bytes(b"")
    with pytest.raises(WorkbookError):
        main(["--debug", "import", str(bad)])


# --------------------------------------------------------------------------- correct readings

def both_cells(*cells):
    def change(wb):
        for sheet, ref, value in cells:
            wb[sheet][ref] = value
    return change


READINGS = [
    ("nfd-text", edit(lambda wb: _nfd(wb["Văn bản"]["D5"]))),
    ("old-tone-placement-in-a-criterion-name",
     edit(cell("Tiêu chí", "B8", "Thuỷ lợi và phòng, chống thiên tai"))),
    ("criterion-found-by-name", edit(both_cells(("Tiêu chí", "A8", None),
                                                ("Tiêu chí", "B8", "thủy lợi")))),
    ("statuses-as-people-type-them", edit(both_cells(("Tiêu chí", "C8", "đạt"),
                                                     ("Tiêu chí", "C6", "Chưa đạt"),
                                                     ("Tiêu chí", "C7", " KHÔNG  ĐẠT "),
                                                     ("Tiêu chí", "E6", "khong dat")))),
    ("numbers-as-text", edit(both_cells(("Theo quý", "C6", "7"), ("Theo quý", "D5", "10,0"),
                                        ("Theo quý", "D9", "10")))),
    ("commune-code-lost-its-zero", edit(form_value("Thông tin chung", "Mã xã", 2881))),
    ("excel-dates-and-short-dates", edit(both_cells(("Văn bản", "C5", dt.datetime(2023, 2, 9)),
                                                    ("Văn bản", "C6", "18-4-2023"),
                                                    ("Văn bản", "C7", "2023-04-19")))),
    ("percent-formatted-cell", edit(lambda wb: _percent(wb))),
    ("blank-rows-and-an-extra-column", edit(lambda wb: _blank_rows_extra_column(wb))),
    ("sheet-renamed-in-case-without-diacritics", edit(lambda wb: _rename(wb))),
    ("formula-with-its-value", edit(lambda wb: _formula_with_value(wb))),
]


def _nfd(c):
    c.value = unicodedata.normalize("NFD", c.value)


def _percent(wb):
    ws = wb["Giảm nghèo"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value.startswith("Báo cáo ghi"))
    ws.cell(row, 2).value = 1.0
    ws.cell(row, 2).number_format = "0%"


def _blank_rows_extra_column(wb):
    ws = wb["Văn bản"]
    ws.insert_rows(6, 2)
    ws["G4"] = "Ghi chú"
    ws["G5"] = "bản giấy"


def _rename(wb):
    wb["Theo quý"].title = "theo quy"


def _formula_with_value(wb):
    # A file saved by Excel keeps a formula and its value; openpyxl cannot
    # write both, so the value is what stays (as after "paste values").
    wb["Theo quý"]["C9"] = 16


@pytest.mark.parametrize("name,build", READINGS, ids=[r[0] for r in READINGS])
def test_what_people_type_is_read_correctly(name, build, project, good, capsys):
    path = project.parent / f"{name}.xlsx"
    build(good, path)
    before = listing(project)
    status, out, err = run(["import", str(path)], capsys)
    assert status == 0, err
    assert listing(project) == before, out  # same data as the sample: nothing changed
    assert out.count("không đổi") == 7


def test_lost_zero_is_said(project, good, capsys):
    path = project.parent / "code.xlsx"
    edit(form_value("Thông tin chung", "Mã xã", 2881))(good, path)
    _, out, _ = run(["import", str(path)], capsys)
    assert "mã xã 2881 được đọc là 02881" in out


def test_extra_column_is_said(project, good, capsys):
    path = project.parent / "extra.xlsx"
    edit(lambda wb: _blank_rows_extra_column(wb))(good, path)
    _, out, _ = run(["import", str(path)], capsys)
    assert "cột 'Ghi chú' không có trong mẫu nên không được đọc" in out


# --------------------------------------------------------------------------- cells


@pytest.mark.parametrize("text,value", [("1.234,5", 1234.5), ("31,58%", 31.58), ("10", 10),
                                        ("10.000", 10000), ("0.5", 0.5), ("1,234.5", 1234.5),
                                        ("2,5", 2.5), ("1.234.567", 1234567)])
def test_vietnamese_numbers(text, value):
    assert number_from_text(text) == value


def test_cells():
    assert parse_percent(0.3158, "0.00%") == 31.58
    assert parse_code(2881) == "02881" and parse_code("02881") == "02881"
    assert parse_date("9/2/2023") == dt.date(2023, 2, 9)
    assert parse_report_date("12/2023") == "2023-12"
    assert parse_report_date("05/12/2023") == "2023-12-05"
    assert parse_report_date(dt.datetime(2023, 12, 1), "mm/yyyy") == "2023-12"
    assert parse_status("Đạt") == "met" and parse_status("Chưa đạt") == "not_met"
    assert parse_status("Không có số liệu") is None
    with pytest.raises(BadCell, match="không có thật"):
        parse_date("29/02/2023")
    assert legacy_encoding("B¸t X¸t") == "TCVN3 (ABC)"
    assert legacy_encoding("Mêng Kh¬ng") == "TCVN3 (ABC)"
    assert legacy_encoding("Vieät Nam") == "VNI"
    assert legacy_encoding("Bát Xát, Mường Khương") is None


# --------------------------------------------------------------------------- the round trip


def fill_from_data(template: Path, source: Path, year: int, out: Path) -> None:
    """From ``source`` (``data/`` holding the commune's tables, ``params/``), type the sample's figures and texts into a blank template, the way an
    officer would: statuses as words, dates dd/mm/yyyy, one row per fact."""
    rows = {name: list(csv.DictReader((source / "data" / name).open(encoding="utf-8")))
            for name in TABLES}
    params = yaml.safe_load((source / "params" / str(year) / "nam-mon.yaml").read_text("utf-8"))
    wb = openpyxl.load_workbook(template)
    word = {"met": "Đạt", "not_met": "Không đạt"}
    day = lambda iso: "" if not iso else "/".join(reversed(iso.split("-")))  # noqa: E731
    for sheet, set_id in (("Tiêu chí", params["criteria_set"]),
                          ("Tiêu chí nâng cao", params["advanced_criteria_set"])):
        ws = wb[sheet]
        for r in rows["criteria_status.csv"]:
            if r["set_id"] != set_id or int(r["year"]) not in (year, year - 1):
                continue
            col = 3 if int(r["year"]) == year else 5
            ws.cell(5, col).value = day(r["as_of"]) or None
            ws.cell(5 + int(r["criterion"]), col).value = word[r["status"]]
            ws.cell(5 + int(r["criterion"]), col + 1).value = r["source"]
    ws = wb["Theo quý"]
    counts = ["documents_issued", "visits", "support_million_vnd", "criteria_met",
              "criteria_registered", "source"]
    for r in rows["quarterly.csv"]:
        for c, key in enumerate(counts, start=2):
            ws.cell(4 + int(r["quarter"]), c).value = _typed(r[key])
    for c, key in enumerate(counts, start=2):
        ws.cell(9, c).value = _typed(rows["year_stated.csv"][0][key])
    for sheet, name, keys in (("Văn bản", "documents.csv",
                               ["number", "kind_vi", "issued_on", "title_vi", "source"]),
                              ("Hỗ trợ", "support.csv",
                               ["kind", "description_vi", "recipient_count", "recipient_unit_vi",
                                "amount_million_vnd", "source"])):
        for i, r in enumerate(rows[name]):
            for c, key in enumerate(keys, start=1):
                value = day(r[key]) if key == "issued_on" else _typed(r[key])
                wb[sheet].cell(5 + i, c).value = "Vật chất (tiền, hàng)" if value == "material" \
                    else value
    pov = rows["poverty.csv"][0]
    labels = {"Chuẩn nghèo áp dụng": "poverty_standard", "Mức giảm trong năm": "reduction_points",
              "Kế hoạch giảm trong năm": "plan_reduction_points",
              "Báo cáo ghi đạt so với kế hoạch": "stated_percent_of_plan",
              "Nguồn số liệu": "source"}
    ws = wb["Giảm nghèo"]
    for r in range(5, ws.max_row + 1):
        key = labels.get(ws.cell(r, 1).value)
        if key:
            ws.cell(r, 2).value = _typed(pov[key])
    _fill_general(wb["Thông tin chung"], params)
    _fill_narrative(wb["Lời văn"], params["narrative"])
    wb.save(out)


def _typed(text: str):
    """A CSV value as a person types it: numbers as numbers, blanks empty."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _fill_general(ws, params):
    fields = {"Bộ tiêu chí nâng cao": [params["advanced_criteria_set"]],
              "Cơ quan ban hành": params["issuing_body"], "Kiểu tiêu đề": [params["header_style"]],
              "Địa danh": [params["place"]],
              "Ngày báo cáo": ["/".join(reversed(params["report_date"].split("-")))],
              "Số văn bản": [params["document_number"] or None],
              "Ký hiệu văn bản": [params["document_code"]],
              "Thẩm quyền ký": [params["signer_capacity"]],
              "Chức vụ người ký": [params["signer_title"]],
              "Họ và tên người ký": [params["signer_name"]], "Nơi nhận": params["recipients"]}
    if "issuing_body_short" in params:
        fields["Tên cơ quan trong câu văn"] = [params["issuing_body_short"]]
    seen: dict[str, int] = {}
    for r in range(5, ws.max_row + 1):
        label = ws.cell(r, 1).value
        if label in fields:
            i = seen.get(label, 0)
            seen[label] = i + 1
            ws.cell(r, 2).value = fields[label][i] if i < len(fields[label]) else None


def _fill_narrative(ws, narrative):
    from ntm_lib.workbook.spec import NARRATIVE_SECTIONS

    r = 5
    for key, label in NARRATIVE_SECTIONS.items():
        value = narrative
        for part in key.split("."):
            value = value[part]
        for text in [value] if isinstance(value, str) else value:
            ws.cell(r, 1).value, ws.cell(r, 2).value = label, text
            r += 1
    for row in range(r, ws.max_row + 1):
        ws.cell(row, 1).value = ws.cell(row, 2).value = None


@pytest.fixture
def blank_2023(project) -> Path:
    return before_2023(project)


def before_2023(project: Path) -> Path:
    """Make ``project`` as it was before the 2023 figures came in: only the
    2022 statuses, no params file for 2023 (it lives in 2022's place).
    Returns the folder where the shipped tables and params are kept."""
    saved = project.parent / "shipped"
    shutil.copytree(project / "data" / "communes" / "02881", saved / "data")
    shutil.copytree(project / "params", saved / "params")
    folder = project / "data" / "communes" / "02881"
    for name in TABLES:
        with (folder / name).open(encoding="utf-8") as handle:
            lines = handle.read().splitlines(keepends=True)
        keep = [lines[0]] + [ln for ln in lines[1:] if not ln.startswith(
            ("2023,", "ntm-commune-2021-2025,2023", "ntm-advanced-2021-2025-lao-cai,2023"))]
        (folder / name).write_text("".join(keep), encoding="utf-8")
    params = project / "params" / "2023" / "nam-mon.yaml"
    (project / "params" / "2022").mkdir()
    shutil.move(params, project / "params" / "2022" / "nam-mon.yaml")
    text = (project / "params" / "2022" / "nam-mon.yaml").read_text(encoding="utf-8")
    (project / "params" / "2022" / "nam-mon.yaml").write_text(
        text.replace("year: 2023", "year: 2022"), encoding="utf-8")
    return saved


def test_template_prefills_what_is_known(project, blank_2023, capsys):
    out = project.parent / "blank.xlsx"
    assert main(["template", "--commune", "02881", "--year", "2023", "--out", str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:3] == ["Thông tin chung", "Tiêu chí", "Tiêu chí nâng cao"]
    assert wb.sheetnames[-1] == "Hướng dẫn"
    ws = wb["Tiêu chí"]
    assert ws["C4"].value == "Tình trạng năm 2023" and ws["E4"].value == "Tình trạng cuối năm 2022"
    assert [ws.cell(r, 1).value for r in (6, 24)] == [1, 19]
    assert ws["B13"].value == "Thông tin và Truyền thông"
    assert ws["C13"].value is None and ws["E13"].value == "Không đạt"  # last year's status
    assert ws["E5"].value == "31/12/2022" and ws.freeze_panes == "A5"
    assert any("Đạt,Không đạt" in dv.formula1 for dv in ws.data_validations.dataValidation)
    general = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(5, 40)
               for ws in [wb["Thông tin chung"]]}
    assert general["Mã xã"] == "02881" and general["Tên xã"] == "Nậm Mòn"
    assert general["Họ và tên người ký"] == "Nguyễn Văn A"  # carried from 2022
    guide = wb["Hướng dẫn"]
    units = {guide.cell(r, 2).value: guide.cell(r, 4).value for r in range(1, guide.max_row + 1)}
    assert units["Ủng hộ, vận động, huy động giúp đỡ xã"] == "triệu đồng"


def test_round_trip_reproduces_the_sample(project, blank_2023, capsys):
    template = project.parent / "blank.xlsx"
    filled = project.parent / "nam-mon-2023.xlsx"
    assert main(["template", "--commune", "02881", "--year", "2023", "--out", str(template)]) == 0
    fill_from_data(template, blank_2023, 2023, filled)
    status, out, err = run(["import", str(filled)], capsys)
    assert status == 0, err
    assert "params/2023/nam-mon.yaml: tệp mới" in out
    assert "data/communes/02881/quarterly.csv: cập nhật: thêm 4 dòng" in out
    for name in TABLES:
        assert (project / "data" / "communes" / "02881" / name).read_bytes() == \
            (blank_2023 / "data" / name).read_bytes(), name
    written = yaml.safe_load((project / "params" / "2023" / "nam-mon.yaml").read_text("utf-8"))
    shipped = yaml.safe_load((blank_2023 / "params" / "2023" / "nam-mon.yaml").read_text("utf-8"))
    assert written == shipped
    # and importing the same workbook again changes nothing
    status, out, _ = run(["import", str(filled)], capsys)
    assert status == 0 and out.count("không đổi") == 7


def test_dry_run_writes_nothing(project, blank_2023, capsys):
    template = project.parent / "blank.xlsx"
    filled = project.parent / "filled.xlsx"
    main(["template", "--commune", "02881", "--year", "2023", "--out", str(template)])
    fill_from_data(template, blank_2023, 2023, filled)
    before = listing(project)
    status, out, _ = run(["import", "--dry-run", str(filled)], capsys)
    assert status == 0 and "would change" in out and listing(project) == before


def test_import_lists_rule_warnings_and_strict_refuses(project, good, capsys):
    path = project.parent / "warn.xlsx"
    edit(cell("Theo quý", "C6", 8))(good, path)  # quarters now add up to 17 visits, year says 16
    before = listing(project)
    status, _, err = run(["import", "--strict", str(path)], capsys)
    assert status == 2 and listing(project) == before
    status, out, _ = run(["import", str(path)], capsys)
    assert status == 0
    assert ("Số lượt trực tiếp về xã làm việc: số liệu các quý cho 17, trong khi số liệu cả năm "
            "ghi 16.") in out
    assert "quarterly.csv: cập nhật: thêm 0 dòng, sửa 1, xóa 0, giữ nguyên 3" in out


def test_a_year_without_data_gets_a_template(project, capsys):
    out = project.parent / "nam-mon-2024.xlsx"
    status, text, _ = run(["template", "--commune", "2881", "--year", "2024", "--out", str(out)],
                          capsys)
    assert status == 0 and "ntm-commune-2021-2025" in text
    ws = openpyxl.load_workbook(out)["Tiêu chí"]
    assert ws["E13"].value == "Đạt"  # criterion 8 met at the end of 2023


def test_a_workbook_saved_by_libreoffice(project, capsys):
    """tests/fixtures/nam-mon-2023-libreoffice.xlsx is the sample's template
    with the year's visits as the formula =SUM(C5:C8), opened and saved by
    LibreOffice Calc 7 (``soffice --headless --convert-to xlsx``): its XML,
    styles and cached formula values are LibreOffice's, not openpyxl's."""
    data = read_workbook(Path(__file__).parent / "fixtures" / "nam-mon-2023-libreoffice.xlsx")
    assert (data.commune.code, data.year) == ("02881", 2023)
    assert [r["visits"] for r in data.rows["quarterly.csv"]] == [3, 7, 3, 3]
    assert data.rows["year_stated.csv"][0]["visits"] == 16  # the value LibreOffice calculated
    met = [r["criterion"] for r in data.rows["criteria_status.csv"]
           if (r["set_id"], r["year"], r["status"]) == ("ntm-commune-2021-2025", 2023, "met")]
    assert met == [3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 19]
    assert [d["issued_on"] for d in data.rows["documents.csv"]][0] == dt.date(2023, 2, 9)
    assert data.params["signer_name"] == "Nguyễn Văn A" and data.params["report_date"] == "2023-12"


def test_changed_parameters_are_named_and_comments_kept(project, good, capsys):
    path = project.parent / "signer.xlsx"
    edit(form_value("Thông tin chung", "Họ và tên người ký", "Lê Thị C"))(good, path)
    status, out, _ = run(["import", str(path)], capsys)
    assert status == 0 and "params/2023/nam-mon.yaml: sửa signer_name" in out
    text = (project / "params" / "2023" / "nam-mon.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Parameters of the 2023 report on Nậm Mòn commune")
    assert yaml.safe_load(text)["signer_name"] == "Lê Thị C"
    assert 'commune: "02881"' in text  # codes stay quoted strings


def test_a_new_commune_and_a_new_criteria_set(project, capsys):
    """Bắc Hà (02839), created on 01/7/2025, has no data yet; 2026 is assessed
    on the 10 criteria of Decision 51/2025/QĐ-TTg."""
    shutil.rmtree(project / "data" / "communes" / "02839")  # the sample's illustrative 2026 report
    shutil.rmtree(project / "params" / "2026")
    blank = project.parent / "bac-ha-2026.xlsx"
    status, out, _ = run(["template", "--commune", "bac-ha", "--year", "2026", "--out",
                          str(blank)], capsys)
    assert status == 0 and "ntm-commune-2026-2030" in out
    wb = openpyxl.load_workbook(blank)
    assert [wb["Tiêu chí"].cell(r, 1).value for r in (6, 15, 16)] == [1, 10, None]
    general = {"Cơ quan ban hành": "UBND XÃ BẮC HÀ", "Tên cơ quan trong câu văn": "UBND xã Bắc Hà",
               "Kiểu tiêu đề": "state", "Địa danh": "Bắc Hà", "Ngày báo cáo": "15/12/2026",
               "Ký hiệu văn bản": "BC-UBND", "Chức vụ người ký": "Chủ tịch",
               "Họ và tên người ký": "Trần Văn B", "Nơi nhận": "Lưu: VT"}
    ws = wb["Thông tin chung"]
    for r in range(5, ws.max_row + 1):
        if ws.cell(r, 1).value in general and ws.cell(r, 2).value is None:
            ws.cell(r, 2).value = general.pop(ws.cell(r, 1).value)
    for r in range(6, 16):
        wb["Tiêu chí"].cell(r, 3).value = "Đạt" if r % 2 else "Chưa đạt"
    for r, row in zip(range(5, 9), [(1, 2, 0, 5, 10), (0, 1, 0, 5, 10), (1, 1, 0, 5, 10),
                                    (0, 1, 0, 5, 10)]):
        for c, value in enumerate(row, start=2):
            wb["Theo quý"].cell(r, c).value = value
    ws = wb["Lời văn"]
    row = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value == "Lời kết")
    ws.cell(row, 2).value = "Trên đây là báo cáo của xã {{ commune.name }}./."
    filled = project.parent / "filled.xlsx"
    wb.save(filled)
    status, out, err = run(["import", str(filled)], capsys)
    assert status == 0, err
    assert "data/communes/02839/criteria_status.csv: tệp mới: thêm 10 dòng" in out
    assert "params/2026/bac-ha.yaml: tệp mới" in out
    assert main(["validate", "--commune", "02839"]) == 0
    assert "02839 Bắc Hà, 2026: 0 error(s), 0 warning(s)" in capsys.readouterr().out
