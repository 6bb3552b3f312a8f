"""Faults with real runs and batches: a full disk (a small tmpfs, and
ENOSPC raised in-process at the N-th write), kill -9 of a batch at random
moments, SIGINT and SIGTERM. Each must end with a clear line and its exit
code, no traceback, no partial run, the latest link and every earlier run
intact, and no process left behind.

Slow (real kernels): marked ``e2e``. The tmpfs cases need ``mount`` (root);
they are skipped where it is refused.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
NTM = str(Path(sys.executable).with_name("ntm"))
ARCHIVE = Path("archive") / "2023" / "nam-mon"


def env_for(home: Path, mark: str | None = None) -> dict:
    return {**os.environ, "NTM_HOME": str(home), **({"NTM_TEST_MARK": mark} if mark else {})}


def ntm(home: Path, *args: str, mark: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([NTM, *args], cwd=home, env=env_for(home, mark), capture_output=True,
                          text=True, encoding="utf-8", timeout=900)


def start(home: Path, *args: str, mark: str) -> subprocess.Popen:
    return subprocess.Popen([NTM, *args], cwd=home, env=env_for(home, mark),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8", start_new_session=True)


def marked(mark: str) -> list[int]:
    """Pids of live processes whose environment carries ``mark``."""
    needle = f"NTM_TEST_MARK={mark}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes():
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def assert_no_orphans(mark: str, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = marked(mark)
    for pid in left:  # clean up before failing, so one failure does not leak into others
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert not left, f"processes left behind: {left}"


def tree(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (links not followed)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def leftovers(build: Path) -> list[str]:
    """Partial folders, lock files of runs and temporary files under ``build``."""
    return sorted(p.relative_to(build).as_posix() for p in build.rglob("*")
                  if p.name.startswith(".partial-") or p.name.endswith(".tmp"))


def wait_for_a_running_report(build: Path, proc: subprocess.Popen, within: float = 120.0) -> None:
    """Until a run is being written (a partial folder exists) under ``build``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and proc.poll() is None:
        if (build / "archive").is_dir() and any(
                p.is_dir() for p in (build / "archive").glob("*/*/.partial-*")):
            return
        time.sleep(0.05)
    raise AssertionError("no report started")


def one_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, stderr
    return lines[0]


# --- a full disk: a small tmpfs ------------------------------------------------------------

@pytest.fixture(scope="module")
def small_disk(tmp_path_factory):
    mount = tmp_path_factory.mktemp("small-disk")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` until ``leave`` bytes are free."""
    stat = os.statvfs(disk)
    room = stat.f_bavail * stat.f_frsize - leave
    filler = disk / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(room, 0))
    return filler


@pytest.fixture(scope="module")
def built_on_small_disk(small_disk):
    build = small_disk / "run-build"
    first = ntm(ROOT, "run", "--commune", "02881", "--year", "2023", "--build", str(build))
    assert first.returncode == 0, first.stderr
    return build


@pytest.mark.parametrize("leave", [0, 16_000, 100_000, 200_000, 320_000, 450_000])
def test_run_on_a_full_disk_says_so_and_leaves_everything_as_it_was(leave, small_disk,
                                                                     built_on_small_disk):
    build = built_on_small_disk
    link = build / "2023" / "nam-mon"
    target, before = os.readlink(link), tree(build / "archive")
    filler = fill(small_disk, leave)
    try:
        result = ntm(ROOT, "run", "--commune", "02881", "--year", "2023", "--build", str(build))
    finally:
        filler.unlink()
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_error(result.stderr)
    assert "disk full" in line and str(build) in line, line
    assert os.readlink(link) == target
    assert tree(build / "archive") == before  # every earlier run, byte for byte
    assert leftovers(build) == []


def test_with_room_again_the_run_is_built_and_every_run_verifies(small_disk, built_on_small_disk):
    build = built_on_small_disk
    result = ntm(ROOT, "run", "--commune", "02881", "--year", "2023", "--build", str(build))
    assert result.returncode == 0, result.stderr
    check = ntm(ROOT, "verify", str(build / "2023"))
    assert check.returncode == 0 and "FAILED" not in check.stdout, check.stdout
    assert leftovers(build) == []


# --- a full disk, in-process: ENOSPC at the N-th file written -------------------------------

@pytest.mark.parametrize("nth", [1, 2, 10, 22])  # HTML, PDF, an input copy, manifest
def test_enospc_at_the_nth_write_is_one_line_and_leaves_no_run(nth, tmp_path, capsys,
                                                                monkeypatch):
    from ntm_lib.cli import main

    build = tmp_path / "build"
    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd):  # each file of a run is flushed once, by atomic_write (22 in all)
        calls["n"] += 1
        if calls["n"] >= nth:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    code = main(["run", "--commune", "02881", "--year", "2023", "--build", str(build)])
    out, err = capsys.readouterr()
    assert calls["n"] >= nth
    assert code == 1, out + err
    assert "disk full" in one_error(err)
    assert leftovers(build) == []
    assert not (build / "2023" / "nam-mon").exists()
    assert not [p for p in (build / ARCHIVE).iterdir() if p.is_dir()]


# --- a full disk in a batch ----------------------------------------------------------------

@pytest.fixture(scope="module")
def province(tmp_path_factory):
    home = tmp_path_factory.mktemp("synthetic")
    made = subprocess.run([NTM, "synth", "--communes", "4", "--year", "2023", "--out", str(home),
                           "--seed", "11", "--province", "10"], capture_output=True, text=True,
                          env=env_for(ROOT))
    assert made.returncode == 0, made.stderr
    return home


@pytest.mark.parametrize("leave", [0, 700_000])
def test_batch_on_a_full_disk_is_clear_and_writes_its_record_once_there_is_room(
        leave, province, small_disk):
    build = small_disk / f"batch-build-{leave}"
    build.mkdir()
    filler = fill(small_disk, leave)
    try:
        full = ntm(province, "batch", "--year", "2023", "--workers", "2", "--quiet",
                   "--build", str(build))
    finally:
        filler.unlink()
    assert full.returncode == 1, full.stdout + full.stderr
    assert "Traceback" not in full.stdout + full.stderr
    record = build / "2023" / "batch.json"
    if record.exists():  # the record fitted: each failure says disk full
        data = json.loads(record.read_text(encoding="utf-8"))
        failed = [c for c in data["communes"] if c["status"] == "failed"]
        assert all("disk full" in (c["error"] or {}).get("message", "") for c in failed)
        rollups = [r for r in data["rollups"] if r["status"] == "failed"]
        assert failed or rollups  # the disk could not hold everything
        assert all("\n" not in r["error"]["message"] for r in rollups)
    else:
        assert "the batch record and index could not all be written" in one_error(full.stderr)
    assert leftovers(build) == []
    again = ntm(province, "batch", "--year", "2023", "--workers", "2", "--quiet",
                "--no-rollup", "--build", str(build))
    assert again.returncode == 0, again.stdout + again.stderr
    for name in ("batch.json", "batch.csv", "index.html"):
        assert (build / "2023" / name).is_file(), name
    assert ntm(province, "verify", str(build / "2023")).returncode == 0
    assert leftovers(build) == []


# --- kill -9 of a batch, SIGINT and SIGTERM ------------------------------------------------

def test_kill_9_of_a_batch_at_random_moments_loses_nothing_and_leaves_no_process(province,
                                                                                 tmp_path):
    build = tmp_path / "build"
    rng = random.Random(11)
    # From the start (workers starting, the fingerprint, the first kernels), and
    # at random moments once reports are being written.
    for moment in [("start", rng.uniform(0.5, 4.0)), *(("running", rng.uniform(0.0, 3.0))
                                                       for _ in range(3))]:
        mark = uuid.uuid4().hex
        proc = start(province, "batch", "--year", "2023", "--workers", "2", "--quiet",
                     "--force", "--no-rollup", "--build", str(build), mark=mark)
        if moment[0] == "running":
            wait_for_a_running_report(build, proc)
        time.sleep(moment[1])
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert_no_orphans(mark)
        if (build / "archive").exists() and any((build / "archive").rglob("manifest.json")):
            check = ntm(province, "verify", str(build / "2023"))
            assert check.returncode == 0, check.stdout  # finished runs are complete runs
    final = ntm(province, "batch", "--year", "2023", "--workers", "2", "--quiet",
                "--no-rollup", "--build", str(build))
    assert final.returncode == 0, final.stdout + final.stderr
    assert leftovers(build) == []  # the partial folders of the killed runs are gone
    check = ntm(province, "verify", str(build / "2023"))
    assert check.returncode == 0 and "FAILED" not in check.stdout


@pytest.mark.parametrize("how, delay", [("SIGINT", 0.0), ("SIGINT", 0.7), ("SIGINT", 1.5),
                                        ("SIGINT-group", 0.5), ("SIGTERM", 0.5),
                                        ("SIGTERM-group", 1.0)])
def test_an_interrupted_batch_is_quiet_and_cleans_up(how, delay, province, tmp_path):
    build = tmp_path / "build"
    mark = uuid.uuid4().hex
    proc = start(province, "batch", "--year", "2023", "--workers", "2", "--quiet", "--force",
                 "--no-rollup", "--build", str(build), mark=mark)
    wait_for_a_running_report(build, proc)  # 5 reports on 2 workers: more are to come
    time.sleep(delay)
    signum = signal.SIGTERM if how.startswith("SIGTERM") else signal.SIGINT
    if how.endswith("group"):
        os.killpg(proc.pid, signum)  # as Ctrl-C in a terminal
    else:
        os.kill(proc.pid, signum)
    out, err = proc.communicate(timeout=300)
    assert "Traceback" not in out + err, err
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("interrupted: "), err
    record = json.loads((build / "2023" / "batch.json").read_text(encoding="utf-8"))
    assert record["interrupted"] is True
    assert {c["status"] for c in record["communes"]} <= {"ran", "interrupted", "not run"}
    assert_no_orphans(mark)
    assert leftovers(build) == []
    if any(build.rglob("manifest.json")):
        assert ntm(province, "verify", str(build / "2023")).returncode == 0


def test_sigterm_to_a_run_removes_the_unfinished_run(tmp_path):
    build = tmp_path / "build"
    mark = uuid.uuid4().hex
    proc = start(ROOT, "run", "--commune", "02881", "--year", "2023", "--build", str(build),
                 mark=mark)
    wait_for_a_running_report(build, proc)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    assert "Traceback" not in out + err
    assert proc.returncode == 130, err
    assert "interrupted" in err and not (build / "2023" / "nam-mon").exists()
    assert_no_orphans(mark)
    assert leftovers(build) == []
