"""This year's reports end to end: one commune's quarter, 6-month, 9-month
and year reports, and the 2026 report of a commune of the new map under the
10-criteria set, read back from their PDFs."""
from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from ntm_lib.load.periods import in_force, load_legal_documents

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
NTM = str(Path(sys.executable).with_name("ntm"))
#: Numbers of legal rules ("07/2021/NĐ-CP", "894/QĐ-UBND"), not the
#: issuing body's own documents ("256a-KH/HNDT").
CITED = re.compile(r"\b\d+[a-z]?(?:/\d{4})?/(?:QĐ|NĐ|NQ|QH|TT)[-A-Za-zĐ0-9/]*")


def ntm(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NTM_HOME": str(ROOT)}
    return subprocess.run([NTM, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=600)


def text_of(pdf: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(pdf).pages).split())


@pytest.fixture(scope="module")
def periods(tmp_path_factory):
    folder = tmp_path_factory.mktemp("periods")
    half = (ROOT / "params" / "2023" / "nam-mon-6m.yaml").read_text(encoding="utf-8")
    out = {}
    for period in ("q1", "6m", "9m", "year"):
        args = ["run", "--commune", "02881", "--year", "2023", "--build", str(folder / "build")]
        if period in ("q1", "9m"):
            params = folder / f"nam-mon-{period}.yaml"
            params.write_text(half.replace("period: 6m", f"period: {period}"), encoding="utf-8")
            args += ["--params", str(params)]
        if period != "year":
            args += ["--period", period]
        result = ntm(*args)
        assert result.returncode == 0, result.stderr
        slug = "nam-mon" if period == "year" else f"nam-mon-{period}"
        out[period] = text_of(folder / "build" / "2023" / slug / "data" / "report.pdf")
    return out


@pytest.mark.parametrize("period,title,total,rows", [
    ("q1", "quý I năm 2023", "Tổng quý I năm 2023 2 3 10 15/19", ["Quý I/2023"]),
    ("6m", "6 tháng đầu năm 2023", "Tổng 6 tháng đầu năm 2023 5 10 10 12/19",
     ["Quý I/2023", "Quý II/2023"]),
    ("9m", "9 tháng đầu năm 2023", "Tổng 9 tháng đầu năm 2023 7 13 10 12/19",
     ["Quý I/2023", "Quý II/2023", "Quý III/2023"]),
    ("year", "năm 2023", "Tổng năm 2023 7 16 10 13/19",
     ["Quý I/2023", "Quý II/2023", "Quý III/2023", "Quý IV/2023"]),
])
def test_each_period_has_its_wording_and_totals(periods, period, title, total, rows):
    text = periods[period]
    assert f"thực hiện các chương trình mục tiêu quốc gia {title}" in text
    assert total in text
    for quarter in ("Quý I/2023", "Quý II/2023", "Quý III/2023", "Quý IV/2023"):
        assert (quarter in text) == (quarter in rows)
    if period != "year":
        assert "Tổng năm" not in text and "Cuối năm 2023" not in text
        assert "số liệu giảm nghèo được tổng hợp theo năm" in text
        # No status list is dated inside a part of 2023: said, not taken from the year end.
        assert f"Không có số liệu về tình trạng các tiêu chí {title}." in text
        assert "Số liệu minh họa" not in text
        assert f"Theo số liệu theo quý (Phụ lục), đến hết {title} xã hoàn thành" in text
    assert "II. Phương hướng, nhiệm vụ " + {"q1": "quý II năm 2023", "6m": "6 tháng cuối năm 2023",
                                              "9m": "quý IV năm 2023", "year": "năm 2024"}[period] in text


@pytest.fixture(scope="module")
def bac_ha(tmp_path_factory):
    build = tmp_path_factory.mktemp("bac-ha") / "build"
    result = ntm("run", "--commune", "02839", "--year", "2026", "--build", str(build))
    assert result.returncode == 0, result.stderr
    return text_of(build / "2026" / "bac-ha" / "data" / "report.pdf")


def test_the_2026_report_is_on_the_new_map_and_the_new_set(bac_ha):
    assert "Các tiêu chí đã đạt chuẩn: 07/10 tiêu chí" in bac_ha
    assert "/19" not in bac_ha and "huyện" not in bac_ha.lower()
    assert "Tổng năm 2026 6 12 20 07/10" in bac_ha
    assert "Xã Bắc Hà có 03/10 tiêu chí chưa đạt chuẩn (30%" in bac_ha
    assert "thuộc nhóm xã" not in bac_ha  # no band: no rule for 2026-2030 is known
    assert "thực hiện chương trình mục tiêu quốc gia năm 2026" in bac_ha  # one programme
    assert "Số liệu minh họa: một phần số liệu của báo cáo này không lấy từ nguồn công khai" in bac_ha


def test_the_2026_report_names_its_predecessors(bac_ha):
    assert re.search(r"So với năm 2025: xã Bắc Hà được thành lập từ ngày 01/7/2025 trên cơ sở "
                     r"[^;]*xã Nậm Mòn", bac_ha)


@pytest.mark.parametrize("which", ["bac_ha", "year"])
def test_every_cited_rule_governs_the_report_period(bac_ha, periods, which):
    text, year = (bac_ha, 2026) if which == "bac_ha" else (periods["year"], 2023)
    documents = load_legal_documents()
    cited = set(CITED.findall(text))
    assert cited or which == "bac_ha"
    for number in cited:
        assert number in documents, f"{number} is not in data/reference/legal_documents.csv"
        assert in_force(documents[number], dt.date(year, 1, 1), dt.date(year, 12, 31)), number
