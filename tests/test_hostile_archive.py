"""Hostile archives, without a kernel: hijacked and dangling latest links,
symbolic links planted in the build folder or inside a run, broken
manifests and notebooks, tampered runs, stale partial folders, a full disk
where the archive writes, bad schedulers, signals in batch workers.

Runs are fake (small BagIt bags made with the product's own
``make_run_bag``); commands are called in-process (``ntm_lib.cli.main``).
"""
from __future__ import annotations

import datetime as dt
import errno
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from ntm_lib.cli import main
from ntm_lib.errors import DiskFullError, ExecutionError, CellFailure, UnsafePathError
from ntm_lib.run import archive
from ntm_lib.run.bag import make_run_bag
from ntm_lib.safeio import sha256_file

ROOT = Path(__file__).resolve().parent.parent
YEAR, SLUG, CODE = 2023, "nam-mon", "02881"
SOURCE = "data/communes/02881/criteria_status.csv"
FIGURE_MEDIA = "application/vnd.ntm.figure.v1+json"


def _notebook(sources: list) -> dict:
    figure = {"schema": "ntm.figure.v1", "name": "criteria_met", "value": 13,
              "unit": "criteria", "sources": sources}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "a", "metadata": {}, "execution_count": 1, "source": "",
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {FIGURE_MEDIA: figure}}]}]}


def fake_run(build: Path, run_id: str | None = None, *, slug: str = SLUG,
             sources: list | None = None, link: bool = True, extra: dict | None = None) -> Path:
    """A finished run (a real bag) in ``build/archive/2023/<slug>/<run_id>``."""
    run_id = run_id or archive.new_run_id()
    run = archive.commune_archive(build, YEAR, slug) / run_id
    (run / "inputs" / Path(SOURCE).parent).mkdir(parents=True)
    (run / "inputs" / SOURCE).write_bytes((ROOT / SOURCE).read_bytes())
    (run / "report.html").write_text("<html>báo cáo</html>", encoding="utf-8")
    (run / "commune_report.ipynb").write_text(json.dumps(_notebook(
        sources if sources is not None else [{"path": SOURCE, "rows": [2, 3]}])), encoding="utf-8")
    outputs = {n: sha256_file(run / n) for n in ("report.html", "commune_report.ipynb")}
    manifest = {"schema": "ntm.manifest.v1", "run_id": run_id, "status": "ok", "year": YEAR,
                "commune": {"code": CODE, "name": "Nậm Mòn", "province_name": "Lào Cai"},
                "parameters": {"issuing_body": ["UBND"]}, "outputs": outputs,
                "inputs": [{"path": SOURCE, "sha256": sha256_file(ROOT / SOURCE)}],
                **(extra or {})}
    make_run_bag(run, manifest, bagging_date=dt.date(2023, 12, 5))
    if link:
        assert archive.point_latest(build, YEAR, slug, run)
    return run


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def build(tmp_path) -> Path:
    return tmp_path / "build"


# --- item 4: the latest link is replaced unless it names a run of this archive -------------

def _hijack(kind: str, build: Path, tmp_path: Path) -> tuple[Path, Path | None]:
    """Point build/2023/nam-mon somewhere hostile; return the link and a
    file whose bytes must not change."""
    link = archive.latest_link(build, YEAR, SLUG)
    outside = tmp_path / "outside" / "zzzzzzzz"  # sorts after every run id
    outside.mkdir(parents=True)
    (outside / "manifest.json").write_text('{"run_id": "zzzz", "status": "ok"}', encoding="utf-8")
    (outside / "bagit.txt").write_text("BagIt-Version: 0.97\n", encoding="utf-8")
    target = {
        "outside": lambda: outside,
        "dangling": lambda: tmp_path / "nowhere",
        "other-commune": lambda: fake_run(build, slug="other", link=False),
        "not-a-run": lambda: archive.commune_archive(build, YEAR, SLUG) / "99999999T999999Z-zzzzzz",
        "legacy-folder": lambda: archive.commune_archive(build, YEAR, SLUG) / "legacy-x",
        "a-file": lambda: tmp_path / "outside" / "file",
    }[kind]()
    if kind in ("not-a-run", "legacy-folder"):
        target.mkdir(parents=True)
        (target / "manifest.json").write_text("{}", encoding="utf-8")
    if kind == "a-file":
        target.write_text("x", encoding="utf-8")
    link.unlink()
    os.symlink(target, link)
    return link, outside / "manifest.json"


HIJACKS = ["outside", "dangling", "other-commune", "not-a-run", "legacy-folder", "a-file"]


@pytest.mark.parametrize("kind", HIJACKS)
def test_a_link_naming_no_run_of_this_archive_is_replaced(kind, build, tmp_path):
    fake_run(build, "20231205T080000.000000Z-aaaaaa")
    link, victim = _hijack(kind, build, tmp_path)
    before = victim.read_bytes()
    assert archive.latest_run_dir(build, YEAR, SLUG) is None
    new = fake_run(build, "20231205T080001.000000Z-000000", link=False)
    assert archive.point_latest(build, YEAR, SLUG, new) is True
    assert link.resolve() == new.resolve()
    assert victim.read_bytes() == before
    assert not [p for p in link.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("kind", ["outside", "dangling", "other-commune"])
def test_show_and_trace_refuse_a_hijacked_link(kind, build, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake_run(build)
    link, _ = _hijack(kind, build, tmp_path)
    code, out, err = run_cli(capsys, "trace", "--commune", CODE, "--year", str(YEAR),
                             "--figure", "criteria_met", "--build", str(build))
    assert code == 2 and "does not name a run of this commune's archive" in one_error_line(err)
    assert out == ""
    if kind == "outside":
        code, out, err = run_cli(capsys, "show", str(link))
        assert code == 2 and "refusing to follow a symbolic link out of" in one_error_line(err)
        assert "zzzz" not in out


@pytest.mark.parametrize("kind, says", [("outside", "refusing to follow a symbolic link out of"),
                                        ("dangling", "the link leads to nothing")])
def test_verify_a_year_names_a_bad_link_and_fails(kind, says, build, tmp_path, capsys):
    run = fake_run(build)
    _hijack(kind, build, tmp_path)
    code, out, _ = run_cli(capsys, "verify", str(build / "2023"))
    assert code == 1
    assert f"ok       {run.resolve()}" in out
    assert says in out and "FAILED" in out
    assert "1 of 1 run(s) verified; 1 link(s) leading to no run of this archive" in out


def test_the_link_stays_on_a_later_run_and_moves_past_an_earlier_one(build):
    earlier = fake_run(build, "20231205T080000.000001Z-ffffff", link=False)
    later = fake_run(build, "20231205T080000.000002Z-000000", link=False)
    assert archive.point_latest(build, YEAR, SLUG, later)
    assert archive.point_latest(build, YEAR, SLUG, earlier) is False  # finished last, started first
    assert archive.latest_link(build, YEAR, SLUG).resolve() == later.resolve()


def test_run_ids_of_one_second_sort_by_microsecond_not_random_hex(monkeypatch):
    t0 = dt.datetime(2023, 12, 5, 8, 30, 0, 1, tzinfo=dt.timezone.utc)
    hexes = iter(["ffffff", "000000"])
    monkeypatch.setattr(archive.secrets, "token_hex", lambda n: next(hexes))
    first, second = archive.new_run_id(t0), archive.new_run_id(t0 + dt.timedelta(microseconds=1))
    # Seconds alone let the random part decide ("...Z-ffffff" after "...Z-000000"):
    assert f"{t0:%Y%m%dT%H%M%SZ}-ffffff" > f"{t0:%Y%m%dT%H%M%SZ}-000000"
    assert first < second  # the microseconds decide, as text and by key
    assert archive.run_sort_key(first) < archive.run_sort_key(second)
    assert archive.is_run_id(first) and archive.is_run_id("20231205T083000Z-abcdef")
    assert archive.run_sort_key("20231205T083000Z-ffffff") < archive.run_sort_key(second)
    assert not archive.is_run_id("../20231205T083000Z-abcdef")


def test_the_run_command_says_where_the_run_is_when_the_link_stays(tmp_path, capsys, monkeypatch):
    from ntm_lib.run.report import RunResult

    run_dir = tmp_path / "build" / "archive" / "2023" / SLUG / "r"
    result = RunResult("r", "ok", run_dir, None, {"report.html": run_dir / "data" / "report.html"})
    monkeypatch.setattr("ntm_lib.run.build_report", lambda *a, **k: result)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "run", "--commune", CODE, "--year", "2023")
    assert code == 0
    assert "in build/archive/2023/nam-mon/r/:" in out and "build/archive/2023/nam-mon/r/data/report.html" in out
    assert "left on a run of this commune that started later" in out


# --- item 5: no symbolic link is written through or read as evidence ----------------------

def _plant(kind: str, build: Path, tmp_path: Path) -> Path:
    """Put a symbolic link (or a file) where the archive writes; return the victim."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious", encoding="utf-8")
    folder = archive.commune_archive(build, YEAR, SLUG)
    where = {"archive": build / "archive", "archive-year": folder.parent, "commune": folder,
             "link-year": build / "2023"}[kind]
    where.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(victim, where)
    return victim


@pytest.mark.parametrize("kind", ["archive", "archive-year", "commune", "link-year"])
def test_run_refuses_an_archive_folder_linked_out_of_build(kind, build, tmp_path, capsys):
    victim = _plant(kind, build, tmp_path)
    code, out, err = run_cli(capsys, "run", "--commune", CODE, "--year", "2023",
                             "--build", str(build))
    assert code == 2 and "refusing to follow a symbolic link out of" in one_error_line(err)
    assert sorted(p.name for p in victim.rglob("*")) == ["keep.txt"]
    with pytest.raises(UnsafePathError):
        archive.start_run(build, YEAR, SLUG, archive.new_run_id())
    assert sorted(p.name for p in victim.rglob("*")) == ["keep.txt"]


@pytest.mark.parametrize("kind, says", [
    ("symlink", "refusing to follow a symbolic link"),
    ("folder", "the lock file is not a regular file"),
])
def test_latest_lock_that_is_a_link_or_a_folder_is_refused(kind, says, build, tmp_path, capsys):
    run = fake_run(build)
    victim = tmp_path / "victim.txt"
    victim.write_text("do not truncate me", encoding="utf-8")
    lock = archive.commune_archive(build, YEAR, SLUG) / archive.LATEST_LOCK
    lock.unlink()
    if kind == "symlink":
        os.symlink(victim, lock)
    else:
        lock.mkdir()
    with pytest.raises(UnsafePathError, match=says):
        archive.point_latest(build, YEAR, SLUG, run)
    code, _, err = run_cli(capsys, "run", "--commune", CODE, "--year", "2023", "--build", str(build))
    assert code == 2 and says in one_error_line(err) and ".latest.lock" in err
    assert victim.read_text(encoding="utf-8") == "do not truncate me"
    assert not list(archive.commune_archive(build, YEAR, SLUG).glob(".partial-*"))


@pytest.mark.parametrize("where", ["build", "archive", "archive-year", "commune", "link-year"])
def test_a_file_where_a_folder_belongs_is_one_line(where, build, capsys):
    path = {"build": build, "archive": build / "archive", "archive-year": build / "archive" / "2023",
            "commune": build / "archive" / "2023" / SLUG, "link-year": build / "2023"}[where]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a folder", encoding="utf-8")
    code, _, err = run_cli(capsys, "run", "--commune", CODE, "--year", "2023", "--build", str(build))
    line = one_error_line(err)
    assert code == 2
    assert ("the build folder is a file" if where == "build"
            else "a file stands where a folder of the archive belongs") in line
    assert path.read_text(encoding="utf-8") == "not a folder"


def test_trace_refuses_a_copy_that_is_a_symbolic_link(build, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = fake_run(build)
    copy = run / "data" / "inputs" / SOURCE
    copy.unlink()
    os.symlink("/etc/passwd", copy)
    code, out, err = run_cli(capsys, "trace", "--commune", CODE, "--year", "2023",
                             "--figure", "criteria_met", "--build", str(build))
    assert code == 2 and "refusing to follow a symbolic link" in one_error_line(err)
    assert "root:" not in out + err


@pytest.mark.parametrize("path", ["../../../../../../etc/passwd", "/etc/passwd",
                                  "data/../../../etc/passwd"])
def test_trace_refuses_a_source_path_out_of_the_project(path, build, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake_run(build, sources=[{"path": path, "rows": [1]}])
    code, out, err = run_cli(capsys, "trace", "--commune", CODE, "--year", "2023",
                             "--figure", "criteria_met", "--build", str(build))
    assert code == 2 and "a figure source path leads out of the project" in one_error_line(err)
    assert "root:" not in out


def test_trace_reads_the_runs_own_copy(build, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake_run(build)
    code, out, _ = run_cli(capsys, "trace", "--commune", CODE, "--year", "2023",
                           "--figure", "criteria_met", "--build", str(build))
    lines = (ROOT / SOURCE).read_text(encoding="utf-8").splitlines()
    assert code == 0 and f"  row 2: {lines[1]}" in out and "[unchanged in the project since]" in out


@pytest.mark.parametrize("inside", ["data/report.html", "data/inputs/" + SOURCE,
                                    "manifest-sha256.txt", "bag-info.txt"])
def test_verify_reports_a_symbolic_link_inside_a_run_without_reading_it(inside, build, capsys):
    run = fake_run(build)
    (run / inside).unlink()
    os.symlink("/etc/passwd", run / inside)
    code, out, _ = run_cli(capsys, "verify", str(run))
    assert code == 1 and "FAILED" in out
    assert f"symbolic link (not followed): {inside} -> /etc/passwd" in out
    assert "root:" not in out


def test_verify_a_year_checks_roll_up_runs_too(build, capsys):
    fake_run(build)
    rollup = build / "archive" / "2023" / "rollup-province-10" / archive.new_run_id()
    rollup.mkdir(parents=True)
    (rollup / "report.html").write_text("<html>tổng hợp</html>", encoding="utf-8")
    (rollup / "manifest.json").write_text(json.dumps({
        "schema": "ntm.rollup.v1", "status": "ok",
        "outputs": {"report.html": sha256_file(rollup / "report.html")}}), encoding="utf-8")
    code, out, _ = run_cli(capsys, "verify", str(build / "2023"))
    assert code == 0 and "2 of 2 run(s) verified" in out and "(roll-up" in out
    (rollup / "report.html").write_text("<html>sửa</html>", encoding="utf-8")
    (rollup / "extra.txt").write_text("x", encoding="utf-8")
    code, out, _ = run_cli(capsys, "verify", str(build / "2023"))
    assert code == 1 and "changed  report.html" in out and "added    extra.txt" in out


# --- broken manifests and notebooks: one line, never a traceback ---------------------------

MANIFESTS = {
    "not-json": (b"{not json", 1, "the manifest is not valid JSON"),
    "empty": (b"", 1, "the manifest is not valid JSON"),
    "a-list": (b"[1, 2]", 1, "the manifest is not a JSON object"),
    "not-utf8": (b"\xff\xfe{}", 1, "the manifest is not UTF-8 text"),
    "a-number": (b"42", 1, "the manifest is not a JSON object"),
}


@pytest.mark.parametrize("name", MANIFESTS)
def test_show_names_an_invalid_manifest(name, build, capsys):
    data, code_expected, says = MANIFESTS[name]
    run = fake_run(build)
    (run / "manifest.json").write_bytes(data)
    code, out, err = run_cli(capsys, "show", str(run))
    assert code == code_expected and says in one_error_line(err) and "manifest.json" in err


@pytest.mark.parametrize("field, value", [
    ("parameters", [1, 2]), ("commune", "Nậm Mòn"), ("environment", "x"),
    ("error", "boom"), ("parameters", {"narrative": "not a dict", "x": {"y": [1]}}),
    ("run_id", "r\x1b[2J\nfake line"),
])
def test_show_survives_fields_of_the_wrong_type(field, value, build, capsys):
    run = fake_run(build)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    manifest[field] = value
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, out, _ = run_cli(capsys, "show", str(run))
    assert code == 0 and "criteria_met" in out and "\x1b" not in out
    assert "fake line" not in out.splitlines()


def test_show_refuses_a_manifest_that_is_a_symbolic_link(build, capsys):
    run = fake_run(build)
    (run / "manifest.json").unlink()
    os.symlink("/etc/passwd", run / "manifest.json")
    code, out, err = run_cli(capsys, "show", str(run))
    assert code == 2 and "refusing to follow a symbolic link" in one_error_line(err)
    assert "root:" not in out


@pytest.mark.parametrize("content", [b"{broken", b"[]", b'{"cells": 5}',
                                     json.dumps({"cells": [{"outputs": [{"data": {
                                         FIGURE_MEDIA: {"name": "x"}}}]}]}).encode()])
def test_show_names_an_unreadable_notebook(content, build, capsys):
    run = fake_run(build)
    (run / "data" / "commune_report.ipynb").write_bytes(content)
    code, _, err = run_cli(capsys, "show", str(run))
    assert code == 1 and "commune_report.ipynb" in one_error_line(err)


# --- item 10: a tampered latest run is rebuilt, not skipped --------------------------------

@pytest.fixture
def task():
    from ntm_lib.batch.plan import plan

    return plan(YEAR, [SLUG])[0]


def _fresh_run(build: Path, task) -> Path:
    """A run the incremental rule finds up to date."""
    from ntm_lib.batch import fingerprint

    notebook = ROOT / "notebooks" / "commune_report.ipynb"
    return fake_run(build, extra={
        "params_file": {"path": "params/2023/nam-mon.yaml", "sha256": sha256_file(task.params)},
        "notebook_template": {"path": "notebooks/commune_report.ipynb",
                              "sha256": sha256_file(notebook)},
        "environment": {"library_sha256": fingerprint.library_sha256()}})


@pytest.mark.parametrize("damage, reason", [
    (None, None),
    ("html", "archived run changed: data/report.html changed"),
    ("html-link", "archived run changed: data/report.html changed"),
    ("html-gone", "archived run changed: report.html missing"),
    ("manifest", "archived run changed: manifest.json changed"),
    ("payload-manifest", "archived run changed: manifest-sha256.txt changed"),
    ("hijack", "the latest link names no run of this archive"),
])
def test_fingerprint_checks_the_runs_own_files(damage, reason, build, task, tmp_path):
    from ntm_lib.batch import fingerprint

    run = _fresh_run(build, task)
    notebook = ROOT / "notebooks" / "commune_report.ipynb"
    html = run / "data" / "report.html"
    if damage == "html":
        html.write_text("<html>sửa tay</html>", encoding="utf-8")
    elif damage == "html-link":
        copy = tmp_path / "same.html"
        copy.write_bytes(html.read_bytes())
        html.unlink()
        os.symlink(copy, html)
    elif damage == "html-gone":
        html.unlink()
    elif damage == "manifest":
        text = (run / "manifest.json").read_text(encoding="utf-8")
        (run / "manifest.json").write_text(text.replace('"ok"', '"ok" '), encoding="utf-8")
    elif damage == "payload-manifest":
        with open(run / "manifest-sha256.txt", "a", encoding="utf-8") as f:
            f.write("\n")
    elif damage == "hijack":
        _hijack("outside", build, tmp_path)
    fresh = fingerprint.check(task, build, notebook)
    if reason is None:
        assert fresh.fresh, fresh.reason
    else:
        assert not fresh.fresh and fresh.reason == reason


# --- item 10: partial folders of dead processes go at once; live ones stay -----------------

def test_a_partial_folder_of_a_killed_process_is_swept_at_once(build):
    folder = archive.commune_archive(build, YEAR, SLUG)
    pid = os.fork()
    if pid == 0:  # the child starts a run, writes into it, and is killed -9
        try:
            partial = archive.start_run(build, YEAR, SLUG, archive.new_run_id())
            (partial / "bagit.txt").write_text("sealed", encoding="utf-8")
        finally:
            os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    [left] = list(folder.glob(".partial-*[!k]"))  # the folder (not its .lock)
    assert (left / "bagit.txt").exists()
    removed = archive.sweep_partials(folder)
    assert removed == [left]
    assert not [p for p in folder.iterdir() if p.name.startswith(".partial-")]


def test_a_live_partial_folder_is_kept_and_released_when_finished(build):
    folder = archive.commune_archive(build, YEAR, SLUG)
    run_id = archive.new_run_id()
    partial = archive.start_run(build, YEAR, SLUG, run_id)
    assert archive.sweep_partials(folder) == [] and partial.is_dir()
    final = archive.finish_run(partial, run_id)
    assert final.is_dir() and not [p for p in folder.iterdir() if p.name.startswith(".partial-")]


@pytest.mark.parametrize("left", ["no-lock", "dead-legacy-pid", "symlink", "orphan-lock"])
def test_leftovers_are_swept_and_links_not_followed(left, build, tmp_path):
    folder = archive.commune_archive(build, YEAR, SLUG)
    folder.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("x", encoding="utf-8")
    partial = folder / ".partial-20231205T080000.000000Z-abcdef"
    if left == "symlink":
        os.symlink(victim, partial)
    elif left == "orphan-lock":
        (folder / ".partial-20231205T080000.000000Z-abcdef.lock").write_text("host 1", encoding="utf-8")
    else:
        partial.mkdir()
        if left == "dead-legacy-pid":
            (partial / ".pid").write_text("999999999", encoding="utf-8")
    archive.sweep_partials(folder)
    assert not [p for p in folder.iterdir() if p.name.startswith(".partial-")]
    assert (victim / "keep.txt").read_text(encoding="utf-8") == "x"


def test_a_legacy_partial_of_a_live_process_is_kept(build):
    folder = archive.commune_archive(build, YEAR, SLUG)
    partial = folder / ".partial-20231205T080000Z-abcdef"
    partial.mkdir(parents=True)
    (partial / ".pid").write_text(str(os.getppid()), encoding="utf-8")
    assert archive.sweep_partials(folder) == [] and partial.is_dir()


# --- disk full where the archive writes ----------------------------------------------------

def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_moving_the_link_leaves_it_as_it_was(build, monkeypatch):
    first = fake_run(build, "20231205T080000.000000Z-aaaaaa")
    second = fake_run(build, "20231205T080001.000000Z-aaaaaa", link=False)
    monkeypatch.setattr(archive.os, "symlink", _enospc)
    with pytest.raises(OSError) as caught:
        archive.point_latest(build, YEAR, SLUG, second)
    assert archive.is_disk_full_error(caught.value)
    link = archive.latest_link(build, YEAR, SLUG)
    assert link.resolve() == first.resolve()
    assert not [p for p in link.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("step", ["lock", "mkdir"])
def test_disk_full_when_starting_a_run_is_one_line_and_leaves_nothing(step, build, monkeypatch):
    (archive.commune_archive(build, YEAR, SLUG)).mkdir(parents=True)
    if step == "lock":
        monkeypatch.setattr("ntm_lib.run.partials._take_lock", _enospc)
    else:
        monkeypatch.setattr(Path, "mkdir", lambda self, *a, **k: _enospc())
    with pytest.raises(DiskFullError, match="disk full: no room to start the run"):
        archive.start_run(build, YEAR, SLUG, archive.new_run_id())
    assert not list(archive.commune_archive(build, YEAR, SLUG).iterdir())


def test_a_full_disk_behind_a_notebook_failure_is_still_a_full_disk():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise ExecutionError(CellFailure(-1, None, "OSError", "no space")) from None
    except ExecutionError as exc:
        assert archive.is_disk_full_error(exc)
    assert not archive.is_disk_full_error(ValueError("Unterminated string"))


def test_a_roll_up_on_a_full_disk_is_recorded_not_raised(monkeypatch, tmp_path):
    from ntm_lib.batch.record import BatchRecord
    from ntm_lib.batch.rollups import rollups_for
    from ntm_lib.batch.worker import Outcome

    monkeypatch.setattr("ntm_lib.rollup.build.build_rollup", _enospc)
    record = BatchRecord("b", YEAR, "t", outcomes=[Outcome(YEAR, SLUG, "ran", province_code="10")])
    [entry] = rollups_for(record, tmp_path)
    assert entry["status"] == "failed" and entry["error"]["message"].startswith("disk full")


# --- batches: an unreachable scheduler, a record the disk has no room for ------------------

@pytest.fixture
def fresh_build(build, task):
    _fresh_run(build, task)
    return build


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, says", [
    ("tcp://127.0.0.1:PORT", "cannot use the Dask scheduler: nothing answers at 127.0.0.1:"),
    ("tcp://127.0.0.1", "missing port number"),
    ("tcp://127.0.0.1:99999", "the port is not a number from 1 to 65535"),
    ("no-such-host.invalid:8786", "cannot use the Dask scheduler: nothing answers"),
])
def test_an_up_to_date_batch_still_refuses_a_bad_scheduler(address, says, fresh_build, capsys):
    address = address.replace("PORT", str(_closed_port()))
    before = sorted(p.name for p in (fresh_build / "2023").iterdir())
    code, out, err = run_cli(capsys, "batch", "--year", "2023", "--commune", SLUG, "--quiet",
                             "--no-rollup", "--build", str(fresh_build), "--scheduler", address)
    assert code == 2 and says in one_error_line(err)
    assert sorted(p.name for p in (fresh_build / "2023").iterdir()) == before  # no record


def test_a_batch_whose_record_finds_the_disk_full_says_so_then_writes_it(fresh_build, capsys,
                                                                        monkeypatch):
    import ntm_lib.batch.run as batch_run
    from ntm_lib.batch.record import write_record

    def full(record, build):
        raise DiskFullError("disk full: could not write the file", file=str(build / "x"))

    monkeypatch.setattr(batch_run, "write_record", full)
    code, out, err = run_cli(capsys, "batch", "--year", "2023", "--commune", SLUG, "--quiet",
                             "--no-rollup", "--build", str(fresh_build))
    line = one_error_line(err)
    assert code == 1 and "the batch record and index could not all be written (1 skipped)" in line
    assert "skipped" in out  # the summary is still shown
    assert not (fresh_build / "2023" / "batch.json").exists()
    monkeypatch.setattr(batch_run, "write_record", write_record)  # room again
    code, out, err = run_cli(capsys, "batch", "--year", "2023", "--commune", SLUG, "--quiet",
                             "--no-rollup", "--build", str(fresh_build))
    assert code == 0, err
    record = json.loads((fresh_build / "2023" / "batch.json").read_text(encoding="utf-8"))
    assert record["communes"][0]["status"] == "skipped"


# --- signals: SIGTERM as Ctrl-C; batch workers quiet and redacted --------------------------

def test_sigterm_is_a_keyboard_interrupt_inside_the_block():
    from ntm_lib.run.signals import interrupt_on_sigterm

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        with interrupt_on_sigterm():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs at the next bytecode boundary
                pass
    assert signal.getsignal(signal.SIGTERM) is before


def _in_child(body) -> int:
    """Run ``body`` in a forked child; its exit status."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            body()
        except BaseException:  # noqa: BLE001
            code = 3
        os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_worker_ignores_sigint_when_idle_and_is_interrupted_when_busy():
    from ntm_lib.batch import pool

    def idle():
        pool._state.update(running=False, terminating=False, interrupted=False)
        pool._on_signal(signal.SIGINT, None)  # nothing raised: ignored

    def busy():
        pool._state.update(running=True, terminating=False, interrupted=False)
        try:
            pool._on_signal(signal.SIGINT, None)
        except KeyboardInterrupt:
            os._exit(7)

    def idle_term():
        pool._state.update(running=False, terminating=False, interrupted=False)
        pool._on_signal(signal.SIGTERM, None)

    assert _in_child(idle) == 0
    assert _in_child(busy) == 7
    assert _in_child(idle_term) == 128 + signal.SIGTERM


def test_a_pool_worker_redacts_what_it_prints(monkeypatch, capfd):
    from ntm_lib.batch import pool, worker

    monkeypatch.setattr(worker, "prepare_worker", lambda **k: None)
    monkeypatch.setenv("NTM_SECRET_DATA_API_TOKEN", "tok-123-secret")

    def body():
        pool._init_worker(str(ROOT), False)
        print("leaked tok-123-secret", file=sys.stderr, flush=True)
        sys.stderr.flush()

    assert _in_child(body) == 0
    err = capfd.readouterr().err
    assert "tok-123-secret" not in err and "leaked «secret redacted»" in err


@pytest.mark.parametrize("environment, code, says", [
    ("not an object", 0, None),
    ({"library_copy": "../../../../etc/passwd", "library_sha256": "0" * 64}, 1,
     "the library copy named is not in the build folder"),
    ({"library_copy": "/etc/passwd", "library_sha256": "0" * 64}, 1,
     "the library copy named is not in the build folder"),
    ({"library_copy": ["code", "x"], "library_sha256": "0" * 64}, 1,
     "the library copy named is not in the build folder"),
])
def test_verify_refuses_a_library_copy_named_out_of_the_build_folder(environment, code, says,
                                                                     build, capsys):
    run = fake_run(build, extra={"environment": environment})
    result, out, _ = run_cli(capsys, "verify", str(run))
    assert result == code, out
    if says:
        assert says in out and "root:" not in out


def test_verify_does_not_read_a_bag_entry_leading_out_of_the_bag(build, capsys):
    run = fake_run(build)
    manifest = run / "manifest-sha256.txt"
    manifest.write_text(manifest.read_text(encoding="utf-8")
                        + "0" * 64 + "  data/../../../../../../etc/passwd\n", encoding="utf-8")
    code, out, _ = run_cli(capsys, "verify", str(run))
    assert code == 1 and "FAILED" in out and "root:" not in out
