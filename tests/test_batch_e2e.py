"""Batch runs end to end, through ``ntm batch``: a small synthetic province
with Nậm Mòn, one commune failing in a cell on purpose, locally and on a
Dask LocalCluster. Slow (real kernels, nbconvert, WeasyPrint): marked e2e.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
NTM = str(Path(sys.executable).with_name("ntm"))
BROKEN = "90002"


def ntm(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NTM_HOME": str(home)}
    return subprocess.run([NTM, *args], cwd=home, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=900)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def failing_notebook(folder: Path, code: str, source: str) -> Path:
    """The report notebook with one hidden cell that fails for one commune."""
    nb = json.loads((ROOT / "notebooks" / "commune_report.ipynb").read_text(encoding="utf-8"))
    at = next(i for i, c in enumerate(nb["cells"]) if "nb.start(" in "".join(c["source"]))
    nb["cells"].insert(at + 1, {"cell_type": "code", "execution_count": None, "id": "fault",
                                "metadata": {"tags": ["remove-cell"]}, "outputs": [],
                                "source": f"if commune == {code!r}:\n    {source}"})
    path = folder / "commune_report_fault.ipynb"
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    home = tmp_path_factory.mktemp("synthetic")
    made = subprocess.run([NTM, "synth", "--communes", "4", "--year", "2023", "--out", str(home),
                           "--seed", "5", "--province", "10", "--copy-real", "02881"],
                          capture_output=True, text=True, env={**os.environ, "NTM_HOME": str(ROOT)})
    assert made.returncode == 0, made.stderr
    notebook = failing_notebook(home, BROKEN, "raise ValueError('lỗi cố ý')")
    first = ntm(home, "batch", "--year", "2023", "--workers", "2", "--notebook", str(notebook))
    record = json.loads((home / "build" / "2023" / "batch.json").read_text(encoding="utf-8"))
    return {"home": home, "notebook": notebook, "first": first, "record": record}


def by_code(record: dict) -> dict:
    return {c["code"]: c for c in record["communes"]}


def test_failure_stays_local_and_names_its_cell(province):
    first, record = province["first"], province["record"]
    assert first.returncode == 1, first.stderr
    rows = by_code(record)
    assert {c: r["status"] for c, r in rows.items()} == {
        "02881": "ran", "90001": "ran", BROKEN: "failed", "90003": "ran", "90004": "ran"}
    error = rows[BROKEN]["error"]
    assert error["ename"] == "ValueError" and error["evalue"] == "lỗi cố ý"
    assert isinstance(error["cell"], int) and error["cell"] > 0
    assert re.search(rf"{BROKEN} \S+ +failed +[\d.]+ +{error['cell']} +ValueError: lỗi cố ý",
                     first.stdout)
    # The failed run keeps its executed notebook, with the error in the failing cell.
    build = province["home"] / "build"
    notebook = build / rows[BROKEN]["outputs"]["commune_report.ipynb"]
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    failing = [c for c in cells if any(o.get("ename") == "ValueError" for o in c.get("outputs", []))]
    assert len(failing) == 1 and "lỗi cố ý" in "".join(failing[0]["source"])
    assert not (build / "2023" / rows[BROKEN]["slug"]).exists()
    assert record["counts"]["ran"] == 4 and record["exit_code"] == 1


def test_index_lists_every_report_with_working_links(province):
    build = province["home"] / "build"
    page = (build / "2023" / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', page)
    for target in links:
        assert (build / "2023" / target).exists(), target
    for row in by_code(province["record"]).values():
        if row["status"] == "ran":
            for name in ("report.html", "report.pdf", "commune_report.ipynb", "manifest.json"):
                assert os.path.relpath(build / row["outputs"][name], build / "2023") in links
    assert "lỗi cố ý" in page
    assert (build / "2023" / "batch.csv").read_text(encoding="utf-8").count("\n") == 6


def test_rollup_figures_are_the_recorded_ones(province):
    from ntm_lib.record import read_figures

    build = province["home"] / "build"
    [rollup] = province["record"]["rollups"]
    assert rollup["status"] == "ran"
    run_dir = (build / rollup["links"]["manifest"]).parent
    figures = read_figures(run_dir / "province_summary.ipynb")
    rows = {r["code"]: r for r in figures["rows"].value}
    assert set(rows) == {"02881", "90001", "90003", "90004"}  # the failed one had no report
    assert figures["missing"].value == [BROKEN]
    for code, row in rows.items():
        commune = read_figures(build / by_code(province["record"])[code]["outputs"]
                               ["commune_report.ipynb"])
        assert row["criteria_met"] == commune["criteria_met"].value
        assert row["band"] == commune["band"].value
        assert row["poverty_reduction_points"] == commune["poverty_reduction_points"].value
    assert rows["02881"]["criteria_met"] == 13 and rows["02881"]["band"] == "30-to-50"
    assert sum(figures["band_counts"].value.values()) == 4
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    for target in re.findall(r'href="([^"#][^"]*)"', html):
        assert (run_dir / target).exists(), target
    assert html.count('href="../../') >= 16  # HTML, PDF, notebook, manifest of 4 communes


def test_second_batch_skips_every_success_and_a_change_reruns_one(province):
    home, notebook = province["home"], province["notebook"]
    again = ntm(home, "batch", "--year", "2023", "--notebook", str(notebook), "--quiet")
    assert again.returncode == 1
    record = json.loads((home / "build" / "2023" / "batch.json").read_text(encoding="utf-8"))
    assert {c: r["status"] for c, r in by_code(record).items()} == {
        "02881": "skipped", "90001": "skipped", BROKEN: "failed", "90003": "skipped",
        "90004": "skipped"}
    assert record["rollups"][0]["status"] == "skipped"

    data = home / "data" / "communes" / "90003" / "quarterly.csv"
    data.write_text(data.read_text(encoding="utf-8").replace(",3,", ",4,", 1), encoding="utf-8")
    third = ntm(home, "batch", "--year", "2023", "--notebook", str(notebook), "--quiet",
                "--commune", "90001", "--commune", "90003", "--commune", "nam-mon")
    record = json.loads((home / "build" / "2023" / "batch.json").read_text(encoding="utf-8"))
    assert third.returncode == 0, third.stdout + third.stderr
    assert {c: r["status"] for c, r in by_code(record).items()} == {
        "02881": "skipped", "90001": "skipped", "90003": "ran"}
    assert by_code(record)["90003"]["reason"] == "input changed: data/communes/90003/quarterly.csv"
    assert record["rollups"][0]["status"] == "ran"


def test_dask_local_cluster_gives_the_same_reports(province):
    home, notebook = province["home"], province["notebook"]
    build = home / "build-dask"
    result = ntm(home, "batch", "--year", "2023", "--notebook", str(notebook), "--quiet",
                 "--scheduler", "local", "--workers", "2", "--build", str(build),
                 "--commune", "90001", "--commune", "nam-mon", "--commune", BROKEN)
    assert result.returncode == 1, result.stderr
    record = json.loads((build / "2023" / "batch.json").read_text(encoding="utf-8"))
    assert {c: r["status"] for c, r in by_code(record).items()} == {
        "02881": "ran", "90001": "ran", BROKEN: "failed"}
    assert by_code(record)[BROKEN]["error"]["cell"] == \
        by_code(province["record"])[BROKEN]["error"]["cell"]
    for slug in ("nam-mon", by_code(record)["90001"]["slug"]):
        for name in ("report.html", "report.pdf"):
            local = next((home / "build" / "2023" / slug).rglob(name))
            assert sha(next((build / "2023" / slug).rglob(name))) == sha(local), (slug, name)


def test_batch_report_is_the_ntm_run_report(province, tmp_path):
    home = province["home"]
    single = ntm(home, "run", "--commune", "02881", "--year", "2023", "--notebook",
                 str(province["notebook"]), "--build", str(tmp_path / "build"))
    assert single.returncode == 0, single.stderr
    for name in ("report.html", "report.pdf"):
        batch = next((home / "build" / "2023" / "nam-mon").rglob(name))
        assert sha(next((tmp_path / "build" / "2023" / "nam-mon").rglob(name))) == sha(batch)


def test_timeout_interrupts_the_cell(province, tmp_path):
    home = province["home"]
    notebook = failing_notebook(tmp_path, "90004", "import time; time.sleep(120)")
    result = ntm(home, "batch", "--year", "2023", "--notebook", str(notebook), "--quiet",
                 "--commune", "90004", "--timeout", "4", "--build", str(tmp_path / "build"),
                 "--no-rollup")
    assert result.returncode == 1
    record = json.loads((tmp_path / "build" / "2023" / "batch.json").read_text(encoding="utf-8"))
    [row] = record["communes"]
    assert row["status"] == "failed" and row["seconds"] < 60
    assert row["error"]["message"].startswith("timed out after 4 s")
    assert row["error"]["ename"] == "TimeoutError" and row["error"]["cell"] > 0


def test_bad_data_fail_in_the_notebook_and_name_the_cell(province, tmp_path):
    home = tmp_path / "copy"
    shutil.copytree(province["home"], home, ignore=shutil.ignore_patterns("build"))
    table = home / "data" / "communes" / "90004" / "quarterly.csv"
    lines = table.read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[2].split(",")
    cells[3] = "bảy"  # visits in quarter II: not a number
    lines[2] = ",".join(cells)
    table.write_text("".join(lines), encoding="utf-8")
    result = ntm(home, "batch", "--year", "2023", "--commune", "90004", "--commune", "90001",
                 "--quiet", "--no-rollup", "--workers", "1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    record = json.loads((home / "build" / "2023" / "batch.json").read_text(encoding="utf-8"))
    rows = by_code(record)
    assert rows["90001"]["status"] == "ran"
    row = rows["90004"]
    assert row["status"] == "failed" and row["error"]["ename"] == "DataError"
    assert "quarterly.csv" in row["error"]["evalue"] and "bảy" in row["error"]["evalue"]
    assert "row 3" in row["error"]["evalue"] and "visits" in row["error"]["evalue"]
    # The failed run keeps its executed notebook, failing in the cell that checks the data.
    executed = home / "build" / row["outputs"]["commune_report.ipynb"]  # relative to build/
    notebook = json.loads(executed.read_text(encoding="utf-8"))
    [failing] = [c for c in notebook["cells"]
                 if any(o.get("ename") == "DataError" for o in c.get("outputs", []))]
    assert "nb.start(" in "".join(failing["source"])
    assert f"In [{row['error']['exec_count']}]" in row["error"]["message"]
