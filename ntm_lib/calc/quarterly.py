"""Quarterly appendix figures: year totals and their agreement with the
figures the report states for the year.

Flows (documents issued, visits, support in million VND) add up over the
quarters; stocks (criteria met, criteria registered) are taken at the last
quarter reported, since a year's criteria met is the position at its end.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import pandas as pd

#: How each quarterly column becomes a year figure.
AGGREGATION: dict[str, str] = {
    "documents_issued": "sum",
    "visits": "sum",
    "support_million_vnd": "sum",
    "criteria_met": "last",
    "criteria_registered": "last",
}


def quarterly_totals(quarterly: pd.DataFrame) -> dict[str, float | int | None]:
    """Year figures from the quarterly rows.

    Parameters
    ----------
    quarterly:
        One year's rows with columns ``quarter`` (1-4) and those of
        :data:`AGGREGATION`: ``documents_issued``, ``visits`` (counts),
        ``support_million_vnd`` (million VND), ``criteria_met``,
        ``criteria_registered``.

    Returns
    -------
    dict
        Keys of :data:`AGGREGATION` plus ``quarters`` (number of quarters
        reported) and ``last_quarter``. A sum over quarters that all lack a
        value is ``None`` ("no data"), as is a stock with no value in its last
        quarter.
    """
    rows = quarterly.sort_values("quarter")
    totals: dict[str, float | int | None] = {
        "quarters": int(len(rows)),
        "last_quarter": int(rows["quarter"].iloc[-1]) if len(rows) else None,
    }
    for column, how in AGGREGATION.items():
        values = rows[column]
        present = values.dropna()
        if how == "sum":
            total = present.sum() if len(present) else None
        else:
            total = values.iloc[-1] if len(values) else None
            total = None if total is None or pd.isna(total) else total
        totals[column] = _plain(total)
    return totals


@dataclass(frozen=True)
class Inconsistency:
    """A year figure that does not match: ``field``, the ``computed`` value
    and the ``stated`` one, with a one-line ``message``."""

    field: str
    computed: float | int | None
    stated: float | int | None
    message: str


def check_totals(
    totals: Mapping[str, float | int | None],
    stated: Mapping[str, float | int | None] | None,
    *,
    criteria_met_at_year_end: int | None = None,
) -> list[Inconsistency]:
    """Compare quarterly totals with the stated year figures.

    ``stated`` holds the year row (``year_stated.csv``); ``None`` means the
    report states no totals and nothing is compared. When
    ``criteria_met_at_year_end`` is given (from the criteria status list), the
    last quarter's ``criteria_met`` must equal it too (field
    ``criteria_met_year_end``). Money is compared to
    0.001 million VND (1,000 VND).
    """
    problems: list[Inconsistency] = []
    if stated:
        for column in AGGREGATION:
            computed, given = totals.get(column), stated.get(column)
            if given is None or computed is None:
                continue
            if not math.isclose(float(computed), float(given), abs_tol=1e-3):
                how = "sum of the quarters" if AGGREGATION[column] == "sum" else "last quarter"
                problems.append(Inconsistency(
                    column, computed, given,
                    f"{column}: {how} is {computed}, the year total states {given}",
                ))
    met = totals.get("criteria_met")
    if criteria_met_at_year_end is not None and met is not None and met != criteria_met_at_year_end:
        problems.append(Inconsistency(
            "criteria_met_year_end", met, criteria_met_at_year_end,
            f"criteria_met: last quarter says {met}, the criteria status list "
            f"has {criteria_met_at_year_end} met",
        ))
    return problems


def _plain(value):
    """numpy scalars to plain Python numbers (int when whole)."""
    if value is None:
        return None
    value = float(value)
    return int(value) if value.is_integer() else value
