"""Synthetic communes: plausible, reproducible, always marked, kept apart."""
from __future__ import annotations

import csv
import filecmp

import pytest

from ntm_lib.synth import SYNTHETIC_MARKER, generate, is_synthetic_code
from ntm_lib.synth.generate import SynthError


def _files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def test_same_seed_same_bytes(tmp_path, root):
    a = generate(6, 2023, tmp_path / "a", seed=3, source=root)
    b = generate(6, 2023, tmp_path / "b", seed=3, source=root)
    c = generate(6, 2023, tmp_path / "c", seed=4, source=root)
    assert a.communes == b.communes and a.communes != c.communes
    files = [f for f in _files(tmp_path / "a" / "data")]
    assert files == _files(tmp_path / "b" / "data")
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a" / "data", tmp_path / "b" / "data",
                                           [str(f) for f in files], shallow=False)
    assert not mismatch and not errors


def test_always_marked_synthetic(tmp_path, root):
    out = tmp_path / "s"
    result = generate(4, 2023, out, seed=1, source=root)
    assert (out / SYNTHETIC_MARKER).read_text(encoding="utf-8").startswith(
        "# Synthetic project: NOT REAL DATA")
    with open(out / "data" / "registry" / "communes.csv", encoding="utf-8") as f:
        rows = {r["commune_code"]: r for r in csv.DictReader(f)}
    for code, slug, name in result.communes:
        assert is_synthetic_code(code) and "(mô phỏng" in name
        assert rows[code]["source"].startswith("synthetic")
        assert rows[code]["district_code"].startswith("9")
        for table in (out / "data" / "communes" / code).glob("*.csv"):
            with open(table, encoding="utf-8") as f:
                assert all(r["source"].startswith("synthetic") for r in csv.DictReader(f))
        params = (out / "params" / "2023" / f"{slug}.yaml").read_text(encoding="utf-8")
        assert "ĐƠN VỊ MÔ PHỎNG" in params and "Synthetic parameters" in params
    assert not is_synthetic_code("02881")
    assert (out / "notebooks").resolve() == (root / "notebooks").resolve()


def test_never_written_into_the_project_or_a_folder_with_other_files(tmp_path, root):
    with pytest.raises(SynthError):
        generate(2, 2023, root / "data" / "synthetic", source=root)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("real work", encoding="utf-8")
    with pytest.raises(SynthError, match="not empty"):
        generate(2, 2023, busy, source=root)
    out = tmp_path / "again"
    generate(2, 2023, out, seed=1, source=root)
    generate(3, 2023, out, seed=2, source=root)  # a synthetic folder is refreshed
    assert len(list((out / "params" / "2023").glob("*.yaml"))) == 3


def test_generated_data_passes_every_check(tmp_path, root, monkeypatch):
    from ntm_lib.params import load_params
    from ntm_lib.report import prepare_report

    out = tmp_path / "s"
    result = generate(8, 2023, out, seed=11, province_code="10", copy_real=["02881"], source=root)
    monkeypatch.setenv("NTM_HOME", str(out))
    bands = set()
    for _, slug, _ in result.communes + result.copied:
        ctx = prepare_report(load_params(out / "params" / "2023" / f"{slug}.yaml"))
        assert ctx.inconsistencies == [], slug
        assert ctx.commune.province_name == "Lào Cai"
        bands.add(ctx.band.band_id)
    assert len(bands) >= 2  # a spread of bands, not one kind of commune
