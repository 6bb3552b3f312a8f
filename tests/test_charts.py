"""Charts: deterministic SVG, every glyph in the report font, any set size."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from ntm_lib import calc, charts
from ntm_lib.errors import GlyphMissingError
from ntm_lib.load import load_criteria_set


@dataclass
class NamedSet:
    set_id: str
    names: dict

    @property
    def numbers(self):
        return tuple(self.names)

    def name_of(self, n):
        return self.names[n]


QUARTERS = pd.DataFrame({
    "quarter": [1, 2, 3, 4], "documents_issued": [2, 3, 2, 0], "visits": [3, 7, 3, 3],
    "support_million_vnd": [10.0, 0.0, 0.0, 0.0], "criteria_met": [15, 12, 12, 13],
    "criteria_registered": [19, 19, 19, 19],
})


def test_status_chart_is_deterministic_and_names_every_criterion():
    cset = load_criteria_set("ntm-commune-2021-2025")
    prev = calc.summarise_criteria({n: "not_met" if n in {1, 2, 8, 10, 11, 17, 18} else "met"
                                    for n in cset.numbers}, cset)
    cur = calc.summarise_criteria({n: "not_met" if n in {1, 2, 10, 11, 17, 18} else "met"
                                   for n in cset.numbers}, cset)
    first = charts.criteria_status_chart(prev, cur, cset, 2023)
    second = charts.criteria_status_chart(prev, cur, cset, 2023)
    assert first == second
    assert first.lstrip().startswith("<?xml") and "<svg" in first
    assert "<dc:date>" not in first  # no date in the metadata


def test_status_chart_for_a_set_of_10_without_previous_year():
    cset = load_criteria_set("ntm-commune-2026-2030")
    cur = calc.summarise_criteria({1: "met", 2: "not_met"}, cset)  # 8 criteria with no data
    svg = charts.criteria_status_chart(None, cur, cset, 2026)
    assert "<svg" in svg


def test_quarter_charts():
    assert "<svg" in charts.quarterly_activity_chart(QUARTERS)
    assert "<svg" in charts.criteria_per_quarter_chart(QUARTERS, 19)
    partial = QUARTERS.astype({"visits": "float"}).copy()
    partial.loc[2, "visits"] = float("nan")  # no data: no bar, not a zero
    assert "<svg" in charts.quarterly_activity_chart(partial)


def test_missing_glyph_is_an_error():
    odd = NamedSet("odd", {1: "Quy hoạch 規劃", 2: "Giao thông"})
    cur = calc.summarise_criteria({1: "met", 2: "met"}, odd)
    with pytest.raises(GlyphMissingError) as info:
        charts.criteria_status_chart(None, cur, odd, 2023)
    assert "規" in info.value.characters and "criteria_status" in str(info.value)
