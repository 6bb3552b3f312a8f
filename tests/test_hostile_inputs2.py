"""Hostile inputs, second round: links out of the project, bad ``ntm trace``
arguments, ``ntm verify`` reporting every problem of a run, and ``--build``
among the inputs. Fast: no kernel is started (every refusal comes first)."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from ntm_lib.cli import main
from cli_helpers import run

SECRET = "SECRET-FIRST-LINE:x:0:0"
CODE = "90001"




@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """One synthetic commune for 2023 (``ntm synth``), made once."""
    out = tmp_path_factory.mktemp("synth") / "project"
    assert main(["synth", "--communes", "1", "--year", "2023", "--out", str(out)]) == 0
    return out


@pytest.fixture
def project(synthetic, tmp_path, monkeypatch):
    """A fresh copy of the synthetic project as NTM_HOME (its ``notebooks``
    still the link to the shipped notebooks), and an outside secret file."""
    home = tmp_path / "home"
    shutil.copytree(synthetic, home, symlinks=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text(SECRET + "\nsecond line\n", encoding="utf-8")
    monkeypatch.setenv("NTM_HOME", str(home))
    monkeypatch.chdir(home)
    return home


def slug(home: Path) -> str:
    return next((home / "params" / "2023").glob("*.yaml")).stem


def no_secret(text: str, tmp_path: Path) -> None:
    assert SECRET not in text and "second line" not in text
    assert str(tmp_path / "outside") not in text and "/etc/passwd" not in text


def refused_run(capsys, tmp_path: Path, *extra: str, check_build: bool = True) -> str:
    """``ntm run`` of the commune (``extra`` arguments before ``--build``): exit 2,
    one line, no secret (and no build folder when ``check_build``); the output."""
    build = tmp_path / "b"
    code, out = run(capsys, "run", "--commune", CODE, "--year", "2023", *extra,
                    "--build", str(build))
    assert code == 2 and len(out.strip().splitlines()) == 1
    no_secret(out, tmp_path)
    if check_build:
        assert not build.exists()
    return out


# --------------------------------------------------------------------------- 1. links out


def test_the_synthetic_project_with_its_notebooks_link_still_checks(project, capsys):
    assert (project / "notebooks").is_symlink()
    code, out = run(capsys, "validate", "--year", "2023")
    assert code == 0, out
    from ntm_lib.params.notebook import read_notebook

    assert read_notebook(project / "notebooks" / "commune_report.ipynb")["cells"]


@pytest.mark.parametrize("target", ["/etc/passwd", "secret"])
def test_a_table_linked_out_of_the_project_is_refused_unread(project, tmp_path, capsys, target):
    table = project / "data" / "communes" / CODE / "poverty.csv"
    table.unlink()
    table.symlink_to(tmp_path / "outside" / "secret.csv" if target == "secret" else target)
    code, out = run(capsys, "validate", "--year", "2023")
    assert code == 2
    assert f"data/communes/{CODE}/poverty.csv: cannot read the CSV table through a symbolic " \
           "link leading out of the project" in out
    no_secret(out, tmp_path)
    out = refused_run(capsys, tmp_path)
    assert out.startswith(f"error: data/communes/{CODE}/poverty.csv: ")


def test_a_commune_folder_linked_out_is_refused(project, tmp_path, capsys):
    folder = project / "data" / "communes" / CODE
    shutil.copytree(folder, tmp_path / "outside" / CODE)
    (tmp_path / "outside" / CODE / "quarterly.csv").write_text(SECRET + "\n", encoding="utf-8")
    shutil.rmtree(folder)
    folder.symlink_to(tmp_path / "outside" / CODE, target_is_directory=True)
    out = refused_run(capsys, tmp_path)
    assert f"data/communes/{CODE}/" in out and "symbolic link leading out" in out


def test_the_registry_folder_linked_out_is_refused(project, tmp_path, capsys):
    registry = project / "data" / "registry"
    shutil.copytree(registry, tmp_path / "outside" / "registry")
    shutil.rmtree(registry)
    registry.symlink_to(tmp_path / "outside" / "registry", target_is_directory=True)
    out = refused_run(capsys, tmp_path, check_build=False)
    assert "data/registry/communes.csv: cannot read the CSV table through a symbolic link" in out


def test_a_link_that_stays_in_the_project_is_followed(project, capsys):
    table = project / "data" / "communes" / CODE / "poverty.csv"
    keep = project / "data" / "shared-poverty.csv"
    table.rename(keep)
    table.symlink_to(Path("..") / ".." / "shared-poverty.csv")
    code, out = run(capsys, "validate", "--year", "2023")
    assert code == 0, out


def test_a_params_file_linked_out_is_refused(project, tmp_path, capsys):
    params = project / "params" / "2023" / f"{slug(project)}.yaml"
    shutil.copy(params, tmp_path / "outside" / "params.yaml")
    params.unlink()
    params.symlink_to(tmp_path / "outside" / "params.yaml")
    out = refused_run(capsys, tmp_path)
    assert f"params/2023/{slug(project)}.yaml" in out and "symbolic link leading out" in out


def test_a_notebook_linked_out_is_refused(project, tmp_path, capsys):
    (tmp_path / "outside" / "nb.ipynb").write_text(json.dumps({"cells": [], "x": SECRET}),
                                                   encoding="utf-8")
    (project / "mine.ipynb").symlink_to(tmp_path / "outside" / "nb.ipynb")
    out = refused_run(capsys, tmp_path, "--notebook", str(project / "mine.ipynb"),
                      check_build=False)
    assert "mine.ipynb: cannot read the notebook through a symbolic link" in out


def test_read_bounded_reads_a_file_outside_the_project_given_by_the_user(project, tmp_path):
    from ntm_lib import limits
    from ntm_lib.errors import LimitError, UnsafePathError

    outside = tmp_path / "outside" / "secret.csv"
    assert limits.read_bounded(outside, "CSV_FILE_BYTES", what="CSV table").startswith(b"SECRET")
    (project / "zero.csv").symlink_to("/dev/zero")
    with pytest.raises(UnsafePathError) as info:
        limits.read_bounded(project / "zero.csv", "CSV_FILE_BYTES", what="CSV table")
    assert info.value.file == "zero.csv" and info.value.exit_code == 2
    os.mkfifo(project / "fifo.csv")  # never blocks: opened without waiting for a writer
    with pytest.raises(LimitError, match="not a regular file"):
        limits.read_bounded(project / "fifo.csv", "CSV_FILE_BYTES", what="CSV table")


# --------------------------------------------------------------------------- 2. ntm trace


def _fake_run(folder: Path, figures: dict[str, object]) -> Path:
    """A bagged run (no kernel): a notebook recording ``figures``, a report."""
    from ntm_lib.record.figures import MEDIA_TYPE, make_payload
    from ntm_lib.run.bag import make_run_bag

    (folder / "inputs").mkdir(parents=True)
    (folder / "report.html").write_text("<p>report</p>", encoding="utf-8")
    (folder / "inputs" / "a.csv").write_text("year\n2023\n", encoding="utf-8")
    outputs = [{"output_type": "display_data", "metadata": {},
                "data": {MEDIA_TYPE: make_payload(n, v)}} for n, v in figures.items()]
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": outputs,
                     "execution_count": 1}]}
    (folder / "report.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    make_run_bag(folder, {"run_id": folder.name, "year": 2023, "parameters": {},
                          "commune": {"name": "N", "code": CODE}},
                 bagging_date=dt.date(2023, 12, 5))
    return folder


def test_trace_an_unknown_figure_is_a_bad_argument(project, tmp_path, capsys):
    run_dir = _fake_run(tmp_path / "b" / "archive" / "2023" / "x" / "r1",
                        {"criteria_met": 17, "band": "B"})
    code, out = run(capsys, "trace", "--commune", CODE, "--year", "2023", "--figure", "nope",
                    "--run", str(run_dir))
    assert code == 2 and len(out.strip().splitlines()) == 1
    assert "no figure 'nope' in this run; figures recorded: criteria_met, band" in out
    code, out = run(capsys, "trace", "--commune", CODE, "--year", "2023", "--figure", "band",
                    "--run", str(run_dir))
    assert code == 0 and out.startswith("band = B")


def test_trace_a_year_without_params_says_what_is_missing(project, tmp_path, capsys):
    code, out = run(capsys, "trace", "--commune", CODE, "--year", "2019", "--figure", "band",
                    "--build", str(tmp_path / "b"))
    assert code == 1 and len(out.strip().splitlines()) == 1
    assert f"no params file params/2019/{slug(project)}.yaml to build one from; params exist " \
           "for 2023" in out
    assert "build one with" not in out


# --------------------------------------------------------------------------- 3. ntm verify


def test_verify_names_the_link_and_the_changed_file(project, tmp_path, capsys):
    run_dir = _fake_run(tmp_path / "b" / "archive" / "2023" / "x" / "r1", {"band": "B"})
    (run_dir / "data" / "inputs" / "evil.csv").symlink_to(tmp_path / "outside" / "secret.csv")
    with (run_dir / "data" / "report.html").open("a", encoding="utf-8") as f:
        f.write("changed")
    code, out = run(capsys, "verify", str(run_dir))
    assert code == 1
    assert "  changed  data/report.html" in out
    assert "  error    symbolic link (not followed): data/inputs/evil.csv -> " in out
    assert "0 of 1 run(s) verified, 1 FAILED" in out and SECRET not in out


def test_verify_with_a_linked_tag_file_still_checks_the_payload(project, tmp_path, capsys):
    run_dir = _fake_run(tmp_path / "b" / "archive" / "2023" / "x" / "r1", {"band": "B"})
    (run_dir / "bag-info.txt").unlink()
    (run_dir / "bag-info.txt").symlink_to(tmp_path / "outside" / "secret.csv")
    (run_dir / "data" / "inputs" / "a.csv").write_text("year\n2024\n", encoding="utf-8")
    code, out = run(capsys, "verify", str(run_dir))
    assert code == 1 and SECRET not in out
    assert "  changed  data/inputs/a.csv" in out and "  missing  bag-info.txt" in out
    assert "symbolic link (not followed): bag-info.txt" in out


# --------------------------------------------------------------------------- 4. --build


@pytest.mark.parametrize("command", ["run", "batch"])
@pytest.mark.parametrize("build, folder", [("params", "params/"), ("data", "data/"),
                                           ("data/communes", "data/"),
                                           ("notebooks", "notebooks/"), (".", None)])
def test_build_among_the_inputs_is_refused(project, capsys, command, build, folder):
    before = sorted(str(p) for p in project.rglob("*"))
    extra = ["--commune", CODE] if command == "run" else []
    code, out = run(capsys, command, *extra, "--year", "2023", "--build", build)
    assert code == 2 and len(out.strip().splitlines()) == 1
    assert out.startswith(f"error: {build}: refusing to write runs ")
    assert (f"inside the project's {folder} folder" if folder else "project folder itself") in out
    assert sorted(str(p) for p in project.rglob("*")) == before
