"""Criteria met and not met, for a criteria set of any size, and their changes.

A *criteria set* (bộ tiêu chí) is versioned reference data
(``data/reference/criteria*.csv``): the 2021-2025 commune set of Decision
318/QĐ-TTg (08/3/2022) has 19 criteria, the 2026-2030 set of Decision
51/2025/QĐ-TTg has 10. Nothing here assumes a size.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Mapping

import pandas as pd

MET = "met"
NOT_MET = "not_met"


@dataclass(frozen=True)
class CriteriaSummary:
    """Status of every criterion of a set at one assessment.

    Attributes
    ----------
    set_id:
        The criteria set (``data/reference/criteria_sets.csv``).
    set_size:
        Number of criteria in the set.
    met, not_met:
        Criterion numbers, ascending.
    no_data:
        Criteria of the set with no recorded status (shown as "no data",
        never counted as met or not met).
    """

    set_id: str
    set_size: int
    met: tuple[int, ...]
    not_met: tuple[int, ...]
    no_data: tuple[int, ...]

    @property
    def met_count(self) -> int:
        return len(self.met)

    @property
    def not_met_count(self) -> int:
        return len(self.not_met)

    @property
    def share_met(self) -> Fraction:
        """Criteria met over the set size, exact (13/19)."""
        return Fraction(self.met_count, self.set_size)

    @property
    def share_not_met(self) -> Fraction:
        """Criteria not met over the set size, exact (6/19)."""
        return Fraction(self.not_met_count, self.set_size)

    @property
    def percent_met(self) -> float:
        """Criteria met, in percent of the set size (68.42 for 13/19)."""
        return float(self.share_met * 100)

    @property
    def percent_not_met(self) -> float:
        """Criteria not met, in percent of the set size (31.58 for 6/19)."""
        return float(self.share_not_met * 100)


def summarise_criteria(
    statuses: Mapping[int, str] | pd.DataFrame,
    criteria_set,
) -> CriteriaSummary:
    """Count criteria met and not met.

    Parameters
    ----------
    statuses:
        Either a mapping criterion number -> ``"met"`` / ``"not_met"``, or a
        DataFrame with columns ``criterion`` (int) and ``status`` holding the
        rows of *one* set and one assessment (e.g. ``criteria_status`` rows of
        one ``set_id`` and ``year``).
    criteria_set:
        The set assessed: an object with ``set_id`` and ``numbers`` (all
        criterion numbers of the set), such as
        :class:`ntm_lib.load.CriteriaSet`.

    Raises
    ------
    ValueError
        A criterion number outside the set, or a status other than ``met`` /
        ``not_met``.
    """
    if isinstance(statuses, pd.DataFrame):
        pairs = [(int(c), str(s)) for c, s in zip(statuses["criterion"], statuses["status"])]
        if len({c for c, _ in pairs}) != len(pairs):
            raise ValueError("a criterion appears twice in one assessment")
        statuses = dict(pairs)
    numbers = tuple(criteria_set.numbers)
    outside = sorted(set(statuses) - set(numbers))
    if outside:
        raise ValueError(
            f"criteria {outside} are not in set {criteria_set.set_id} "
            f"(numbers {numbers[0]}-{numbers[-1]})"
        )
    bad = {c: s for c, s in statuses.items() if s not in (MET, NOT_MET)}
    if bad:
        raise ValueError(f"unknown status {bad}; expected '{MET}' or '{NOT_MET}'")
    return CriteriaSummary(
        set_id=criteria_set.set_id,
        set_size=len(numbers),
        met=tuple(n for n in numbers if statuses.get(n) == MET),
        not_met=tuple(n for n in numbers if statuses.get(n) == NOT_MET),
        no_data=tuple(n for n in numbers if n not in statuses),
    )


@dataclass(frozen=True)
class CriteriaChanges:
    """What changed between two assessments of the same set.

    ``gained``: not met before, met now (criterion 8 for Nậm Mòn, 2022 to
    2023). ``lost``: met before, not met now. ``still_not_met`` and
    ``still_met``: unchanged. Criteria without data in either assessment are
    in none of these.
    """

    gained: tuple[int, ...]
    lost: tuple[int, ...]
    still_met: tuple[int, ...]
    still_not_met: tuple[int, ...]


def criteria_changes(previous: CriteriaSummary, current: CriteriaSummary) -> CriteriaChanges:
    """Criteria gained and lost since ``previous``.

    Raises ``ValueError`` when the two summaries are of different sets: a
    comparison across criteria sets is not meaningful.
    """
    if previous.set_id != current.set_id:
        raise ValueError(
            f"cannot compare criteria of set {previous.set_id} with set {current.set_id}"
        )

    def both(a: Iterable[int], b: Iterable[int]) -> tuple[int, ...]:
        return tuple(sorted(set(a) & set(b)))

    return CriteriaChanges(
        gained=both(previous.not_met, current.met),
        lost=both(previous.met, current.not_met),
        still_met=both(previous.met, current.met),
        still_not_met=both(previous.not_met, current.not_met),
    )


def statuses_for(criteria_status: pd.DataFrame, set_id: str, year: int) -> pd.DataFrame:
    """The rows of ``criteria_status`` (columns ``set_id``, ``year``,
    ``criterion``, ``status``) for one set and year; empty when none."""
    rows = criteria_status[(criteria_status["set_id"] == set_id) & (criteria_status["year"] == year)]
    return rows.reset_index(drop=True)


def statuses_at(criteria_status: pd.DataFrame, set_id: str, year: int,
                end: "dt.date | None" = None) -> pd.DataFrame:
    """The statuses of one set in ``year`` as they stood on ``end`` (the
    last day of the report period): the rows dated (``as_of``) on or before
    it, and of those the latest date of each criterion (a row without a date
    counts as the end of its year). With ``end`` None: every row of the year
    (:func:`statuses_for`). A 6-month report thus reads the statuses of
    30/6, not those of the year end."""
    import datetime as dt

    rows = statuses_for(criteria_status, set_id, year)
    if end is None or not len(rows):
        return rows
    dates = [d if d is not None and d == d else dt.date(int(year), 12, 31)
             for d in rows["as_of"]] if "as_of" in rows else [dt.date(int(year), 12, 31)] * len(rows)
    rows = rows.assign(_as_of=dates)
    rows = rows[rows["_as_of"] <= end]
    if not len(rows):
        return rows.drop(columns="_as_of").reset_index(drop=True)
    latest = rows.groupby("criterion")["_as_of"].transform("max")
    return rows[rows["_as_of"] == latest].drop(columns="_as_of").reset_index(drop=True)
