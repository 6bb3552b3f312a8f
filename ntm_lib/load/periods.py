"""Report periods and the rules in force in them.

A report covers a period of its year: a quarter, the first 6 or 9 months,
or the year (``data/reference/periods.csv``). Every rule it applies carries
the days it governs: criteria sets (``criteria_sets.csv``, ``in_force_from``
and ``in_force_to``), the bands of criteria not met (``bands.csv``), the
poverty standards (``poverty_standards.csv``), the programmes
(``programmes.csv``) and every legal document a report may cite
(``legal_documents.csv``). A rule governs a period when the days overlap;
a report uses only what governs its period and cites nothing else.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, ParameterError
from ..paths import relative_to_root
from .tables import Column, data_path, read_table, records

PERIOD_COLUMNS = [
    Column("period_id", "str"), Column("quarters", "str"), Column("label_vi", "str"),
    Column("title_vi", "str"), Column("next_title_vi", "str"), Column("next_in_next_year", "bool"),
    Column("end_month", "int"), Column("end_day", "int"), Column("source", "str"),
]
IN_FORCE = [Column("in_force_from", "date"), Column("in_force_to", "date", required=False)]
STANDARD_COLUMNS = [
    Column("standard_id", "str"), Column("legal_source", "str"), Column("issued_on", "date"),
    *IN_FORCE, Column("rural_income_vnd_per_person_month", "int"),
    Column("urban_income_vnd_per_person_month", "int"), Column("min_deprivations", "int"),
    Column("indicators", "int"), Column("verified", "bool"), Column("source", "str"),
]
PROGRAMME_COLUMNS = [
    Column("programme_id", "str"), Column("name_vi", "str"), Column("legal_source", "str"),
    Column("issued_on", "date"), *IN_FORCE, Column("verified", "bool"), Column("source", "str"),
]
LEGAL_COLUMNS = [
    Column("number", "str"), Column("kind_vi", "str"), Column("issued_on", "date"), *IN_FORCE,
    Column("subject_en", "str"), Column("verified", "bool"), Column("source", "str"),
]


def in_force(item: Any, start: dt.date, end: dt.date) -> bool:
    """Whether ``item`` (with ``in_force_from`` and ``in_force_to``, None for
    open-ended) governs some day of ``start``..``end``."""
    return item.in_force_from <= end and (item.in_force_to is None or item.in_force_to >= start)


def days(item: Any) -> str:
    """``in force 15/02/2026-31/12/2030`` (or ``from 01/07/2025``), for messages."""
    start = f"{item.in_force_from:%d/%m/%Y}"
    return f"in force {start}-{item.in_force_to:%d/%m/%Y}" if item.in_force_to \
        else f"in force from {start}"


@dataclass(frozen=True)
class ReportPeriod:
    """One report period (a row of ``periods.csv``).

    ``quarters`` (1-4) it covers; ``label_vi`` ("6 tháng đầu năm");
    ``title_vi`` ("6 tháng đầu năm {year}") and ``next_title_vi``, the
    period the plans are for ("6 tháng cuối năm {year}", of the next year
    when ``next_in_next_year``), with the field ``{year}``; the last day is
    ``end_day``/``end_month``.
    """

    period_id: str
    quarters: tuple[int, ...]
    label_vi: str
    title_vi: str
    next_title_vi: str
    next_in_next_year: bool
    end_month: int
    end_day: int
    source: str

    def title(self, year: int) -> str:
        """"6 tháng đầu năm 2026", "năm 2023"."""
        return self.title_vi.format(year=int(year))

    def next_title(self, year: int) -> str:
        """The period after: "6 tháng cuối năm 2026", "năm 2024"."""
        return self.next_title_vi.format(year=int(year) + int(self.next_in_next_year))

    @property
    def is_year(self) -> bool:
        return self.quarters == (1, 2, 3, 4)

    def start(self, year: int) -> dt.date:
        return dt.date(int(year), 3 * self.quarters[0] - 2, 1)

    def end(self, year: int) -> dt.date:
        return dt.date(int(year), self.end_month, self.end_day)


def load_periods(data_dir: str | Path | None = None) -> dict[str, ReportPeriod]:
    """Every report period of ``periods.csv``, by id (``q1``..``q4``,
    ``6m``, ``9m``, ``year``). Raises :class:`DataError` naming the row."""
    path = data_path(data_dir, "reference", "periods.csv")
    table = read_table(path, PERIOD_COLUMNS)
    out = {}
    for row, rec in records(table):
        try:
            quarters = tuple(int(q) for q in rec["quarters"].split(";"))
        except ValueError:
            quarters = ()
        if not quarters or any(q not in (1, 2, 3, 4) for q in quarters) \
                or list(quarters) != list(range(quarters[0], quarters[-1] + 1)):
            raise DataError("quarters must be consecutive numbers 1-4 separated by ';'",
                            file=relative_to_root(path), row=row, column="quarters",
                            found=rec["quarters"])
        out[rec["period_id"]] = ReportPeriod(
            rec["period_id"], quarters, rec["label_vi"], rec["title_vi"], rec["next_title_vi"],
            bool(rec["next_in_next_year"]), int(rec["end_month"]), int(rec["end_day"]),
            rec["source"])
    return out


def load_period(period_id: str, data_dir: str | Path | None = None) -> ReportPeriod:
    """One report period; an unknown id raises :class:`ParameterError`
    (parameter ``period``) listing the known ones."""
    periods = load_periods(data_dir)
    if period_id not in periods:
        raise ParameterError(f"unknown report period {period_id!r}; known: "
                             f"{', '.join(periods)} (data/reference/periods.csv)",
                             parameter="period")
    return periods[period_id]


@dataclass(frozen=True)
class InForceRow:
    """A row of a table of rules in force: its fields (``fields``), its
    ``in_force_from``/``in_force_to`` days, its file and row."""

    key: str
    fields: dict[str, Any]
    in_force_from: dt.date
    in_force_to: dt.date | None
    file: str
    row: int


def _in_force_table(name: str, columns: list[Column], key: str,
                    data_dir: str | Path | None) -> dict[str, InForceRow]:
    path = data_path(data_dir, "reference", name)
    table = read_table(path, columns)
    shown = relative_to_root(path)
    out = {}
    for row, rec in records(table):
        if rec["in_force_to"] is not None and rec["in_force_to"] < rec["in_force_from"]:
            raise DataError("the last day in force is before the first", file=shown, row=row,
                            column="in_force_to", found=str(rec["in_force_to"]))
        out[rec[key]] = InForceRow(rec[key], rec, rec["in_force_from"], rec["in_force_to"],
                                   shown, row)
    return out


def load_poverty_standards(data_dir: str | Path | None = None) -> dict[str, InForceRow]:
    """Poverty standards by legal source ("Nghị định 07/2021/NĐ-CP"); fields:
    income lines in VND per person per **month** (rural, urban), the least
    number of deprivations that makes a household poor, the indicators."""
    return _in_force_table("poverty_standards.csv", STANDARD_COLUMNS, "legal_source", data_dir)


def load_programmes(data_dir: str | Path | None = None) -> dict[str, InForceRow]:
    """The national target programmes by id, with their official names."""
    return _in_force_table("programmes.csv", PROGRAMME_COLUMNS, "programme_id", data_dir)


def load_legal_documents(data_dir: str | Path | None = None) -> dict[str, InForceRow]:
    """Every legal document a report may cite, by number ("18/2022/QĐ-TTg")."""
    return _in_force_table("legal_documents.csv", LEGAL_COLUMNS, "number", data_dir)
