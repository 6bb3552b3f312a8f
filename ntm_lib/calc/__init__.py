"""Domain calculations: criteria, bands of Decision 18/2022, quarterly
totals, poverty against plan. Pure functions on loaded data."""
from .bands import BandResult, classify_band
from .criteria import (
    MET,
    NOT_MET,
    CriteriaChanges,
    CriteriaSummary,
    criteria_changes,
    statuses_at,
    statuses_for,
    summarise_criteria,
)
from .poverty import PovertyProgress, as_number, poverty_progress
from .quarterly import AGGREGATION, Inconsistency, quarterly_totals

__all__ = [
    "AGGREGATION",
    "BandResult",
    "CriteriaChanges",
    "CriteriaSummary",
    "Inconsistency",
    "MET",
    "NOT_MET",
    "PovertyProgress",
    "as_number",
    "classify_band",
    "criteria_changes",
    "poverty_progress",
    "quarterly_totals",
    "statuses_at",
    "statuses_for",
    "summarise_criteria",
]
