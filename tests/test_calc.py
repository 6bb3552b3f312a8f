"""Domain calculations, with the seed's values and hand-made edge cases."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from ntm_lib import calc
from ntm_lib.load import load_band_rule, load_criteria_set


@dataclass
class ToySet:
    """A criteria set of any size, named C1..Cn, with given names overriding."""

    set_id: str
    size: int
    names: dict

    @property
    def numbers(self):
        return tuple(range(1, self.size + 1))

    def name_of(self, n):
        return self.names.get(n, f"Tiêu chí thử {n}")


def statuses(size, not_met):
    return {n: ("not_met" if n in not_met else "met") for n in range(1, size + 1)}


@pytest.fixture(scope="module")
def set2125():
    return load_criteria_set("ntm-commune-2021-2025")


@pytest.fixture(scope="module")
def rule():
    return load_band_rule()


def test_seed_2023_summary(set2125):
    s = calc.summarise_criteria(statuses(19, {1, 2, 10, 11, 17, 18}), set2125)
    assert s.met_count == 13 and s.not_met_count == 6 and s.set_size == 19
    assert s.met == (3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 19)
    assert s.not_met == (1, 2, 10, 11, 17, 18)
    assert round(s.percent_not_met, 2) == 31.58  # 6/19, as the seed's band says


def test_seed_changes_criterion_8_regained(set2125):
    prev = calc.summarise_criteria(statuses(19, {1, 2, 8, 10, 11, 17, 18}), set2125)
    cur = calc.summarise_criteria(statuses(19, {1, 2, 10, 11, 17, 18}), set2125)
    ch = calc.criteria_changes(prev, cur)
    assert ch.gained == (8,)
    assert ch.lost == ()
    assert ch.still_not_met == (1, 2, 10, 11, 17, 18)
    assert len(ch.still_met) == 12


def test_seed_band_30_to_50_with_income_and_environment(set2125, rule):
    s = calc.summarise_criteria(statuses(19, {1, 2, 10, 11, 17, 18}), set2125)
    band = calc.classify_band(s, set2125, rule)
    assert band.band_id == "30-to-50"
    assert band.label_vi == "từ 30% đến dưới 50%"
    assert band.key_criteria_not_met == ((10, "Thu nhập"), (17, "Môi trường và an toàn thực phẩm"))
    assert band.recognition_withdrawn is True
    assert band.legal_source == "Quyết định 18/2022/QĐ-TTg"


@pytest.mark.parametrize("not_met, band_id", [
    (set(), "under-30"),
    ({1, 2, 3, 4, 5}, "under-30"),          # 5/19 = 26.3%
    ({1, 2, 3, 4, 5, 6}, "30-to-50"),       # 6/19 = 31.6%
    (set(range(1, 10)), "30-to-50"),         # 9/19 = 47.4%
    (set(range(1, 11)), "50-plus"),          # 10/19 = 52.6%
    (set(range(1, 20)), "50-plus"),          # all
])
def test_bands_with_19_criteria(set2125, rule, not_met, band_id):
    s = calc.summarise_criteria(statuses(19, not_met), set2125)
    assert calc.classify_band(s, set2125, rule).band_id == band_id


def test_set_of_10_exact_30_and_50_percent(rule):
    toy = ToySet("toy-10", 10, {2: "Thu nhập"})
    three = calc.summarise_criteria(statuses(10, {1, 2, 3}), toy)   # exactly 30%
    assert three.percent_not_met == 30.0
    band = calc.classify_band(three, toy, rule)
    assert band.band_id == "30-to-50"
    assert band.key_criteria_not_met == ((2, "Thu nhập"),)
    assert band.recognition_withdrawn

    no_key = calc.summarise_criteria(statuses(10, {1, 3, 4}), toy)  # 30%, no key criterion
    band = calc.classify_band(no_key, toy, rule)
    assert band.band_id == "30-to-50" and not band.recognition_withdrawn

    five = calc.summarise_criteria(statuses(10, {1, 3, 4, 5, 6}), toy)  # exactly 50%
    band = calc.classify_band(five, toy, rule)
    assert band.band_id == "50-plus" and band.recognition_withdrawn

    two = calc.summarise_criteria(statuses(10, {2, 3}), toy)  # 20%, key criterion irrelevant
    band = calc.classify_band(two, toy, rule)
    assert band.band_id == "under-30" and not band.recognition_withdrawn


def test_zero_and_all_met():
    toy = ToySet("toy-10", 10, {})
    none_met = calc.summarise_criteria(statuses(10, set(range(1, 11))), toy)
    assert none_met.met_count == 0 and none_met.not_met_count == 10 and none_met.percent_met == 0
    all_met = calc.summarise_criteria(statuses(10, set()), toy)
    assert all_met.met_count == 10 and all_met.percent_not_met == 0
    ch = calc.criteria_changes(none_met, all_met)
    assert ch.gained == tuple(range(1, 11)) and ch.lost == ()


def test_missing_statuses_are_no_data_not_met():
    toy = ToySet("toy-10", 10, {})
    s = calc.summarise_criteria({1: "met", 2: "not_met"}, toy)
    assert s.met == (1,) and s.not_met == (2,) and s.no_data == tuple(range(3, 11))


def test_bad_statuses_rejected():
    toy = ToySet("toy-10", 10, {})
    with pytest.raises(ValueError, match="not in set toy-10"):
        calc.summarise_criteria({11: "met"}, toy)
    with pytest.raises(ValueError, match="unknown status"):
        calc.summarise_criteria({1: "đạt"}, toy)
    frame = pd.DataFrame({"criterion": [1, 1], "status": ["met", "not_met"]})
    with pytest.raises(ValueError, match="twice"):
        calc.summarise_criteria(frame, toy)


def test_changes_across_sets_refused():
    a = calc.CriteriaSummary("a", 10, (), (), ())
    b = calc.CriteriaSummary("b", 10, (), (), ())
    with pytest.raises(ValueError, match="cannot compare"):
        calc.criteria_changes(a, b)


SEED_QUARTERS = pd.DataFrame({
    "quarter": [1, 2, 3, 4],
    "documents_issued": [2, 3, 2, 0],
    "visits": [3, 7, 3, 3],
    "support_million_vnd": [10.0, 0.0, 0.0, 0.0],
    "criteria_met": [15, 12, 12, 13],
    "criteria_registered": [19, 19, 19, 19],
})
SEED_STATED = {"documents_issued": 7, "visits": 16, "support_million_vnd": 10,
               "criteria_met": 13, "criteria_registered": 19}


def test_seed_quarterly_totals_match_stated_year():
    totals = calc.quarterly_totals(SEED_QUARTERS)
    assert totals["documents_issued"] == 7
    assert totals["visits"] == 16
    assert totals["support_million_vnd"] == 10
    assert (totals["criteria_met"], totals["criteria_registered"]) == (13, 19)
    assert {k: totals[k] for k in SEED_STATED} == SEED_STATED  # the seed's "Tổng" row


def test_quarterly_missing_values_are_no_data():
    frame = SEED_QUARTERS.copy().astype({"visits": "float"})
    frame["visits"] = float("nan")
    assert calc.quarterly_totals(frame)["visits"] is None


def test_seed_poverty_against_plan():
    p = calc.poverty_progress({"reduction_points": 10, "plan_reduction_points": 10,
                               "stated_percent_of_plan": 100,
                               "poverty_standard": "Nghị định 07/2021/NĐ-CP"})
    assert p.reduction_points == 10 and p.plan_reduction_points == 10
    assert p.percent_of_plan == 100 and p.stated_percent_of_plan == 100


def test_poverty_from_rates_and_partial_plan():
    p = calc.poverty_progress({"rate_start_percent": 33.8, "rate_end_percent": 28.13,
                               "plan_reduction_points": 4.0, "stated_percent_of_plan": 125.5})
    assert p.reduction_points == pytest.approx(5.67)
    assert p.percent_of_plan == pytest.approx(141.75)  # the stated 125.5% is a rule warning
    assert calc.poverty_progress(None) is None
    no_plan = calc.poverty_progress({"reduction_points": 2})
    assert no_plan.percent_of_plan is None
