"""Poverty reduction against plan.

Poverty rates are in percent of households (multidimensional poverty
standard of Decree 07/2021/NĐ-CP for 2022-2025); a *reduction* is a
difference of two rates, in **percentage points**; progress against plan is
the reduction as a **percent of the planned reduction** ("10 điểm phần trăm,
bằng 100% kế hoạch").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class PovertyProgress:
    """Poverty figures of one commune-year.

    Attributes
    ----------
    standard:
        The poverty standard the rates are measured on (never compare across).
    rate_start_percent, rate_end_percent:
        Poverty rate at the start and end of the year, percent; ``None`` when
        not stated.
    reduction_points:
        Reduction over the year, percentage points: stated, or start minus end.
    plan_reduction_points:
        Planned reduction, percentage points.
    percent_of_plan:
        ``reduction_points / plan_reduction_points * 100``, percent; ``None``
        without a plan (or a plan of 0).
    stated_percent_of_plan:
        The percent of plan the source states, for cross-checking.
    """

    standard: str | None
    rate_start_percent: float | None
    rate_end_percent: float | None
    reduction_points: float | None
    plan_reduction_points: float | None
    percent_of_plan: float | None
    stated_percent_of_plan: float | None


def poverty_progress(poverty: Mapping[str, object] | None) -> PovertyProgress | None:
    """Compute progress from one ``poverty.csv`` row.

    Parameters
    ----------
    poverty:
        Keys ``poverty_standard``, ``rate_start_percent``,
        ``rate_end_percent``, ``reduction_points``, ``plan_reduction_points``,
        ``stated_percent_of_plan``; any may be ``None``. ``None`` for the whole
        row gives ``None`` (no data).

    Examples
    --------
    Nậm Mòn 2023: reduction 10 points, plan 10 points -> 100% of plan.
    """
    if poverty is None:
        return None
    get = lambda key: as_number(poverty.get(key))  # noqa: E731
    start, end = get("rate_start_percent"), get("rate_end_percent")
    reduction = get("reduction_points")
    if reduction is None and start is not None and end is not None:
        reduction = round(start - end, 10)
    plan = get("plan_reduction_points")
    percent = reduction / plan * 100 if reduction is not None and plan else None
    standard = poverty.get("poverty_standard")
    return PovertyProgress(
        standard=str(standard) if standard else None,
        rate_start_percent=start,
        rate_end_percent=end,
        reduction_points=reduction,
        plan_reduction_points=plan,
        percent_of_plan=percent,
        stated_percent_of_plan=get("stated_percent_of_plan"),
    )


def as_number(value) -> float | None:
    """``value`` as a float; ``None`` for a missing, non-numeric or NaN value
    (a cell with no data)."""
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value
