"""Report periods and the rules in force in them (issue: this year's
reports): periods.csv, statuses at the period's end, totals of its quarters,
criteria sets, bands and poverty standards only inside their days."""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from ntm_lib import calc
from ntm_lib.errors import DataError, ParameterError
from ntm_lib.load import load_band_rule, load_commune_facts
from ntm_lib.load.periods import (in_force, load_legal_documents, load_period, load_periods,
                                  load_poverty_standards)
from ntm_lib.notebook import start
from ntm_lib.params import load_params

SAMPLE = "params/2023/nam-mon.yaml"




def test_periods_are_data():
    periods = load_periods()
    assert list(periods) == ["q1", "q2", "q3", "q4", "6m", "9m", "year"]
    six = periods["6m"]
    assert six.quarters == (1, 2) and six.end(2026) == dt.date(2026, 6, 30)
    assert six.title(2026) == "6 tháng đầu năm 2026" and six.next_title(2026) == "6 tháng cuối năm 2026"
    assert periods["q4"].next_title(2026) == "quý I năm 2027"
    assert periods["year"].title(2023) == "năm 2023" and periods["year"].next_title(2023) == "năm 2024"
    with pytest.raises(ParameterError, match="unknown report period 'h1'"):
        load_period("h1")


def test_totals_cover_the_period_and_name_a_missing_quarter():
    quarters = pd.DataFrame({"quarter": [1, 2, 4], "documents_issued": [2, 3, 0],
                             "visits": [3, 7, 3], "support_million_vnd": [10.0, 0.0, 0.0],
                             "criteria_met": [15, 12, 13], "criteria_registered": [19, 19, 19]})
    six = calc.quarterly_totals(quarters, (1, 2))
    assert (six["documents_issued"], six["visits"], six["criteria_met"]) == (5, 10, 12)
    assert six["missing_quarters"] == []
    nine = calc.quarterly_totals(quarters, (1, 2, 3))
    assert nine["visits"] == 10 and nine["missing_quarters"] == [3]


def test_statuses_are_those_of_the_period_end():
    rows = pd.DataFrame({"set_id": ["s"] * 4, "year": [2023] * 4,
                         "as_of": [dt.date(2023, 6, 30), dt.date(2023, 6, 30),
                                   dt.date(2023, 12, 31), dt.date(2023, 12, 31)],
                         "criterion": [1, 2, 1, 2], "status": ["not_met", "met", "met", "met"]})
    mid = calc.statuses_at(rows, "s", 2023, dt.date(2023, 6, 30))
    assert dict(zip(mid["criterion"], mid["status"])) == {1: "not_met", 2: "met"}
    end = calc.statuses_at(rows, "s", 2023, dt.date(2023, 12, 31))
    assert dict(zip(end["criterion"], end["status"])) == {1: "met", 2: "met"}
    assert not len(calc.statuses_at(rows, "s", 2023, dt.date(2023, 3, 31)))


def test_a_criteria_set_outside_its_days_is_refused_with_the_params_line(project):
    path = project / "params" / "2026" / "bac-ha.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "criteria_set: ntm-commune-2026-2030", "criteria_set: ntm-commune-2021-2025"),
        encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        load_params(path)
    text = str(info.value)
    assert "criteria_set" in text and "line 10" in text
    assert "in force 08/03/2022-31/12/2025, not in the report period 01/01/2026-31/12/2026" in text


def test_a_poverty_standard_outside_its_days_is_refused_with_file_row_column(project):
    path = project / "data" / "communes" / "02839" / "poverty.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "Nghị định 07/2021/NĐ-CP", "Nghị định 351/2025/NĐ-CP"), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_commune_facts("02839", 2026, project / "data")
    error = info.value
    assert (error.file, error.row, error.column) == (
        "data/communes/02839/poverty.csv", 2, "poverty_standard")
    assert "in force 01/01/2027-31/12/2030, not in 2026" in str(error)


def test_the_poverty_standard_of_2026_and_2027():
    standards = load_poverty_standards()
    old, new = standards["Nghị định 07/2021/NĐ-CP"], standards["Nghị định 351/2025/NĐ-CP"]
    assert old.fields["rural_income_vnd_per_person_month"] == 1_500_000
    assert old.fields["urban_income_vnd_per_person_month"] == 2_000_000
    assert old.in_force_to == dt.date(2026, 12, 31) and old.fields["min_deprivations"] == 3
    assert new.fields["rural_income_vnd_per_person_month"] == 2_200_000
    assert new.in_force_from == dt.date(2027, 1, 1) and not new.fields["verified"]


def test_no_band_outside_decision_18_2022():
    rule = load_band_rule()
    assert rule.legal_source == "Quyết định 18/2022/QĐ-TTg"
    assert in_force(rule, dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert not in_force(rule, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    report = start("02839", 2026)
    assert report.names.band is None
    assert report.names.criteria.not_met_count == 3 and report.names.criteria.size == 10
    assert round(report.names.criteria.percent_not_met, 2) == 30.0


def test_a_six_month_report_reads_its_half_year(project):
    report = start("02881", 2023, project / "params" / "2023" / "nam-mon-6m.yaml")
    n = report.names
    assert n.period.title == "6 tháng đầu năm 2023" and n.period.quarters == [1, 2]
    assert (n.totals.documents_issued, n.totals.visits, n.totals.support_million_vnd) == (5, 10, 10)
    assert [d.number for d in n.documents] == ["256a-KH/HNDT", "2009-CV/HNDT", "279-KH/HNDT"]
    assert n.poverty is None  # the year's figure is not the half year's
    html = report.layout("appendix")
    assert "Tổng 6 tháng đầu năm 2023" in html and "Tổng năm" not in html
    assert "Quý III" not in html
    assert report.context.inconsistencies == []  # year-total rules say nothing of a half year


def test_a_missing_quarter_is_said(project):
    path = project / "data" / "communes" / "02881" / "quarterly.csv"
    path.write_text("\n".join(l for l in path.read_text(encoding="utf-8").splitlines()
                              if not l.startswith("2023,3,")) + "\n", encoding="utf-8")
    params = project / "params" / "2023" / "nam-mon-9m.yaml"
    params.write_text((project / "params" / "2023" / "nam-mon-6m.yaml").read_text(
        encoding="utf-8").replace("period: 6m", "period: 9m"), encoding="utf-8")
    report = start("02881", 2023, params, data_dir=project / "data")
    assert report.names.period.missing_quarters == [3]
    html = report.layout("appendix")
    assert "Chưa có số liệu quý III: dòng tổng chỉ gồm các quý có số liệu." in html
    assert "Tổng 9 tháng đầu năm 2023" in html


def test_every_cited_document_is_known_with_its_days():
    documents = load_legal_documents()
    assert documents["18/2022/QĐ-TTg"].in_force_to == dt.date(2025, 12, 31)
    assert documents["51/2025/QĐ-TTg"].in_force_from == dt.date(2026, 2, 15)
    for number, doc in documents.items():
        assert re.fullmatch(r"\d+[a-z]?(/\d{4})?/[A-ZĐ][A-ZĐa-z0-9-]*", number), number


def test_statuses_dated_in_the_half_year_are_stated_with_their_date(project):
    from tests.test_report import notebook_html, text_of

    path = project / "data" / "communes" / "02881" / "criteria_status.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    year_end = [l for l in lines if l.startswith("ntm-commune-2021-2025,2023,,")]  # undated: the year end
    mid = [l.replace(",2023,,", ",2023,2023-06-30,", 1) for l in year_end]
    mid = [l.replace(",8,met,", ",8,not_met,") for l in mid]  # 8 was reached in the second half
    path.write_text("\n".join(lines + mid) + "\n", encoding="utf-8")
    report = start("02881", 2023, project / "params" / "2023" / "nam-mon-6m.yaml",
                   data_dir=project / "data")
    assert report.names.criteria.met_count == 12
    text = text_of(notebook_html(project, report))
    assert "- Các tiêu chí đã đạt chuẩn đến ngày 30/06/2023: 12/19 tiêu chí" in text
    assert "- Các tiêu chí chưa đạt chuẩn đến ngày 30/06/2023: 07/19 tiêu chí" in text
