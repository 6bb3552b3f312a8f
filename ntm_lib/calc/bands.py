"""Bands of criteria not met, Decision 18/2022/QĐ-TTg (02/8/2022).

A commune's NTM recognition is withdrawn when (a) from 30% up to (not
including) 50% of its criteria are not met *and* one of them is a key
criterion (Thu nhập; Môi trường và an toàn thực phẩm; Môi trường; Chất lượng
môi trường sống; Quốc phòng và An ninh), or (b) 50% or more are not met. The
bands and the key criteria are data (``data/reference/bands.csv``,
``band_key_criteria.csv``); this module only applies them. Percentages are
compared exactly (fractions), so 3 of 10 is exactly 30%.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..textnorm import match_key
from .criteria import CriteriaSummary


@dataclass(frozen=True)
class BandResult:
    """Where a commune stands in the bands of Decision 18/2022.

    Attributes
    ----------
    band_id, label_vi, label_en:
        The band (``bands.csv``), e.g. ``"30-to-50"``, "từ 30% đến dưới 50%".
    not_met_count, set_size:
        Criteria not met, and the set size.
    percent_not_met:
        Share not met, in percent (31.58 for 6/19).
    key_criteria_not_met:
        ``(number, name)`` of key criteria among those not met.
    requires_key_criterion:
        The band withdraws recognition only with a key criterion not met.
    recognition_withdrawn:
        True when the rule says recognition is withdrawn.
    legal_source:
        "Quyết định 18/2022/QĐ-TTg".
    """

    band_id: str
    label_vi: str
    label_en: str
    not_met_count: int
    set_size: int
    percent_not_met: float
    key_criteria_not_met: tuple[tuple[int, str], ...]
    requires_key_criterion: bool
    recognition_withdrawn: bool
    legal_source: str


def classify_band(summary: CriteriaSummary, criteria_set, rule) -> BandResult:
    """Place ``summary`` in a band of ``rule``.

    Parameters
    ----------
    summary:
        Criteria met / not met of one commune (:func:`summarise_criteria`).
    criteria_set:
        The set assessed (``name_of(number)``, ``find(name)``).
    rule:
        :class:`ntm_lib.load.BandRule`: ``bands`` DataFrame with columns
        ``band_id, lower_percent, upper_percent, upper_inclusive,
        requires_key_criterion, recognition_withdrawn, label_vi, label_en,
        legal_source``, and ``key_criteria`` (official names).

    Raises
    ------
    ValueError
        No band contains the share (the bands data has a gap).
    """
    share = Fraction(summary.not_met_count * 100, summary.set_size)
    band = None
    for row in rule.bands.itertuples(index=False):
        lower = Fraction(str(row.lower_percent))
        upper = Fraction(str(row.upper_percent))
        above = share >= lower
        below = share <= upper if _truthy(row.upper_inclusive) else share < upper
        if above and below:
            band = row
            break
    if band is None:
        raise ValueError(f"no band of {rule.legal_source} holds {float(share):.2f}% not met")

    keys = {match_key(name) for name in rule.key_criteria}
    key_not_met = tuple(
        (n, criteria_set.name_of(n))
        for n in summary.not_met
        if match_key(criteria_set.name_of(n)) in keys
    )
    requires_key = _truthy(band.requires_key_criterion)
    withdrawn = _truthy(band.recognition_withdrawn) and (bool(key_not_met) or not requires_key)
    return BandResult(
        band_id=str(band.band_id),
        label_vi=str(band.label_vi),
        label_en=str(band.label_en),
        not_met_count=summary.not_met_count,
        set_size=summary.set_size,
        percent_not_met=float(share),
        key_criteria_not_met=key_not_met,
        requires_key_criterion=requires_key,
        recognition_withdrawn=withdrawn,
        legal_source=str(band.legal_source),
    )


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
