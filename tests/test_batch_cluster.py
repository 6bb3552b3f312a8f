"""Parcels for Dask workers without the project's disk, and the checks of a
returned run, without Dask processes or kernels (ntm_lib.batch.shipping,
ntm_lib.batch.cluster)."""
from __future__ import annotations

import datetime as dt
import io
import json
import tarfile
from pathlib import Path

import pytest

from ntm_lib.batch import cluster, shipping
from ntm_lib.batch.plan import Task
from ntm_lib.batch.worker import Outcome
from ntm_lib.errors import LimitError, OptionError, UnsafePathError
from ntm_lib.run.bag import make_run_bag
from ntm_lib.safeio import sha256_bytes

RUN_ID = "20231205T083000.123456Z-1a2b3c"
PARAMS = b"commune: '90001'\nyear: 2023\n"


def tar_of(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def member(name: str, kind=tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def test_pack_is_deterministic_and_sorted():
    a = shipping.pack_files([("b/x.csv", b"2"), ("a.txt", b"1")])
    b = shipping.pack_files([("a.txt", b"1"), ("b/x.csv", b"2")])
    assert a == b
    assert [n for n, _ in shipping.read_members(a, limit=1 << 20)] == ["a.txt", "b/x.csv"]
    with tarfile.open(fileobj=io.BytesIO(a)) as tar:
        assert {(m.mtime, m.uid, m.gid, m.mode) for m in tar} == {(0, 0, 0, 0o644)}


@pytest.mark.parametrize("bad, says", [
    (member("/etc/passwd"), "absolute"),
    (member("../escape.txt"), "leading out"),
    (member("data/../../escape.txt"), "leading out"),
    (member("data/./x"), "leading out"),
    (member("data\\x"), "absolute"),
    (member("data/link", tarfile.SYMTYPE, "/etc/passwd"), "link"),
    (member("data/hard", tarfile.LNKTYPE, "data/a"), "link"),
    (member("data/dir", tarfile.DIRTYPE), "folder"),
    (member("data/dev", tarfile.CHRTYPE), "device"),
    (member("data/fifo", tarfile.FIFOTYPE), "device"),
])
def test_unsafe_members_are_refused(bad, says):
    data = tar_of((member("data/a"), b"ok"), (bad, b"x"))
    with pytest.raises(UnsafePathError, match=says):
        shipping.read_members(data, limit=1 << 20)


def test_a_name_twice_or_as_file_and_folder_is_refused():
    with pytest.raises(UnsafePathError, match="twice"):
        shipping.read_members(tar_of((member("a/b"), b"1"), (member("a/b"), b"2")), limit=1 << 20)
    with pytest.raises(UnsafePathError, match="twice"):
        shipping.read_members(tar_of((member("a"), b"1"), (member("a/b"), b"2")), limit=1 << 20)
    with pytest.raises(UnsafePathError, match="twice"):
        shipping.read_members(tar_of((member("a/b/c"), b"1"), (member("a/b"), b"2")),
                              limit=1 << 20)


def test_limits_prefixes_and_garbage():
    data = shipping.pack_files([("params/2023/x.yaml", b"x" * 2000)])
    with pytest.raises(LimitError, match="too large"):
        shipping.read_members(data, limit=1000)
    with pytest.raises(UnsafePathError, match="no business"):
        shipping.read_members(shipping.pack_files([("build/x", b"1")]), limit=1 << 20,
                              prefixes=shipping.TASK_PREFIXES)
    with pytest.raises(UnsafePathError, match="not a tar"):
        shipping.read_members(b"not a tar at all" * 100, limit=1 << 20)


def test_write_members_never_overwrites_nor_follows_links(tmp_path):
    shipping.write_members([("data/a.csv", b"1")], tmp_path)
    assert (tmp_path / "data" / "a.csv").read_bytes() == b"1"
    with pytest.raises(UnsafePathError, match="overwrite"):
        shipping.write_members([("data/a.csv", b"2")], tmp_path)
    assert (tmp_path / "data" / "a.csv").read_bytes() == b"1"
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (tmp_path / "evil").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="link"):
        shipping.write_members([("evil/x.csv", b"3")], tmp_path)
    assert list(outside.iterdir()) == []


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for rel, text in {"data/reference/criteria.csv": "a\n1\n", "data/registry/communes.csv": "c\n",
                      "data/communes/90001/poverty.csv": "p\n", "data/communes/90002/poverty.csv":
                      "q\n", "notebooks/commune_report.ipynb": "{}",
                      "notebooks/layouts/header.html.j2": "<h1>", "notebooks/other.ipynb": "{}",
                      "params/2023/can-ha.yaml": PARAMS.decode()}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_shared_parcel_holds_what_every_report_reads(tmp_path):
    root = project(tmp_path)
    data, digest = shipping.shared_parcel(root, root / "notebooks" / "commune_report.ipynb")
    assert digest == sha256_bytes(data)
    names = [n for n, _ in shipping.read_members(data, limit=shipping.SHARED_BYTES)]
    assert names == ["data/reference/criteria.csv", "data/registry/communes.csv",
                     "notebooks/commune_report.ipynb", "notebooks/layouts/header.html.j2"]
    with pytest.raises(OptionError, match="inside the project"):
        shipping.shared_parcel(root, tmp_path / "elsewhere.ipynb")


def test_task_parcel_holds_the_params_and_its_communes_tables(tmp_path):
    root = project(tmp_path)
    data, relative = shipping.task_parcel(root, root / "params/2023/can-ha.yaml", "90001")
    assert relative == "params/2023/can-ha.yaml"
    assert shipping.read_members(data, limit=shipping.TASK_BYTES,
                                 prefixes=shipping.TASK_PREFIXES) == [
        ("data/communes/90001/poverty.csv", b"p\n"), ("params/2023/can-ha.yaml", PARAMS)]


# ----------------------------------------------------------------------------- receive


def made_run(tmp_path: Path, *, status: str = "ok") -> Path:
    """A run folder as build_report leaves it: outputs, inputs, bag, manifest."""
    run = tmp_path / "worker" / RUN_ID
    (run / "inputs" / "params" / "2023").mkdir(parents=True)
    (run / "inputs" / "params" / "2023" / "can-ha.yaml").write_bytes(PARAMS)
    outputs = {"report.html": b"<html>bao cao</html>", "commune_report.ipynb": b"{}"}
    for name, data in outputs.items():
        (run / name).write_bytes(data)
    manifest = {"run_id": RUN_ID, "year": 2023, "status": status,
                "parameters": {"issuing_body": ["UBND"]},
                "commune": {"code": "90001", "name": "Cán Hà"},
                "params_file": {"path": "params/2023/can-ha.yaml", "sha256": sha256_bytes(PARAMS)},
                "outputs": {k: sha256_bytes(v) for k, v in outputs.items()},
                "environment": {"library_sha256": "0" * 64}}
    make_run_bag(run, manifest, bagging_date=dt.date(2023, 12, 5))
    return run


def outcome() -> Outcome:
    return Outcome(2023, "can-ha", "ran", run_id=RUN_ID, run_dir=RUN_ID, worker="w:1",
                   outputs={"report.html": "data/report.html", "manifest.json": "manifest.json"})


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_HOME", str(tmp_path))
    return tmp_path


TASK = Task(2023, "can-ha", Path("/nowhere/params/2023/can-ha.yaml"))


def test_a_returned_run_is_archived_as_a_local_one(home):
    bag = shipping.pack_folder(made_run(home))
    build = home / "build"
    got = cluster.receive(outcome(), bag, TASK, build, sha256_bytes(PARAMS))
    final = build / "archive" / "2023" / "can-ha" / RUN_ID
    assert got.status == "ran" and got.run_dir == str(final)
    assert got.outputs == {"report.html": str(final / "data" / "report.html"),
                           "manifest.json": str(final / "manifest.json")}
    assert (final / "data" / "report.html").read_bytes() == b"<html>bao cao</html>"
    assert (build / "2023" / "can-ha").resolve() == final.resolve()
    assert sorted(p.name for p in final.parent.iterdir()) == [".latest.lock", RUN_ID]


def test_a_failed_run_is_archived_without_moving_the_latest_link(home):
    bag = shipping.pack_folder(made_run(home, status="failed"))
    got = cluster.receive(outcome(), bag, TASK, home / "build", sha256_bytes(PARAMS))
    assert (home / "build" / "archive" / "2023" / "can-ha" / RUN_ID).is_dir()
    assert got.run_dir and not (home / "build" / "2023" / "can-ha").is_symlink()


def repacked(bag: bytes, change) -> bytes:
    files = dict(shipping.read_members(bag, limit=shipping.RUN_BYTES))
    change(files)
    return shipping.pack_files(files.items())


@pytest.mark.parametrize("change, says", [
    (lambda f: f.update({"data/report.html": b"<html>sua</html>"}),
     "the bag does not verify: data/report.html changed"),
    (lambda f: f.update({"data/extra.txt": b"x"}),
     "the bag does not verify: data/extra.txt not in the bag's manifest"),
    (lambda f: f.pop("data/commune_report.ipynb"),
     "the bag does not verify: data/commune_report.ipynb missing"),
    (lambda f: f.update({"evil.sh": b"rm -rf /"}),
     "unexpected files at the top of the run: evil.sh"),
    (lambda f: f.update({"manifest.json": f["manifest.json"].replace(b"ok", b"OK")}),
     "the bag does not verify: manifest.json changed"),
])
def test_a_tampered_run_is_refused_and_nothing_is_archived(home, change, says):
    bag = repacked(shipping.pack_folder(made_run(home)), change)
    got = cluster.receive(outcome(), bag, TASK, home / "build", sha256_bytes(PARAMS))
    assert got.status == "failed" and got.run_dir is None
    assert got.error["message"].startswith("the run returned by w:1 was refused: ")
    assert says in got.error["message"]
    folder = home / "build" / "archive" / "2023" / "can-ha"
    assert not folder.exists() or [p.name for p in folder.iterdir()] == []
    assert not (home / "build" / "2023" / "can-ha").is_symlink()


def test_links_other_params_and_foreign_run_ids_are_refused(home):
    run = made_run(home)
    bag = shipping.pack_folder(run)
    link = tar_of((member("data/x", tarfile.SYMTYPE, "/etc/passwd"), b""))
    for data, task_outcome, sha, says in [
        (link, outcome(), sha256_bytes(PARAMS), "link"),
        (bag, outcome(), sha256_bytes(b"other params"), "params file sent"),
        (bag, Outcome(2023, "can-ha", "ran", run_id="../../x", run_dir="../../x", worker="w:1"),
         sha256_bytes(PARAMS), "not a run id"),
        (bag, Outcome(2023, "can-ha", "ran", run_id=RUN_ID, run_dir=RUN_ID, worker="w:1",
                      outputs={"report.html": "../../../etc/passwd"}),
         sha256_bytes(PARAMS), "leading out"),
    ]:
        got = cluster.receive(task_outcome, data, TASK, home / "build", sha)
        assert got.status == "failed" and says in got.error["message"], got.error
    assert not (home / "build" / "2023" / "can-ha").exists()
    assert [p.name for p in (home / "build" / "archive" / "2023" / "can-ha").iterdir()] == []
    (run / "data" / "link").symlink_to("/etc/passwd")
    with pytest.raises(UnsafePathError, match="symbolic link"):
        shipping.pack_folder(run)


def test_the_library_check_names_both_digests():
    assert cluster.mismatch("a" * 64, "a" * 64) is None
    message = cluster.mismatch("b" * 64, "a" * 64, "the Dask worker tcp://h:1")
    assert message == ("the Dask worker tcp://h:1 has another ntm_lib (library digest "
                       "bbbbbbbbbbbb) than this batch (aaaaaaaaaaaa): install the same "
                       "ntm-workbook there, then run again")


def test_shipped_project_state_is_what_the_manifest_records():
    from ntm_lib.run.codecopy import library_changed
    from ntm_lib.run.manifest import environment, shipped_project_state

    state = {"git": {"commit": "c0ffee", "dirty": False}, "library_changed": False}
    with shipped_project_state(state):
        assert environment()["git"] == {"commit": "c0ffee", "dirty": False}
        assert library_changed("0" * 64, "/nowhere") is False
    assert library_changed("0" * 64, "/nowhere") is True  # not a git checkout
    assert json.dumps(cluster.project_state())  # plain data, sent to workers
