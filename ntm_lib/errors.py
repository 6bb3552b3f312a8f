"""Typed errors of the workbook.

Every error carries *where* (file, sheet, row, column, cell, notebook cell)
and *what was expected* as structured fields, and prints as one readable
line: ``data/communes/02881/quarterly.csv, row 3, column visits: expected a
whole number >= 0, found 'ba'``. The command line prints ``str(error)`` and
exits non-zero; the traceback is shown only with ``--debug``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable


class NtmError(Exception):
    """Base class of every error the workbook raises on purpose.

    Parameters
    ----------
    message:
        What is wrong, in plain words.
    file:
        The file the problem is in (path as given to the loader).
    sheet:
        Worksheet name, for Excel input.
    row:
        1-based row number as a person sees it in the file (the header row
        of a CSV is row 1, so the first data row is row 2).
    column:
        Column name (CSV, DataFrame) or letter (Excel).
    cell:
        Spreadsheet cell reference such as ``Tiêu chí!C7``.
    expected, found:
        What the field should hold and what it held.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        cell: str | None = None,
        expected: Any = None,
        found: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.sheet = sheet
        self.row = row
        self.column = column
        self.cell = cell
        self.expected = expected
        self.found = found

    def location(self) -> str:
        """The 'where' part: ``file, sheet S, row R, column C`` (parts present only)."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.cell:
            parts.append(f"cell {self.cell}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = self.message
        if self.expected is not None or self.found is not None:
            detail = []
            if self.expected is not None:
                detail.append(f"expected {self.expected}")
            if self.found is not None:
                detail.append(f"found {self.found!r}")
            text = f"{text} ({', '.join(detail)})"
        where = self.location()
        return f"{where}: {text}" if where else text

    def to_dict(self) -> dict[str, Any]:
        """The structured fields, for JSON batch records."""
        return {
            "type": type(self).__name__,
            "message": self.message,
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "cell": self.cell,
            "expected": None if self.expected is None else str(self.expected),
            "found": None if self.found is None else str(self.found),
        }


class DataError(NtmError):
    """An input data table (CSV) is missing, unreadable or holds a bad value."""


class DataErrors(DataError):
    """Several data problems found at once (lazy validation).

    ``errors`` holds every :class:`DataError`; ``str()`` lists them one per line.
    """

    def __init__(self, errors: Iterable[DataError]) -> None:
        self.errors = list(errors)
        first = self.errors[0] if self.errors else None
        super().__init__(
            f"{len(self.errors)} problem(s) in the input data",
            file=first.file if first else None,
        )

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class UnknownCommuneError(DataError):
    """A commune code or slug is not in the commune registry (a bad argument
    or parameter: exit code 2)."""

    exit_code = 2


class ParameterError(NtmError):
    """Report parameters (a params YAML file or injected values) fail the schema.

    ``parameter`` names the offending parameter (dotted path for nested
    values); ``row``/``column`` are the line and column in the YAML file.
    """

    exit_code = 2

    def __init__(self, message: str, *, parameter: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.parameter = parameter

    def location(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.parameter:
            where.append(f"parameter {self.parameter}")
        return ", ".join(where)


class ParameterErrors(ParameterError):
    """Several parameter problems at once; ``errors`` holds each
    :class:`ParameterError` and ``str()`` lists them one per line."""

    def __init__(self, errors: Iterable[ParameterError]) -> None:
        self.errors = list(errors)
        first = self.errors[0] if self.errors else None
        super().__init__(f"{len(self.errors)} problems in the parameters",
                         file=first.file if first else None,
                         parameter=first.parameter if first else None,
                         row=first.row if first else None)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class OptionError(NtmError):
    """A command-line option names something that cannot be used (a build
    folder that is a file, a Dask scheduler that cannot be reached): bad
    input, exit code 2. ``found`` is the option's value."""

    exit_code = 2


class NotebookError(NtmError):
    """A notebook cannot be used as a report template (e.g. no ``parameters``
    cell): bad input, exit code 2."""

    exit_code = 2


@dataclass
class CellFailure:
    """Where a notebook run failed: cell index (0-based), execution count, error."""

    cell_index: int
    exec_count: int | None
    ename: str
    evalue: str
    source: str = ""


class ExecutionError(NtmError):
    """A cell of the report notebook raised; ``failure`` says which and why.

    The executed notebook, with the failing cell and its traceback, is kept at
    ``file``.
    """

    def __init__(self, failure: CellFailure, *, file: str | Path | None = None) -> None:
        first_line = next((ln for ln in failure.source.splitlines() if ln.strip()), "")
        count = failure.exec_count if failure.exec_count is not None else " "
        message = (
            f"cell {failure.cell_index} (In [{count}]: {first_line[:60]!s}) raised "
            f"{failure.ename}: {failure.evalue}"
        )
        super().__init__(message, file=file)
        self.failure = failure


class RenderError(NtmError):
    """HTML or PDF rendering failed."""


class GlyphMissingError(RenderError):
    """A character has no glyph in the font that must draw it.

    ``characters`` lists the characters (with their code points in the
    message); ``font`` is the font file or family checked; ``where`` says
    which output (``report.pdf``, ``chart criteria_status``).
    """

    def __init__(self, characters: Iterable[str], *, font: str, where: str) -> None:
        chars = sorted(set(characters))
        self.characters = chars
        self.font = font
        self.where = where
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars[:10])
        more = f" and {len(chars) - 10} more" if len(chars) > 10 else ""
        super().__init__(f"{where}: no glyph for {shown}{more} in font {font}")


@dataclass
class Problems:
    """Collector for lazy validation: add problems, raise them all at the end."""

    items: list[DataError] = field(default_factory=list)

    def add(self, error: DataError) -> None:
        self.items.append(error)

    def raise_if_any(self) -> None:
        if len(self.items) == 1:
            raise self.items[0]
        if self.items:
            raise DataErrors(self.items)


class UnsafePathError(NtmError):
    """A path the product would write or read as evidence is unsafe: a
    symbolic link (or a folder reached through one) leading outside the
    folder it must stay in, a file where a folder belongs or the reverse, or
    a file people made that would be overwritten without ``--force``. Bad
    input: exit code 2; ``file`` is the path."""

    exit_code = 2


class LimitError(NtmError):
    """An input exceeds one of the limits of :mod:`ntm_lib.limits` (file
    size, YAML aliases, sheet dimensions, text length, render time). Bad
    input: exit code 2; ``expected`` names the limit, ``found`` the size."""

    exit_code = 2


class DiskFullError(NtmError):
    """A write failed because the disk (or quota) is full; the partial file
    was removed and nothing already in place was touched. Exit code 1."""
