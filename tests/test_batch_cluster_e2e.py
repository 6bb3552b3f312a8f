"""``ntm batch --scheduler tcp://...`` through real ``dask scheduler`` and
``dask worker`` processes that share no disk with the project: each worker
starts in an empty folder of its own, without ``NTM_HOME``. The reports are
the local pool's, byte for byte; a tampered returned run is refused; a
worker with another library is refused; nothing is left running. Slow (real
kernels, nbconvert, WeasyPrint, Dask): marked e2e.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
NTM = str(Path(sys.executable).with_name("ntm"))
sys.path.insert(0, str(ROOT / "bench"))
from batch_cluster import REPORT_FILES, DaskCluster, alive, synthetic_project  # noqa: E402

SLUGS = ("bao-van-mo-phong-3", "can-ha-mo-phong-1", "nam-mon", "phin-tuong-mo-phong-2")


def ntm(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([NTM, *args], cwd=home, env={**os.environ, "NTM_HOME": str(home)},
                          capture_output=True, text=True, encoding="utf-8", timeout=900)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record(build: Path) -> dict:
    return {c["slug"]: c for c in
            json.loads((build / "2023" / "batch.json").read_text(encoding="utf-8"))["communes"]}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """Three synthetic communes and Nậm Mòn, built once by the local pool."""
    home = synthetic_project(tmp_path_factory.mktemp("cluster"), 3)
    done = ntm(home, "batch", "--year", "2023", "--workers", "2", "--no-rollup")
    assert done.returncode == 0, done.stderr
    return home


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with DaskCluster(tmp_path_factory.mktemp("dask"), 2) as running:
        yield running
    assert not any(alive(p.pid) for p in running.processes)


def test_cluster_reports_are_the_local_pools_byte_for_byte(home, cluster):
    build = home / "build-cluster"
    done = ntm(home, "batch", "--year", "2023", "--scheduler", cluster.address,
               "--build", str(build), "--no-rollup")
    assert done.returncode == 0, done.stderr
    rows = record(build)
    assert {s: r["status"] for s, r in rows.items()} == dict.fromkeys(SLUGS, "ran")
    assert len({r["worker"] for r in rows.values()}) == 2  # both workers built reports
    for slug in SLUGS:
        for name in REPORT_FILES:
            local = home / "build" / "2023" / slug / "data" / name
            remote = build / "2023" / slug / "data" / name
            assert sha(remote) == sha(local), f"{slug}/{name}"
        # archived as a local run is: in the archive, the latest link, a valid bag
        run = (build / "2023" / slug).resolve()
        assert run.parent == (build / "archive" / "2023" / slug).resolve()
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        local = json.loads((home / "build" / "2023" / slug / "manifest.json").read_text("utf-8"))
        for key in ("inputs", "params_file", "notebook_template", "outputs"):
            assert manifest[key] == local[key], key
        assert manifest["environment"]["git"] == local["environment"]["git"]
        copy = manifest["environment"].get("library_copy")
        assert copy == local["environment"].get("library_copy")
        assert copy is None or (build / copy).is_file()
    verified = ntm(home, "verify", str(build / "2023" / "nam-mon"))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # The workers kept nothing of the project: no params, tables or runs left.
    for worker in ("worker-1", "worker-2"):
        left = [p for p in (cluster.folder / worker).rglob("*")
                if p.name in ("params", "communes", "archive") or p.suffix == ".yaml"]
        assert left == []
    # A second batch skips every report: they are up to date in this build.
    again = ntm(home, "batch", "--year", "2023", "--scheduler", cluster.address,
                "--build", str(build), "--no-rollup")
    assert again.returncode == 0 and set(r["status"] for r in record(build).values()) == {
        "skipped"}


TAMPER = '''
import ntm_lib.batch.shipping as shipping

if not hasattr(shipping, "honest_pack_folder"):  # Dask may import a preload twice
    shipping.honest_pack_folder = shipping.pack_folder

    def pack_folder(folder, **kw):
        packed = shipping.honest_pack_folder(folder, **kw)
        files = dict(shipping.read_members(packed, limit=shipping.RUN_BYTES))
        html = files["data/report.html"]
        files["data/report.html"] = html.replace(b"</body>", b"<p>x</p></body>")
        return shipping.pack_files(files.items())

    shipping.pack_folder = pack_folder
'''


def test_a_tampered_returned_run_is_refused(home, tmp_path):
    preload = tmp_path / "tamper.py"
    preload.write_text(TAMPER, encoding="utf-8")
    build = home / "build-tampered"
    with DaskCluster(tmp_path / "dask", 1, worker_args=("--preload", str(preload))) as bad:
        done = ntm(home, "batch", "--year", "2023", "--commune", "nam-mon", "--scheduler",
                   bad.address, "--build", str(build), "--no-rollup")
    assert done.returncode == 1, done.stderr
    row = record(build)["nam-mon"]
    assert row["status"] == "failed"
    assert row["error"]["message"].endswith(
        "was refused: the bag does not verify: data/report.html changed")
    assert list((build / "archive" / "2023" / "nam-mon").iterdir()) == []
    assert not (build / "2023" / "nam-mon").is_symlink()
    assert not any(alive(p.pid) for p in bad.processes)


def test_a_worker_with_another_library_is_refused(home, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(ROOT / "ntm_lib", other / "ntm_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (other / "ntm_lib" / "patched.py").write_text("# a library changed on that worker\n")
    build = home / "build-other"
    with DaskCluster(tmp_path / "dask", 1, extra_env={"PYTHONPATH": str(other)}) as odd:
        done = ntm(home, "batch", "--year", "2023", "--scheduler", odd.address,
                   "--build", str(build), "--no-rollup")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "has another ntm_lib (library digest" in done.stderr
    assert "install the same ntm-workbook there" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (build / "archive").exists()
    assert not any(alive(p.pid) for p in odd.processes)
