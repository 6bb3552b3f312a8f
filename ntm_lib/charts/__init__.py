"""Charts of the commune report, as deterministic SVG text."""
from .charts import (
    criteria_per_quarter_chart,
    criteria_status_chart,
    quarterly_activity_chart,
    to_svg,
)

__all__ = ["criteria_per_quarter_chart", "criteria_status_chart", "quarterly_activity_chart", "to_svg"]
