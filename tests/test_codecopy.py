"""The code that made a report is kept with its evidence: a content-addressed,
deterministic copy of the library, checked by ntm verify."""
from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from ntm_lib.evidence.verify import BagReport, verify_code
from ntm_lib.run.codecopy import check_library_copy, keep_library_copy
from ntm_lib.run.manifest import library_digest


def fake_run(build: Path, copy: str | None, digest: str) -> Path:
    run = build / "archive" / "2023" / "nam-mon" / "20230101T000000Z-abcdef"
    run.mkdir(parents=True)
    environment = {"library_sha256": digest, **({"library_copy": copy} if copy else {})}
    (run / "manifest.json").write_text(json.dumps({"environment": environment}), encoding="utf-8")
    return run


def test_the_copy_is_stored_once_named_by_its_digest_and_deterministic(tmp_path):
    digest = library_digest()
    first = keep_library_copy(tmp_path / "a", digest)
    again = keep_library_copy(tmp_path / "a", digest)
    other = keep_library_copy(tmp_path / "b", digest)
    assert first == again == other == f"code/ntm_lib-{digest}.tar.gz"
    assert (tmp_path / "a" / first).read_bytes() == (tmp_path / "b" / other).read_bytes()
    assert check_library_copy(tmp_path / "a" / first) == digest
    with tarfile.open(tmp_path / "a" / first) as tar:
        names = tar.getnames()
        assert "ntm_lib/safeio.py" in names and "ntm_lib/notebook/prose.py" in names
        assert all(m.mtime == 0 and m.uid == 0 for m in tar.getmembers())


def test_verify_finds_a_changed_or_missing_copy(tmp_path):
    digest = library_digest()
    build = tmp_path / "build"
    copy = keep_library_copy(build, digest)
    run = fake_run(build, copy, digest)
    report = BagReport(run)
    verify_code(run, report)
    assert report.ok
    # Tamper: one file of the copy changed.
    path = build / copy
    with tarfile.open(path) as src:
        members = [(m, src.extractfile(m).read()) for m in src.getmembers()]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member, data in members:
            if member.name == "ntm_lib/safeio.py":
                data += b"\n# changed\n"
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    report = BagReport(run)
    verify_code(run, report)
    assert report.changed == [f"(build folder) {copy}"]
    path.unlink()
    report = BagReport(run)
    verify_code(run, report)
    assert report.missing == [f"(build folder) {copy}"]


def test_a_run_without_a_copy_needs_none(tmp_path):
    run = fake_run(tmp_path / "build", None, "0" * 64)
    report = BagReport(run)
    verify_code(run, report)
    assert report.ok
