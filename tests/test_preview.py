"""The JupyterLab preview: the report's stylesheet scoped to report parts and
to the Markdown headings of a report notebook, and every part wrapped in
its scope (checked in a live JupyterLab 4.6 with headless Chromium; these
tests keep the rules that made it look right)."""
from __future__ import annotations

import tinycss2

from ntm_lib.notebook import session
from ntm_lib.notebook.figures import FigureDisplay


def _selectors(css: str) -> list[str]:
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    assert all(r.type == "qualified-rule" for r in rules)  # no @page, no @font-face
    return [s.strip() for r in rules for s in tinycss2.serialize(r.prelude).split(",")]


def test_every_rule_is_scoped_to_report_parts_or_their_notebook_headings():
    selectors = _selectors(session.preview_css())
    parts, markdown = session.PREVIEW_SCOPES
    assert all(s.startswith(parts) or s.startswith(markdown) or
               s.startswith(".jp-RenderedHTMLCommon .ntm-part") for s in selectors)
    # the report's headings style a notebook's Markdown headings too
    assert f"{markdown} h2" in selectors and f"{parts} h2" in selectors
    assert f"{parts} figure.chart figcaption" in selectors


def test_jupyterlab_table_stripes_are_reset():
    selectors = _selectors(session.preview_css())
    for row in ("tbody tr:nth-child(odd)", "tbody tr:nth-child(even)", "tbody tr:hover"):
        assert f".jp-RenderedHTMLCommon .ntm-part {row}" in selectors


def test_a_figure_is_a_report_part_in_its_scope():
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    display = FigureDisplay(lambda source: source.replace("{{ year }}", "2023"))
    display.pre_run_cell(type("Info", (), {"raw_cell": "#| fig-cap: Biểu đồ 4, năm {{ year }}\n"})())
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.bar(["Quý I", "Quý II"], [3, 7])
    bundle, metadata = display(fig)
    html = bundle["text/html"]
    assert html.startswith('<div class="ntm-part"><figure class="chart"><svg')
    assert html.endswith("<figcaption>Biểu đồ 4, năm 2023</figcaption></figure></div>")
    assert bundle["text/plain"] == "Biểu đồ 4, năm 2023"
    assert metadata == {"ntm": {"part": "chart"}}
