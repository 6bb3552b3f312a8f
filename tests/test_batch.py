"""Batch runs without a kernel: planning, the incremental rule, records, index."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path

import pytest

from ntm_lib.batch import fingerprint
from ntm_lib.batch.index import write_index
from ntm_lib.batch.plan import Task, params_code, plan
from ntm_lib.batch.record import BatchRecord, csv_text, read_record, summary_table, write_record
from ntm_lib.batch.worker import Outcome
from ntm_lib.errors import ParameterError, UnknownCommuneError


@pytest.fixture
def project(synthetic_project):
    return synthetic_project


def test_plan_takes_every_params_file_of_the_year(project):
    out, result = project
    tasks = plan(2023)
    assert [t.slug for t in tasks] == sorted([s for _, s, _ in result.communes] + ["nam-mon"])
    assert all(t.params == out / "params" / "2023" / f"{t.slug}.yaml" for t in tasks)
    assert tasks[0].key == f"2023/{tasks[0].slug}"


def test_plan_by_slug_code_and_code_without_zeros(project):
    _, result = project
    code, slug, _ = result.communes[1]
    assert [t.slug for t in plan(2023, [slug])] == [slug]
    assert [t.slug for t in plan(2023, [code, "2881"])] == sorted([slug, "nam-mon"])


def test_plan_names_what_is_missing(project):
    with pytest.raises(UnknownCommuneError, match="99998"):
        plan(2023, ["99998"])
    with pytest.raises(ParameterError, match="no params files for 2031"):
        plan(2031)
    (project[0] / "params" / "2023" / "nam-mon.yaml").unlink()
    with pytest.raises(ParameterError, match="params/2023/nam-mon.yaml"):
        plan(2023, ["02881"])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fake_run(out: Path, build: Path, task: Task, notebook: Path, status="ok",
              run_id="20230101T000000Z-aaaaaa") -> Path:
    """An archived run folder with the manifest keys the incremental rule reads."""
    code = params_code(task.params)
    data = out / "data" / "communes" / code / "quarterly.csv"
    registry = out / "data" / "registry" / "communes.csv"
    run_dir = build / "archive" / "2023" / task.slug / run_id
    (run_dir / "data").mkdir(parents=True)
    (run_dir / "data" / "report.html").write_text("<html></html>", encoding="utf-8")
    manifest = {
        "run_id": run_id, "status": status,
        "commune": {"code": code, "name": task.slug, "province_code": "10",
                    "district_name": "Huyện"},
        "params_file": {"path": f"params/2023/{task.slug}.yaml", "sha256": _sha(task.params)},
        "notebook_template": {"path": "notebooks/commune_report.ipynb", "sha256": _sha(notebook)},
        "environment": {"library_sha256": fingerprint.library_sha256()},
        "inputs": [{"path": f"data/communes/{code}/quarterly.csv", "sha256": _sha(data)},
                   {"path": "data/registry/communes.csv", "sha256": _sha(registry)}],
        "outputs": {"report.html": _sha(run_dir / "data" / "report.html")},
        "error": {"message": "boom", "cell_index": 5} if status == "failed" else None,
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if status == "ok":
        link = build / "2023" / task.slug
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(run_dir, link.parent), link)
    return run_dir


def test_unchanged_run_is_fresh_and_each_change_is_named(project, tmp_path):
    out, _ = project
    build, notebook = tmp_path / "build", out / "notebooks" / "commune_report.ipynb"
    task = plan(2023, ["nam-mon"])[0]
    assert fingerprint.check(task, build, notebook).reason == "no successful run yet"
    _fake_run(out, build, task, notebook)
    fresh = fingerprint.check(task, build, notebook)
    assert fresh.fresh and fresh.run.run_id == "20230101T000000Z-aaaaaa"
    assert fingerprint.check(task, build, notebook, library="0" * 64).reason == "library changed"
    other = tmp_path / "other.ipynb"
    other.write_text("{}", encoding="utf-8")
    assert fingerprint.check(task, build, other).reason == "notebook template changed"
    data = out / "data" / "communes" / "02881" / "quarterly.csv"
    data.write_text(data.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert fingerprint.check(task, build, notebook).reason == \
        "input changed: data/communes/02881/quarterly.csv"
    data.unlink()
    assert fingerprint.check(task, build, notebook).reason.startswith("input missing")
    task.params.write_text(task.params.read_text(encoding="utf-8") + "# edit\n", encoding="utf-8")
    assert fingerprint.check(task, build, notebook).reason == "params changed"


def _record(outcomes) -> BatchRecord:
    return BatchRecord("20230101T000000Z-bbbbbb", 2023, "2023-01-01T00:00:00+00:00",
                       outcomes=outcomes, seconds=12.5)


def test_record_json_csv_and_exit_code(tmp_path):
    build = tmp_path / "build"
    ran = Outcome(2023, "a", "ran", 3.2, code="90001", name="A", run_id="r1",
                  run_dir=str(build / "archive/2023/a/r1"),
                  outputs={"report.html": str(build / "archive/2023/a/r1/data/report.html")},
                  timings={"pdf": 0.4, "html": 0.1})
    failed = Outcome(2023, "b", "failed", 1.0, code="90002", name="B",
                     error={"message": "cell 5 raised ValueError: x", "cell": 5,
                            "ename": "ValueError", "evalue": "x"})
    skipped = Outcome(2023, "c", "skipped", code="90003", reason="unchanged since run r0")
    record = _record([ran, failed, skipped])
    assert record.counts == {"ran": 1, "skipped": 1, "failed": 1, "interrupted": 0, "not run": 0}
    assert record.exit_code == 1
    assert _record([ran, skipped]).exit_code == 0
    interrupted = _record([ran])
    interrupted.interrupted = True
    assert interrupted.exit_code == 130

    paths = write_record(record, build)
    data = read_record(build, 2023)
    assert data == json.loads(paths["kept_json"].read_text(encoding="utf-8"))
    assert data["schema"] == "ntm.batch.v1" and data["exit_code"] == 1
    assert data["communes"][0]["outputs"]["report.html"] == "archive/2023/a/r1/data/report.html"
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text(encoding="utf-8"))))
    assert [r["status"] for r in rows] == ["ran", "failed", "skipped"]
    assert rows[1]["cell"] == "5" and "ValueError" in rows[1]["error"]
    assert rows[0]["pdf_s"] == "0.4" and rows[0]["html_path"].endswith("data/report.html")
    assert csv_text(data) == paths["csv"].read_text(encoding="utf-8")

    table = summary_table(record)
    assert "90002 b" in table and "failed" in table and "ValueError" in table
    assert table.splitlines()[-1].startswith("3 communes: 1 ran, 1 skipped, 1 failed")


def test_index_links_every_report_and_the_failed_run(project, tmp_path):
    out, _ = project
    build, notebook = tmp_path / "build", out / "notebooks" / "commune_report.ipynb"
    ok_task, failed_task = plan(2023)[:2]
    ok_run = _fake_run(out, build, ok_task, notebook)
    failed_run = _fake_run(out, build, failed_task, notebook, status="failed")
    record = _record([Outcome(2023, ok_task.slug, "skipped"),
                      Outcome(2023, failed_task.slug, "failed",
                              error={"message": "boom", "cell": 5})])
    write_record(record, build)
    page = write_index(build, 2023, read_record(build, 2023)).read_text(encoding="utf-8")
    page_dir = build / "2023"
    assert f'href="{os.path.relpath(ok_run / "data" / "report.html", page_dir)}"' in page
    assert f'href="{os.path.relpath(ok_run / "manifest.json", page_dir)}"' in page
    assert f'href="{os.path.relpath(failed_run / "manifest.json", page_dir)}"' in page
    assert "cell 5: boom" in page and "<script" not in page
    for target in [m for m in __import__("re").findall(r'href="([^"]+)"', page)
                   if not m.startswith("batch.")]:
        assert (page_dir / target).exists(), target


def test_report_kernels_keep_their_own_stderr_out_of_the_command(monkeypatch):
    import asyncio
    import subprocess

    from jupyter_client.provisioning import LocalProvisioner

    from ntm_lib.run import kernels

    seen = {}

    async def launch(self, cmd, **kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(LocalProvisioner, "launch_kernel", launch)
    monkeypatch.delenv("NTM_DEBUG", raising=False)
    monkeypatch.delenv("NTM_BATCH_DEBUG", raising=False)
    provisioner = kernels.QuietProvisioner.__new__(kernels.QuietProvisioner)
    asyncio.run(provisioner.launch_kernel(["python"]))
    assert seen["stderr"] is subprocess.DEVNULL
    seen.clear()
    monkeypatch.setenv("NTM_DEBUG", "1")  # ntm --debug
    asyncio.run(provisioner.launch_kernel(["python"]))
    assert "stderr" not in seen


def test_first_kernel_provisioner_chosen_wins(monkeypatch, tmp_path):
    from ntm_lib.run import kernels

    monkeypatch.setattr(kernels, "_installed", None)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert kernels.use_provisioner("ntm-fork-provisioner") == "ntm-fork-provisioner"
    assert kernels.use_provisioner() == "ntm-fork-provisioner"  # a report run keeps the forker
    first = os.environ["JUPYTER_PATH"].split(os.pathsep)[0]
    spec = json.loads((Path(first) / "kernels" / "python3" / "kernel.json").read_text(encoding="utf-8"))
    assert spec["metadata"]["kernel_provisioner"]["provisioner_name"] == "ntm-fork-provisioner"


@pytest.mark.parametrize("options, expected", [
    (["--workers", "0"], "--workers: expected a whole number >= 1, found '0'"),
    (["--timeout", "-5"], "--timeout: expected seconds from 1 to 86,400 (24 h)"),
    (["--build", "FILE"], "--build names a file, not a folder"),
    (["--notebook", "missing.ipynb"], "report notebook not found"),
    (["--scheduler", "bogus"], "cannot use the Dask scheduler: missing port number"),
])
def test_unusable_batch_options_are_refused_before_any_run(options, expected, tmp_path, monkeypatch,
                                                            capsys):
    from ntm_lib.cli import main

    monkeypatch.setenv("NTM_HOME", str(Path(__file__).resolve().parent.parent))
    (tmp_path / "FILE").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    options = [o.replace("FILE", str(tmp_path / "FILE")) for o in options]
    if "--build" not in options:
        options += ["--build", str(tmp_path / "build")]
    try:
        code = main(["batch", "--year", "2023", "--quiet", "--no-rollup", "--force", *options])
    except SystemExit as exc:  # argparse
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "build").exists()


def test_a_worker_hides_the_half_built_event_loop_of_an_interrupt_only(capsys):
    """Ctrl-C landing inside asyncio's loop constructor leaves a loop whose
    __del__ fails; a worker does not print that traceback, but still prints
    any other exception Python cannot raise."""
    import asyncio
    import gc
    import sys

    from ntm_lib.batch.worker import _quiet_unraisable

    saved = sys.unraisablehook
    sys.unraisablehook = _quiet_unraisable
    try:
        half_built = asyncio.SelectorEventLoop.__new__(asyncio.SelectorEventLoop)
        del half_built
        gc.collect()
        assert capsys.readouterr().err == ""

        class Broken:
            def __del__(self):
                raise ValueError("lỗi khác")

        broken = Broken()
        del broken
        gc.collect()
        err = capsys.readouterr().err
        assert "Exception ignored in" in err and "lỗi khác" in err
    finally:
        sys.unraisablehook = saved
