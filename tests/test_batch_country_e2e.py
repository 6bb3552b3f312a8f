"""A batch over two provinces, end to end through ``ntm batch``: a roll-up
per province and the national one, the index grouped by province, the peak
memory in the record, and a no-op rerun that reuses the hash cache and
still rebuilds a tampered report. Slow (real kernels): marked e2e."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
NTM = str(Path(sys.executable).with_name("ntm"))


def ntm(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([NTM, *args], cwd=home, env={**os.environ, "NTM_HOME": str(home)},
                          capture_output=True, text=True, encoding="utf-8", timeout=900)


def record(home: Path) -> dict:
    return json.loads((home / "build" / "2026" / "batch.json").read_text(encoding="utf-8"))


def test_two_provinces_national_roll_up_index_and_no_op(tmp_path):
    home = tmp_path / "country"
    made = subprocess.run([NTM, "synth", "--communes", "2", "--year", "2026", "--out", str(home),
                           "--seed", "3", "--provinces", "2"], capture_output=True, text=True,
                          env={**os.environ, "NTM_HOME": str(ROOT)})
    assert made.returncode == 0, made.stderr
    first = ntm(home, "batch", "--year", "2026", "--workers", "2", "--quiet", "--no-docx")
    assert first.returncode == 0, first.stdout + first.stderr
    data = record(home)
    assert data["counts"]["ran"] == 2 and 0 < data["peak_rss_mb"] < 1024
    assert all(0 < c["peak_rss_mb"] < 1024 for c in data["communes"])
    assert data["workers_peak_rss_mb"] == max(c["peak_rss_mb"] for c in data["communes"])
    scopes = [r["scope"] for r in data["rollups"]]
    assert scopes == [{"province": "98"}, {"province": "99"}, {"national": True}]
    assert [r["status"] for r in data["rollups"]] == ["ran"] * 3
    national = home / "build" / data["rollups"][-1]["links"]["HTML"]
    html = national.read_text(encoding="utf-8")
    assert "toàn quốc" in html and "Mô Phỏng 2" in html and "Cả nước" in html
    page = (home / "build" / "2026" / "index.html").read_text(encoding="utf-8")
    assert '<a href="#tinh-98">' in page and '<a href="#tinh-99">' in page
    for target in re.findall(r'href="([^"#]+)"', page):
        assert (home / "build" / "2026" / target).exists(), target

    time.sleep(2.5)  # past the racy window: the next batch remembers every hash
    assert ntm(home, "batch", "--year", "2026", "--quiet", "--no-docx").returncode == 0
    cache = json.loads((home / "build" / "2026" / ".fingerprints.json").read_text())
    assert any(k.endswith("data/report.pdf") for k in cache["files"])
    again = ntm(home, "batch", "--year", "2026", "--quiet", "--no-docx")
    assert again.returncode == 0
    assert record(home)["counts"]["skipped"] == 2
    assert {r["status"] for r in record(home)["rollups"]} == {"skipped"}

    # Same size, modification time put back: still found, still rebuilt.
    link = home / "build" / "2026" / data["communes"][0]["slug"]
    pdf = link / "data" / "report.pdf"
    info = pdf.stat()
    raw = bytearray(pdf.read_bytes())
    raw[-2] ^= 0x01
    pdf.write_bytes(bytes(raw))
    os.utime(pdf, ns=(info.st_atime_ns, info.st_mtime_ns))
    third = ntm(home, "batch", "--year", "2026", "--quiet", "--no-docx")
    assert third.returncode == 0, third.stdout + third.stderr
    rows = {c["slug"]: c for c in record(home)["communes"]}
    assert rows[link.name]["status"] == "ran"
    assert rows[link.name]["reason"] == "archived run changed: data/report.pdf changed"
