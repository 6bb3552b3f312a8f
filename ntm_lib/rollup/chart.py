"""The roll-up's chart: how many communes meet how many criteria."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from ..charts.charts import STATUS_COLOURS, report_style, to_svg


def criteria_met_distribution_chart(distribution: dict[int, int], set_size: int) -> str:
    """Bars: number of communes (y) by criteria met (x, 0..``set_size``). SVG text."""
    xs = list(range(set_size + 1))
    ys = [distribution.get(x, 0) for x in xs]
    with plt.rc_context(report_style()):
        fig, ax = plt.subplots(figsize=(6.3, 2.6))
        bars = ax.bar(xs, ys, color=STATUS_COLOURS["met"], width=0.7)
        ax.bar_label(bars, labels=[str(y) if y else "" for y in ys], fontsize=7.5, padding=1)
        ax.set_xticks(xs, [str(x) for x in xs], fontsize=7.5)
        ax.set_xlabel(f"Số tiêu chí đạt (bộ {set_size} tiêu chí)")
        ax.set_ylabel("Số xã")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, max(ys + [1]) * 1.2)
        fig.tight_layout()
        return to_svg(fig, "criteria_met_distribution")
