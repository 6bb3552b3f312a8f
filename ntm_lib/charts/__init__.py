"""Charts of the commune report: matplotlib figures in the report's style
(``*_figure``), and the same as deterministic SVG text (``*_chart``,
:func:`to_svg`)."""
from .charts import (
    VI_TICKS,
    criteria_per_quarter_chart,
    criteria_per_quarter_figure,
    criteria_status_chart,
    criteria_status_figure,
    quarterly_activity_chart,
    quarterly_activity_figure,
    report_style,
    to_svg,
)

__all__ = ["VI_TICKS", "criteria_per_quarter_chart", "criteria_per_quarter_figure",
           "criteria_status_chart", "criteria_status_figure", "quarterly_activity_chart",
           "quarterly_activity_figure", "report_style", "to_svg"]
