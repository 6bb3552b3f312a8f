"""Tests of ntm_lib.load: real values from the shipped data/, and bad inputs
built from a copy of data/ in tmp_path."""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import unicodedata
from pathlib import Path

import pytest

from ntm_lib.errors import DataError, DataErrors, UnknownCommuneError
from ntm_lib.load import (
    Column,
    collect_inputs,
    list_criteria_sets,
    load_band_rule,
    load_commune_facts,
    load_criteria_set,
    load_criteria_sets,
    load_header_style,
    load_registry,
    load_status_labels,
    read_table,
    resolve_commune,
)
from ntm_lib.validate import load_rules

ROOT = Path(__file__).resolve().parents[1]
SET_2021 = "ntm-commune-2021-2025"
ADVANCED = "ntm-advanced-2021-2025-lao-cai"


_LOG = {}


@pytest.fixture(autouse=True)
def _project_root(monkeypatch):
    """Each test reads inside its own input log (ntm_lib.load.collect_inputs)."""
    monkeypatch.setenv("NTM_HOME", str(ROOT))
    with collect_inputs() as log:
        _LOG["log"] = log
        yield


def inputs_read() -> list:
    return _LOG["log"].entries()


def reset_inputs_read() -> None:
    _LOG["log"].clear()


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A copy of data/ in a project rooted at tmp_path (paths in errors stay short)."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "params").mkdir()
    monkeypatch.setenv("NTM_HOME", str(tmp_path))
    return tmp_path / "data"


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def problems_of(excinfo: pytest.ExceptionInfo) -> list[DataError]:
    error = excinfo.value
    found = error.errors if isinstance(error, DataErrors) else [error]
    # one readable line per problem
    assert len(str(error).splitlines()) == len(found)
    return found


def only(errors: list[DataError], **fields) -> DataError:
    matching = [e for e in errors if all(getattr(e, k) == v for k, v in fields.items())]
    assert len(matching) == 1, (fields, [str(e) for e in errors])
    return matching[0]


def statuses(facts, set_id: str, year: int, status: str) -> set[int]:
    cs = facts.criteria_status
    picked = cs[(cs["set_id"] == set_id) & (cs["year"] == year) & (cs["status"] == status)]
    return set(picked["criterion"])


# --------------------------------------------------------------------------- reference data


def test_criteria_set_2021_2025():
    cs = load_criteria_set(SET_2021)
    assert cs.size == 19
    assert cs.numbers == tuple(range(1, 20))
    assert cs.name_of(17) == "Môi trường và an toàn thực phẩm"
    assert cs.find("hộ nghèo") == 11
    assert cs.find("Thuỷ lợi") == 3
    assert cs.find("  MÔI TRƯỜNG VÀ AN TOÀN THỰC PHẨM. ") == 17
    assert cs.find("Hệ thống tổ chức chính trị xã hội") == 18
    assert cs.find("không có") is None
    assert cs.legal_source == "Quyết định 318/QĐ-TTg"
    assert cs.issued_on == dt.date(2022, 3, 8)
    assert cs.verified is True
    assert list(cs.criteria.columns) == ["number", "name_vi", "group_vi", "aliases"]
    assert cs.criteria["number"].dtype == "int64"
    assert cs.criteria.loc[11, "aliases"] == ("Lao động và việc làm", "Lao động có việc làm")
    assert cs.criteria.loc[0, "aliases"] == ()


def test_other_criteria_sets():
    assert load_criteria_set("ntm-commune-2026-2030").size == 10
    advanced = load_criteria_set(ADVANCED)
    assert advanced.verified is False
    assert [advanced.name_of(n) for n in (8, 15, 16)] == [
        "Thông tin và truyền thông", "Hành chính công", "Tiếp cận pháp luật"]
    assert load_criteria_set("ntm-commune-2016-2020").find("Nghèo đa chiều") == 11
    table = list_criteria_sets()
    assert table["set_id"].tolist() == [
        "ntm-commune-2016-2020", SET_2021, ADVANCED, "ntm-commune-2026-2030"]
    assert table["criteria_count"].tolist() == [19, 19, 19, 10]


def test_name_of_outside_the_set():
    with pytest.raises(DataError, match="criterion 20 is not in the set ntm-commune-2021-2025"):
        load_criteria_set(SET_2021).name_of(20)


def test_unknown_criteria_set_lists_known_ids():
    with pytest.raises(DataError) as excinfo:
        load_criteria_set("ntm-2030")
    assert excinfo.value.file == "data/reference/criteria_sets.csv"
    assert SET_2021 in str(excinfo.value) and "ntm-commune-2026-2030" in str(excinfo.value)


def test_band_rule():
    rule = load_band_rule()
    assert rule.legal_source == "Quyết định 18/2022/QĐ-TTg"
    assert rule.issued_on == dt.date(2022, 8, 2)
    assert rule.bands["band_id"].tolist() == ["under-30", "30-to-50", "50-plus"]
    assert rule.bands["lower_percent"].tolist() == [0.0, 30.0, 50.0]
    assert rule.bands["upper_inclusive"].tolist() == [False, False, True]
    cs = load_criteria_set(SET_2021)
    assert {cs.find(name) for name in rule.key_criteria} - {None} == {10, 17, 19}


def test_header_styles_and_status_labels():
    party = load_header_style("party")
    assert party.right_line1 == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert party.right_line2 is None
    assert party.asterisk_under_body is True
    state = load_header_style("state")
    assert state.right_line2 == "Độc lập - Tự do - Hạnh phúc"
    assert state.number_format.format(number=12, code="KH-UBND") == "Số: 12/KH-UBND"
    with pytest.raises(DataError, match="one of state, party"):
        load_header_style("ministry")
    assert load_status_labels() == {"met": "Đạt", "not_met": "Chưa đạt"}


# --------------------------------------------------------------------------- registry


def test_registry_codes_stay_strings():
    communes = {c.code: c for c in load_registry()}
    nam_mon = communes["02881"]
    assert (nam_mon.district_code, nam_mon.province_code) == ("085", "10")
    assert nam_mon.slug == "nam-mon"
    assert nam_mon.successor_code == "02839"
    assert nam_mon.valid_to == dt.date(2025, 6, 30)
    assert communes["02839"].district_code is None
    assert communes["02839"].province_code == "15"


def test_resolve_commune():
    assert resolve_commune("02881").name == "Nậm Mòn"
    assert resolve_commune("2881").code == "02881"
    assert resolve_commune(2881).code == "02881"
    assert resolve_commune("nam-mon").district_name == "Bắc Hà"
    assert resolve_commune("Nậm Mòn").code == "02881"
    assert resolve_commune("bac-ha").code == "02839"


def test_unknown_commune_suggests_close_matches():
    with pytest.raises(UnknownCommuneError) as excinfo:
        resolve_commune("nam-mom")
    error = excinfo.value
    assert error.file == "data/registry/communes.csv"
    assert "nam-mon" in error.message
    assert len(str(error).splitlines()) == 1


# --------------------------------------------------------------------------- commune facts


def test_nam_mon_2023_facts():
    facts = load_commune_facts("02881", 2023)
    assert facts.commune.code == "02881" and facts.year == 2023
    assert len(statuses(facts, SET_2021, 2023, "met")) == 13
    assert statuses(facts, SET_2021, 2023, "not_met") == {1, 2, 10, 11, 17, 18}
    assert statuses(facts, SET_2021, 2022, "not_met") == {1, 2, 8, 10, 11, 17, 18}
    assert statuses(facts, ADVANCED, 2023, "met") == {8, 15, 16}
    advanced = facts.criteria_status[facts.criteria_status["set_id"] == ADVANCED]
    assert set(advanced["as_of"]) == {dt.date(2023, 11, 30)}

    q = facts.quarterly
    assert q["quarter"].tolist() == [1, 2, 3, 4]
    row = q.iloc[0]
    assert (row.documents_issued, row.visits, row.support_million_vnd,
            row.criteria_met, row.criteria_registered) == (2, 3, 10.0, 15, 19)
    assert q["support_million_vnd"].dtype == "float64"
    assert q["visits"].dtype == "int64"
    assert q.attrs == {"file": "data/communes/02881/quarterly.csv", "rows": [2, 3, 4, 5]}

    assert facts.year_stated["documents_issued"] == 7
    assert facts.year_stated["visits"] == 16
    assert facts.year_stated["criteria_met"] == 13
    assert facts.poverty["reduction_points"] == 10.0
    assert facts.poverty["stated_percent_of_plan"] == 100.0
    assert facts.poverty["rate_start_percent"] is None
    assert facts.documents["number"].tolist()[0] == "256a-KH/HNDT"
    assert facts.documents["issued_on"].tolist()[0] == dt.date(2023, 2, 9)
    assert facts.support["amount_million_vnd"].tolist() == [10.0]
    assert facts.support["recipient_count"].tolist() == [20]


def test_year_without_data():
    with pytest.raises(DataError) as excinfo:
        load_commune_facts("02881", 2024)
    assert excinfo.value.file == "data/communes/02881/"
    assert "no data for 2024" in str(excinfo.value)
    assert "2022, 2023" in str(excinfo.value)


def test_commune_without_folder():
    with pytest.raises(DataError) as excinfo:
        load_commune_facts("02839", 2023)
    assert excinfo.value.file == "data/communes/02839/"


def test_inputs_read_lists_every_file():
    load_commune_facts("02881", 2023)
    load_band_rule()
    load_header_style("party")
    load_status_labels()
    load_rules()  # data/reference/validation_rules.csv: read by every report too
    log = {entry["path"]: entry for entry in inputs_read()}
    expected = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "data").rglob("*.csv")
                      if "communes/02839" not in p.as_posix()  # another commune's tables
                      and p.name not in ("periods.csv", "poverty_standards.csv",
                                         "programmes.csv", "legal_documents.csv"))
    # The poverty standards are read with the commune's facts (their days are checked).
    expected = sorted(expected + ["data/reference/poverty_standards.csv"])
    assert sorted(log) == expected
    for path, entry in log.items():
        assert entry["sha256"] == hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
    assert log["data/communes/02881/criteria_status.csv"]["rows"] == 57
    assert log["data/reference/criteria.csv"]["rows"] == 67
    reset_inputs_read()
    assert inputs_read() == []


def test_inputs_read_keeps_latest_digest(data):
    path = data / "reference" / "statuses.csv"
    load_status_labels(data)
    edit(path, "Chưa đạt", "Không đạt")
    assert load_status_labels(data)["not_met"] == "Không đạt"
    entries = [e for e in inputs_read() if e["path"] == "data/reference/statuses.csv"]
    assert len(entries) == 1
    assert entries[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- bad inputs


def test_nfd_text_arrives_nfc(data):
    path = data / "registry" / "communes.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    nam_mon = resolve_commune("02881", data)
    assert nam_mon.name == "Nậm Mòn" and unicodedata.is_normalized("NFC", nam_mon.name)
    assert nam_mon.slug == "nam-mon"
    assert resolve_commune(unicodedata.normalize("NFD", "Nậm Mòn"), data).code == "02881"


def test_code_that_lost_its_leading_zero(data):
    edit(data / "registry" / "communes.csv", "02881,Nậm Mòn", "2881,Nậm Mòn")
    with pytest.raises(DataError) as excinfo:
        load_registry(data)
    error = only(problems_of(excinfo), column="commune_code")
    assert (error.file, error.row, error.found) == ("data/registry/communes.csv", 2, "2881")
    assert "5 digits" in str(error)


def test_not_utf8(data):
    path = data / "communes" / "02881" / "documents.csv"
    raw = path.read_bytes().replace("Kế hoạch".encode(), b"K\xd5 ho\xb8ch")  # TCVN3-ish bytes
    path.write_bytes(raw)
    with pytest.raises(DataError) as excinfo:
        read_table(path, [Column("year", "int")])
    error = only(problems_of(excinfo))
    assert error.file == "data/communes/02881/documents.csv"
    assert error.row == 2
    assert "UTF-8" in error.message and "TCVN3" in error.message
    assert "line 2" in error.message
    assert inputs_read() == []


def test_legacy_text_that_is_valid_utf8(data):
    edit(data / "registry" / "communes.csv", "Nậm Mòn", "NËm Mßn")
    with pytest.raises(DataError) as excinfo:
        load_registry(data)
    error = only(problems_of(excinfo))
    assert (error.row, error.column) == (2, "commune_name")
    assert "legacy" in error.message


def test_missing_and_unknown_columns(data):
    path = data / "communes" / "02881" / "quarterly.csv"
    edit(path, "visits,", "visit_count,")
    with pytest.raises(DataError) as excinfo:
        load_commune_facts("02881", 2023, data)
    errors = problems_of(excinfo)
    missing = only(errors, column="visits")
    assert (missing.file, missing.row) == ("data/communes/02881/quarterly.csv", 1)
    assert "missing column" in missing.message
    assert "year,quarter,documents_issued,visits" in str(missing.expected)
    unknown = only(errors, column="visit_count")
    assert (unknown.file, unknown.row) == ("data/communes/02881/quarterly.csv", 1)
    assert "unknown column" in unknown.message


def test_impossible_date(data):
    edit(data / "communes" / "02881" / "documents.csv", "2023-02-09", "2023-02-31")
    with pytest.raises(DataError) as excinfo:
        load_commune_facts("02881", 2023, data)
    error = only(problems_of(excinfo))
    assert (error.file, error.row, error.column) == (
        "data/communes/02881/documents.csv", 2, "issued_on")
    assert error.found == "2023-02-31"
    assert "not a real calendar date" in str(error)


def test_duplicate_criterion_status(data):
    path = data / "communes" / "02881" / "criteria_status.csv"
    with path.open("a", encoding="utf-8") as f:
        f.write("ntm-commune-2021-2025,2023,,5,not_met,typed twice\n")
    with pytest.raises(DataError) as excinfo:
        load_commune_facts("02881", 2023, data)
    error = only(problems_of(excinfo))
    assert (error.file, error.row, error.column) == (
        "data/communes/02881/criteria_status.csv", 59, "criterion")
    assert "rows 25 and 59" in error.message


def test_criterion_outside_its_set(data):
    edit(data / "communes" / "02881" / "criteria_status.csv",
         "ntm-commune-2021-2025,2023,,19,met", "ntm-commune-2021-2025,2023,,20,met")
    with pytest.raises(DataError) as excinfo:
        load_commune_facts("02881", 2023, data)
    error = only(problems_of(excinfo))
    assert (error.file, error.row, error.column) == (
        "data/communes/02881/criteria_status.csv", 39, "criterion")
    assert error.expected == "a number from 1 to 19" and error.found == 20


def test_several_problems_reported_at_once(data):
    folder = data / "communes" / "02881"
    edit(folder / "quarterly.csv", "2023,2,3,7,", "2023,2,3,bảy,")
    edit(folder / "quarterly.csv", "2023,4,0,3,0,13,19", "2023,5,0,3,0,21,19")
    edit(folder / "documents.csv", "2023-07-25", "2022-07-25")
    edit(folder / "criteria_status.csv", ",2023,,1,not_met", ",2023,,1,partly")
    edit(folder / "criteria_status.csv", ",2023,,19,met", ",2023,,20,met")
    (folder / "support.csv").unlink()
    with pytest.raises(DataErrors) as excinfo:
        load_commune_facts("02881", 2023, data)
    errors = problems_of(excinfo)
    quarterly = "data/communes/02881/quarterly.csv"
    status = "data/communes/02881/criteria_status.csv"
    assert only(errors, file=quarterly, row=3, column="visits").found == "bảy"
    assert "1, 2, 3 or 4" in only(errors, file=quarterly, row=5, column="quarter").message
    assert "more criteria met" in only(errors, file=quarterly, row=5, column="criteria_met").message
    assert "outside the year 2023" in only(
        errors, file="data/communes/02881/documents.csv", row=5, column="issued_on").message
    assert only(errors, file=status, row=21, column="status").found == "partly"
    assert only(errors, file=status, row=39, column="criterion").found == 20
    missing = only(errors, file="data/communes/02881/support.csv")
    assert "material support" in missing.message
    assert len(errors) == 7
    for line in str(excinfo.value).splitlines():
        assert line.startswith("data/communes/02881/")


def test_criteria_table_checks(data):
    ref = data / "reference"
    edit(ref / "criteria.csv", "ntm-commune-2026-2030,10,", "ntm-commune-2026-2030,11,")
    edit(ref / "criteria.csv", "ntm-commune-2016-2020,4,Điện", "ntm-commune-2016-2020,5,Điện")
    with (ref / "criteria.csv").open("a", encoding="utf-8") as f:
        f.write("ntm-2030,1,Quy hoạch,,\n")
    with pytest.raises(DataErrors) as excinfo:
        load_criteria_set(SET_2021, data)
    errors = problems_of(excinfo)
    crit = "data/reference/criteria.csv"
    gaps = [e for e in errors if e.file == crit and "without gaps" in e.message]
    assert {e.message.split(":")[0] for e in gaps} == {
        "set ntm-commune-2026-2030 has no criterion 10", "set ntm-commune-2016-2020 has no criterion 4"}
    assert "listed twice" in only(errors, file=crit, row=25, column="number").message
    assert only(errors, file=crit, row=69, column="set_id").found == "ntm-2030"
    assert len(errors) == 4


def test_criteria_count_must_match(data):
    edit(data / "reference" / "criteria_sets.csv", "national,10,", "national,11,")
    with pytest.raises(DataError) as excinfo:
        load_criteria_set("ntm-commune-2026-2030", data)
    error = only(problems_of(excinfo))
    assert (error.file, error.row, error.column) == ("data/reference/criteria_sets.csv", 5, "criteria_count")


def test_criteria_sets_are_built_once_per_content(data):
    """A report asks for the sets several times: the same tables give the
    same sets without being built again; a changed table is built anew, and
    a table with a problem raises every time (never kept)."""
    from ntm_lib.load import criteria

    first = load_criteria_sets(data)
    again = load_criteria_sets(data)
    assert again is not first and again["ntm-commune-2021-2025"] is first["ntm-commune-2021-2025"]
    assert first["ntm-commune-2021-2025"].size == 19
    edit(data / "reference" / "criteria.csv", ",Quy hoạch,", ",Quy hoạch xã,")
    renamed = load_criteria_sets(data)["ntm-commune-2021-2025"]
    assert renamed is not first["ntm-commune-2021-2025"] and renamed.name_of(1) == "Quy hoạch xã"
    edit(data / "reference" / "criteria_sets.csv", "national,10,", "national,11,")
    for _ in range(2):
        with pytest.raises(DataError, match="declares 11 criteria"):
            load_criteria_sets(data)
    assert len(criteria._BUILT) <= criteria._BUILT_MAX


def test_band_gap_is_an_error(data):
    edit(data / "reference" / "bands.csv", "50-plus,50,", "50-plus,55,")
    with pytest.raises(DataError) as excinfo:
        load_band_rule(data)
    error = only(problems_of(excinfo))
    assert (error.file, error.row, error.column) == ("data/reference/bands.csv", 3, "upper_percent")
    assert error.message.startswith("gap between bands 30-to-50 and 50-plus")


def test_key_criterion_typo_is_an_error(data):
    edit(data / "reference" / "band_key_criteria.csv", "Thu nhập,", "Thu nhâp,")
    with pytest.raises(DataError) as excinfo:
        load_band_rule(data)
    error = only(problems_of(excinfo))
    assert (error.file, error.row, error.column) == (
        "data/reference/band_key_criteria.csv", 2, "name_vi")


def test_duplicate_slugs_get_suffixes(data):
    with (data / "registry" / "communes.csv").open("a", encoding="utf-8") as f:
        f.write("09999,Nậm Mòn,xã,,,,99,Nơi khác,tỉnh,,,,test\n")
    communes = load_registry(data)
    assert [c.slug for c in communes] == ["nam-mon", "bac-ha", "nam-mon-2"]
    assert resolve_commune("nam-mon-2", data).code == "09999"


# --------------------------------------------------------------------------- read_table


def test_read_table_kinds_and_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_HOME", str(tmp_path))
    path = tmp_path / "t.csv"
    path.write_bytes(
        "\ufeffcode, n ,x,flag,day,kind,label\n"
        "00123,1,2.5,TRUE,2024-02-29,a,  Thuỷ  \n"
        ",,,,,,\n"
        "\n"
        "09000,,,false,2023-01-01,b,\n".encode("utf-8")
    )
    columns = [
        Column("code", "code", width=5), Column("n", "int", required=False),
        Column("x", "number", required=False), Column("flag", "bool"),
        Column("day", "date"), Column("kind", "enum", values=("a", "b")),
        Column("label", "str", required=False),
    ]
    df = read_table(path, columns)
    assert df["code"].tolist() == ["00123", "09000"]
    assert df["n"].dtype == "Int64" and df["n"].isna().tolist() == [False, True]
    assert df["x"].dtype == "float64"
    assert df["flag"].tolist() == [True, False]
    assert df["day"].tolist() == [dt.date(2024, 2, 29), dt.date(2023, 1, 1)]
    assert df["label"].tolist() == ["Thuỷ", None]
    assert df.attrs == {"file": "t.csv", "rows": [2, 5]}
    assert inputs_read() == [
        {"path": "t.csv", "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "rows": 2}]


def test_read_table_bad_cells_and_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_HOME", str(tmp_path))
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2.5\nx,1,5\n,1,5\n-1,1\n7,\"1,5\"\n", encoding="utf-8")
    with pytest.raises(DataErrors) as excinfo:
        read_table(path, [Column("a", "int"), Column("b", "number")])
    errors = problems_of(excinfo)
    assert "3 cells but the header has 2" in only(errors, row=3).message
    assert "3 cells" in only(errors, row=4).message
    assert only(errors, row=5, column="a").found == "-1"
    assert "decimal point" in only(errors, row=6, column="b").message
    assert inputs_read() == []


def test_empty_and_missing_files(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_HOME", str(tmp_path))
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match="empty file") as excinfo:
        read_table(tmp_path / "empty.csv", [Column("a", "str")])
    assert excinfo.value.file == "empty.csv"
    with pytest.raises(DataError, match="file not found") as excinfo:
        read_table(tmp_path / "nope.csv", [Column("a", "str")])
    assert excinfo.value.file == "nope.csv"


def test_missing_commune_table_says_what_it_holds(data):
    (data / "communes" / "02881" / "poverty.csv").unlink()
    with pytest.raises(DataError) as excinfo:
        load_commune_facts("02881", 2023, data)
    error = only(problems_of(excinfo))
    assert error.file == "data/communes/02881/poverty.csv"
    assert "poverty rate" in error.message
    assert "year,poverty_standard" in error.expected


def test_codes_are_never_numbers():
    for commune in load_registry():
        for value in (commune.code, commune.district_code, commune.province_code,
                      commune.successor_code):
            assert value is None or (isinstance(value, str) and value.isdigit())
    facts = load_commune_facts(2881, 2023)
    assert facts.commune.code == "02881"
    assert facts.commune.province_code == "10"


def test_extra_columns_modes_and_repeated_header(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_HOME", str(tmp_path))
    path = tmp_path / "t.csv"
    path.write_text("a,note,\n1,hello,\n", encoding="utf-8")
    assert read_table(path, [Column("a", "int")], extra_columns="ignore").columns.tolist() == ["a"]
    kept = read_table(path, [Column("a", "int")], extra_columns="keep")
    assert kept["note"].tolist() == ["hello"]
    path.write_text("a,a\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError) as excinfo:
        read_table(path, [Column("a", "int")])
    error = only(problems_of(excinfo))
    assert (error.row, error.column) == (1, "a") and "appears twice" in error.message


def test_unclosed_quote(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_HOME", str(tmp_path))
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,"never closed\n2,3\n', encoding="utf-8")
    with pytest.raises(DataError, match="double quotes") as excinfo:
        read_table(path, [Column("a", "int"), Column("b", "str")])
    assert excinfo.value.file == "t.csv"


# --------------------------------------------------------------------------- parsed-table reuse


def test_a_table_read_again_is_the_same_and_still_logged(data):
    path = data / "communes" / "02881" / "quarterly.csv"
    columns = [Column("year", "int"), Column("quarter", "int")]
    first = read_table(path, columns, extra_columns="ignore")
    first.loc[0, "quarter"] = 99  # a caller's change stays with its own copy
    reset_inputs_read()
    second = read_table(path, columns, extra_columns="ignore")
    assert list(second["quarter"]) == [1, 2, 3, 4]
    assert second.attrs["file"] == "data/communes/02881/quarterly.csv"
    assert second.attrs["rows"] == [2, 3, 4, 5]
    assert [e["path"] for e in inputs_read()] == ["data/communes/02881/quarterly.csv"]


def test_a_changed_table_is_parsed_again_and_its_problems_reported_every_time(data):
    path = data / "communes" / "02881" / "quarterly.csv"
    columns = [Column("year", "int"), Column("quarter", "int")]
    assert list(read_table(path, columns, extra_columns="ignore")["quarter"]) == [1, 2, 3, 4]
    edit(path, "\n2023,4,", "\n2023,bốn,")
    for _ in range(2):  # the second read comes from the parsed copy: same problem, same place
        with pytest.raises(DataError) as excinfo:
            read_table(path, columns, extra_columns="ignore")
        error = only(problems_of(excinfo))
        assert (error.row, error.column, error.found) == (5, "quarter", "bốn")
