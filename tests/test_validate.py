"""Consistency rules kept as data, ``ntm validate``, and the report's
data-quality note."""
from __future__ import annotations


import pytest

from ntm_lib.cli import main
from ntm_lib.errors import DataError, DataErrors
from ntm_lib.load import load_commune_facts, load_criteria_sets
from ntm_lib.notebook import start
from ntm_lib.validate import Subject, evaluate_rules, load_rules
from ntm_lib.validate.expr import ExprError, parse




def subject(data_dir=None, year=2023):
    sets = load_criteria_sets(data_dir)
    facts = load_commune_facts("02881", year, data_dir)
    return Subject(facts, sets, sets["ntm-commune-2021-2025"],
                   sets["ntm-advanced-2021-2025-lao-cai"])


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_sample_keeps_every_rule():
    outcomes = evaluate_rules(load_rules(), subject())
    assert {o.status for o in outcomes} == {"ok", "skipped"}
    skipped = {o.rule.rule_id for o in outcomes if o.status == "skipped"}
    assert skipped == {"poverty-reduction"}  # the seed states no start and end rates
    per_quarter = [o for o in outcomes if o.rule.rule_id == "quarter-documents-named"]
    assert len(per_quarter) == 4
    per_set = [o for o in outcomes if o.rule.rule_id == "set-fully-assessed"]
    assert len(per_set) == 2  # the commune set and the advanced set


def test_criterion_met_and_not_met_on_the_same_date(project):
    path = project / "data" / "communes" / "02881" / "criteria_status.csv"
    # criterion 8: not maintained at the end of 2022, met in 2023: consistent
    assert not [o for o in evaluate_rules(load_rules(), subject(project / "data"))
                if o.rule.rule_id == "criterion-one-state" and o.status == "failed"]
    # the 2023 row dated 31/12/2022 says met, the 2022 row of that date not met
    edit(path, "ntm-commune-2021-2025,2023,,8,met", "ntm-commune-2021-2025,2023,2022-12-31,8,met")
    failed = [o.warning for o in evaluate_rules(load_rules(), subject(project / "data"))
              if o.warning and o.rule.rule_id == "criterion-one-state"]
    assert len(failed) == 1
    assert "1 tiêu chí vừa đạt vừa chưa đạt vào cùng một thời điểm: tiêu chí 8 (31/12/2022)" \
        in failed[0].message_vi


def test_a_partial_assessment_and_documents_above_the_quarter(project):
    folder = project / "data" / "communes" / "02881"
    edit(folder / "criteria_status.csv", "ntm-commune-2021-2025,2023,,19,met,\"seed I.2.2: met, 13/19\"\n", "")
    edit(folder / "quarterly.csv", "2023,3,2,3,0,12,19", "2023,3,0,3,0,12,19")
    warnings = {w.rule_id: w for w in
                (o.warning for o in evaluate_rules(load_rules(), subject(project / "data"))) if w}
    assert "có 18 tiêu chí được ghi đạt hoặc chưa đạt, trong khi bộ tiêu chí có 19 tiêu chí" in \
        warnings["set-fully-assessed"].message_vi
    assert warnings["quarter-documents-named"].message_vi == (
        "Quý III: báo cáo nêu 1 văn bản ban hành trong quý, nhiều hơn số văn bản ban hành của "
        "quý (0).")
    assert warnings["quarter-documents-named"].quarter == 3


def test_stated_percent_of_plan_against_the_figures(project):
    edit(project / "data" / "communes" / "02881" / "poverty.csv", ",10,10,100,", ",10,8,100,")
    warnings = [o.warning for o in evaluate_rules(load_rules(), subject(project / "data"))
                if o.warning]
    assert [w.message_vi for w in warnings] == [
        "Giảm tỷ lệ hộ nghèo so với kế hoạch: báo cáo ghi 100%, tính từ mức giảm và kế hoạch "
        "là 125%."]


def test_rule_warnings_appear_in_the_report_appendix(project):
    edit(project / "data" / "communes" / "02881" / "poverty.csv", ",10,10,100,", ",10,8,100,")
    report = start("02881", 2023, project / "params" / "2023" / "nam-mon.yaml",
                   data_dir=project / "data")
    html = report.layout("appendix")
    assert "Chất lượng số liệu" in html
    assert "báo cáo ghi 100%, tính từ mức giảm và kế hoạch là 125%" in html


@pytest.mark.parametrize("left,message", [
    ("sum(quarterly.visit)", "table quarterly has no column 'visit'"),
    ("avg(quarterly.visits)", "unknown function 'avg'"),
    ("sum(quarterly.visits", "expected ')'"),
    ("__import__('os')", "unexpected"),
    ("met(set)", "'set' is only known in rules whose for_each is set"),
])
def test_bad_rules_are_refused_with_the_row(project, left, message):
    path = project / "data" / "reference" / "validation_rules.csv"
    edit(path, "quarters-visits,sum(quarterly.visits),", f"quarters-visits,\"{left}\",")
    with pytest.raises((DataError, DataErrors)) as caught:
        load_rules(project / "data")
    assert message in str(caught.value) and "row 3" in str(caught.value)


def test_the_language_has_no_eval():
    for text in ("a.b.c", "1 +", "x[0]", "lambda: 1", "'text'"):
        with pytest.raises(ExprError):
            parse(text)


def test_validate_command(project, capsys):
    assert main(["validate", "--year", "2023"]) == 0
    out = capsys.readouterr().out
    assert "02881 Nậm Mòn, 2023: 0 error(s), 0 warning(s)" in out
    edit(project / "data" / "communes" / "02881" / "quarterly.csv", "2023,2,3,7,0,12,19",
         "2023,2,3,8,0,12,19")
    assert main(["validate", "--year", "2023"]) == 0
    out = capsys.readouterr().out
    assert ("warning [quarters-visits, high]: Số lượt trực tiếp về xã làm việc: số liệu các quý "
            "cho 17, trong khi số liệu cả năm ghi 16.") in out
    assert main(["validate", "--year", "2023", "--strict"]) == 2


def test_validate_reports_bad_tables_and_params(project, capsys):
    edit(project / "data" / "communes" / "02881" / "quarterly.csv", "2023,2,3,7,0,12,19",
         "2023,2,ba,7,0,12,19")
    edit(project / "params" / "2023" / "nam-mon.yaml", "header_style: party",
         "header_style: partie")
    assert main(["validate", "--commune", "nam-mon"]) == 2
    captured = capsys.readouterr()
    assert "quarterly.csv, row 3, column documents_issued" in captured.out
    assert "unknown header style 'partie'" in captured.out
    assert "02881 Nậm Mòn, 2022" in captured.out  # the year before has statuses only
