"""Hostile params files, notebooks and command-line arguments: each refused
with one line naming the place (file, line, parameter) and the limit, exit
code 2, no traceback, nothing written, and within seconds. Fast (no kernel)
but for the ``e2e`` time-limit cases at the end."""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from ntm_lib import limits
from ntm_lib.errors import LimitError, NotebookError, ParameterError, ParameterErrors
from ntm_lib.params import load_params, notebook_defaults, parameters_cell, read_notebook
from cli_helpers import run

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "params" / "2023" / "nam-mon.yaml"




def sample() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def with_value(key: str, value: str, text: str | None = None) -> str:
    """The sample with the top-level ``key: ...`` line set to ``key: value``."""
    text = sample() if text is None else text
    new, count = re.subn(rf"^{key}:.*$", lambda _: f"{key}: {value}", text, count=1,
                         flags=re.MULTILINE)
    assert count == 1, key
    return new


def line_of(text: str, key: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith(f"{key}:"))




def ntm_run(capsys, params: Path, *more: str) -> tuple[int, str]:
    return run(capsys, "run", "--commune", "02881", "--year", "2023", "--params", str(params),
               *more)


def write(folder: Path, text: str, name: str = "p.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, error=ParameterError):
    """load_params(path) raises ``error``; returns it (checked to be quick)."""
    began = time.monotonic()
    with pytest.raises(error) as info:
        load_params(path)
    assert time.monotonic() - began < 5
    return info.value


def no_run_made(project: Path) -> None:
    assert not (project / "build").exists() or not any((project / "build").rglob("*.ipynb"))


# --------------------------------------------------------------------------- YAML aliases


def alias_bomb(levels: int = 9) -> str:
    """The classic "billion laughs": each level repeats the one before nine times."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_refused_quickly_with_the_limit(project, capsys):
    path = write(project, alias_bomb())
    assert len(path.read_bytes()) < 7000
    began = time.monotonic()
    code, text = ntm_run(capsys, path)
    assert code == 2 and time.monotonic() - began < 5
    assert "limit limits.YAML_ALIASES" in text and "p.yaml, line 4" in text
    no_run_made(project)


def test_alias_bomb_inside_a_real_params_file(project):
    text = sample() + "extra:\n" + "".join("  " + ln + "\n" for ln in alias_bomb().splitlines())
    error = refused(write(project, text), LimitError)
    assert isinstance(error, ParameterError) and "YAML_ALIASES" in str(error)
    assert error.row > line_of(text, "extra")


def test_aliases_within_the_limit_are_read(tmp_path):
    text = with_value("issuing_body_short", "&short Hội Nông dân tỉnh Lào Cai")
    text = with_value("signer_capacity", "*short", text)
    assert load_params(write(tmp_path, text))["signer_capacity"] == "Hội Nông dân tỉnh Lào Cai"


@pytest.mark.parametrize("text, what", [
    ("a: &a [*a]\n", "recursive alias"),
    ("a: &a {b: *a}\n", "recursive alias"),
    ("a: &a [1, [2, *a]]\n", "recursive alias"),
    ("a: *nowhere\n", "has no anchor"),
])
def test_recursive_or_undefined_alias_refused_with_its_line(tmp_path, capsys, text, what):
    path = write(tmp_path, text)
    error = refused(path)
    assert what in str(error) and error.row == 1
    code, out = run(capsys, "run", "--commune", "02881", "--year", "2023", "--params", str(path))
    assert code == 2 and what in out


def test_recursive_alias_in_the_narrative(tmp_path):
    text = sample().replace("narrative:\n", "narrative: &n\n  self: *n\n", 1)
    error = refused(write(tmp_path, text))
    assert "recursive alias" in str(error) and error.row == line_of(text, "narrative") + 1


@pytest.mark.parametrize("text, limit", [
    ("a: [" + ",".join(["1"] * (limits.YAML_NODES + 10)) + "]\n", "YAML_NODES"),
    ("a: " + "[" * (limits.YAML_DEPTH + 5) + "]" * (limits.YAML_DEPTH + 5) + "\n", "YAML_DEPTH"),
    ("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, limits.YAML_DEPTH + 5)), "YAML_DEPTH"),
])
def test_too_many_values_or_too_deep(tmp_path, text, limit):
    error = refused(write(tmp_path, text), LimitError)
    assert f"limit limits.{limit}" in str(error) and error.row is not None


# --------------------------------------------------------------------------- the file itself


def test_params_file_too_large(project, capsys):
    text = sample() + "# " + "x" * limits.PARAMS_FILE_BYTES + "\n"
    path = write(project, text)
    code, out = ntm_run(capsys, path)
    assert code == 2 and "limit limits.PARAMS_FILE_BYTES" in out and "p.yaml" in out


def test_fifty_megabyte_string_refused_by_size_without_reading_it(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as handle:
        handle.write(with_value("place", "").encode("utf-8"))
        handle.truncate(50 * limits.MiB)
    began = time.monotonic()
    error = refused(path, LimitError)
    assert time.monotonic() - began < 2 and "PARAMS_FILE_BYTES" in str(error)


@pytest.mark.parametrize("where", ["folder", "/dev/zero", "fifo", "missing"])
def test_params_that_are_not_a_file(project, capsys, where):
    target = {"folder": project / "params", "/dev/zero": Path("/dev/zero"),
              "fifo": project / "fifo.yaml", "missing": project / "none.yaml"}[where]
    if where == "fifo":
        os.mkfifo(target)
    began = time.monotonic()
    code, out = ntm_run(capsys, target)
    assert code == 2 and time.monotonic() - began < 5
    assert out.startswith("error: ") and len(out.strip().splitlines()) == 1
    expected = {"folder": "this is a folder", "/dev/zero": "not a regular file",
                "fifo": "not a regular file", "missing": "params file not found"}[where]
    assert expected in out


# --------------------------------------------------------------------------- repeated keys


@pytest.mark.parametrize("extra, key", [
    ("year: 2024\n", "year"),
    ('"year": 2024\n', "year"),
    ("place: Hà Nội\n", "place"),
])
def test_a_key_given_twice_is_refused_naming_both_lines(project, capsys, extra, key):
    text = sample() + extra
    path = write(project, text)
    code, out = ntm_run(capsys, path)
    last = len(text.splitlines())
    assert code == 2
    assert f"line {last}, parameter {key}" in out
    assert f"lines {line_of(text, key)} and {last}" in out


def test_a_repeated_key_inside_the_narrative(tmp_path):
    text = sample().replace("  closing:", "  plans:\n    - again\n  closing:", 1)
    error = refused(write(tmp_path, text))
    assert error.parameter == "narrative.plans" and "given twice" in str(error)


def test_a_repeated_key_in_a_flow_mapping_on_one_line(tmp_path):
    text = sample().replace("narrative:\n", "extra: {a: 1, a: 2}\nnarrative:\n", 1)
    error = refused(write(tmp_path, text))
    assert error.parameter == "extra.a" and "given twice" in str(error)


def test_thousands_of_repeated_keys_list_a_bounded_number(tmp_path):
    text = "".join(f"k{i % 3}: {i}\n" for i in range(5000))
    error = refused(write(tmp_path, text), ParameterErrors)
    assert len(error.errors) == limits.PROBLEMS_PER_FILE + 1
    assert "PROBLEMS_PER_FILE" in str(error.errors[-1])


def test_every_repeated_key_is_listed(tmp_path):
    error = refused(write(tmp_path, sample() + "year: 2024\nplace: x\n"), ParameterErrors)
    assert [e.parameter for e in error.errors] == ["year", "place"]


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("value", ["9" * 400, str(2 ** 63), "9" * 5000, "-" + "9" * 13,
                                   "0x" + "f" * 20])
def test_huge_whole_numbers_refused(project, capsys, value):
    text = with_value("year", value)
    code, out = ntm_run(capsys, write(project, text))
    assert code == 2 and "limit limits.INTEGER_DIGITS" in out
    assert f"line {line_of(text, 'year')}, parameter year" in out
    assert len(out) < 1000  # the number itself is not repeated


@pytest.mark.parametrize("value, shown", [
    ("2023-02-30", "day is out of range"),
    ("!!int x", "invalid literal"),
    ("!!float x", "could not convert"),
    ("!!timestamp 2023-13-45", "month must be in 1..12"),
])
def test_values_yaml_cannot_construct_name_their_line(tmp_path, value, shown):
    text = with_value("year", value)
    error = refused(write(tmp_path, text))
    assert shown in str(error) and error.row == line_of(text, "year")


@pytest.mark.parametrize("text, shown", [
    ("a: !!python/object/apply:os.system [echo hi]\n", "could not determine a constructor"),
    ("--- {a: 1}\n--- {b: 2}\n", "another document"),
    ("- a\n- b\n", "expected a mapping"),
    ("", "expected a mapping"),
])
def test_not_a_params_mapping(tmp_path, text, shown):
    assert shown in str(refused(write(tmp_path, text)))


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize("key, value, limit", [
    ("place", "x" * 1_000_000, "TEXT_CHARS"),
    ("place", "x" * (limits.WORD_CHARS + 1), "WORD_CHARS"),
    ("signer_name", " ".join(["Nguyễn"] * 4000), "TEXT_CHARS"),
])
def test_text_and_words_over_the_limits(project, capsys, key, value, limit):
    text = with_value(key, value)
    began = time.monotonic()
    code, out = ntm_run(capsys, write(project, text))
    assert code == 2 and time.monotonic() - began < 5
    assert f"limit limits.{limit}" in out and f"line {line_of(text, key)}" in out
    assert len(out) < 1000


def test_a_long_word_in_the_narrative(tmp_path):
    text = sample().replace("  closing: >-\n", "  closing: >-\n    " + "a" * 5000 + "\n", 1)
    error = refused(write(tmp_path, text), LimitError)
    assert error.parameter == "narrative.closing" and "WORD_CHARS" in str(error)


@pytest.mark.parametrize("key, escaped, code_point", [
    ("place", r"Lào\0Cai", "U+0000"),
    ("signer_name", r"Nguyễn\eVăn A", "U+001B"),
    ("place", r"Lào\u202eCai", "U+202E"),
    ("signer_title", r"Phó\u2066Chủ tịch\u2069", "U+2066"),
    ("place", r"Lào\x85Cai", "U+0085"),
    ("place", r"Lào\x7fCai", "U+007F"),
    ("place", r"Lào\nCai", "U+000A"),
    ("document_code", r"BC\tHNDT", "U+0009"),
    ("document_code", r"BC\rHNDT", "U+000D"),
])
def test_control_and_bidi_characters_refused(project, capsys, key, escaped, code_point):
    text = with_value(key, f'"{escaped}"')
    code, out = ntm_run(capsys, write(project, text))
    assert code == 2 and code_point in out
    assert f"line {line_of(text, key)}, parameter {key}" in out


def test_bidi_control_in_a_recipient_and_in_the_narrative(tmp_path):
    text = sample().replace("  - VPĐP NTM tỉnh\n", '  - "VPĐP\\u202dNTM tỉnh"\n', 1)
    error = refused(write(tmp_path, text))
    assert error.parameter == "recipients.0" and "U+202D" in str(error)
    text = sample().replace("  closing: >-\n", '  closing: "\\u2067x"\n  closing_old: >-\n', 1)
    errors = refused(write(tmp_path, text))
    assert "U+2067" in str(errors)


def test_line_breaks_and_tabs_are_fine_in_the_narrative(tmp_path):
    text = sample().replace("  closing: >-\n", "  closing: |-\n    Dòng một\n    \tDòng hai\n"
                            "  closing_old: >-\n", 1)
    text = text.replace("  closing_old: >-\n", "  x_old: >-\n")
    with pytest.raises(ParameterError) as info:  # only the unknown key is wrong
        load_params(write(tmp_path, text))
    assert "U+000A" not in str(info.value) and "U+0009" not in str(info.value)


@pytest.mark.parametrize("size, limit", [(300_000, "TEXT_CHARS"), (300, "WORD_CHARS")])
def test_a_hostile_key_is_not_repeated_at_length(tmp_path, size, limit):
    error = refused(write(tmp_path, sample() + "? " + "x" * size + "\n: 1\n"), LimitError)
    assert limit in str(error) and len(str(error)) < 400


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize("key, value, table", [
    ("criteria_set", "ntm-commune-2021-2026", "criteria_sets.csv"),
    ("advanced_criteria_set", "nâng-cao-không-có", "criteria_sets.csv"),
    ("header_style", "partyy", "header_styles.csv"),
])
def test_unknown_set_or_style_blames_the_params_line(project, capsys, key, value, table):
    text = with_value(key, value)
    path = write(project, text)
    code, out = ntm_run(capsys, path)
    assert code == 2
    first = out.splitlines()[0]
    assert first.startswith(f"error: {path.name}, line {line_of(text, key)}, parameter {key}")
    assert value in first and table in first
    code, out = run(capsys, "validate", "--year", "2023")  # the project's file is fine
    assert code == 0


def test_validate_reports_an_unknown_style_with_its_line(project, capsys):
    target = project / "params" / "2023" / "nam-mon.yaml"
    text = with_value("header_style", "partyy")
    target.write_text(text, encoding="utf-8")
    code, out = run(capsys, "validate", "--year", "2023")
    assert code == 2 and f"line {line_of(text, 'header_style')}, parameter header_style" in out


# --------------------------------------------------------------------------- notebooks


def notebook_with(tmp_path: Path, content: bytes | str, name: str = "nb.ipynb") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def good_notebook() -> dict:
    return json.loads((ROOT / "notebooks" / "commune_report.ipynb").read_text(encoding="utf-8"))


@pytest.mark.parametrize("content, shown", [
    ("{not json", "not valid JSON"),
    ("[1, 2, 3]", "JSON object"),
    ('{"cells": {}}', "list of"),
    ('"text"', "JSON object"),
    (b"\xff\xfe{}", "not UTF-8"),
    ("[" * 100_000 + "]" * 100_000, "not a notebook"),
])
def test_a_notebook_that_is_not_one(tmp_path, content, shown):
    path = notebook_with(tmp_path, content)
    with pytest.raises(NotebookError, match=shown) as info:
        notebook_defaults(path)
    assert info.value.file and info.value.file.endswith("nb.ipynb")


def test_a_notebook_too_large(tmp_path):
    path = notebook_with(tmp_path, " " * (limits.NOTEBOOK_BYTES + 1))
    with pytest.raises(LimitError, match="NOTEBOOK_BYTES"):
        read_notebook(path)


@pytest.mark.parametrize("where", ["folder", "/dev/zero"])
def test_a_notebook_that_is_not_a_file(tmp_path, where):
    path = tmp_path if where == "folder" else Path(where)
    with pytest.raises(LimitError, match="regular file"):
        notebook_defaults(path)


@pytest.mark.parametrize("source, shown", [
    ("commune = (", "not Python"),
    ("import os", "only 'name = value'"),
    ("commune = open('x')", "literal value"),
    ("x = " + "(" * 300 + ")" * 300, "parameters cell"),
])
def test_a_bad_parameters_cell(tmp_path, source, shown):
    nb = good_notebook()
    index = parameters_cell(nb)
    nb["cells"][index]["source"] = source
    with pytest.raises(NotebookError, match=re.escape(shown)):
        notebook_defaults(notebook_with(tmp_path, json.dumps(nb)))


def test_cells_that_are_not_objects_are_not_a_traceback(tmp_path):
    nb = {"cells": [1, "x", None, {"metadata": "m"}, {"metadata": {"tags": "parameters"}}]}
    with pytest.raises(NotebookError, match="no cell tagged"):
        notebook_defaults(notebook_with(tmp_path, json.dumps(nb)))


@pytest.mark.parametrize("content", ["{not json", "[]", "folder", "/dev/zero"])
def test_ntm_run_with_a_notebook_that_is_not_one(project, capsys, content):
    if content == "folder":
        path = project / "nb.ipynb"
        path.mkdir()
    elif content == "/dev/zero":
        path = project / "nb.ipynb"
        path.symlink_to("/dev/zero")
    else:
        path = notebook_with(project, content)
    code, out = run(capsys, "run", "--commune", "02881", "--year", "2023", "--notebook", str(path))
    assert code == 2 and ("nb.ipynb" in out or "/dev/zero" in out) and "not" in out
    assert len(out.strip().splitlines()) == 1
    no_run_made(project)


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize("value", ["1e308", "0.001", "0.5", "0", "-1", "nan", "inf", "-inf",
                                   "86401", "ten", "1" * 400])
def test_batch_timeout_out_of_range_is_exit_2(project, capsys, value):
    code, out = run(capsys, "batch", "--year", "2023", f"--timeout={value}")
    assert code == 2 and "--timeout" in out and "86,400" in out
    assert not (project / "build").exists()


def test_batch_timeout_bounds_are_the_named_limits():
    from ntm_lib.cli._args import positive_seconds

    assert positive_seconds(str(limits.TIMEOUT_MIN_SECONDS)) == limits.TIMEOUT_MIN_SECONDS
    assert positive_seconds(str(limits.TIMEOUT_MAX_SECONDS)) == limits.TIMEOUT_MAX_SECONDS


# --------------------------------------------------------------------------- time limits, e2e


def sleepy_notebook(tmp_path: Path, seconds: int = 60) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                             new_code_cell("y = 2"),
                             new_code_cell(f"import time\ntime.sleep({seconds})"),
                             new_code_cell("z = 3")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "sleepy.ipynb"
    nbformat.write(nb, str(path))
    return path


@pytest.mark.e2e
@pytest.mark.parametrize("limit", [3.0, 0.3])
def test_a_time_limit_fires_close_to_its_value(tmp_path, limit):
    from ntm_lib.errors import ExecutionError
    from ntm_lib.run.execute import execute_notebook, execution_time_limit

    out = tmp_path / "out.ipynb"
    began = time.monotonic()
    with pytest.raises(ExecutionError) as info, execution_time_limit(limit):
        execute_notebook(sleepy_notebook(tmp_path), out, {"x": 5}, cwd=tmp_path)
    took = time.monotonic() - began
    assert took < limit + 2.5  # was: SIGINT ignored, then a kill 10 s later
    error = info.value
    assert error.time_limit == limit and error.failure.ename == "TimeoutError"
    executed = json.loads(out.read_text(encoding="utf-8"))  # kept as evidence
    if limit >= 3:  # the sleeping cell, after the injected parameters
        assert "time.sleep" in "".join(executed["cells"][error.failure.cell_index]["source"])
    stopped = executed["cells"][error.failure.cell_index]["outputs"][-1]
    assert stopped["ename"] == "TimeoutError" and f"{limit:g} s" in stopped["evalue"]


@pytest.mark.e2e
def test_a_render_over_its_time_is_a_failed_archived_run(project, monkeypatch):
    from ntm_lib.run import build_report

    monkeypatch.setattr(limits, "RENDER_SECONDS", 0.01)
    result = build_report("02881", 2023, build=project / "build")
    assert result.status == "failed" and result.latest is None
    assert "limit limits.RENDER_SECONDS" in str(result.error)
    manifest = json.loads((result.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed" and manifest["error"]["step"] == "render"
    data = result.run_dir / "data"
    assert (data / "commune_report.ipynb").exists() and not (data / "report.pdf").exists()
    assert not [p for p in result.run_dir.rglob("*") if p.name.endswith(".tmp")]
