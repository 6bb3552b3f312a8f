"""Charts the normal way: a matplotlib figure shown by any of the usual
means in a report kernel (``plt.show()``, ``display(fig)``, a figure as the
cell's last value, or a figure the cell created and left open) goes into the
report as vector SVG in the report's style, with the caption the analyst
writes in the cell, Quarto's way::

    #| fig-cap: Biểu đồ 2. Hoạt động giúp đỡ xã theo quý, năm {{ year }}
    fig, ax = plt.subplots()
    ...

Several figures in one cell take the ``fig-cap`` lines in order. The caption
is prose (:mod:`ntm_lib.notebook.prose`, without Markdown). Axis numbers
still formatted by matplotlib's default get Vietnamese formats ("1.000",
"12,5"). A character the report font lacks fails the cell
(:class:`~ntm_lib.errors.GlyphMissingError`, shown as the cell's error, which
fails the run). Never a ``<Figure size ...>`` line: the figure's plain-text
form is its caption.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from markupsafe import escape

from .parts import mark, wrap

_CAPTION = re.compile(r"^\s*#\|\s*fig-cap:\s*(.*?)\s*$", re.MULTILINE)


class FigureDisplay:
    """The display hook for figures of one kernel: captions of the running
    cell, counter of figures shown, and the caption renderer."""

    def __init__(self, render_caption: Callable[[str], str]) -> None:
        self.render_caption = render_caption
        self.captions: list[str] = []
        self.shown = 0

    def pre_run_cell(self, info: Any) -> None:
        """IPython ``pre_run_cell`` event: read the cell's ``#| fig-cap:`` lines."""
        self.captions = _CAPTION.findall(getattr(info, "raw_cell", "") or "")
        self.shown = 0

    def __call__(self, fig: Any) -> tuple[dict[str, str], dict[str, Any]]:
        """The mime bundle of ``fig``: ``text/html`` (the SVG figure and its
        caption) and a ``text/plain`` caption; marked as a report part
        (:func:`ntm_lib.notebook.parts.mark`)."""
        from ..charts import VI_TICKS, to_svg
        from matplotlib.ticker import ScalarFormatter

        for ax in fig.get_axes():
            for axis in (ax.xaxis, ax.yaxis):
                if type(axis.get_major_formatter()) is ScalarFormatter:
                    axis.set_major_formatter(VI_TICKS)
        index = self.shown
        self.shown += 1
        caption_source = self.captions[index] if index < len(self.captions) else ""
        caption = self.render_caption(caption_source) if caption_source else ""
        # The failing cell itself is named by the run's error (cell, In [N]).
        svg = to_svg(fig, f"figure {index + 1} of this cell")
        svg = svg[svg.find("<svg"):]
        html = f'<figure class="chart">{svg}'
        if caption:
            html += f"<figcaption>{caption}</figcaption>"
        html = wrap(html + "</figure>")  # the preview style's scope, as prose and layouts
        plain = re.sub(r"<[^>]+>", "", caption) or f"Hình {index + 1}"
        # One copy of the SVG (inline in the HTML): the executed notebook stays small.
        return {"text/html": html, "text/plain": str(escape(plain))}, mark("chart")


def install(shell: Any, display: FigureDisplay) -> None:
    """Route figures of ``shell`` through ``display``: the inline backend
    (so ``plt.show()`` and open figures are shown), no PNG copy, the report's
    rcParams for new figures."""
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from ..charts import report_style

    try:
        shell.enable_matplotlib("inline")
    except Exception:  # no inline backend (a plain IPython): display() still works
        pass
    for mime in ("image/png", "image/svg+xml", "image/jpeg", "application/pdf"):
        formatter = shell.display_formatter.formatters.get(mime)
        if formatter is not None:
            formatter.type_printers.pop(Figure, None)
    shell.display_formatter.mimebundle_formatter.for_type(Figure, display)
    plain = shell.display_formatter.formatters["text/plain"]
    plain.for_type(Figure, lambda fig, p, cycle: p.text(""))
    shell.events.register("pre_run_cell", display.pre_run_cell)
    matplotlib.rcParams.update(report_style())
    plt.rcParams.update(report_style())
