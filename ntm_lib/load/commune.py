"""The facts of one commune for one year, from ``data/communes/<code>/``.

The folder holds six tables, every one required (a table may have a header
and no rows). Each row carries its ``year``; a loader call keeps all years of
the criteria statuses (for the previous-year comparison) and the requested
year of everything else. Values are as stated in the source documents: sums
and rates are computed downstream (``ntm_lib.calc``), not here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from ..errors import DataError, DataErrors, Problems
from ..paths import relative_to_root
from .criteria import CriteriaSet, load_criteria_sets
from .periods import days, in_force
from .reference import STATUSES
from .registry import Commune, resolve_commune
from .tables import Column, cap_problems, data_path, read_table, records

_SOURCE = Column("source", "str", required=False)
_COUNTS = [
    Column("documents_issued", "int"),
    Column("visits", "int"),
    Column("support_million_vnd", "number"),
    Column("criteria_met", "int"),
    Column("criteria_registered", "int"),
]
#: file name -> (columns, what the table holds)
TABLES: dict[str, tuple[list[Column], str]] = {
    "criteria_status.csv": (
        [Column("set_id", "str"), Column("year", "int"), Column("as_of", "date", required=False),
         Column("criterion", "int"), Column("status", "enum", values=STATUSES), _SOURCE],
        "the status (met / not_met) of each criterion, by criteria set and year",
    ),
    "quarterly.csv": (
        [Column("year", "int"), Column("quarter", "int"), *_COUNTS, _SOURCE],
        "the figures of each quarter: documents issued, visits, support (million VND), "
        "criteria met / registered",
    ),
    "year_stated.csv": (
        [Column("year", "int"), *_COUNTS, _SOURCE],
        "the year totals as the source report states them",
    ),
    "poverty.csv": (
        [Column("year", "int"), Column("poverty_standard", "str"),
         Column("rate_start_percent", "number", required=False),
         Column("rate_end_percent", "number", required=False),
         Column("reduction_points", "number", required=False),
         Column("plan_reduction_points", "number", required=False),
         Column("stated_percent_of_plan", "number", required=False), _SOURCE],
        "the multidimensional poverty rate of each year and its reduction against plan",
    ),
    "documents.csv": (
        [Column("year", "int"), Column("number", "str"), Column("kind_vi", "str"),
         Column("issued_on", "date"), Column("title_vi", "str"), _SOURCE],
        "the documents issued for the commune (number, kind, date, title)",
    ),
    "support.csv": (
        [Column("year", "int"), Column("kind", "str"), Column("description_vi", "str"),
         Column("recipient_count", "int", required=False),
         Column("recipient_unit_vi", "str", required=False),
         Column("amount_million_vnd", "number", required=False), _SOURCE],
        "the material support given (what, to whom, amount in million VND)",
    ),
}


@dataclass(frozen=True)
class CommuneFacts:
    """What the data says about one commune in one year.

    Every DataFrame has index 0..n-1 and ``attrs["file"]`` (the table's path)
    and ``attrs["rows"]`` (spreadsheet row of each row), for messages that
    point back to the data. Text columns hold ``str`` or None.

    Attributes
    ----------
    commune:
        The registry entry.
    year:
        The report year.
    criteria_status:
        All years, in file order: ``set_id`` (str), ``year`` (int64),
        ``as_of`` (datetime.date or None), ``criterion`` (int64, a number of
        the set), ``status`` (``"met"`` or ``"not_met"``), ``source``. A
        (set_id, year) may list only some criteria (partial assessment).
    quarterly:
        The year's rows sorted by quarter: ``year``, ``quarter`` (1..4),
        ``documents_issued``, ``visits`` (int64), ``support_million_vnd``
        (float64, million VND), ``criteria_met``, ``criteria_registered``
        (int64), ``source``.
    year_stated:
        The year totals as stated (same keys as a quarterly row, without
        ``quarter``), or None when the year has no row.
    poverty:
        ``year``, ``poverty_standard`` (the decree of the standard),
        ``rate_start_percent``, ``rate_end_percent`` (percent of households),
        ``reduction_points``, ``plan_reduction_points`` (percentage points),
        ``stated_percent_of_plan`` (percent of the plan), ``source``; empty
        cells are None. None when the year has no row.
    documents:
        The year's rows in file order: ``year``, ``number``, ``kind_vi``,
        ``issued_on`` (datetime.date, within the year), ``title_vi``, ``source``.
    support:
        The year's rows in file order: ``year``, ``kind``, ``description_vi``,
        ``recipient_count`` (Int64, may be NA), ``recipient_unit_vi``,
        ``amount_million_vnd`` (float64, million VND, may be NaN), ``source``.
    """

    commune: Commune
    year: int
    criteria_status: pd.DataFrame = field(compare=False, repr=False)
    quarterly: pd.DataFrame = field(compare=False, repr=False)
    year_stated: dict[str, Any] | None = field(compare=False)
    poverty: dict[str, Any] | None = field(compare=False)
    documents: pd.DataFrame = field(compare=False, repr=False)
    support: pd.DataFrame = field(compare=False, repr=False)


def load_commune_facts(
    commune_key: str | int,
    year: int,
    data_dir: str | Path | None = None,
    criteria_sets: Mapping[str, CriteriaSet] | Iterable[CriteriaSet] | None = None,
) -> CommuneFacts:
    """Read and check the tables of ``data/communes/<code>/`` for ``year``.

    Parameters
    ----------
    commune_key:
        Code, code without leading zeros, or slug (see
        :func:`~ntm_lib.load.registry.resolve_commune`).
    year:
        The report year.
    data_dir:
        The ``data/`` folder; the project's when None.
    criteria_sets:
        Criteria sets already loaded (by set_id, or an iterable of sets);
        sets not given are read from ``data/reference/``.

    Raises
    ------
    UnknownCommuneError
        ``commune_key`` is not in the registry.
    DataError, DataErrors
        The folder or a table is missing (the message says what the table
        holds), a cell is bad, or a cross-check fails, all reported at once:
        a criteria set unknown or a criterion outside its set; a
        (set_id, year, criterion) listed twice; a quarter outside 1..4 or
        repeated; criteria met above criteria registered; a negative amount;
        a year stated twice; a poverty rate outside 0..100; a document
        listed twice or issued outside its row's year. Finally, when no
        table has a row for ``year``: "no data for <year>".
    """
    if isinstance(year, bool) or not isinstance(year, int):
        raise TypeError(f"year must be an int, not {year!r}")
    commune = resolve_commune(commune_key, data_dir, year=int(year))
    folder = data_path(data_dir, "communes", commune.code)
    folder_rel = relative_to_root(folder) + "/"
    if not folder.is_dir():
        raise DataError(
            f"no data folder for commune {commune.code}, {commune.name}",
            file=folder_rel, expected="a folder holding " + ", ".join(TABLES),
        )
    problems = Problems()
    tables: dict[str, pd.DataFrame | None] = {}
    for name, (columns, holds) in TABLES.items():
        path = folder / name
        if not path.exists() and not path.is_symlink():  # a folder or device: read_table says
            problems.add(DataError(
                f"missing table: it holds {holds}", file=relative_to_root(path),
                expected="a CSV file with the header " + ",".join(c.name for c in columns),
            ))
            tables[name] = None
            continue
        tables[name] = read_table(path, columns, problems=problems)
    _check_status(tables["criteria_status.csv"], criteria_sets, data_dir, problems)
    _check_tables(tables, problems)
    order = {relative_to_root(folder / name): i for i, name in enumerate(TABLES)}
    problems.items.sort(key=lambda e: (order.get(e.file or "", -1), e.row or 0))
    cap_problems(problems)
    problems.raise_if_any()

    frames = {name: t for name, t in tables.items() if t is not None}
    if not any((frame["year"] == year).any() for frame in frames.values()):
        years = sorted({int(y) for frame in frames.values() for y in frame["year"]})
        raise DataError(
            f"no data for {year} (years with data: {', '.join(map(str, years)) or 'none'})",
            file=folder_rel,
        )
    check_poverty_standards(frames["poverty.csv"], data_dir)
    return CommuneFacts(
        commune=commune,
        year=year,
        criteria_status=frames["criteria_status.csv"],
        quarterly=_of_year(frames["quarterly.csv"], year, sort="quarter"),
        year_stated=_row_of_year(frames["year_stated.csv"], year),
        poverty=_row_of_year(frames["poverty.csv"], year),
        documents=_of_year(frames["documents.csv"], year),
        support=_of_year(frames["support.csv"], year),
    )


def _of_year(frame: pd.DataFrame, year: int, sort: str | None = None) -> pd.DataFrame:
    """The rows of ``year``, index reset, ``attrs["rows"]`` kept in step."""
    picked = frame.assign(_row=frame.attrs["rows"])[frame["year"] == year]
    if sort:
        picked = picked.sort_values(sort, kind="stable")
    result = picked.drop(columns="_row").reset_index(drop=True)
    result.attrs = {"file": frame.attrs["file"], "rows": [int(r) for r in picked["_row"]]}
    return result


def _row_of_year(frame: pd.DataFrame, year: int) -> dict[str, Any] | None:
    rows = [rec for _, rec in records(frame) if rec["year"] == year]
    return rows[0] if rows else None


def _check_status(
    table: pd.DataFrame | None,
    given: Mapping[str, CriteriaSet] | Iterable[CriteriaSet] | None,
    data_dir: str | Path | None,
    problems: Problems,
) -> None:
    if table is None:
        return
    file = table.attrs["file"]
    sets: dict[str, CriteriaSet] = dict(given) if isinstance(given, Mapping) else {
        s.set_id: s for s in (given or ())
    }
    seen_ids = {s for s in table["set_id"] if s is not None}
    if seen_ids - set(sets):
        try:
            sets = {**load_criteria_sets(data_dir), **sets}
        except DataError as error:
            problems.items.extend(error.errors if isinstance(error, DataErrors) else [error])
            return
    first: dict[tuple[str, int, int], int] = {}
    for row, rec in records(table):
        set_id, year, number = rec["set_id"], rec["year"], rec["criterion"]
        if set_id is None:
            continue
        if set_id not in sets:
            problems.add(DataError(
                f"unknown criteria set {set_id!r}", file=file, row=row, column="set_id",
                expected="one of " + ", ".join(sets), found=set_id,
            ))
            continue
        if number is None:
            continue
        criteria_set = sets[set_id]
        if number not in criteria_set.numbers:
            problems.add(DataError(
                f"criterion {number} is not in the set {set_id} ({criteria_set.size} criteria)",
                file=file, row=row, column="criterion",
                expected=f"a number from 1 to {criteria_set.size}", found=number,
            ))
        if year is None:
            continue
        if not in_force(criteria_set, dt.date(year, 1, 1), dt.date(year, 12, 31)):
            problems.add(DataError(
                f"criteria set {set_id} ({criteria_set.legal_source}) is {days(criteria_set)}, "
                f"not in {year}", file=file, row=row, column="set_id", found=set_id))
            continue
        as_of = rec.get("as_of")
        key = (set_id, year, as_of, number)
        if key in first:
            when = f" on {as_of:%d/%m/%Y}" if as_of else ""
            problems.add(DataError(
                f"criterion {number} of set {set_id} in {year}{when} is listed twice "
                f"(rows {first[key]} and {row})",
                file=file, row=row, column="criterion", found=number,
            ))
        first.setdefault(key, row)


#: file name -> the columns that identify a row (a repeat is an error)
_UNIQUE = {
    "quarterly.csv": ("year", "quarter"),
    "year_stated.csv": ("year",),
    "poverty.csv": ("year",),
    "documents.csv": ("year", "number"),
}


def _check_tables(tables: Mapping[str, pd.DataFrame | None], problems: Problems) -> None:
    """Row checks of every table but criteria_status."""
    for name, table in tables.items():
        if table is None or name == "criteria_status.csv":
            continue
        file = table.attrs["file"]

        def add(message: str, row: int, column: str, **kw: Any) -> None:
            problems.add(DataError(message, file=file, row=row, column=column, **kw))

        unique = _UNIQUE.get(name, ())
        first: dict[tuple[Any, ...], int] = {}
        for row, rec in records(table):
            key = tuple(rec[c] for c in unique)
            if unique and None not in key:
                if key in first:
                    column = unique[-1]
                    what = f"{column} {rec[column]}"
                    what += f" of {rec['year']}" if len(key) > 1 else ""
                    add(f"{what} is listed twice (rows {first[key]} and {row})", row, column,
                        found=rec[column])
                first.setdefault(key, row)
            _check_row(rec, row, add)


def _check_row(rec: dict[str, Any], row: int, add: Any) -> None:
    quarter = rec.get("quarter")
    if quarter is not None and not 1 <= quarter <= 4:
        add("a quarter is 1, 2, 3 or 4", row, "quarter", expected="1 to 4", found=quarter)
    met, registered = rec.get("criteria_met"), rec.get("criteria_registered")
    if met is not None and registered is not None and met > registered:
        add("more criteria met than registered", row, "criteria_met",
            expected=f"at most criteria_registered = {registered}", found=met)
    for column in ("support_million_vnd", "amount_million_vnd"):
        if rec.get(column) is not None and rec[column] < 0:
            add("an amount cannot be negative", row, column, expected="a number >= 0",
                found=rec[column])
    for column in ("rate_start_percent", "rate_end_percent"):
        if rec.get(column) is not None and not 0 <= rec[column] <= 100:
            add("a rate is a percentage from 0 to 100", row, column, expected="0 to 100",
                found=rec[column])
    issued = rec.get("issued_on")
    if issued is not None and rec["year"] is not None and issued.year != rec["year"]:
        add(f"issued in {issued.year}, outside the year {rec['year']} of this row", row,
            "issued_on", expected=f"a date in {rec['year']}", found=issued.isoformat())


def check_poverty_standards(poverty: pd.DataFrame, data_dir=None) -> None:
    """Each row of ``poverty.csv`` must name a standard of ``poverty_standards.csv``
    that governs its year (Decree 07/2021/NĐ-CP through 2026, Decree
    351/2025/NĐ-CP from 2027): rates on a standard out of force are not
    comparable. Raises :class:`DataError` with file, row and column."""
    import datetime as dt

    from .periods import days, in_force, load_poverty_standards

    standards = load_poverty_standards(data_dir)
    file, rows = poverty.attrs.get("file"), poverty.attrs.get("rows") or []
    for i, (name, year) in enumerate(zip(poverty["poverty_standard"], poverty["year"])):
        if name is None or name != name:
            continue
        row = rows[i] if i < len(rows) else None
        standard = standards.get(name)
        if standard is None:
            raise DataError(f"unknown poverty standard {name!r}", file=file, row=row,
                            column="poverty_standard",
                            expected="a legal_source of data/reference/poverty_standards.csv: "
                                     + ", ".join(standards))
        if not in_force(standard, dt.date(int(year), 1, 1), dt.date(int(year), 12, 31)):
            raise DataError(f"poverty standard {name} is {days(standard)}, not in {year}",
                            file=file, row=row, column="poverty_standard")
