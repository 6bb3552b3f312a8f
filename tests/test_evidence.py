"""Evidence that holds up: reproducible outputs, BagIt runs, verify, show,
trace, secrets kept out, and an archive that survives kill -9.

Slow (real runs): marked ``e2e``.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EPOCH = "1701734400"  # 2023-12-05T00:00:00Z


def ntm(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "NTM_HOME": str(ROOT), **(env or {})}
    return subprocess.run([str(BIN / "ntm"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=600, **kw)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The sample built twice into one build folder, same SOURCE_DATE_EPOCH."""
    build = tmp_path_factory.mktemp("build")
    for _ in range(2):
        result = ntm("run", "--commune", "02881", "--year", "2023", "--build", str(build),
                     env={"SOURCE_DATE_EPOCH": EPOCH})
        assert result.returncode == 0, result.stderr
    runs = sorted(p for p in (build / "archive" / "2023" / "nam-mon").iterdir() if p.is_dir())
    assert len(runs) == 2
    return build, runs


def test_two_runs_give_identical_outputs(two_runs):
    _, (first, second) = two_runs
    for name in ("report.html", "report.pdf", "commune_report.ipynb"):
        assert (first / "data" / name).read_bytes() == (second / "data" / name).read_bytes(), name
    nb = json.loads((first / "data" / "commune_report.ipynb").read_text(encoding="utf-8"))
    assert "start_time" not in nb["metadata"]["papermill"]
    assert all("execution" not in c["metadata"] for c in nb["cells"])
    assert any(c["id"] == "injected-parameters" for c in nb["cells"])
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["execution"]["cells"] and manifest["execution"]["start_time"]


def test_latest_points_at_the_later_run_and_old_runs_stay(two_runs):
    build, (first, second) = two_runs
    link = build / "2023" / "nam-mon"
    assert link.resolve() == second.resolve()
    assert (first / "data" / "report.pdf").exists()


def test_bag_verifies_with_ntm_and_standard_validator(two_runs):
    build, (first, _) = two_runs
    result = ntm("verify", str(build / "2023"))
    assert result.returncode == 0, result.stdout
    assert "2 of 2 run(s) verified" in result.stdout
    standard = subprocess.run([sys.executable, "-m", "bagit", "--validate", str(first)],
                              capture_output=True, text=True)
    assert standard.returncode == 0, standard.stderr


def test_changed_byte_is_named_then_restored(two_runs):
    build, (first, _) = two_runs
    html = first / "data" / "report.html"
    original = html.read_bytes()
    changed = bytearray(original)
    changed[len(changed) // 2] ^= 0x01
    html.write_bytes(bytes(changed))
    try:
        result = ntm("verify", str(first))
        assert result.returncode == 1
        assert "changed  data/report.html" in result.stdout
        standard = subprocess.run([sys.executable, "-m", "bagit", "--validate", str(first)],
                                  capture_output=True, text=True)
        assert standard.returncode != 0  # the standard validator agrees
    finally:
        html.write_bytes(original)
    assert ntm("verify", str(first)).returncode == 0


def test_added_and_missing_files_are_named(two_runs):
    _, (first, _) = two_runs
    extra = first / "data" / "extra.txt"
    pdf = first / "data" / "report.pdf"
    kept = pdf.read_bytes()
    extra.write_text("x", encoding="utf-8")
    pdf.unlink()
    try:
        result = ntm("verify", str(first))
        assert result.returncode == 1
        assert "added    data/extra.txt" in result.stdout
        assert "missing  data/report.pdf" in result.stdout
    finally:
        extra.unlink()
        pdf.write_bytes(kept)
    assert ntm("verify", str(first)).returncode == 0


def test_show_and_trace(two_runs):
    build, _ = two_runs
    shown = ntm("show", str(build / "2023" / "nam-mon"))
    assert shown.returncode == 0
    assert "criteria_met               13 criteria" in shown.stdout
    assert "commune    Nậm Mòn (02881), Bắc Hà, Lào Cai" in shown.stdout
    traced = ntm("trace", "--commune", "02881", "--year", "2023", "--figure", "criteria_met",
                 "--build", str(build))
    assert traced.returncode == 0, traced.stderr
    assert "from data/communes/02881/criteria_status.csv, rows 23, 24, 25, 26, 27, 28, 29, 32, " \
           "33, 34, 35, 36, 39" in traced.stdout
    assert "row 28: ntm-commune-2021-2025,2023,,8,met" in traced.stdout
    unknown = ntm("trace", "--commune", "02881", "--year", "2023", "--figure", "nope",
                  "--build", str(build))
    assert unknown.returncode == 2 and "criteria_met" in unknown.stderr  # a bad argument


def test_secret_never_archived(tmp_path):
    secret = "s3cr3t-token-9f8e7d"
    build = tmp_path / "build"
    result = ntm("run", "--commune", "02881", "--year", "2023", "--build", str(build),
                 env={"NTM_SECRET_DATA_API_TOKEN": secret})
    assert result.returncode == 0, result.stderr
    run = (build / "2023" / "nam-mon").resolve()
    for path in run.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["secret_parameters_given"] == ["data_api_token"]
    assert "data_api_token" not in manifest["parameters"]
    from ntm_lib.record import read_figures
    figures = read_figures(run / "data" / "commune_report.ipynb")
    assert figures["secrets_given"].value == ["data_api_token"]  # the kernel received it


def test_kill_9_at_random_moments_leaves_only_complete_runs(tmp_path):
    build = tmp_path / "build"
    first = ntm("run", "--commune", "02881", "--year", "2023", "--build", str(build))
    assert first.returncode == 0
    good = (build / "2023" / "nam-mon").resolve()
    rng = random.Random(2023)
    env = {**os.environ, "NTM_HOME": str(ROOT)}
    for delay in [rng.uniform(0.3, 10.0) for _ in range(6)]:
        proc = subprocess.Popen([str(BIN / "ntm"), "run", "--commune", "02881", "--year", "2023",
                                 "--build", str(build)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its kernel, at once
        proc.wait()
    archive = build / "archive" / "2023" / "nam-mon"
    link = build / "2023" / "nam-mon"
    assert link.resolve().exists() and (link / "manifest.json").exists()
    assert link.resolve().name >= good.name
    result = ntm("verify", str(archive))
    assert result.returncode == 0, result.stdout
    # The next run sweeps the partial folders the killed runs left.
    assert ntm("run", "--commune", "02881", "--year", "2023", "--build", str(build)).returncode == 0
    assert not list(archive.glob(".partial-*"))
    assert ntm("verify", str(build / "2023")).returncode == 0


def test_two_runs_at_once_do_not_corrupt_each_other(tmp_path):
    build = tmp_path / "build"
    env = {**os.environ, "NTM_HOME": str(ROOT)}
    procs = [subprocess.Popen([str(BIN / "ntm"), "run", "--commune", "02881", "--year", "2023",
                               "--build", str(build)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(2)]
    assert all(p.wait(timeout=600) == 0 for p in procs)
    runs = sorted(p for p in (build / "archive" / "2023" / "nam-mon").iterdir() if p.is_dir())
    assert len(runs) == 2
    assert (build / "2023" / "nam-mon").resolve() == runs[-1].resolve()
    assert ntm("verify", str(build / "2023")).returncode == 0


@pytest.mark.parametrize("command", ["verify", "show"])
@pytest.mark.parametrize("target", ["build/no-such-run", "data"])
def test_a_path_without_a_run_is_a_wrong_argument(command, target, capsys):
    """A missing path, or one holding no run, is refused as a wrong argument
    (exit code 2, one line), not reported as a failed check (1)."""
    from ntm_lib.cli import main

    assert main([command, target]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {target}: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
