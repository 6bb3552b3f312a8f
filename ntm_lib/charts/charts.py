"""The report's charts, drawn with matplotlib and returned as SVG text.

Every chart is deterministic (fixed ``svg.hashsalt``, no date in the
metadata) so the same data gives the same bytes, and its text is SVG text in
the report's serif font (:func:`ntm_lib.fonts.register_with_matplotlib`),
laid out by matplotlib and drawn by WeasyPrint in the PDF. A
character the font lacks raises :class:`~ntm_lib.errors.GlyphMissingError`
instead of matplotlib's warning and an empty box.
"""
from __future__ import annotations

import io
import os
import re
import sys
import warnings

import matplotlib

if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")  # no display outside a kernel; set before pyplot is imported

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from ..calc import CriteriaSummary  # noqa: E402
from ..errors import GlyphMissingError  # noqa: E402
from ..fonts import register_with_matplotlib, report_serif  # noqa: E402
from ..text import format_number, format_quarter  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

#: Axis numbers in Vietnamese style: "12,5", "1.000".
VI_TICKS = FuncFormatter(lambda value, _pos: format_number(value))

#: Colours of the statuses (colour-blind safe pair, plus grey for no data).
STATUS_COLOURS = {"met": "#1b7837", "not_met": "#c2410c", "no_data": "#d1d5db"}
STATUS_LABELS = {"met": "Đạt", "not_met": "Chưa đạt", "no_data": "Không có số liệu"}
_GLYPH_WARNING = re.compile(r"Glyph (\d+) .*missing from (?:current )?font")


def report_style() -> dict:
    """The report's matplotlib settings (``rcParams``): the report serif
    font (registered with matplotlib), 9 pt text, deterministic SVG (fixed
    hash salt, text kept as text), no top and right spines."""
    family = register_with_matplotlib()
    return {
        "font.family": [family],
        "font.size": 9,
        "svg.hashsalt": "ntm-report",
        "svg.fonttype": "none",
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def to_svg(fig, name: str) -> str:
    """The figure as SVG text, then closed.

    Raises :class:`GlyphMissingError` (naming the chart) when matplotlib had
    to draw a character its font lacks.
    """
    buffer = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, plt.rc_context(report_style()):
        warnings.simplefilter("always")
        try:
            fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
        finally:
            plt.close(fig)
    missing = [chr(int(m.group(1))) for w in caught if (m := _GLYPH_WARNING.search(str(w.message)))]
    if missing:
        raise GlyphMissingError(missing, font=report_serif().family, where=f"chart {name}")
    for w in caught:  # anything else matplotlib warned about is surfaced, not hidden
        warnings.warn(w.message, w.category, stacklevel=2)
    # Text stays text (svg.fonttype "none"): WeasyPrint draws it with the
    # report font, ten times faster than glyph outlines; a browser uses the
    # same font, embedded in the HTML as "NTM Report Serif".
    family = report_serif().family
    return buffer.getvalue().replace(
        f"font-family: '{family}'", f"font-family: 'NTM Report Serif', '{family}', serif")


def criteria_status_figure(
    previous: CriteriaSummary | None,
    current: CriteriaSummary,
    criteria_set,
    year: int,
    labels: tuple[str, str] | None = None,
) -> Figure:
    """Status of every criterion at the end of ``year - 1`` and ``year``.

    One row per criterion of the set (any size), one column per year; a
    coloured cell says met / not met / no data. Returns the figure
    (:func:`to_svg` turns it into SVG text). ``labels`` name the two
    columns (default "Cuối năm <year - 1>", "Cuối năm <year>"; a 6-month
    report passes the date of its statuses).
    """
    columns = [(year - 1, previous), (year, current)]
    numbers = list(criteria_set.numbers)
    with plt.rc_context(report_style()):
        height = 0.6 + 0.26 * len(numbers)
        fig, ax = plt.subplots(figsize=(6.3, height))
        for x, (_, summary) in enumerate(columns):
            for y, n in enumerate(numbers):
                if summary is None or n in summary.no_data:
                    status = "no_data"
                else:
                    status = "met" if n in summary.met else "not_met"
                ax.add_patch(plt.Rectangle((x + 0.06, y + 0.1), 0.88, 0.8,
                                           color=STATUS_COLOURS[status], linewidth=0))
                ax.text(x + 0.5, y + 0.5, STATUS_LABELS[status], ha="center", va="center",
                        fontsize=7.5, color="white" if status != "no_data" else "#374151")
        ax.set_xlim(0, len(columns))
        ax.set_ylim(len(numbers), 0)
        ax.set_xticks([x + 0.5 for x in range(len(columns))],
                      list(labels) if labels else [f"Cuối năm {y}" for y, _ in columns])
        ax.xaxis.tick_top()
        ax.set_yticks([y + 0.5 for y in range(len(numbers))],
                      [f"{n}. {criteria_set.name_of(n)}" for n in numbers])
        ax.tick_params(length=0)
        for side in ("left", "bottom", "top", "right"):
            ax.spines[side].set_visible(False)
        handles = [Patch(color=STATUS_COLOURS[s], label=STATUS_LABELS[s]) for s in STATUS_COLOURS]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01),
                  ncol=3, frameon=False, fontsize=8)
        return fig


def quarterly_activity_figure(quarterly: pd.DataFrame) -> Figure:
    """Documents issued, visits and support (million VND) per quarter.

    ``quarterly``: columns ``quarter``, ``documents_issued``, ``visits``,
    ``support_million_vnd``. Three small panels sharing the quarter axis;
    a missing value is left out (no bar), not drawn as zero.
    """
    rows = quarterly.sort_values("quarter")
    labels = [f"Quý {format_quarter(int(q))}" for q in rows["quarter"]]
    panels = [
        ("documents_issued", "Văn bản ban hành", "#2563eb"),
        ("visits", "Lượt về xã làm việc", "#7c3aed"),
        ("support_million_vnd", "Hỗ trợ (triệu đồng)", "#b45309"),
    ]
    with plt.rc_context(report_style()):
        fig, axes = plt.subplots(1, 3, figsize=(6.3, 2.3), sharex=True)
        for ax, (column, title, colour) in zip(axes, panels):
            values = pd.to_numeric(rows[column], errors="coerce")
            positions = [i for i, v in enumerate(values) if pd.notna(v)]
            heights = [float(values.iloc[i]) for i in positions]
            bars = ax.bar(positions, heights, color=colour, width=0.65)
            ax.bar_label(bars, labels=[format_number(h) for h in heights], fontsize=7.5, padding=1)
            ax.yaxis.set_major_formatter(VI_TICKS)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=column != "support_million_vnd"))
            ax.set_xticks(range(len(labels)), labels, fontsize=7.5)
            ax.set_title(title, fontsize=9)
            ax.set_ylim(0, max(heights + [1]) * 1.25)
            ax.tick_params(axis="y", labelsize=7.5)
        fig.tight_layout()
        return fig


def criteria_per_quarter_figure(quarterly: pd.DataFrame, set_size: int) -> Figure:
    """Criteria met per quarter against the criteria registered and the set size.

    ``quarterly``: columns ``quarter``, ``criteria_met``, ``criteria_registered``.
    """
    rows = quarterly.sort_values("quarter")
    labels = [f"Quý {format_quarter(int(q))}" for q in rows["quarter"]]
    met = pd.to_numeric(rows["criteria_met"], errors="coerce")
    registered = pd.to_numeric(rows["criteria_registered"], errors="coerce")
    with plt.rc_context(report_style()):
        fig, ax = plt.subplots(figsize=(6.3, 2.4))
        positions = [i for i, v in enumerate(met) if pd.notna(v)]
        bars = ax.bar(positions, [met.iloc[i] for i in positions], color=STATUS_COLOURS["met"], width=0.6,
                      label="Tiêu chí hoàn thành")
        ax.bar_label(bars, labels=[f"{int(met.iloc[i])}/{int(registered.iloc[i])}" if pd.notna(registered.iloc[i])
                                   else f"{int(met.iloc[i])}" for i in positions], fontsize=8, padding=1)
        ax.plot(range(len(labels)), registered, color="#374151", linestyle="--", marker="o",
                markersize=3, linewidth=1, label="Tiêu chí đăng ký")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_ylim(0, set_size * 1.18)
        ax.set_ylabel(f"Số tiêu chí (bộ {set_size} tiêu chí)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=8)
        return fig


def criteria_status_chart(previous: CriteriaSummary | None, current: CriteriaSummary,
                          criteria_set, year: int) -> str:
    """:func:`criteria_status_figure` as SVG text."""
    return to_svg(criteria_status_figure(previous, current, criteria_set, year), "criteria_status")


def quarterly_activity_chart(quarterly: pd.DataFrame) -> str:
    """:func:`quarterly_activity_figure` as SVG text."""
    return to_svg(quarterly_activity_figure(quarterly), "quarterly_activity")


def criteria_per_quarter_chart(quarterly: pd.DataFrame, set_size: int) -> str:
    """:func:`criteria_per_quarter_figure` as SVG text."""
    return to_svg(criteria_per_quarter_figure(quarterly, set_size), "criteria_per_quarter")
