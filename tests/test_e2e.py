"""End to end, through the command users run: ``ntm run``.

Slow (a real kernel, nbconvert and WeasyPrint): marked ``e2e``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
NTM = str(Path(sys.executable).with_name("ntm"))

MET = ["Thủy lợi và phòng, chống thiên tai", "Điện", "Trường học", "Cơ sở vật chất văn hóa",
       "Cơ sở hạ tầng thương mại nông thôn", "Thông tin và Truyền thông", "Nhà ở dân cư", "Lao động",
       "Tổ chức sản xuất và phát triển kinh tế nông thôn", "Giáo dục và Đào tạo", "Y tế", "Văn hóa",
       "Quốc phòng và An ninh"]
MET_NUMBERS = [3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 19]
NOT_MET = {1: "Quy hoạch", 2: "Giao thông", 10: "Thu nhập", 11: "Nghèo đa chiều",
           17: "Môi trường và an toàn thực phẩm", 18: "Hệ thống chính trị và tiếp cận pháp luật"}


def ntm(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "NTM_HOME": str(ROOT)}
    return subprocess.run([NTM, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=600)


def flat(text: str) -> str:
    """Whitespace collapsed, as lines break anywhere in a PDF or HTML."""
    return re.sub(r"\s+", " ", text)


def html_text(html: str) -> str:
    """Visible text of the HTML: no style or SVG, inline tags joined, others spaced."""
    html = re.sub(r"<(style|svg)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?(?:span|strong|em|b|i)\b[^>]*>", "", html)
    return flat(re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    build = tmp_path_factory.mktemp("build")
    result = ntm("run", "--commune", "02881", "--year", "2023", "--build", str(build))
    assert result.returncode == 0, result.stderr
    latest = build / "2023" / "nam-mon"
    html = (latest / "data" / "report.html").read_text(encoding="utf-8")
    pdf_text = "\n".join(page.extract_text()
                         for page in PdfReader(latest / "data" / "report.pdf").pages)
    return {"build": build, "latest": latest, "stdout": result.stdout, "html": html,
            "html_text": html_text(html), "pdf_text": flat(pdf_text),
            "pdf_raw": pdf_text}


def test_prints_where_the_outputs_are(sample):
    for name in ("data/commune_report.ipynb", "data/report.html", "data/report.pdf", "manifest.json"):
        assert (sample["latest"] / name).is_file()
        assert f"2023/nam-mon/{name}" in sample["stdout"]
    assert sample["latest"].is_symlink()  # pointer to the archived run


@pytest.mark.parametrize("kind", ["html_text", "pdf_text"])
def test_report_states_the_computed_facts(sample, kind):
    text = sample[kind]
    assert "Các tiêu chí đã đạt chuẩn: 13/19 tiêu chí" in text
    for n, name in zip(MET_NUMBERS, MET):
        assert f"Tiêu chí {n} ({name})" in text
    assert "Các tiêu chí chưa đạt chuẩn: 06/19 tiêu chí" in text
    for n, name in NOT_MET.items():
        assert f"Tiêu chí {n} ({name})" in text
    assert "đạt lại 1 tiêu chí: Tiêu chí 8 (Thông tin và Truyền thông)" in text
    assert ("xã đạt 03/19 tiêu chí, đó là: tiêu chí số 8 - Thông tin và truyền thông; "
            "tiêu chí số 15 - Hành chính công; tiêu chí số 16 - Tiếp cận pháp luật") in text
    assert ("thuộc nhóm xã có từ 30% đến dưới 50% số tiêu chí không đáp ứng mức đạt chuẩn theo "
            "Quyết định 18/2022/QĐ-TTg, trong đó có tiêu chí Thu nhập và Môi trường và an toàn "
            "thực phẩm") in text
    assert "06/19 tiêu chí chưa đạt chuẩn (31,58%)" in text
    assert ("tỷ lệ hộ nghèo giảm 10 điểm phần trăm, so với kế hoạch giảm 10 điểm phần trăm, "
            "bằng 100% kế hoạch") in text
    assert "Tặng quà Tết Nguyên đán cho 20 hộ nghèo, tổng trị giá 10 triệu đồng" in text
    assert "Kế hoạch số 256a-KH/HNDT ngày 09/02/2023" in text


@pytest.mark.parametrize("kind", ["html_text", "pdf_text"])
def test_appendix_rows_and_totals(sample, kind):
    text = sample[kind]
    assert "Tổng năm 2023 7 16 10 13/19" in text
    for row in ("1 Quý I/2023 2 3 10 15/19", "2 Quý II/2023 3 7 0 12/19",
                "3 Quý III/2023 2 3 0 12/19", "4 Quý IV/2023 0 3 0 13/19"):
        assert row in text


def test_pdf_text_is_the_same_nfc_text(sample):
    raw = sample["pdf_raw"]
    assert unicodedata.is_normalized("NFC", raw)
    for name in ["Nậm Mòn", "Bắc Hà", "Lào Cai", *MET, *NOT_MET.values()]:
        assert name in sample["pdf_text"], name


def test_pdf_is_a4_with_page_numbers_from_page_2(sample):
    reader = PdfReader(sample["latest"] / "data" / "report.pdf")
    assert len(reader.pages) >= 2
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 595.28) < 1 and abs(height - 841.89) < 1
    def top_margin_text(page) -> str:
        """Text drawn in the top 20 mm, where Decree 30/2020 puts page numbers."""
        found = []
        limit = float(page.mediabox.height) - 20 / 25.4 * 72

        def visit(text, cm, tm, font, size):
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]  # text origin in page space
            if text.strip() and y > limit:
                found.append(text.strip())
        page.extract_text(visitor_text=visit)
        return " ".join(found)

    assert top_margin_text(reader.pages[0]) == ""
    for number, page in enumerate(reader.pages[1:], start=2):
        assert top_margin_text(page) == str(number)


def test_html_is_self_contained_without_code(sample):
    html = sample["html"]
    assert "<script" not in html
    assert not re.search(r'(?:src|href)="(?!data:|#)', html)
    assert "prepare_report" not in html and "import ntm_lib" not in html
    assert html.count("<svg") >= 3  # the three charts, inline


def test_manifest_is_evidence(sample):
    latest = sample["latest"]
    manifest = json.loads((latest / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok"
    assert manifest["parameters"]["commune"] == "02881"
    for name, digest in manifest["outputs"].items():
        assert hashlib.sha256((latest / "data" / name).read_bytes()).hexdigest() == digest
    inputs = {i["path"]: i["sha256"] for i in manifest["inputs"]}
    for path in ("data/communes/02881/criteria_status.csv", "data/communes/02881/quarterly.csv",
                 "data/reference/criteria.csv", "data/reference/bands.csv"):
        assert inputs[path] == hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
    assert manifest["params_file"]["path"] == "params/2023/nam-mon.yaml"
    assert manifest["notebook_template"]["path"] == "notebooks/commune_report.ipynb"
    env = manifest["environment"]
    assert env["python"] and env["packages"]["papermill"] and env["packages"]["weasyprint"]
    assert "commit" in env["git"]
    assert manifest["started_utc"] <= manifest["ended_utc"]


def test_figures_read_back_from_the_archived_notebook(sample):
    from ntm_lib.record import read_figures

    figures = read_figures(sample["latest"] / "data" / "commune_report.ipynb")
    assert figures["criteria_met"].value == 13
    assert figures["criteria_not_met_numbers"].value == [1, 2, 10, 11, 17, 18]
    assert figures["criteria_gained"].value == [8]
    assert figures["advanced_met_numbers"].value == [8, 15, 16]
    assert figures["band"].value == "30-to-50"
    assert figures["band_key_criteria"].value == [10, 17]
    assert figures["year_visits"].value == 16
    assert figures["poverty_percent_of_plan"].value == 100


def test_slug_works_too_and_runs_never_overwrite(sample):
    result = ntm("run", "--commune", "nam-mon", "--year", "2023", "--build", str(sample["build"]))
    assert result.returncode == 0, result.stderr
    runs = [p for p in (sample["build"] / "archive" / "2023" / "nam-mon").iterdir() if p.is_dir()]
    assert len(runs) == 2 and not any(p.name.startswith(".partial") for p in runs)


def test_failed_cell_keeps_notebook_and_names_cell(tmp_path):
    nb = json.loads((ROOT / "notebooks" / "commune_report.ipynb").read_text(encoding="utf-8"))
    nb["cells"].insert(5, {"cell_type": "code", "metadata": {}, "execution_count": None,
                           "outputs": [], "source": "raise ValueError('số liệu hỏng')"})
    broken = tmp_path / "broken.ipynb"
    broken.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    build = tmp_path / "build"
    result = ntm("run", "--commune", "02881", "--year", "2023", "--notebook", str(broken),
                 "--build", str(build))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "ValueError: số liệu hỏng" in result.stderr and "cell" in result.stderr
    [run] = [p for p in (build / "archive" / "2023" / "nam-mon").iterdir() if p.is_dir()]
    executed = json.loads((run / "data" / "commune_report.ipynb").read_text(encoding="utf-8"))
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors and errors[0]["ename"] == "ValueError"
    assert json.loads((run / "manifest.json").read_text(encoding="utf-8"))["status"] == "failed"
    assert not (build / "2023" / "nam-mon").exists()  # no latest pointer to a failed run


@pytest.mark.parametrize("args, message", [
    (["--commune", "99999", "--year", "2023"], "99999"),
    (["--commune", "02881", "--year", "2024"], "params/2024/nam-mon.yaml"),
    # Nậm Mòn ended on 30/06/2025: a 2031 report is refused naming its successor.
    (["--commune", "02881", "--year", "2031"], "went into 02839 Xã Bắc Hà"),
])
def test_bad_input_is_one_clear_line(tmp_path, args, message):
    result = ntm("run", *args, "--build", str(tmp_path / "build"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and message in result.stderr
    assert not (tmp_path / "build").exists() or not any((tmp_path / "build").rglob("*.ipynb"))


def test_notebook_without_parameters_cell_refused(tmp_path):
    nb = json.loads((ROOT / "notebooks" / "commune_report.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        cell["metadata"].pop("tags", None)
    path = tmp_path / "untagged.ipynb"
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    result = ntm("run", "--commune", "02881", "--year", "2023", "--notebook", str(path),
                 "--build", str(tmp_path / "build"))
    assert result.returncode != 0 and "parameters" in result.stderr and "Traceback" not in result.stderr
