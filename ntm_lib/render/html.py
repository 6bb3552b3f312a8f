"""Executed notebook -> standalone HTML document (nbconvert, ``ntm_report`` template).

The HTML is the report as a person reads it on screen and the single source of
the PDF (:mod:`ntm_lib.render.pdf`): no code, no prompts, no JavaScript,
nothing fetched from anywhere (stylesheet inlined, PNG/JPEG as ``data:``
URIs, SVG inlined), ``lang="vi"``. The same notebook always gives the same
bytes: the template emits no timestamps or random ids.
"""
from __future__ import annotations

import copy
import os
import re
import threading
import unicodedata
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from ntm_lib.errors import RenderError
from ntm_lib.record import MEDIA_TYPE as FIGURE_MEDIA_TYPE

from ntm_lib.safeio import atomic_write

from .bounded import run_limited
from .embed import embed_fonts

__all__ = ["render_html", "TEMPLATES_DIR", "TEMPLATE_NAME", "REMOVE_CELL_TAGS"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "ntm_report"
#: Cell tags (``metadata.tags``) that drop a whole cell, all its outputs, or one output.
REMOVE_CELL_TAGS = frozenset({"remove-cell", "remove_cell"})
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output"})

# Attributes through which a browser or WeasyPrint would load something.
_FETCHING = {
    "src": None, "srcset": None, "poster": None, "data": {"object"},
    "href": {"link", "image", "use", "feimage", "script", "base"},
    "xlink:href": None, "background": None,
}
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_CSS_IMPORT = re.compile(r"@import\s+(['\"])(.*?)\1", re.IGNORECASE)
_SVG_PROLOG = re.compile(
    r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->|<metadata\b.*?</metadata>",
    re.IGNORECASE | re.DOTALL,
)


def inline_svg(svg: str | list[str]) -> str:
    """SVG output ready to inline in HTML: no XML declaration, DOCTYPE (it points
    at an external DTD), comments or ``<metadata>`` (matplotlib writes a date there)."""
    if isinstance(svg, list):
        svg = "".join(svg)
    return _SVG_PROLOG.sub("", svg).strip()


def _report_exporter_class():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter

    class ReportExporter(HTMLExporter):
        """nbconvert's HTMLExporter without its closing accessibility pass.

        That pass re-parses the whole page with BeautifulSoup (about 0.1 s
        per report) to give an ``<img>`` without ``alt`` an English alt text
        and JupyterLab cells a ``tabindex``; the report template writes its
        own Vietnamese alt text and has no JupyterLab cells, and the
        re-serialising lowered the case of inline SVG names (``viewBox``).
        The filters are registered as HTMLExporter does, through nbconvert's
        public classes only (the notebook's own metadata, the resources as
        given); with an nbconvert whose classes differ, its own full path
        runs instead.
        """

        def from_notebook_node(self, nb, resources=None, **kw):
            try:
                from nbconvert.filters.highlight import Highlight2HTML
                from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

                info = nb.metadata.get("language_info", {})
                lexer = info.get("pygments_lexer", info.get("name", None))
                highlight = self.filters.get(
                    "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
                data_type = WidgetsDataTypeFilter(notebook_metadata=nb.metadata,
                                                  parent=self, resources=resources)
            except (ImportError, TypeError):
                return super().from_notebook_node(nb, resources, **kw)
            self.register_filter("highlight_code", highlight)
            self.register_filter("filter_data_type", data_type)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportExporter


@lru_cache(maxsize=1)
def _exporter():
    """nbconvert's HTMLExporter set up for the ``ntm_report`` template: no inputs,
    no prompts, tagged cells and outputs removed, no heading anchor links,
    markdown images embedded, ``lang="vi"``.

    Made once per process: the template is compiled on first use (about
    0.1 s) and reused by every later report (under :data:`_EXPORT_LOCK`)."""
    from traitlets.config import Config

    _ReportExporter = _report_exporter_class()
    config = Config()
    config.TemplateExporter.exclude_input = True
    config.TemplateExporter.exclude_input_prompt = True
    config.TemplateExporter.exclude_output_prompt = True
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    config.TagRemovePreprocessor.remove_all_outputs_tags = set(REMOVE_OUTPUT_TAGS)
    config.TagRemovePreprocessor.remove_single_output_tags = set(REMOVE_OUTPUT_TAGS)
    config.HTMLExporter.exclude_anchor_links = True
    config.HTMLExporter.embed_images = True
    config.HTMLExporter.language_code = "vi"
    # Validate the notebook once, after the preprocessors, not after each one.
    config.Exporter.optimistic_validation = True
    exporter = _ReportExporter(
        config=config,
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
    )
    exporter.register_filter("ntm_inline_svg", inline_svg)
    return exporter


_EXPORT_LOCK = threading.Lock()


def ready() -> None:
    """Make :func:`render_html`'s per-process set-up now (:func:`prepared_exporter`)."""
    with _EXPORT_LOCK:
        prepared_exporter()


@lru_cache(maxsize=1)
def prepared_exporter():
    """:func:`_exporter`, having converted one empty notebook in this process.

    The HTML of a report is made in a forked child (:func:`render_html`):
    what the child compiles (nbconvert's four templates, nbformat's schema
    validator; about 0.1 s) is lost with it. Compiled here once, before the
    first fork, every child inherits it. Call under :data:`_EXPORT_LOCK`."""
    exporter = _exporter()
    exporter.from_notebook_node(nbformat.v4.new_notebook(),
                                resources={"ntm": {"title": "", "author": None},
                                           "metadata": {"path": ""}})
    return exporter


def _without_recorded_figures(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` without the outputs that only hold recorded figures
    (:mod:`ntm_lib.record`): they are for machines, and nbconvert would warn
    that it cannot show them."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("outputs"):
            cell.outputs = [
                o for o in cell.outputs
                if not (o.get("data") and set(o["data"]) <= {FIGURE_MEDIA_TYPE})
            ]
    return nb


class _ReferenceFinder(HTMLParser):
    """Collects the URLs of fetching attributes, links and CSS ``url()``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str, bool]] = []  # url, tag, attribute, navigation
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._style = tag == "style"
        for attr, value in attrs:
            value = value or ""
            tags = _FETCHING.get(attr, False)
            if tags is None or (tags and tag in tags):
                # srcset: "a.png 1x, b.png 2x"; a data: URI holds a comma with no space.
                for url in re.split(r",\s+", value) if attr == "srcset" else [value]:
                    self.found.append((url.split()[0] if url.strip() else "", tag, attr, False))
            if tag == "a" and attr == "href":
                self.found.append((value, "a", "href", True))
            if attr == "style":
                self._css(value, tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._style = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._style = False

    def handle_data(self, data: str) -> None:
        if self._style:
            self._css(data, "style")

    def _css(self, css: str, tag: str) -> None:
        for match in list(_CSS_URL.finditer(css)) + list(_CSS_IMPORT.finditer(css)):
            self.found.append((match.group(2), tag, "style url()", False))


def _external_references(html: str) -> list[str]:
    """Every URL in ``html`` that would be fetched or followed outside the document."""
    finder = _ReferenceFinder()
    finder.feed(html)
    finder.close()
    bad: list[str] = []
    for url, tag, attr, navigation in finder.found:
        url = url.strip()
        if not url or url.startswith(("data:", "#")):
            continue
        if navigation and re.match(r"(https?|mailto|tel):", url, re.IGNORECASE):
            continue  # a hyperlink: shown, never fetched
        bad.append(f"<{tag} {attr}={url[:80]!r}>")
    return bad


def _strip_scripts(html: str) -> str:
    """``html`` without ``<script>`` elements and ``on*=`` handlers (outputs may carry them)."""
    if "<script" not in html.lower() and not re.search(r"\son[a-z]+\s*=", html, re.I):
        return html
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for el in soup.find_all("script"):
        el.decompose()
    for el in soup.find_all(True):
        for attr in [a for a in el.attrs if a.lower().startswith("on")]:
            del el.attrs[attr]
    return str(soup)


def render_html(
    notebook: NotebookNode | str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    title: str,
    author: str | None = None,
) -> Path:
    """Render an executed report notebook as a standalone HTML document.

    Parameters
    ----------
    notebook:
        The executed notebook, as a NotebookNode or a path to an ``.ipynb``.
        Cells tagged ``remove-cell`` are dropped, outputs of cells tagged
        ``remove-output`` (or outputs whose own metadata carries that tag)
        too. Code is never shown.
    out_path:
        Where to write the HTML (UTF-8); folders are created.
    title:
        The ``<title>`` (and PDF title), e.g. "Báo cáo xây dựng nông thôn mới
        xã Nậm Mòn năm 2023"; not the notebook's file name.
    author:
        Optional ``<meta name="author">`` (the issuing body), copied into the
        PDF's metadata.

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    RenderError
        Rendering took longer than :data:`ntm_lib.limits.RENDER_SECONDS` (it
        runs in a child process, killed then, and nothing is written: see
        :mod:`ntm_lib.render.bounded`); the notebook cannot be read or
        converted, or an output refers to an
        external or relative file (an image by URL, a stylesheet link, a link
        to a local file, a ``javascript:`` link) that would make the document
        depend on something outside itself. Web links (``<a href="https:...">``)
        are allowed: they are shown, never fetched.
    """
    out = Path(out_path)
    resources: dict[str, Any] = {
        "ntm": {"title": unicodedata.normalize("NFC", title),
                "author": unicodedata.normalize("NFC", author) if author else None},
        "metadata": {"path": ""},
    }
    try:
        if isinstance(notebook, NotebookNode):
            nb = notebook
        else:
            resources["metadata"]["path"] = str(Path(notebook).resolve().parent)
            nb = nbformat.read(os.fspath(notebook), as_version=4)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RenderError(f"cannot convert the notebook to HTML: {exc}", file=out) from exc
    with _EXPORT_LOCK:  # the exporter (its compiled template) is made here, once
        prepared_exporter()
        html = run_limited(_html_text, nb, resources, out, what=f"the HTML {out.name}",
                           file=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, html)
    return out


def _html_text(nb: NotebookNode, resources: dict[str, Any], out: Path) -> str:
    """The HTML of ``nb`` with every check of :func:`render_html`; run in
    the child process of :func:`~ntm_lib.render.bounded.run_limited`."""
    try:
        html, _ = _exporter().from_notebook_node(_without_recorded_figures(nb),
                                                 resources=resources)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RenderError(f"cannot convert the notebook to HTML: {exc}", file=out) from exc
    # Text arriving decomposed (NFD) from some keyboards is stored composed.
    html = embed_fonts(unicodedata.normalize("NFC", _strip_scripts(html)))
    bad = _external_references(html)
    if bad:
        raise RenderError(
            "the document refers to files outside itself; embed them in the notebook "
            "output (data: URI or inline SVG): " + "; ".join(bad[:5])
            + (f" and {len(bad) - 5} more" if len(bad) > 5 else ""),
            file=out,
        )
    return html
