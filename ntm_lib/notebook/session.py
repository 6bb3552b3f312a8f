"""The report notebook's session: :func:`start` opens one commune-year
report in the running kernel and makes its names, the ``%%report`` and
``%layout`` magics and the figure display available.

A report notebook begins::

    commune = "02881"          # parameters cell: papermill injects its own
    year = 2023
    params_file = None         # default params/<year>/<slug>.yaml

    import ntm_lib.notebook as nb
    report = nb.start(commune, year, params_file)

and then writes its sections as ``%%report`` cells (Markdown with inline
values, :mod:`ntm_lib.notebook.prose`), ``%layout header`` lines (the
templates in ``notebooks/layouts/``) and cells that draw figures
(:mod:`ntm_lib.notebook.figures`). ``ntm run`` executes the very same cells,
so what the analyst sees is what is built.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..paths import notebooks_dir, relative_to_root
from .names import Record, document_lines, report_names
from .parts import mark
from .prose import ProseError, render, render_text

_CURRENT: "Report | None" = None


@dataclass
class Report:
    """One commune-year report opened in a kernel.

    Attributes
    ----------
    context:
        The :class:`~ntm_lib.report.context.ReportContext` (data, figures).
    names:
        The values of :data:`ntm_lib.notebook.names.NAMES`.
    params_file:
        The params YAML the commune's text came from.
    layouts:
        The folder of the layout templates (``notebooks/layouts``).
    """

    context: Any
    names: Record
    params_file: Path
    layouts: Path
    _figures: Any = field(default=None, repr=False)

    def prose(self, source: str, *, markdown: bool = True, first_line: int = 1) -> str:
        """``source`` rendered with :attr:`names` (HTML). ``first_line``
        is the line of the cell ``source`` starts at, for error messages."""
        try:
            return render(source, self.names, markdown=markdown, layouts=self.layouts)
        except ProseError as exc:
            if exc.row is not None and not exc.file:
                exc.row += first_line - 1
            raise

    def layout(self, name: str) -> str:
        """The layout ``notebooks/layouts/<name>.html.j2`` rendered (HTML).

        Raises :class:`ProseError` naming the layout file and line."""
        path = self.layouts / f"{name}.html.j2"
        if not path.is_file():
            known = sorted(p.name[:-8] for p in self.layouts.glob("*.html.j2"))
            raise ProseError(f"no layout {name!r}; layouts: {', '.join(known)}",
                             file=relative_to_root(path))
        data = path.read_bytes()
        self.context.inputs.add(relative_to_root(path), data, 0)  # an input of the run
        try:
            return render(data.decode("utf-8"), self.names, markdown=False,
                          layouts=self.layouts)
        except ProseError as exc:
            exc.file = relative_to_root(path)
            raise


def current() -> Report:
    """The report :func:`start` opened in this kernel.

    Raises :class:`ProseError` when none is."""
    if _CURRENT is None:
        raise ProseError("no report is open: run the cell with ntm_lib.notebook.start(...) first")
    return _CURRENT


def start(commune: str, year: int, params_file: str | Path | None = None, *,
          data_dir: str | Path | None = None) -> Report:
    """Open the report of ``commune`` (code or slug) for ``year``.

    Reads the params file (default ``params/<year>/<slug>.yaml``), checks it
    and the data, computes every figure (:func:`ntm_lib.report.prepare_report`),
    fills the commune's free text with the names, and, in a kernel, loads
    the magics, the figure display and the JupyterLab preview style.

    Raises
    ------
    UnknownCommuneError, ParameterError, DataError
        As :func:`ntm_lib.run.build_report` before it runs anything.
    ProseError
        A free text of the params file uses an unknown name (file, field).
    """
    global _CURRENT
    from ..load import resolve_commune
    from ..params import load_params
    from ..paths import params_dir
    from ..report import prepare_report

    unit = resolve_commune(str(commune), year=int(year))
    path = Path(params_file) if params_file else params_dir() / str(year) / f"{unit.slug}.yaml"
    params = load_params(path)
    ctx = prepare_report(params, data_dir=data_dir)
    names = report_names(ctx)
    shown = relative_to_root(path)

    def fill(text: str, field_name: str) -> str:
        return render_text(text, names, where={"file": shown, "column": field_name})

    names["document"] = document_lines(ctx, fill)
    names["narrative"] = _fill_narrative(params["narrative"], fill)
    report = Report(context=ctx, names=names, params_file=path,
                    layouts=notebooks_dir() / "layouts")
    _CURRENT = report
    _attach(report)
    return report


def _fill_narrative(value: Any, fill, where: str = "narrative") -> Any:
    if isinstance(value, str):
        return fill(value, where)
    if isinstance(value, list):
        return [_fill_narrative(v, fill, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return Record({k: _fill_narrative(v, fill, f"{where}.{k}") for k, v in value.items()})
    return value


def _attach(report: Report) -> None:
    """In a kernel: magics, figures and the preview stylesheet."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from IPython.display import HTML, display

    from .figures import FigureDisplay, install
    from .magics import ReportMagics

    if report._figures is None:
        report._figures = FigureDisplay(lambda source: report.prose(source, markdown=False))
        install(shell, report._figures)
    shell.register_magics(ReportMagics)
    display(HTML(f"<style>{preview_css()}</style>"), metadata=mark("style"))


@lru_cache(maxsize=1)
def preview_css() -> str:
    """The report's stylesheet scoped to report parts (``.ntm-part``), for
    JupyterLab: outputs there look as they will print, and nothing else of
    JupyterLab is restyled. Print-only rules (``@page``) are left out. Made
    once per stylesheet and kept in the cache folder
    (:func:`ntm_lib.paths.cache_dir`), so a kernel does not parse CSS."""
    import hashlib
    import marshal

    from ..paths import cache_dir
    from ..safeio import atomic_write

    css = (Path(__file__).resolve().parent.parent / "render/templates/ntm_report/report.css")
    source = css.read_bytes()
    # Keyed on the stylesheet and on the code that scopes it, as loaded in
    # this process (not the file on disk, which may have changed since).
    code = marshal.dumps(_scope.__code__) + repr((PREVIEW_SCOPES, _LAB_RESETS)).encode("utf-8")
    key = hashlib.sha256(source + code).hexdigest()[:24]
    cached = cache_dir() / "preview" / f"{key}.css"
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    scoped = _scope(source.decode("utf-8"))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(cached, scoped, redact=False)
    except OSError:  # a read-only home: made again next time
        pass
    return scoped


#: Where the preview styles apply in JupyterLab: the report parts, and the
#: Markdown cells (the report's headings) of a notebook that has report parts
#: (``:has()``: a notebook without them keeps JupyterLab's own look).
PREVIEW_SCOPES = (".ntm-part", ".jp-Notebook:has(.ntm-part) .jp-MarkdownCell .jp-RenderedMarkdown")

#: JupyterLab stripes and highlights table rows; a report's tables have neither.
_LAB_RESETS = (
    ".jp-RenderedHTMLCommon .ntm-part tbody tr:nth-child(odd), "
    ".jp-RenderedHTMLCommon .ntm-part tbody tr:nth-child(even), "
    ".jp-RenderedHTMLCommon .ntm-part tbody tr:hover { background: transparent; }"
)


def _scope(css: str) -> str:
    import tinycss2

    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    out = []
    for rule in rules:
        if rule.type == "qualified-rule":
            selectors = [s.strip() for s in tinycss2.serialize(rule.prelude).split(",")]
            scoped = ", ".join(
                scope if s in ("html", "body", "main", ".document") else f"{scope} {s}"
                for scope in PREVIEW_SCOPES for s in selectors)
            out.append(f"{scoped} {{{tinycss2.serialize(rule.content)}}}")
    out.append(_LAB_RESETS)
    return "\n".join(out)
