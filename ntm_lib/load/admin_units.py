"""Adapter to the ``vietnamadminunits`` package: the country's commune-level
units before and after 01/7/2025, and the mapping from the old units to the new.

Source: vietnamadminunits 1.0.4 (MIT, by Tran Ngoc Minh Hieu), which ships its
data offline: ``data/dataset.db`` (SQLite; table ``admin_units_legacy``, the
63-province map with districts: 10,040 rows, of which 10,035 communes, wards
and townships and 5 island districts without commune level; table
``admin_units``, the 34-province map in force from 01/7/2025, Nghị quyết
202/2025/QH15 and one resolution of the National Assembly's Standing Committee
per province: 3,321 units) and
``data/converter_2025.json`` (which old units each new unit was formed from;
an old unit split across several new ones is listed with each, one marked as
its default). Only these data files are read (with :mod:`sqlite3` and
:mod:`json`); the package's own Python code, which imports shapely and geopy,
is never imported, so nothing here costs more than reading ~2 MB.

Everything is read once per process (:func:`load_maps` is cached).

Where the package disagrees with itself the full official name wins: 4 units
of the new map (Phường Việt Hòa and Xã Vĩnh Hòa in Hải Phòng, Phường Tân Lộc
and Xã Phong Điền in Cần Thơ) have a ``wardType`` that contradicts their
``ward`` name; the kind is taken from the name ("Phường Việt Hòa" is a
phường). Legacy short names that carry a disambiguation ("Yên Viên (Thị
trấn)") are taken from the full name too ("Yên Viên").
"""
from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..textnorm import nfc

PACKAGE = "vietnamadminunits"
#: Kinds of commune-level unit, longest first so "Thị trấn" is tried before "Xã".
UNIT_KINDS = ("Thị trấn", "Đặc khu", "Phường", "Xã")
#: Kinds of province-level unit.
PROVINCE_KINDS = ("Thành phố", "Tỉnh")


@dataclass(frozen=True)
class Unit:
    """One commune-level unit as the package gives it (names NFC).

    ``kind`` is lower case ("xã", "phường", "thị trấn", "đặc khu"); the
    district fields are None on the new map."""

    code: str
    name: str
    kind: str
    district_code: str | None
    district_name: str | None
    district_kind: str | None
    province_code: str
    province_name: str
    province_kind: str


@dataclass(frozen=True)
class Link:
    """Old unit ``old`` (legacy code) went wholly (``split`` False) or in part
    (``split`` True) into new unit ``new`` (new-map code). ``main`` marks, for
    a split unit, the new unit the package names its default successor
    (always True for a unit that was not split)."""

    old: str
    new: str
    split: bool
    main: bool


@dataclass(frozen=True)
class IslandDistrict:
    """A district of the old map that had no commune level (Bạch Long Vĩ, Cồn
    Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo), and the new unit (a đặc khu) it became."""

    district_code: str
    district_name: str
    province_code: str
    province_name: str
    new: str


@dataclass(frozen=True)
class AdminMaps:
    """Both maps and the mapping. ``legacy`` and ``current`` are in the
    package's row order; ``legacy_rows`` counts every row of the old table
    (communes plus island districts)."""

    version: str
    legacy: tuple[Unit, ...]
    current: tuple[Unit, ...]
    links: tuple[Link, ...]
    islands: tuple[IslandDistrict, ...]
    legacy_rows: int

    @property
    def source(self) -> str:
        """``"vietnamadminunits 1.0.4"``: what a unit's ``source`` says."""
        return f"{PACKAGE} {self.version}"


def package_dir() -> Path:
    """The installed package's folder, found without importing it.

    Raises
    ------
    DataError
        The package is not installed (it is a dependency in pyproject.toml).
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"the Python package {PACKAGE} is not installed; it holds the country's "
                        "communes (pip install -e . installs it)")
    return Path(next(iter(spec.submodule_search_locations)))


def _split_name(full: str, kinds: tuple[str, ...], what: str) -> tuple[str, str]:
    """("Xã Nậm Mòn") -> ("xã", "Nậm Mòn"); the kind in any case ("Thị Trấn Ái Tử")."""
    low = full.casefold()
    for kind in kinds:
        if low.startswith(kind.casefold() + " "):
            return kind.lower(), full[len(kind) + 1:].strip()
    raise DataError(f"{PACKAGE}: {what} {full!r} does not start with one of {', '.join(kinds)}")


@functools.lru_cache(maxsize=1)
def load_maps() -> AdminMaps:
    """Read the package's data once per process.

    Returns
    -------
    AdminMaps
        For vietnamadminunits 1.0.4: 10,035 legacy units (with district),
        3,321 current units, 10,597 links between them (9,564 old units
        went whole into one new unit, 471 were split: 1,033 links) and the 5
        island districts, each now a đặc khu.

    Raises
    ------
    DataError
        The package is missing, or its data do not have the expected shape
        (an old or new key of the mapping that no unit has, a name without
        its kind).
    """
    folder = package_dir() / "data"
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - installed without metadata
        version = "unknown"
    uri = (folder / "dataset.db").resolve().as_uri() + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        legacy_rows = conn.execute(
            "SELECT provinceCode, province, provinceKey, districtCode, districtShort, districtType,"
            " districtKey, wardCode, ward, wardKey FROM admin_units_legacy ORDER BY rowid"
        ).fetchall()
        current_rows = conn.execute(
            "SELECT provinceCode, province, provinceKey, wardCode, ward, wardKey"
            " FROM admin_units ORDER BY rowid"
        ).fetchall()
    mapping = json.loads((folder / "converter_2025.json").read_text(encoding="utf-8"))

    legacy: list[Unit] = []
    islands_by_key: dict[str, tuple[str, str, str, str]] = {}
    old_by_key: dict[str, str] = {}
    for (p_code, p_full, p_key, d_code, d_short, d_type, d_key, w_code, w_full,
         w_key) in legacy_rows:
        p_kind, p_name = _split_name(nfc(p_full), PROVINCE_KINDS, "province")
        key = f"{p_key}_{d_key}_{w_key or ''}"
        if w_code is None:
            islands_by_key[key] = (d_code, nfc(d_short), p_code, p_name)
            continue
        kind, name = _split_name(nfc(w_full), UNIT_KINDS, "unit")
        old_by_key[key] = w_code
        legacy.append(Unit(w_code, name, kind, d_code, nfc(d_short), nfc(d_type).lower(), p_code,
                           p_name, p_kind))
    current: list[Unit] = []
    new_by_key: dict[tuple[str, str], str] = {}
    for p_code, p_full, p_key, w_code, w_full, w_key in current_rows:
        p_kind, p_name = _split_name(nfc(p_full), PROVINCE_KINDS, "province")
        kind, name = _split_name(nfc(w_full), UNIT_KINDS, "unit")
        new_by_key[(p_key, w_key)] = w_code
        current.append(Unit(w_code, name, kind, None, None, None, p_code, p_name, p_kind))

    links: list[Link] = []
    islands: list[IslandDistrict] = []

    def link(old_key: str, province: str, ward: str, split: bool, main: bool) -> None:
        new = new_by_key.get((province, ward))
        if new is None:
            raise DataError(f"{PACKAGE}: the mapping names a new unit {province}/{ward} that the "
                            "new map does not have")
        if old_key in islands_by_key:
            d_code, d_name, p_code, p_name = islands_by_key[old_key]
            islands.append(IslandDistrict(d_code, d_name, p_code, p_name, new))
            return
        old = old_by_key.get(old_key)
        if old is None:
            raise DataError(f"{PACKAGE}: the mapping names an old unit {old_key} that the old "
                            "map does not have")
        links.append(Link(old, new, split, main))

    for province, wards in mapping["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward, olds in wards.items():
            for old_key in olds:
                link(old_key, province, ward, False, True)
    for province, olds in mapping["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, news in olds.items():
            for new in news:
                link(old_key, province, new["newWardKey"], True, bool(new["isDefaultNewWard"]))
    return AdminMaps(version, tuple(legacy), tuple(current), tuple(links), tuple(islands),
                     len(legacy_rows))
