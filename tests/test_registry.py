"""The national commune registry (issue 9): both maps of the country from the
``vietnamadminunits`` package, the mapping old -> new, the project's own rows
over them, year-aware look-ups and ``ntm template`` for any commune.

Expected values are the package's own rows (vietnamadminunits 1.0.4) and the
official totals of the 01/7/2025 arrangement: 3,321 units = 2,621 xã, 687
phường, 13 đặc khu; the new Lào Cai 99 units (89 xã, 10 phường); Xã Bắc Hà
(02839) formed by Nghị quyết 1673/NQ-UBTVQH15 from Thị trấn Bắc Hà and the
xã Na Hối, Nậm Mòn, Bản Phố, Hoàng Thu Phố and Thải Giàng Phố.
"""
from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from ntm_lib.cli import main
from ntm_lib.errors import OptionError, UnknownCommuneError
from ntm_lib.load.admin_units import load_maps
from ntm_lib.load.registry import (
    national_registry,
    predecessors,
    resolve_commune,
    successors,
)

ROOT = Path(__file__).resolve().parent.parent
NTM = str(Path(sys.executable).with_name("ntm"))


def run(args, capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(capsys, args) -> str:
    code, out, err = run(args, capsys)
    assert code == 2, (out, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --------------------------------------------------------------------------- the two maps


def test_both_maps_are_complete():
    maps = load_maps()
    # The package's old table has 10,040 rows: 10,035 communes, wards and
    # townships plus 5 island districts that had no commune level.
    assert maps.legacy_rows == 10_040
    assert len(maps.legacy) == 10_035 and len(maps.islands) == 5
    assert len(maps.current) == 3_321
    registry = national_registry()
    assert (len(registry.old), len(registry.new)) == (10_035, 3_321)
    kinds = collections.Counter(u.type_vi for u in registry.new.values())
    assert kinds == {"xã": 2_621, "phường": 687, "đặc khu": 13}
    assert set(collections.Counter(u.type_vi for u in registry.old.values())) == {
        "xã", "phường", "thị trấn"}
    lao_cai = collections.Counter(u.type_vi for u in registry.new.values()
                                  if u.province_code == "15")
    assert lao_cai == {"xã": 89, "phường": 10}
    assert len({u.province_code for u in registry.new.values()}) == 34
    assert len({u.province_code for u in registry.old.values()}) == 63
    for unit in registry.units:  # codes are strings with their zeros, names NFC
        assert len(unit.code) == 5 and unit.code.isdigit()
        assert len(unit.province_code) == 2
        assert (unit.district_code is None) == (unit.valid_from is not None)


def test_every_old_unit_has_a_successor_and_every_new_one_predecessors():
    registry = national_registry()
    assert all(registry.successors(code) for code in registry.old)
    without = sorted(code for code in registry.new if not registry.predecessors(code))
    # only the 5 special zones that were island districts without communes
    assert without == sorted(i.new for i in load_maps().islands)
    split = [code for code in registry.old if len(registry.successors(code)) > 1]
    assert len(split) == 471
    for code in split:
        after = registry.successors(code)
        assert all(s.split for s in after) and sum(s.main for s in after) == 1
        assert registry.old[code].successor_code is None


def test_island_districts_became_special_zones():
    registry = national_registry()
    islands = {i.district_name: registry.new[i.new] for i in load_maps().islands}
    assert sorted(islands) == ["Bạch Long Vĩ", "Côn Đảo", "Cồn Cỏ", "Hoàng Sa", "Lý Sơn"]
    assert {u.type_vi for u in islands.values()} == {"đặc khu"}
    assert islands["Côn Đảo"].describe() == "26732 Đặc khu Côn Đảo, Thành phố Hồ Chí Minh (79)"


def test_kind_comes_from_the_official_name_where_the_package_disagrees():
    registry = national_registry()
    assert registry.new["10543"].describe() == "10543 Phường Việt Hòa, Thành phố Hải Phòng (31)"
    assert registry.new["31299"].type_vi == "xã"
    # "Yên Viên (Thị trấn)" in the package's short names: the name is "Yên Viên"
    yen_vien = [u for u in registry.old.values() if u.name == "Yên Viên"]
    assert sorted(u.type_vi for u in yen_vien) == ["thị trấn", "xã"]


# --------------------------------------------------------------------------- Nậm Mòn and Bắc Hà


def test_nam_mon_on_the_old_map():
    nam_mon = resolve_commune("02881", year=2023)
    assert nam_mon.describe() == "02881 Xã Nậm Mòn, Huyện Bắc Hà (085), Tỉnh Lào Cai (10)"
    assert nam_mon.slug == "nam-mon"
    assert nam_mon.source == "Nghị quyết 1673/NQ-UBTVQH15 (2025) mục 73"  # the project's row
    assert resolve_commune("nam-mon", year=2023) == nam_mon
    assert resolve_commune("Nam Mon", year=2023) == nam_mon
    assert resolve_commune("Xã Nậm Mòn", year=2023, province="Lào Cai", district="Bắc Hà") \
        == nam_mon
    assert [s.code for s in successors("02881")] == ["02839"]


def test_bac_ha_on_the_new_map_and_its_predecessors():
    bac_ha = resolve_commune("02839", year=2026)
    assert bac_ha.describe() == "02839 Xã Bắc Hà, Tỉnh Lào Cai (15)"
    assert (bac_ha.slug, bac_ha.district_code, bac_ha.district_name) == ("bac-ha", None, None)
    before = predecessors("02839")
    assert [(p.code, p.name, p.split) for p in before] == [
        ("02839", "Bắc Hà", False), ("02857", "Thải Giàng Phố", False),
        ("02863", "Hoàng Thu Phố", False), ("02866", "Bản Phố", False),
        ("02875", "Na Hối", False), ("02881", "Nậm Mòn", False)]
    nam_mon = before[-1]
    assert (nam_mon.slug, nam_mon.district_code, nam_mon.province_code) == ("nam-mon", "085", "10")
    assert before[0].type_vi == "thị trấn"


def test_the_same_code_names_different_units_on_the_two_maps():
    old = resolve_commune("02839", year=2023)
    assert old.describe() == "02839 Thị trấn Bắc Hà, Huyện Bắc Hà (085), Tỉnh Lào Cai (10)"
    assert old.slug == "bac-ha-02839"  # "bac-ha" is the project's Xã Bắc Hà
    assert resolve_commune("bac-ha-02839", year=2023) == old
    assert resolve_commune("02839").slug == "bac-ha"  # no year: the project's rows first
    with pytest.raises(UnknownCommuneError) as excinfo:
        resolve_commune("04462")  # not in communes.csv: one unit on each map
    assert "04462 Xã Nậm Có, Huyện Mù Căng Chải (137), Tỉnh Yên Bái (15)" in str(excinfo.value)
    assert "04462 Xã Nậm Có, Tỉnh Lào Cai (15)" in str(excinfo.value)
    assert "--year" in str(excinfo.value)


def test_a_split_unit_names_all_its_successors():
    after = successors("31268")  # Xã Tân Thạnh, huyện Thới Lai, Cần Thơ
    assert [(s.code, s.name, s.split, s.main) for s in after] == [
        ("31288", "Trường Thành", True, True), ("31666", "Tân Thạnh", True, False)]
    assert ("31268", True) in [(p.code, p.split) for p in predecessors("31666")]


def test_slugs_are_unique_on_each_map_and_stable():
    registry = national_registry()
    for table in (registry.old, registry.new):
        slugs = collections.Counter(u.slug for u in table.values())
        assert slugs.most_common(1)[0][1] == 1
    tan_lap = [u for u in registry.new.values() if u.name == "Tân Lập"]
    assert len(tan_lap) == 4 and all(u.slug == f"tan-lap-{u.code}" for u in tan_lap)
    assert registry.new["04462"].slug == "nam-co"


# --------------------------------------------------------------------------- errors


def test_a_code_abolished_for_2026_names_its_successor():
    with pytest.raises(UnknownCommuneError) as excinfo:
        resolve_commune("02881", year=2026)
    error = excinfo.value
    assert error.exit_code == 2 and len(str(error).splitlines()) == 1
    assert "ended on 30/06/2025" in error.message
    assert "went into 02839 Xã Bắc Hà, Tỉnh Lào Cai (15)" in error.message
    with pytest.raises(UnknownCommuneError, match="went into 02839"):
        resolve_commune("Nậm Mòn", year=2026)


def test_an_ambiguous_name_lists_the_candidates():
    with pytest.raises(UnknownCommuneError) as excinfo:
        resolve_commune("Bắc Hà", year=2023)
    message = excinfo.value.message
    for candidate in ("02839 Thị trấn Bắc Hà, Huyện Bắc Hà (085), Tỉnh Lào Cai (10)",
                      "11449 Phường Bắc Hà, Quận Kiến An (307), Thành phố Hải Phòng (31)",
                      "18077 Phường Bắc Hà, Thành phố Hà Tĩnh (436), Tỉnh Hà Tĩnh (42)"):
        assert candidate in message
    assert resolve_commune("Bắc Hà", year=2023, province="10").code == "02839"
    assert resolve_commune("Bắc Hà", year=2023, province="Hà Tĩnh").code == "18077"
    assert resolve_commune("Thị trấn Bắc Hà", year=2023).code == "02839"


def test_a_district_after_2025_is_refused():
    with pytest.raises(OptionError, match="no districts after 01/7/2025"):
        resolve_commune("Bắc Hà", year=2026, district="Bắc Hà")


def test_a_code_in_another_province_is_refused():
    with pytest.raises(UnknownCommuneError, match="02839 Xã Bắc Hà, Tỉnh Lào Cai"):
        resolve_commune("02839", year=2026, province="Hà Tĩnh")


def test_the_projects_rows_correct_the_package(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "registry", data / "registry")
    with (data / "registry" / "communes.csv").open("a", encoding="utf-8") as f:
        f.write("02866,Bản Phố,xã,085,Bắc Hà,huyện,10,Lào Cai,tỉnh,,2025-06-30,02839,"
                "test: a correction\n")
    ban_pho = resolve_commune("02866", data, year=2023)
    assert ban_pho.source == "test: a correction" and ban_pho.slug == "ban-pho"
    assert "02866" in [p.code for p in predecessors("02839", data)]
    assert resolve_commune("02866", year=2023).source == "vietnamadminunits 1.0.4"


def test_lookups_over_the_new_map_are_fast():
    registry = national_registry()
    start = time.perf_counter()
    found = [registry.resolve(code, year=2026) for code in registry.new]
    assert len({c.code for c in found}) == 3_321
    assert time.perf_counter() - start < 1.0


# --------------------------------------------------------------------------- ntm template


def sheet_text(path: Path) -> dict[str, list]:
    book = openpyxl.load_workbook(path)
    return {ws.title: [c.value for row in ws.iter_rows() for c in row if c.value is not None]
            for ws in book}


@pytest.mark.parametrize("code, year, name, place", [
    ("02866", "2023", "Bản Phố",
     "Xã Bản Phố (02866), huyện Bắc Hà, tỉnh Lào Cai; năm báo cáo 2023"),
    ("04462", "2026", "Nậm Có", "Xã Nậm Có (04462), tỉnh Lào Cai; năm báo cáo 2026"),
])
def test_template_for_another_lao_cai_commune(tmp_path, capsys, code, year, name, place):
    out = tmp_path / f"{code}-{year}.xlsx"
    status, printed, err = run(["template", "--commune", code, "--year", year, "--out",
                                str(out)], capsys)
    assert status == 0, err
    text = sheet_text(out)
    general = text["Thông tin chung"]
    assert general[general.index("Mã xã") + 1] == code
    assert general[general.index("Tên xã") + 1] == name
    assert general[general.index("Năm báo cáo") + 1] == int(year)
    assert any(str(v).startswith(place) for v in text["Tiêu chí"])
    if year == "2026":
        assert "huyện" not in printed
        assert not any("huyện" in str(v) for v in text["Tiêu chí"])
    else:
        assert "huyện Bắc Hà" in printed


def test_template_by_name_with_province_and_district(tmp_path, capsys):
    out = tmp_path / "t.xlsx"
    status, printed, err = run(["template", "--commune", "Bắc Hà", "--province", "Lào Cai",
                                "--district", "085", "--year", "2023", "--out", str(out)], capsys)
    assert status == 0, err
    assert "thị trấn Bắc Hà (02839), huyện Bắc Hà, tỉnh Lào Cai, năm 2023" in printed


def test_template_refusals_name_the_candidates(tmp_path, capsys):
    out = str(tmp_path / "t.xlsx")
    line = one_line_error(capsys, ["template", "--commune", "02881", "--year", "2026",
                                   "--out", out])
    assert "went into 02839 Xã Bắc Hà, Tỉnh Lào Cai (15)" in line
    line = one_line_error(capsys, ["template", "--commune", "Bắc Hà", "--year", "2023",
                                   "--out", out])
    assert "names 3 communes in 2023" in line and "11449 Phường Bắc Hà" in line
    line = one_line_error(capsys, ["template", "--commune", "Bắc Hà", "--year", "2026",
                                   "--district", "Bắc Hà", "--out", out])
    assert "no districts after 01/7/2025" in line
    assert not Path(out).exists()


@pytest.mark.e2e
def test_template_command_in_a_fresh_process(tmp_path):
    env = {**os.environ, "NTM_HOME": str(ROOT)}
    good = subprocess.run([NTM, "template", "--commune", "02839", "--year", "2026", "--out",
                           str(tmp_path / "b.xlsx")], env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)
    assert good.returncode == 0, good.stderr
    assert "xã Bắc Hà (02839), tỉnh Lào Cai, năm 2026" in good.stdout
    bad = subprocess.run([NTM, "template", "--commune", "02881", "--year", "2026"], env=env,
                         capture_output=True, text=True, encoding="utf-8", timeout=120,
                         cwd=tmp_path)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "02839" in bad.stderr and list(tmp_path.iterdir()) == [tmp_path / "b.xlsx"]
