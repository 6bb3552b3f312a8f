"""The magics of a report notebook.

``%%report`` (a cell): Markdown with inline values and Jinja2 conditions,
rendered with the report's names (:mod:`ntm_lib.notebook.prose`) and shown
as a part of the report. ``%%report html``: the cell is HTML, not Markdown.

``%layout NAME`` (a line): the layout ``notebooks/layouts/NAME.html.j2``
(document header, signature block, appendix table), rendered the same way.
"""
from __future__ import annotations

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import HTML, display

from .parts import mark, wrap


@magics_class
class ReportMagics(Magics):
    """``%%report`` and ``%layout``."""

    @cell_magic
    def report(self, line: str, cell: str) -> None:
        """Render the cell as report prose (see the module docstring)."""
        from .session import current

        html = current().prose(cell, markdown=line.strip() != "html", first_line=2)
        display(HTML(wrap(html)), metadata=mark("prose"))

    @line_magic
    def layout(self, line: str) -> None:
        """Render a layout of ``notebooks/layouts/``."""
        from .session import current

        display(HTML(wrap(current().layout(line.strip()))), metadata=mark("layout"))
