"""Quarterly appendix figures: year totals.

Whether they agree with the figures the report states for the year is a
consistency rule of ``data/reference/validation_rules.csv``
(:mod:`ntm_lib.validate`).

Flows (documents issued, visits, support in million VND) add up over the
quarters; stocks (criteria met, criteria registered) are taken at the last
quarter reported, since a year's criteria met is the position at its end.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: How each quarterly column becomes a year figure.
AGGREGATION: dict[str, str] = {
    "documents_issued": "sum",
    "visits": "sum",
    "support_million_vnd": "sum",
    "criteria_met": "last",
    "criteria_registered": "last",
}


def quarterly_totals(quarterly: pd.DataFrame,
                     quarters: "tuple[int, ...] | None" = None) -> dict[str, float | int | None]:
    """The figures of a report period from the quarterly rows.

    Parameters
    ----------
    quarterly:
        One year's rows with columns ``quarter`` (1-4) and those of
        :data:`AGGREGATION`: ``documents_issued``, ``visits`` (counts),
        ``support_million_vnd`` (million VND), ``criteria_met``,
        ``criteria_registered``.
    quarters:
        The quarters of the report period (``(1, 2)`` for 6 months); None
        for every row given (the year).

    Returns
    -------
    dict
        Keys of :data:`AGGREGATION` plus ``quarters`` (number of quarters
        reported), ``last_quarter`` and ``missing_quarters`` (quarters of
        the period without a row: the total then covers fewer quarters). A sum over quarters that all lack a
        value is ``None`` ("no data"), as is a stock with no value in its last
        quarter.
    """
    rows = quarterly.sort_values("quarter")
    if quarters is not None:
        rows = rows[rows["quarter"].isin(list(quarters))]
    present = {int(q) for q in rows["quarter"]}
    totals: dict[str, float | int | None] = {
        "quarters": int(len(rows)),
        "last_quarter": int(rows["quarter"].iloc[-1]) if len(rows) else None,
        "missing_quarters": [q for q in (quarters or ()) if q not in present],
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
    """A figure that does not match: ``field``, the ``computed`` value and
    the ``stated`` one, with a one-line ``message`` (the base of
    :class:`ntm_lib.validate.RuleWarning`)."""

    field: str
    computed: float | int | None
    stated: float | int | None
    message: str


def _plain(value):
    """numpy scalars to plain Python numbers (int when whole)."""
    if value is None:
        return None
    value = float(value)
    return int(value) if value.is_integer() else value
