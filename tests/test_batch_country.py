"""Country-scale bookkeeping without a kernel: the hash cache of the
incremental rule (a tampered report is still found), one pass over the
archive, the index grouped by province, the national roll-up, the
synthetic provinces and the peak-memory fields of the record."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from ntm_lib.batch import fingerprint, rollups
from ntm_lib.batch.fingerprint import HashCache
from ntm_lib.batch.index import write_index
from ntm_lib.batch.plan import plan
from ntm_lib.batch.record import BatchRecord, csv_text
from ntm_lib.batch.run import peak_rss_mb
from ntm_lib.batch.scan import scan_year
from ntm_lib.batch.worker import Outcome
from ntm_lib.record import MEDIA_TYPE, make_payload
from ntm_lib.rollup import sections as S
from ntm_lib.rollup.build import scope_folder
from ntm_lib.rollup.collect import collect_rollup, planned_inputs
from ntm_lib.synth import generate
from ntm_lib.synth.generate import SynthError

from test_batch import _fake_run

OLD = 1_600_000_000  # 2020-09-13: a modification time well outside the racy window


def _aged(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (OLD, OLD))
    return path


def _wait_out_racy_window(path: Path) -> None:
    """The change time is set by the kernel; wait until it is old enough to remember."""
    while time.time_ns() - os.stat(path).st_ctime_ns <= fingerprint.RACY_NS:
        time.sleep(0.1)


def test_hash_cache_reuses_a_digest_only_while_the_stat_data_agree(tmp_path):
    f = _aged(tmp_path / "report.html", "<p>13/19</p>")
    _wait_out_racy_window(f)
    cache = HashCache()
    first = cache.digest(f)
    assert first == fingerprint.sha256_file(f) and cache.hashed == 1
    cache.save(tmp_path / ".fingerprints.json", tmp_path)
    again = HashCache.load(tmp_path / ".fingerprints.json")
    assert again.digest(f) == first and (again.hashed, again.reused) == (0, 1)
    # Same size, same modification time put back: the change time still moves.
    f.write_text("<p>19/19</p>", encoding="utf-8")
    os.utime(f, (OLD, OLD))
    later = HashCache.load(tmp_path / ".fingerprints.json")
    assert later.digest(f) == fingerprint.sha256_file(f) != first and later.hashed == 1


def test_a_file_changed_just_now_is_not_remembered(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a\n", encoding="utf-8")
    cache = HashCache()
    cache.digest(f)
    cache.save(tmp_path / "c.json", tmp_path)
    assert json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))["files"] == {}
    assert HashCache.load(tmp_path / "missing.json").digest(tmp_path / "nope") is None


def test_a_broken_or_foreign_cache_is_an_empty_one(tmp_path):
    (tmp_path / "c.json").write_text("{not json", encoding="utf-8")
    assert HashCache.load(tmp_path / "c.json")._old == {}
    (tmp_path / "d.json").write_text('{"schema": "other", "files": {"x": 1}}', encoding="utf-8")
    assert HashCache.load(tmp_path / "d.json")._old == {}


@pytest.fixture
def project(synthetic_project):
    return synthetic_project


def test_a_tampered_report_is_rebuilt_through_the_cache(project, tmp_path):
    out, _ = project
    build, notebook = tmp_path / "build", out / "notebooks" / "commune_report.ipynb"
    task = plan(2023, ["nam-mon"])[0]
    run_dir = _fake_run(out, build, task, notebook)
    html = run_dir / "data" / "report.html"
    os.utime(html, (OLD, OLD))
    _wait_out_racy_window(html)
    cache_path = build / "2023" / fingerprint.CACHE_NAME
    cache = HashCache.load(cache_path)
    assert fingerprint.check(task, build, notebook, hashes=cache).fresh
    cache.save(cache_path, build)
    warm = HashCache.load(cache_path)
    assert fingerprint.check(task, build, notebook, hashes=warm).fresh and warm.hashed == 0
    html.write_text("<HTML></HTML>", encoding="utf-8")  # same size, other bytes
    os.utime(html, (OLD, OLD))  # and the old modification time put back
    after = fingerprint.check(task, build, notebook, hashes=HashCache.load(cache_path))
    assert not after.fresh and after.reason == "archived run changed: data/report.html changed"
    html.unlink()
    html.symlink_to(tmp_path / "elsewhere.html")
    assert fingerprint.check(task, build, notebook, hashes=HashCache()).reason == \
        "archived run changed: data/report.html changed"


def _run(build, slug, code, province, run_id="20230101T000000.000000Z-aaaaaa", status="ok",
         met=13, at_risk=False):
    run_dir = build / "archive" / "2023" / slug / run_id
    (run_dir / "data").mkdir(parents=True)
    figures = {"criteria_met": met, "set_size": 19, "band": "b1" if at_risk else None,
               "recognition_at_risk": at_risk}
    outputs = [{"output_type": "display_data", "metadata": {},
                "data": {MEDIA_TYPE: make_payload(k, v)}} for k, v in figures.items()]
    nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": outputs,
                     "execution_count": 1}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (run_dir / "data" / "commune_report.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (run_dir / "data" / "report.html").write_text("<html></html>", encoding="utf-8")
    manifest = {"run_id": run_id, "status": status,
                "outputs": {"commune_report.ipynb": "x", "report.html": "x"},
                "commune": {"code": code, "name": slug.title(), "province_code": province,
                            "province_name": f"Tỉnh {province}", "district_name": ""},
                "error": {"message": "boom", "cell_index": 3} if status == "failed" else None}
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if status == "ok":
        link = build / "2023" / slug
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(run_dir, link.parent), link)
    return run_dir


@pytest.fixture
def country(tmp_path):
    """Four communes over two provinces: one failed outright, one whose newer run failed."""
    build = tmp_path / "build"
    _run(build, "a", "90001", "98", met=15)
    _run(build, "b", "90002", "98", met=11, at_risk=True)
    _run(build, "b", "90002", "98", run_id="20230102T000000.000000Z-bbbbbb", status="failed")
    _run(build, "c", "90003", "99", met=17)
    _run(build, "d", "90004", "99", status="failed")
    return build


def test_one_pass_finds_the_latest_ok_and_the_newest_run(country):
    scan = scan_year(country, 2023)
    assert list(scan) == ["a", "b", "c", "d"]
    assert scan["a"].ok is scan["a"].newest and not scan["a"].newer_failed
    assert scan["b"].ok.run_id.endswith("aaaaaa") and scan["b"].newest.status == "failed"
    assert scan["b"].newer_failed and scan["d"].ok is None and scan["d"].run.status == "failed"


def test_the_national_roll_up_takes_every_province(country):
    ctx = collect_rollup(country, 2023)
    assert (ctx.scope, ctx.code, ctx.name) == ("national", "", "toàn quốc")
    assert [r.code for r in ctx.rows] == ["90001", "90002", "90003"]
    assert [m["code"] for m in ctx.missing] == ["90004"]
    assert ctx.by_province() == [
        {"code": "98", "name": "Tỉnh 98", "communes": 2, "band_counts": {None: 1, "b1": 1},
         "at_risk": 1, "mean_criteria_met": 13.0, "missing": 0},
        {"code": "99", "name": "Tỉnh 99", "communes": 1, "band_counts": {None: 1},
         "at_risk": 0, "mean_criteria_met": 17.0, "missing": 1}]
    paths, missing = planned_inputs(country, 2023)
    assert len(paths) == 6 and missing == ["d"]
    assert planned_inputs(country, 2023, province="99") == (
        [p for p in paths if "/c/" in p], ["d"])
    assert scope_folder(country, 2023, None, None).name == "rollup-national"
    table = S.commune_table(ctx, {}, {})
    assert "<td>Tỉnh 98</td>" in table and "<td>Tỉnh 99</td>" in table
    assert '<td>Cả nước</td><td class="num">3</td><td class="num">14,33</td>' \
           '<td class="num">1</td><td class="num">1</td>' in table
    assert "trên cả nước" in S.title(ctx)


def test_a_batch_over_several_provinces_adds_the_national_roll_up(monkeypatch, tmp_path):
    calls = []

    def fake(year, *, province=None, build=None, force=False, scan=None):
        calls.append((province, scan))
        raise RuntimeError("no kernel here")

    monkeypatch.setattr("ntm_lib.rollup.build.build_rollup", fake)
    record = BatchRecord("b", 2023, "t", outcomes=[
        Outcome(2023, "a", "ran", province_code="98"),
        Outcome(2023, "c", "skipped", province_code="99")])
    entries = rollups.rollups_for(record, tmp_path, scan={})
    assert [c[0] for c in calls] == ["98", "99", None] and all(c[1] == {} for c in calls)
    assert [e["scope"] for e in entries] == [{"province": "98"}, {"province": "99"},
                                              {"national": True}]
    assert entries[-1]["title"] == "national" and entries[-1]["status"] == "failed"
    calls.clear()
    record.outcomes = record.outcomes[:1]
    rollups.rollups_for(record, tmp_path, scan={})
    assert [c[0] for c in calls] == ["98"]


def test_the_index_groups_provinces_and_lists_the_failures_first(country):
    record = {"communes": [{"slug": "d", "status": "failed",
                            "error": {"message": "boom", "cell": 3}}]}
    page = write_index(country, 2023, record).read_text(encoding="utf-8")
    # b is outside the batch: its newest run (failed, after its good one) speaks for it.
    for code in ("98", "99"):
        assert f'<li><a href="#tinh-{code}">Tỉnh {code} ({code})</a>: 2 xã, ' \
               '<span class="failed">1 failed</span></li>' in page
    assert '<h2>Cần xử lý (failed): 2</h2>' in page
    assert '<li><a href="#xa-d">90004 D</a>: <span class="failed">failed</span> cell 3: boom' \
           in page
    assert page.count("<table>") == 2 and '<tr id="xa-d"><td>4</td>' in page
    assert '<h2 id="tinh-99">Tỉnh 99 (99): 2 xã</h2>' in page
    for target in __import__("re").findall(r'href="([^"#]+)"', page):
        if not target.startswith("batch."):
            assert (country / "2023" / target).exists(), target


def test_synthetic_communes_spread_over_provinces(tmp_path, root):
    result = generate(5, 2026, tmp_path / "s", seed=2, province_code="99", provinces=3,
                      source=root)
    rows = [r.split(",") for r in (tmp_path / "s" / "data" / "registry" / "communes.csv")
            .read_text(encoding="utf-8").splitlines()]
    header = rows[0]
    mine = [dict(zip(header, r)) for r in rows[1:] if r[0] in {c for c, _, _ in result.communes}]
    assert [(r["province_code"], r["province_name"]) for r in mine] == [
        ("99", "Mô Phỏng"), ("99", "Mô Phỏng"), ("98", "Mô Phỏng 2"), ("98", "Mô Phỏng 2"),
        ("97", "Mô Phỏng 3")]
    assert "--provinces 3" in (tmp_path / "s" / "SYNTHETIC.md").read_text(encoding="utf-8")
    with pytest.raises(SynthError, match="--provinces"):
        generate(2, 2026, tmp_path / "t", provinces=3, source=root)


def test_the_record_keeps_the_peak_memory_of_the_batch_and_its_workers(tmp_path):
    record = BatchRecord("b", 2023, "t", outcomes=[
        Outcome(2023, "a", "ran", peak_rss_mb=210.5), Outcome(2023, "b", "skipped"),
        Outcome(2023, "c", "ran", peak_rss_mb=250.0)], peak_rss_mb=88.0)
    data = record.to_dict(tmp_path)
    assert (data["peak_rss_mb"], data["workers_peak_rss_mb"]) == (88.0, 250.0)
    assert [c["peak_rss_mb"] for c in data["communes"]] == [210.5, None, 250.0]
    assert csv_text(data).splitlines()[1].endswith(",210.5")
    assert 5 < peak_rss_mb() < 4096


def test_a_partial_batch_keeps_the_other_communes_hashes(tmp_path):
    a, b = _aged(tmp_path / "a.html", "a"), _aged(tmp_path / "b.html", "b")
    _wait_out_racy_window(b)
    full = HashCache()
    full.digest(a), full.digest(b)
    full.save(tmp_path / "c.json", tmp_path)
    partial = HashCache.load(tmp_path / "c.json")
    partial.digest(a)
    partial.save(tmp_path / "c.json", tmp_path, keep_unused=True)
    assert sorted(HashCache.load(tmp_path / "c.json")._old) == [str(a), str(b)]
    again = HashCache.load(tmp_path / "c.json")
    again.digest(a)
    again.save(tmp_path / "c.json", tmp_path)
    assert sorted(HashCache.load(tmp_path / "c.json")._old) == [str(a)]
