"""The commune registry: every commune-level unit of the country, before and
after 01/7/2025, with their codes, and how a user names a commune.

Two sources, merged:

- the package ``vietnamadminunits`` (:mod:`~ntm_lib.load.admin_units`): the
  10,035 communes, wards and townships of the district-era map (in force until
  30/6/2025), the 3,321 units of the map in force from 01/7/2025 (Nghị quyết
  202/2025/QH15 on the provinces, one resolution of the Standing Committee of
  the National Assembly per province on its communes: Lào Cai's is Nghị quyết
  1673/NQ-UBTVQH15), and which old units each new one was formed from;
- the project's own ``data/registry/communes.csv``: corrections and additions
  over the package, each with its source. A row replaces the package's unit of
  the same code on the map(s) its validity dates fall in (``valid_to`` before
  01/7/2025: the old map; ``valid_from`` on or after it: the new map; neither:
  both), and adds its ``successor_code`` to the mapping.

Codes are strings of digits with their leading zeros (province 2 digits,
district 3, commune 5: Nậm Mòn is ``"02881"``, district Bắc Hà ``"085"``,
Lào Cai ``"10"``), never numbers. A code may name different units on the two
maps: ``"02839"`` is Thị trấn Bắc Hà until 30/6/2025 and Xã Bắc Hà (formed
from it and five communes) from 01/7/2025; so give the year
(:func:`resolve_commune` ``year=``). A report on year ``Y`` uses the map in
force on 31/12/``Y``: the old map up to 2024, the new one from 2025.

The package part is read once per process; the CSV is re-read (and logged as
an input of the run) on every look-up, and the merged registry rebuilt only
when its bytes change.
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
from dataclasses import dataclass, fields
from pathlib import Path

from slugify import slugify

from .. import limits
from ..errors import DataError, OptionError, Problems, UnknownCommuneError
from ..paths import relative_to_root
from ..safeio import leads_out_of_project, sha256_bytes
from ..textnorm import match_key, nfc
from .admin_units import PROVINCE_KINDS, UNIT_KINDS, AdminMaps, load_maps
from .inputs import record_input
from .tables import Column, cap_problems, data_path, read_table, records

#: First day of the new map, when the district level ended.
NEW_MAP_FROM = dt.date(2025, 7, 1)
_OLD_MAP_TO = NEW_MAP_FROM - dt.timedelta(days=1)
_DISTRICT_KINDS = ("Thành phố", "Thị xã", "Huyện", "Quận")

REGISTRY_COLUMNS = [
    Column("commune_code", "code", width=5),
    Column("commune_name", "str"),
    Column("commune_type", "str"),
    Column("district_code", "code", required=False, width=3),
    Column("district_name", "str", required=False),
    Column("district_type", "str", required=False),
    Column("province_code", "code", width=2),
    Column("province_name", "str"),
    Column("province_type", "str"),
    Column("valid_from", "date", required=False),
    Column("valid_to", "date", required=False),
    Column("successor_code", "code", required=False, width=5),
    Column("source", "str", required=False),
]
_DISTRICT = ("district_code", "district_name", "district_type")


@dataclass(frozen=True)
class Commune:
    """One commune-level unit of the registry.

    Attributes
    ----------
    code:
        5-digit commune code, a string (``"02881"``).
    name, type_vi:
        Name (NFC) and kind of unit: ``"xã"``, ``"phường"``, ``"thị trấn"``,
        ``"đặc khu"``.
    district_code, district_name, district_type_vi:
        3-digit code, name and kind (``"huyện"``, ``"quận"``, ``"thị xã"``,
        ``"thành phố"``) of the district; all None on the map in force from
        01/7/2025, which has no districts.
    province_code, province_name, province_type_vi:
        2-digit code, name and kind (``"tỉnh"``, ``"thành phố"``).
    valid_from, valid_to:
        First and last day of the unit (:class:`datetime.date`), None when
        open-ended or unknown: units of the old map end on 2025-06-30, those
        of the new map start on 2025-07-01.
    successor_code:
        Code of the new unit it went into whole, or None (still in force, or
        split across several: see :func:`successors`).
    slug:
        ASCII name for folders and URLs: python-slugify of the NFC name
        (``"nam-mon"``; "Đồng Đăng" gives ``"dong-dang"``). In
        ``communes.csv``, when several rows share a slug, later ones in file
        order get ``-2``, ``-3``... A unit of the package keeps the bare slug
        when no other unit of its map (in the package, or a row of
        ``communes.csv`` on that map) has it, else gets its code appended
        (``"tan-lap-19462"``): unique on each map, and the same for a unit
        whatever the other map holds.
    source:
        Where the row comes from: the CSV's ``source`` cell, or
        ``"vietnamadminunits 1.0.4"``.
    """

    code: str
    name: str
    type_vi: str
    district_code: str | None
    district_name: str | None
    district_type_vi: str | None
    province_code: str
    province_name: str
    province_type_vi: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    successor_code: str | None
    slug: str
    source: str | None = None

    def in_force_on(self, day: dt.date) -> bool:
        """True when the unit exists on ``day`` (open ends included)."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to)

    def describe(self) -> str:
        """``"02881 Xã Nậm Mòn, Huyện Bắc Hà (085), Tỉnh Lào Cai (10)"``: code,
        name, district (when it has one) and province, for messages."""
        district = (f", {self.district_type_vi.capitalize()} {self.district_name} "
                    f"({self.district_code})") if self.district_name else ""
        return (f"{self.code} {self.type_vi.capitalize()} {self.name}{district}, "
                f"{self.province_type_vi.capitalize()} {self.province_name} "
                f"({self.province_code})")


@dataclass(frozen=True)
class LinkedCommune(Commune):
    """A :class:`Commune` seen from the other side of 01/7/2025, by
    :func:`predecessors` or :func:`successors`.

    ``split`` is True when the old unit of the link was split across several
    new units (so only part of it went into this one, or this one received only
    part of it); ``main`` is True for the new unit the package names the
    default successor of a split unit (always True when not split)."""

    split: bool = False
    main: bool = True


def load_registry(data_dir: str | Path | None = None) -> list[Commune]:
    """Every row of the project's ``data/registry/communes.csv``, in file order
    (the package's units are not included: see :func:`national_registry`).

    Checks, all reported at once: codes are strings of exactly 5 (commune,
    successor), 3 (district, may be empty) and 2 (province) digits, so a code
    whose leading zero a spreadsheet dropped ("2881") is an error; no commune
    code twice; district code, name and type all given or all empty;
    ``valid_from`` not after ``valid_to``; a successor is another unit of the
    file or a unit of the new map, not the unit itself.

    Raises
    ------
    DataError, DataErrors
        Every problem, with file, row and column.
    """
    path = data_path(data_dir, "registry", "communes.csv")
    table = read_table(path, REGISTRY_COLUMNS)  # raises every cell problem of the file at once
    file = table.attrs["file"]
    problems = Problems()  # then the checks across rows

    def add(message: str, row: int, column: str, **kw: object) -> None:
        problems.add(DataError(message, file=file, row=row, column=column, **kw))

    rows = list(records(table))
    first_row: dict[str, int] = {}
    for row, rec in rows:
        code = rec["commune_code"]
        if code in first_row:
            add(f"commune code {code} is listed twice (rows {first_row[code]} and {row})",
                row, "commune_code", found=code)
        first_row.setdefault(code, row)
    communes: list[Commune] = []
    used: set[str] = set()
    for row, rec in rows:
        given = [c for c in _DISTRICT if rec[c] is not None]
        if given and len(given) < len(_DISTRICT):
            missing = next(c for c in _DISTRICT if rec[c] is None)
            add("district code, name and type go together: give all three or none",
                row, missing, expected=", ".join(_DISTRICT))
        if rec["valid_from"] and rec["valid_to"] and rec["valid_from"] > rec["valid_to"]:
            add("valid_from is after valid_to", row, "valid_to",
                expected=f"a date on or after {rec['valid_from']}", found=str(rec["valid_to"]))
        successor = rec["successor_code"]
        if successor is not None and (
            successor == rec["commune_code"]
            or (successor not in first_row and successor not in _new_map_codes())
        ):
            add(f"successor {successor} is not another commune of the registry", row,
                "successor_code", found=successor)
        slug = _unique_slug(slugify(nfc(rec["commune_name"])), used)
        communes.append(Commune(
            code=rec["commune_code"], name=rec["commune_name"], type_vi=rec["commune_type"],
            district_code=rec["district_code"], district_name=rec["district_name"],
            district_type_vi=rec["district_type"], province_code=rec["province_code"],
            province_name=rec["province_name"], province_type_vi=rec["province_type"],
            valid_from=rec["valid_from"], valid_to=rec["valid_to"],
            successor_code=successor, slug=slug, source=rec["source"],
        ))
    cap_problems(problems)
    problems.raise_if_any()
    return communes


def _new_map_codes() -> frozenset[str]:
    try:
        return _current_codes()
    except DataError:  # the package is missing: only the file's own codes count
        return frozenset()


@functools.lru_cache(maxsize=1)
def _current_codes() -> frozenset[str]:
    return frozenset(u.code for u in load_maps().current)


def _unique_slug(base: str, used: set[str]) -> str:
    base = base or "xa"
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    used.add(slug)
    return slug


# --------------------------------------------------------------------------- the merged registry


class Registry:
    """Every unit of both maps, the package's with the project's rows over
    them, and the mapping between the maps. Built by :func:`national_registry`;
    look-ups are dictionary reads (no file is read).

    Attributes
    ----------
    units:
        Every unit: the rows of ``communes.csv`` in file order, then the
        package's old map, then its new map (units a row replaces left out).
    old, new:
        Code -> unit on the map in force until 30/6/2025 and from 01/7/2025.
    file:
        ``data/registry/communes.csv`` (as messages name it).
    source:
        ``"vietnamadminunits 1.0.4"``.
    """

    def __init__(self, project: list[Commune], maps: AdminMaps, file: str) -> None:
        self.file = file
        self.source = maps.source
        self.project = tuple(project)
        self.island_districts = maps.islands
        old: dict[str, Commune] = {}
        new: dict[str, Commune] = {}
        for row in project:
            if row.valid_from is None or row.valid_from < NEW_MAP_FROM:
                old[row.code] = row
            if row.valid_to is None or row.valid_to >= NEW_MAP_FROM:
                new[row.code] = row
        taken = {id(old): {c.slug for c in old.values()}, id(new): {c.slug for c in new.values()}}
        whole = {link.old: link.new for link in maps.links if not link.split}
        package: list[Commune] = []
        base_of: dict[str, str] = {}  # name -> slugify(name): 7,661 names for 13,356 units

        def base(name: str) -> str:
            if name not in base_of:
                base_of[name] = slugify(name) or "xa"
            return base_of[name]

        for units, table, is_old in ((maps.legacy, old, True), (maps.current, new, False)):
            bases = [base(u.name) for u in units]
            count: dict[str, int] = {}
            for bare in bases:
                count[bare] = count.get(bare, 0) + 1
            for unit, bare in zip(units, bases):
                if unit.code in table:  # replaced by a row of communes.csv
                    continue
                slug = bare if count[bare] == 1 and bare not in taken[id(table)] \
                    else f"{bare}-{unit.code}"
                commune = Commune(
                    code=unit.code, name=unit.name, type_vi=unit.kind,
                    district_code=unit.district_code, district_name=unit.district_name,
                    district_type_vi=unit.district_kind, province_code=unit.province_code,
                    province_name=unit.province_name, province_type_vi=unit.province_kind,
                    valid_from=None if is_old else NEW_MAP_FROM,
                    valid_to=_OLD_MAP_TO if is_old else None,
                    successor_code=whole.get(unit.code) if is_old else None,
                    slug=slug, source=maps.source)
                table[unit.code] = commune
                package.append(commune)
        self.old, self.new = old, new
        self.units: tuple[Commune, ...] = self.project + tuple(package)
        links: dict[tuple[str, str], tuple[bool, bool]] = {
            (link.old, link.new): (link.split, link.main) for link in maps.links}
        for row in project:
            if row.successor_code is not None and row.code in old:
                links.setdefault((row.code, row.successor_code), (False, True))
        # code -> [(code on the other map, split, main)], made into units when asked
        self._pred: dict[str, list[tuple[str, bool, bool]]] = {}
        self._succ: dict[str, list[tuple[str, bool, bool]]] = {}
        for (old_code, new_code), (split, main) in sorted(links.items()):
            if old_code in old and new_code in new:
                self._pred.setdefault(new_code, []).append((old_code, split, main))
                self._succ.setdefault(old_code, []).append((new_code, split, main))
        self._by_code: dict[str, list[Commune]] = {}
        self._by_slug: dict[str, list[Commune]] = {}
        self._by_name: dict[str, list[Commune]] = {}
        self._by_base: dict[str, list[Commune]] = {}
        key_of: dict[str, str] = {}
        for unit in self.units:
            self._by_code.setdefault(unit.code, []).append(unit)
            self._by_slug.setdefault(unit.slug, []).append(unit)
            if unit.name not in key_of:
                key_of[unit.name] = match_key(unit.name)
            self._by_name.setdefault(key_of[unit.name], []).append(unit)
            self._by_base.setdefault(base(unit.name), []).append(unit)
        self._project_code = {c.code: c for c in project}
        self._project_slug = {c.slug: c for c in project}

    # ----------------------------------------------------------------- look-ups

    def resolve(self, key: str | int, *, year: int | None = None, on: dt.date | None = None,
                province: str | None = None, district: str | None = None) -> Commune:
        """The unit that ``key`` names; see :func:`resolve_commune`."""
        text = nfc(str(key)).strip()
        day = on if on is not None else (dt.date(int(year), 12, 31) if year is not None else None)
        if day is not None and day >= NEW_MAP_FROM and district:
            raise OptionError(
                f"there are no districts after 01/7/2025: name the commune {text!r} by its "
                f"province only (districts were abolished then; the report is for {_when(day)})",
                found=district)
        if day is None and province is None and district is None:
            found = self._project_key(text)  # the file's rows first, as before 2025 maps
            if found is not None:
                return found

        def when(unit: Commune) -> bool:
            return day is None or unit.in_force_on(day)

        def where(unit: Commune) -> bool:
            return ((province is None or _province_is(unit, province))
                    and (district is None or _district_is(unit, district)))

        def fits(unit: Commune) -> bool:
            return when(unit) and where(unit)

        code = text.zfill(5) if text.isdigit() and len(text) <= 5 else None
        if code is not None:
            every = self._by_code.get(code, [])
            in_force = [u for u in every if when(u)]
            matches = [u for u in in_force if where(u)]
            if len(matches) == 1:
                return matches[0]
            if matches:
                raise self._ambiguous(text, matches, day)
            if in_force:
                given = ", ".join(f"{name} {value!r}" for name, value in
                                  (("province", province), ("district", district)) if value)
                raise UnknownCommuneError(
                    f"commune {code} is {_listing(in_force)}: not in the {given} given",
                    file=self.file, expected=f"a commune of {given}", found=text)
            if every and day is not None:
                raise self._not_in_force(every, day, text)
            raise self._unknown(text, day)
        for slug in dict.fromkeys((text, slugify(text))):
            matches = [u for u in self._by_slug.get(slug, []) if fits(u)]
            if len(matches) == 1:
                return matches[0]
            if matches:
                raise self._ambiguous(text, matches, day)
        kind, name = _split_kind(text)
        for index, name_key in ((self._by_name, match_key(name)), (self._by_base, slugify(name))):
            every = [u for u in index.get(name_key, []) if kind is None or u.type_vi == kind]
            matches = [u for u in every if fits(u)]
            if len(matches) == 1:
                return matches[0]
            if matches:
                raise self._ambiguous(text, matches, day)
            if day is not None:
                others = [u for u in every if not u.in_force_on(day)
                          and (province is None or _province_is(u, province)
                               or any(_province_is(s, province) for s in self.successors(u)))]
                if others:
                    raise self._not_in_force(others, day, text)
        raise self._unknown(text, day)

    def predecessors(self, code: str | int) -> list[LinkedCommune]:
        """The units of the old map that the new-map unit ``code`` was formed
        from, by code; ``split`` marks one only partly merged into it.

        Raises
        ------
        UnknownCommuneError
            ``code`` is not a unit of the new map.
        """
        unit = self._on_map(code, self.new, "from 01/7/2025")
        return self._linked(self._pred.get(unit.code, []), self.old)

    def successors(self, code: str | int) -> list[LinkedCommune]:
        """The units of the new map that the old-map unit ``code`` went into
        (one, or several when it was split; ``main`` marks the package's
        default one).

        Raises
        ------
        UnknownCommuneError
            ``code`` is not a unit of the old map.
        """
        unit = self._on_map(code, self.old, "until 30/6/2025")
        return self._linked(self._succ.get(unit.code, []), self.new)

    def in_force(self, year: int | None = None, *, on: dt.date | None = None) -> list[Commune]:
        """Every unit of the map in force on ``on`` (default 31/12/``year``)."""
        day = on if on is not None else dt.date(int(year), 12, 31)  # type: ignore[arg-type]
        return [u for u in self.units if u.in_force_on(day)]

    # ----------------------------------------------------------------- helpers

    def _project_key(self, text: str) -> Commune | None:
        if text in self._project_code:
            return self._project_code[text]
        if text.isdigit() and len(text) < 5 and text.zfill(5) in self._project_code:
            return self._project_code[text.zfill(5)]
        for slug in (text, slugify(text)):
            if slug in self._project_slug:
                return self._project_slug[slug]
        return None

    @staticmethod
    def _linked(links: list[tuple[str, bool, bool]], table: dict[str, Commune]
                ) -> list[LinkedCommune]:
        return [LinkedCommune(*[getattr(table[code], name) for name in _FIELDS], split, main)
                for code, split, main in links]

    def _on_map(self, code: str | int, table: dict[str, Commune], when: str) -> Commune:
        text = nfc(str(code)).strip()
        text = text.zfill(5) if text.isdigit() and len(text) <= 5 else text
        if text not in table:
            raise UnknownCommuneError(f"no commune {text!r} on the map in force {when}",
                                      file=self.file, expected="a 5-digit commune code",
                                      found=text)
        return table[text]

    def _ambiguous(self, text: str, matches: list[Commune], day: dt.date | None
                   ) -> UnknownCommuneError:
        if day is None:
            when = ""
            hint = "give the year (--year: the maps before and after 01/7/2025 differ) or the province"
        elif day >= NEW_MAP_FROM:
            when, hint = f" in {_when(day)}", "give the code, or the province (--province)"
        else:
            when = f" in {_when(day)}"
            hint = "give the code, or the province and district (--province, --district)"
        return UnknownCommuneError(
            f"{text!r} names {len(matches)} communes{when}: {_listing(matches)}; {hint}",
            file=self.file, expected="one commune", found=text)

    def _not_in_force(self, units: list[Commune], day: dt.date, text: str
                      ) -> UnknownCommuneError:
        parts = []
        for unit in units[:8]:
            if unit.valid_to is not None and day > unit.valid_to:
                after = self.successors(unit.code) if self.old.get(unit.code) is unit else []
                went = (f"went into {_listing(after)}" if after else "has no successor listed")
                parts.append(f"{unit.describe()} ended on {unit.valid_to:%d/%m/%Y} and {went}")
            else:
                before = self.predecessors(unit.code) if self.new.get(unit.code) is unit else []
                came = f", formed from {_listing(before)}" if before else ""
                start = f"{unit.valid_from:%d/%m/%Y}" if unit.valid_from else "?"
                parts.append(f"{unit.describe()} exists only from {start}{came}")
        return UnknownCommuneError(
            f"no commune {text!r} in {_when(day)}: " + "; ".join(parts),
            file=self.file, expected=f"a commune in force in {_when(day)}", found=text)

    def _unknown(self, text: str, day: dt.date | None) -> UnknownCommuneError:
        pool = self.units if day is None else [u for u in self.units if u.in_force_on(day)]
        codes = [u.code for u in pool]
        close = difflib.get_close_matches(text, codes, n=5, cutoff=0.8) if text.isdigit() else []
        if not close:
            slugs = {u.slug: u for u in pool}
            close = difflib.get_close_matches(slugify(text) or text, list(slugs), n=5, cutoff=0.75)
            close = [f"{s} ({slugs[s].describe()})" if s not in self._project_slug else s
                     for s in close]
        when = f" in {_when(day)}" if day is not None else ""
        hint = f"did you mean {', '.join(close)}?" if close else "no close match; add it to this file"
        return UnknownCommuneError(
            f"no commune {text!r} in the registry{when}; {hint}", file=self.file,
            expected="a 5-digit commune code, a slug, or a name with its province", found=text)


_FIELDS = tuple(f.name for f in fields(Commune))


def _when(day: dt.date) -> str:
    return str(day.year) if (day.month, day.day) == (12, 31) else f"{day:%d/%m/%Y}"


def _listing(units: list[Commune], most: int = 8) -> str:
    shown = "; ".join(u.describe() for u in units[:most])
    return shown + (f"; and {len(units) - most} more" if len(units) > most else "")


def _split_kind(text: str) -> tuple[str | None, str]:
    """("Xã Nậm Mòn") -> ("xã", "Nậm Mòn"); a bare name has no kind."""
    low = text.casefold()
    for kind in UNIT_KINDS:
        if low.startswith(kind.casefold() + " "):
            return kind.lower(), text[len(kind) + 1:].strip()
    return None, text


def _strip(text: str, kinds: tuple[str, ...]) -> str:
    low = nfc(text).strip().casefold()
    for kind in kinds:
        if low.startswith(kind.casefold() + " "):
            return text.strip()[len(kind) + 1:]
    return text


def _province_is(unit: Commune, province: str) -> bool:
    text = nfc(str(province)).strip()
    if text.isdigit():
        return unit.province_code == text.zfill(2)
    return slugify(_strip(text, PROVINCE_KINDS + ("TP.", "TP"))) == slugify(unit.province_name)


def _district_is(unit: Commune, district: str) -> bool:
    text = nfc(str(district)).strip()
    if unit.district_code is None:
        return False
    if text.isdigit():
        return unit.district_code == text.zfill(3)
    return slugify(_strip(text, _DISTRICT_KINDS)) == slugify(unit.district_name or "")


_CACHE: dict[tuple[str, str], tuple[Registry, int]] = {}


def national_registry(data_dir: str | Path | None = None) -> Registry:
    """The whole country's registry, with ``data_dir``'s ``communes.csv`` over
    the package's units.

    Built once per process for each content of ``communes.csv``: each call
    reads the file's bytes (logging it as an input of the run, as any table
    read is) and rebuilds only when they changed (about 0.2 s; then a call
    costs a file read).

    Raises
    ------
    DataError
        ``communes.csv`` is invalid (see :func:`load_registry`), or the package
        is missing or its data malformed (see :func:`~ntm_lib.load.admin_units.load_maps`).
    """
    path = data_path(data_dir, "registry", "communes.csv")
    data = _plain_bytes(path)
    if data is not None:
        key = (str(path.resolve()), sha256_bytes(data))
        if key in _CACHE:
            registry, rows = _CACHE[key]
            record_input(registry.file, data, rows)
            return registry
    project = load_registry(data_dir)
    registry = Registry(project, load_maps(), relative_to_root(path))
    if data is not None:
        if len(_CACHE) >= 4:
            _CACHE.clear()
        _CACHE[(str(path.resolve()), sha256_bytes(data))] = (registry, len(project))
    return registry


def _plain_bytes(path: Path) -> bytes | None:
    """The bytes of a regular, small file; None (read it the checked way) otherwise."""
    try:
        if not path.is_file() or path.is_symlink() or leads_out_of_project(path) \
                or path.stat().st_size > limits.CSV_FILE_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def resolve_commune(key: str | int, data_dir: str | Path | None = None, *,
                    year: int | None = None, on: dt.date | None = None,
                    province: str | None = None, district: str | None = None) -> Commune:
    """The commune that ``key`` names.

    Parameters
    ----------
    key:
        A 5-digit code (``"02881"``); a code that lost its leading zeros
        (``"2881"`` or the int 2881); a slug (``"nam-mon"``); or a name
        ("Nậm Mòn", "Xã Nậm Mòn", "Nam Mon"), with ``province`` (and before
        01/7/2025 ``district``) when several units share it.
    year:
        The year reported on: only units in force on 31/12/``year`` are valid
        (the old map up to 2024, the new one from 2025). ``on`` gives the day
        instead. Without either, the rows of ``communes.csv`` are tried first
        (a name shared by several of them gives the first in file order), then
        both maps of the package.
    province, district:
        Code (``"15"``, ``"085"``) or name, with or without its kind ("Tỉnh
        Lào Cai", "Lào Cai", "lao-cai"), narrowing the match.

    Raises
    ------
    UnknownCommuneError (exit code 2)
        Nothing matches (close codes or slugs are suggested); several units
        match (each named: code, name, district, province); or the unit does not
        exist in ``year`` (abolished on 01/7/2025: its successors are named; or
        created then: its predecessors are named). One line.
    OptionError (exit code 2)
        ``district`` given for a year after 01/7/2025.
    DataError
        The registry itself is invalid (see :func:`load_registry`).
    """
    quick = _project_unit(key, data_dir, year, on, province, district)
    if quick is not None:
        return quick
    return national_registry(data_dir).resolve(key, year=year, on=on, province=province,
                                               district=district)


def _project_unit(key, data_dir, year, on, province, district) -> Commune | None:
    """The row of ``communes.csv`` that ``key`` names by code or slug, when
    exactly one row does and it is in force on the day asked (31/12 of
    ``year``): the project's rows stand over the package's units anyway, and
    a report of a commune of the project then never pays for building the
    whole country's registry (about 0.3 s a process). None otherwise: the
    national registry decides (and explains)."""
    if province or district:
        return None
    text = str(key).strip()
    code = text.zfill(5) if text.isdigit() and len(text) <= 5 else None
    index = _project_index(data_dir)
    if index is None:
        return None
    rows = index.get(code, []) if code else index.get(text, [])
    if len(rows) != 1:
        return None
    day = on or (dt.date(int(year), 12, 31) if year is not None else None)
    if day is not None and not rows[0].in_force_on(day):
        return None
    return rows[0]


_INDEX: dict[tuple[str, str], tuple[dict[str, list[Commune]], str, int]] = {}


def _project_index(data_dir) -> dict[str, list[Commune]] | None:
    """``communes.csv``'s rows by code and by slug, built once per content
    of the file (a country-size batch looks a commune up per report); each
    call still logs the file as an input read. None when it cannot be read
    the quick way (the checked way then reports why)."""
    path = data_path(data_dir, "registry", "communes.csv")
    data = _plain_bytes(path)
    if data is None:
        return None
    key = (str(path.resolve()), sha256_bytes(data))
    if key not in _INDEX:
        rows = load_registry(data_dir)
        index: dict[str, list[Commune]] = {}
        for c in rows:
            index.setdefault(c.code, []).append(c)
            if c.slug != c.code:
                index.setdefault(c.slug, []).append(c)
        _INDEX.clear()
        _INDEX[key] = (index, relative_to_root(path), len(rows))
        return index
    index, shown, count = _INDEX[key]
    record_input(shown, data, count)
    return index


def predecessors(code: str | int, data_dir: str | Path | None = None) -> list[LinkedCommune]:
    """The old-map units that new-map unit ``code`` was formed from on 01/7/2025
    (by code; ``split`` True for an old unit only partly merged into it).
    Xã Bắc Hà (02839) gives Thị trấn Bắc Hà and Xã Thải Giàng Phố, Hoàng Thu
    Phố, Bản Phố, Na Hối and Nậm Mòn. Empty for the 5 đặc khu that were
    island districts without communes (``Registry.island_districts``).

    Raises
    ------
    UnknownCommuneError
        ``code`` is not a unit of the new map.
    """
    return national_registry(data_dir).predecessors(code)


def successors(code: str | int, data_dir: str | Path | None = None) -> list[LinkedCommune]:
    """The new-map units that old-map unit ``code`` went into on 01/7/2025
    (several when it was split; ``main`` marks the package's default one).

    Raises
    ------
    UnknownCommuneError
        ``code`` is not a unit of the old map.
    """
    return national_registry(data_dir).successors(code)
