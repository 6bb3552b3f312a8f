"""Hostile data tables, consistency rules, synthetic folders and renders:
each refused with one line naming the file, row and column (or the option)
and the limit, no traceback, nothing half-written, within seconds. Fast: no
kernel."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from ntm_lib import limits
from ntm_lib.errors import DataError, DataErrors, GlyphMissingError, RenderError
from ntm_lib.load import load_commune_facts, load_criteria_sets, load_registry
from ntm_lib.validate import load_rules
from cli_helpers import run

ROOT = Path(__file__).resolve().parent.parent
QUARTERLY = "data/communes/02881/quarterly.csv"






def set_cell(project: Path, table: str, column: str, value: str, row: int = 2) -> None:
    """Set one cell of a CSV table of the copy (row as a spreadsheet shows it)."""
    import csv
    import io

    path = project / table
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    rows[row - 1][rows[0].index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def facts_error(project: Path) -> DataError:
    began = time.monotonic()
    with pytest.raises(DataError) as info:
        load_commune_facts("02881", 2023, project / "data")
    assert time.monotonic() - began < 5
    return info.value


def first(error: DataError) -> DataError:
    return error.errors[0] if isinstance(error, DataErrors) else error


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("column, value, shown", [
    ("visits", "9" * 400, "INTEGER_DIGITS"),
    ("visits", str(2 ** 63), "INTEGER_DIGITS"),
    ("visits", "1" + "0" * limits.INTEGER_DIGITS, "INTEGER_DIGITS"),
    ("documents_issued", "9" * 5000, "INTEGER_DIGITS"),
    ("support_million_vnd", "9" * 400, "INTEGER_DIGITS"),
    ("support_million_vnd", "9" * 400 + ".5", "INTEGER_DIGITS"),
    ("support_million_vnd", "1e400", "not a number"),
    ("support_million_vnd", "inf", "not a number"),
    ("support_million_vnd", "NaN", "not a number"),
    ("support_million_vnd", "Infinity", "not a number"),
    ("visits", "1e3", "not a whole number"),
])
def test_numbers_that_would_overflow_or_are_not_finite(project, column, value, shown):
    set_cell(project, QUARTERLY, column, value)
    error = first(facts_error(project))
    assert (error.file, error.row, error.column) == (QUARTERLY, 2, column)
    assert shown in str(error) and len(str(error)) < 600


def test_a_twelve_digit_count_and_leading_zeros_are_read(project):
    set_cell(project, QUARTERLY, "visits", "9" * limits.INTEGER_DIGITS)
    set_cell(project, QUARTERLY, "documents_issued", "0" * 3000 + "2")
    facts = load_commune_facts("02881", 2023, project / "data")
    assert facts.quarterly["visits"].iloc[0] == int("9" * limits.INTEGER_DIGITS)
    assert facts.quarterly["documents_issued"].iloc[0] == 2


def test_a_400_digit_visits_through_run_and_validate(project, capsys):
    set_cell(project, QUARTERLY, "visits", "9" * 400)
    code, out = run(capsys, "run", "--commune", "02881", "--year", "2023")
    assert code == 1 and f"{QUARTERLY}, row 2, column visits" in out
    assert "limit limits.INTEGER_DIGITS" in out and not (project / "build").exists()
    code, out = run(capsys, "validate", "--year", "2023")
    assert code == 2 and f"{QUARTERLY}, row 2, column visits" in out


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize("value, code_point", [
    ("seed\x00appendix", "U+0000"),
    ("seed\x1b[31mappendix", "U+001B"),
    ("seed\x7fappendix", "U+007F"),
    ("seed\x85appendix", "U+0085"),
    ("seed\u202eappendix", "U+202E"),
    ("seed\u202aappendix", "U+202A"),
    ("seed\u2066appendix\u2069", "U+2066"),
    ("seed\u2068appendix", "U+2068"),
    ("seed\rappendix", "U+000D"),
])
def test_control_and_bidi_characters_in_a_text_column(project, value, code_point):
    set_cell(project, QUARTERLY, "source", value)
    error = first(facts_error(project))
    assert (error.row, error.column) == (2, "source") and code_point in str(error)


def test_line_breaks_and_tabs_in_a_quoted_text_are_fine(project):
    set_cell(project, QUARTERLY, "source", "seed\tappendix\nsecond line\r\nthird")
    facts = load_commune_facts("02881", 2023, project / "data")
    assert facts.quarterly["source"].iloc[0].startswith("seed\tappendix\n")


@pytest.mark.parametrize("value, limit", [
    ("x" * (limits.TEXT_CHARS + 1), "TEXT_CHARS"),
    (" ".join(["Nậm"] * 6000), "TEXT_CHARS"),
    ("x" * (limits.WORD_CHARS + 1), "WORD_CHARS"),
])
def test_text_and_words_over_the_limits(project, value, limit):
    set_cell(project, QUARTERLY, "source", value)
    error = first(facts_error(project))
    assert error.column == "source" and f"limit limits.{limit}" in str(error)
    assert len(str(error)) < 600


def test_a_bidi_control_in_the_registry_names_its_cell(project):
    set_cell(project, "data/registry/communes.csv", "commune_name", "Nậm\u202eMòn")
    with pytest.raises(DataError) as info:
        load_registry(project / "data")
    error = first(info.value)
    assert (error.file, error.row, error.column) == ("data/registry/communes.csv", 2,
                                                      "commune_name")


def test_a_nul_in_a_reference_table(project):
    set_cell(project, "data/reference/header_styles.csv", "right_line1", "CỘNG\x00HÒA")
    from ntm_lib.load import load_header_style

    with pytest.raises(DataError, match="U\\+0000") as info:
        load_header_style("state", project / "data")
    assert first(info.value).column == "right_line1"


# --------------------------------------------------------------------------- the files


@pytest.mark.parametrize("kind", ["/dev/zero", "folder", "fifo", "dangling link"])
def test_a_table_that_is_not_a_regular_file(project, kind):
    path = project / QUARTERLY
    path.unlink()
    if kind == "/dev/zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(project / "nowhere.csv")
    error = first(facts_error(project))
    assert error.file == QUARTERLY
    assert ("regular file" in str(error)) or ("cannot read" in str(error))


def test_ntm_validate_does_not_hang_on_a_fifo(project, capsys):
    path = project / QUARTERLY
    path.unlink()
    os.mkfifo(path)
    began = time.monotonic()
    code, out = run(capsys, "validate", "--year", "2023")
    assert code == 2 and time.monotonic() - began < 10 and QUARTERLY in out


def test_a_table_too_large_is_not_read(project):
    path = project / QUARTERLY
    with open(path, "ab") as handle:
        handle.truncate(limits.CSV_FILE_BYTES + 1)
    error = first(facts_error(project))
    assert error.file == QUARTERLY and "limit limits.CSV_FILE_BYTES" in str(error)


def test_too_many_rows(project):
    path = project / QUARTERLY
    path.write_text(path.read_text(encoding="utf-8") + "\n" * (limits.CSV_ROWS + 5),
                    encoding="utf-8")
    error = first(facts_error(project))
    assert "limit limits.CSV_ROWS" in str(error)


@pytest.mark.parametrize("cells", ["ab," * 400_000, '"a\n",' * 300_000])
def test_a_row_too_long(project, cells):
    path = project / QUARTERLY
    path.write_text(path.read_text(encoding="utf-8") + cells + "\n", encoding="utf-8")
    error = first(facts_error(project))
    assert "limit limits.CSV_ROW_CHARS" in str(error)


def test_thousands_of_bad_rows_list_a_bounded_number_of_problems(project):
    path = project / QUARTERLY
    header = path.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(header + "\n" + "2023,1,x,x,x,x,x,\n" * 5000, encoding="utf-8")
    error = facts_error(project)
    lines = str(error).splitlines()
    assert len(lines) <= limits.PROBLEMS_PER_FILE + 1
    assert any("limit limits.PROBLEMS_PER_FILE" in ln for ln in lines)


def test_a_huge_criterion_number_does_not_loop(project):
    set_cell(project, "data/reference/criteria.csv", "number", "999999999999")
    began = time.monotonic()
    with pytest.raises(DataError) as info:
        load_criteria_sets(project / "data")
    assert time.monotonic() - began < 5
    assert "numbered up to 999999999999" in str(info.value)


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize("side, shown", [
    ("( " * 50 + "1" + " )" * 50, "nested more than"),
    ("- " * 50 + "1", "signs in a row"),
    (" + ".join(["1"] * 1000), "too long"),
    ("9" * 100, "number too large"),
    ("9" * 400, "limit limits.WORD_CHARS"),
])
def test_a_rule_side_that_would_recurse_or_overflow(project, side, shown):
    set_cell(project, "data/reference/validation_rules.csv", "left", side)
    with pytest.raises(DataError) as info:
        load_rules(project / "data")
    error = first(info.value)
    assert (error.row, error.column) == (2, "left") and shown in str(error)
    assert len(str(error)) < 600


@pytest.mark.parametrize("message", ["{left:>999999999}", "{right!r}", "{left:,}"])
def test_a_rule_message_with_a_format_is_refused(project, message):
    set_cell(project, "data/reference/validation_rules.csv", "message_vi", message)
    with pytest.raises(DataError, match="format or conversion") as info:
        load_rules(project / "data")
    assert first(info.value).column == "message_vi"


def test_validate_ignores_folders_that_only_look_like_years(project, capsys):
    (project / "params" / "２０２３").mkdir()
    shutil.copy(project / "params" / "2023" / "nam-mon.yaml",
                project / "params" / "２０２３" / "nam-mon.yaml")
    (project / "params" / "²023").mkdir()
    code, out = run(capsys, "validate")
    assert code == 0


# --------------------------------------------------------------------------- synth


def synth(capsys, out: Path, *more: str) -> tuple[int, str]:
    return run(capsys, "synth", "--communes", "2", "--year", "2023", "--out", str(out), *more)


@pytest.mark.parametrize("option, value", [
    ("--communes", "0"), ("--communes", "-1"), ("--communes", "10000"), ("--communes", "abc"),
    ("--province", "1"), ("--province", "abc"), ("--province", "1000"),
    ("--seed", "1" * 40), ("--year", "20233"),
])
def test_synth_bad_options_are_exit_2_and_write_nothing(tmp_path, capsys, option, value):
    out = tmp_path / "synthetic"
    argv = {"--communes": "2", "--year": "2023", "--out": str(out)}
    argv[option] = value
    code, text = run(capsys, "synth", *[x for kv in argv.items() for x in kv])
    assert code == 2 and option in text and not out.exists()


def test_synth_out_a_file(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine", encoding="utf-8")
    code, text = synth(capsys, target)
    assert code == 2 and "this is a file" in text
    assert target.read_text(encoding="utf-8") == "mine"
    code, text = synth(capsys, target / "inside")
    assert code == 2 and "a file" in text and target.read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("copy", ["99999", "nowhere", "02881,00001"])
def test_synth_bad_copy_real_writes_nothing(tmp_path, capsys, copy):
    out = tmp_path / "synthetic"
    more = [x for code in copy.split(",") for x in ("--copy-real", code)]
    code, text = synth(capsys, out, *more)
    assert code == 2 and not out.exists()
    assert text.startswith("error: ") and len(text.strip().splitlines()) == 1


def test_synth_copy_real_without_params_writes_nothing(project, tmp_path_factory, capsys):
    (project / "params" / "2023" / "nam-mon.yaml").rename(project / "nam-mon.yaml")
    out = tmp_path_factory.mktemp("elsewhere") / "synthetic"
    code, text = synth(capsys, out, "--copy-real", "02881")
    assert code == 2 and "nothing was written" in text and not out.exists()


def test_synth_refuses_a_data_link_leading_out(tmp_path, capsys):
    out, elsewhere = tmp_path / "synthetic", tmp_path / "elsewhere"
    assert synth(capsys, out)[0] == 0
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep", encoding="utf-8")
    shutil.rmtree(out / "data")
    (out / "data").symlink_to(elsewhere, target_is_directory=True)
    code, text = synth(capsys, out)
    assert code == 2 and "symbolic link" in text
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]


def test_synth_refreshes_its_own_folder_without_stray_files(tmp_path, capsys):
    out = tmp_path / "synthetic"
    assert synth(capsys, out)[0] == 0
    assert synth(capsys, out, "--seed", "3")[0] == 0
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------- render limits


def _sleep(seconds: float) -> bytes:
    time.sleep(seconds)
    return b"late"


def _glyph() -> bytes:
    raise GlyphMissingError("ắ", font="Serif", where="report.pdf")


def _boom() -> bytes:
    raise ValueError("boom")


def test_a_render_over_its_time_is_killed_close_to_the_limit():
    from ntm_lib.render.bounded import run_limited

    began = time.monotonic()
    with pytest.raises(RenderError, match="limit limits.RENDER_SECONDS"):
        run_limited(_sleep, 30, what="the PDF", seconds=0.5)
    assert time.monotonic() - began < 2
    assert run_limited(_sleep, 0, what="the PDF", seconds=5) == b"late"


def test_errors_of_a_render_come_back_typed():
    from ntm_lib.render.bounded import run_limited

    with pytest.raises(GlyphMissingError) as info:
        run_limited(_glyph, what="the PDF")
    assert info.value.characters == ["ắ"] and info.value.where == "report.pdf"
    with pytest.raises(RenderError, match="ValueError: boom"):
        run_limited(_boom, what="the PDF")


def _html(folder: Path, paragraphs: int) -> Path:
    path = folder / "big.html"
    path.write_text('<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>t</title>'
                    "</head><body>" + "<p>Xã Nậm Mòn báo cáo kết quả.</p>" * paragraphs
                    + "</body></html>", encoding="utf-8")
    return path


def test_render_pdf_over_its_time_writes_nothing(tmp_path, monkeypatch):
    from ntm_lib.render import render_pdf

    monkeypatch.setattr(limits, "RENDER_SECONDS", 0.2)
    began = time.monotonic()
    with pytest.raises(RenderError, match="took longer than 0.2 s") as info:
        render_pdf(_html(tmp_path, 3000), tmp_path / "report.pdf")
    assert time.monotonic() - began < 5 and "big.html" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.html"]


def test_render_html_over_its_time_writes_nothing(tmp_path, monkeypatch):
    from nbformat.v4 import new_markdown_cell, new_notebook

    from ntm_lib.render import render_html

    monkeypatch.setattr(limits, "RENDER_SECONDS", 0.001)
    nb = new_notebook(cells=[new_markdown_cell("Xã Nậm Mòn. " * 2000)])
    with pytest.raises(RenderError, match="limit limits.RENDER_SECONDS"):
        render_html(nb, tmp_path / "out" / "report.html", title="t")
    assert not (tmp_path / "out").exists()
