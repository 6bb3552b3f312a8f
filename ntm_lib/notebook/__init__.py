"""The notebook is the report: the names, magics and displays an analyst
uses to write the report's words, tables and charts in JupyterLab.

Public API: :func:`start` (open a commune-year report in the kernel),
:func:`current`, :data:`NAMES` (the names prose may use, with meaning and
unit), :data:`FILTERS` (Vietnamese formats), :class:`ProseError`,
:func:`left_out` (outputs that do not reach the document).
"""
from .names import NAMES
from .parts import left_out, mark, part_of
from .prose import FILTERS, ProseError
from .session import Report, current, start

__all__ = ["FILTERS", "NAMES", "ProseError", "Report", "current", "left_out", "mark",
           "part_of", "start"]
