"""The commune registry, ``data/registry/communes.csv``: administrative units
with their codes, and how a user names a commune on the command line.

Codes are strings of digits with their leading zeros (province 2 digits,
district 3, commune 5: Nậm Mòn is ``"02881"``, district Bắc Hà ``"085"``,
Lào Cai ``"10"``), never numbers. Units abolished or merged on 01/7/2025
(Nghị quyết 1673/NQ-UBTVQH15) keep their row with ``valid_to`` and a
``successor_code``; units created then have no district.
"""
from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from pathlib import Path

from slugify import slugify

from ..errors import DataError, Problems, UnknownCommuneError
from ..paths import relative_to_root
from ..textnorm import nfc
from .tables import Column, cap_problems, data_path, read_table, records

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
        Name (NFC) and kind of unit: ``"xã"``, ``"phường"``, ``"thị trấn"``...
    district_code, district_name, district_type_vi:
        3-digit code, name and kind (``"huyện"``) of the district; all None
        for units created after districts were abolished (01/7/2025).
    province_code, province_name, province_type_vi:
        2-digit code, name and kind (``"tỉnh"``, ``"thành phố"``).
    valid_from, valid_to:
        First and last day of the unit (:class:`datetime.date`), None when
        open-ended or unknown.
    successor_code:
        Code of the unit it was merged into, or None.
    slug:
        ASCII name for folders and URLs: python-slugify of the NFC name
        (``"nam-mon"``; "Đồng Đăng" gives ``"dong-dang"``). When several
        units share a slug, later ones in file order get ``-2``, ``-3``...
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


def load_registry(data_dir: str | Path | None = None) -> list[Commune]:
    """Every unit of ``data/registry/communes.csv``, in file order.

    Checks, all reported at once: codes are strings of exactly 5 (commune,
    successor), 3 (district, may be empty) and 2 (province) digits, so a code
    whose leading zero a spreadsheet dropped ("2881") is an error; no commune
    code twice; district code, name and type all given or all empty;
    ``valid_from`` not after ``valid_to``; a successor is in the registry and
    is not the unit itself.

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
            successor == rec["commune_code"] or successor not in first_row
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
            successor_code=successor, slug=slug,
        ))
    cap_problems(problems)
    problems.raise_if_any()
    return communes


def _unique_slug(base: str, used: set[str]) -> str:
    base = base or "xa"
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    used.add(slug)
    return slug


def resolve_commune(key: str | int, data_dir: str | Path | None = None) -> Commune:
    """The commune that ``key`` names.

    Parameters
    ----------
    key:
        A 5-digit code (``"02881"``); a code that lost its leading zeros
        (``"2881"`` or the int 2881), accepted when exactly one registry
        code matches it once padded; a slug (``"nam-mon"``); or a name,
        which is slugified first ("Nậm Mòn"): a name shared by several units
        gives the first in file order, so use the code or the suffixed slug.

    Raises
    ------
    UnknownCommuneError
        Nothing matches; the message lists close codes or slugs and where the
        registry is.
    DataError
        The registry itself is invalid (see :func:`load_registry`).
    """
    communes = load_registry(data_dir)
    text = nfc(str(key)).strip()
    by_code = {c.code: c for c in communes}
    by_slug = {c.slug: c for c in communes}
    if text in by_code:
        return by_code[text]
    if text.isdigit() and len(text) < 5:
        matches = [c for c in communes if c.code == text.zfill(5)]
        if len(matches) == 1:
            return matches[0]
    for slug in (text, slugify(text)):
        if slug in by_slug:
            return by_slug[slug]
    registry = relative_to_root(data_path(data_dir, "registry", "communes.csv"))
    candidates = list(by_code) + list(by_slug)
    close = difflib.get_close_matches(text, candidates, n=5, cutoff=0.6)
    by_name = difflib.get_close_matches(slugify(text), list(by_slug), n=5)
    close += [s for s in by_name if s not in close]
    hint = f"did you mean {', '.join(close)}?" if close else "no close match; add it to this file"
    raise UnknownCommuneError(
        f"no commune {text!r} in the registry; {hint}",
        file=registry,
        expected="a 5-digit commune code or a slug of the registry",
        found=text,
    )
