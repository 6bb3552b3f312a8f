"""What reaches the document is decided, not accidental.

Only outputs marked as report parts reach the HTML, PDF and DOCX: the prose
of ``%%report`` cells, layouts, tables and charts shown through
:mod:`ntm_lib.notebook`. Everything else a cell produces (printed text,
warnings, a bare last value, a ``DataFrame`` shown for a check) stays in the
executed notebook and is listed by :func:`left_out` in the run's manifest
(``left_out_outputs``) and on the terminal, so nothing is lost silently.

A part is an output whose metadata holds ``{"ntm": {"part": KIND}}``; the
nbconvert template of the report (``ntm_lib/render/templates/ntm_report``)
renders those and nothing else.
"""
from __future__ import annotations

from typing import Any, Mapping

#: Output metadata key of report parts.
KEY = "ntm"
#: Kinds of parts: prose (Markdown cells), layout (header, signature,
#: appendix), chart (figures), style (the JupyterLab preview's stylesheet,
#: which is never printed).
KINDS = ("prose", "layout", "chart", "style")
#: Outputs the product itself adds and that are not meant for the page.
_OWN_MIME = ("application/vnd.ntm.figure.v1+json",)  # ntm_lib.record.MEDIA_TYPE


def mark(kind: str) -> dict[str, Any]:
    """Output metadata that makes an output a report part of ``kind``."""
    return {KEY: {"part": kind}}


def part_of(output: Mapping[str, Any]) -> str | None:
    """The kind of part an output is, or None when it is not one."""
    meta = output.get("metadata") or {}
    value = meta.get(KEY) if isinstance(meta, Mapping) else None
    return value.get("part") if isinstance(value, Mapping) else None


def left_out(notebook: Mapping[str, Any], limit: int = 80) -> list[dict[str, Any]]:
    """Outputs of code cells that do not reach the document.

    Returns
    -------
    list of dict
        ``cell`` (0-based index), ``cell_id``, ``output_type``
        (``stream``, ``display_data``, ``execute_result``), ``what``
        (``stdout``, ``stderr`` or the mime types) and ``preview`` (its
        first ``limit`` characters of text). Error outputs are not listed:
        they fail the run.
    """
    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "error" or part_of(output):
                continue
            if kind == "stream":
                what, text = output.get("name", "stream"), output.get("text", "")
            else:
                data = output.get("data", {})
                if any(m in data for m in _OWN_MIME):
                    continue
                what, text = ", ".join(sorted(data)), data.get("text/plain", "")
            if isinstance(text, list):
                text = "".join(text)
            if what == "text/plain" and not str(text).strip():
                continue  # nothing to lose (what a failed display leaves)
            found.append({"cell": index, "cell_id": cell.get("id"), "output_type": kind,
                          "what": what, "preview": " ".join(str(text).split())[:limit]})
    return found


def wrap(html: str) -> str:
    """A report part's HTML in its ``div.ntm-part``: the scope of the preview
    stylesheet in JupyterLab (:func:`ntm_lib.notebook.session.preview_css`);
    the report's own stylesheet gives the ``div`` no style."""
    return f'<div class="ntm-part">{html}</div>'


def show(html: str, kind: str = "layout") -> None:
    """Display ``html`` (made by a template or an escaping function of the
    product) as a report part of ``kind`` in the running kernel."""
    from IPython.display import HTML, display

    display(HTML(html), metadata=mark(kind))


def figure_html(svg: str, caption: str) -> str:
    """An SVG chart (:func:`ntm_lib.charts.to_svg`) with its caption (text,
    escaped here) as the report's ``figure.chart``."""
    from markupsafe import escape

    return (f'<figure class="chart">{svg[svg.find("<svg"):]}'
            f"<figcaption>{escape(caption)}</figcaption></figure>")
