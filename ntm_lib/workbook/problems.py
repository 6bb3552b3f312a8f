"""Problems found in a workbook: where (file, sheet, cell), what was found,
what was expected, in plain Vietnamese; collected lazily and raised at once.

``str()`` of a problem is one line an officer can act on::

    nam-mon-2024.xlsx, Tiêu chí!C7: dấu 'x' không cho biết đạt hay không đạt
    (ô ghi 'x'; cần: Đạt, Không đạt hoặc Không có số liệu)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import DataError, LimitError


class WorkbookError(DataError):
    """One problem in a data workbook; exit code 2 (invalid input).

    ``sheet`` and ``cell`` ("C7", or "C4:D4" for a range) say where; ``code``
    is a machine-readable reason (``status_mark``, ``missing_sheet``, ...).
    """

    exit_code = 2

    def __init__(self, message: str, *, code: str = "invalid", **where: Any) -> None:
        super().__init__(message, **where)
        self.code = code

    def location(self) -> str:
        place = ""
        if self.sheet and self.cell:
            place = f"{self.sheet}!{self.cell}"
        elif self.sheet:
            place = f"trang {self.sheet}"
        return ", ".join(p for p in (self.file, place) if p)

    def __str__(self) -> str:
        detail = []
        if self.found is not None:
            detail.append(f"ô ghi '{self.found}'")
        if self.expected is not None:
            detail.append(f"cần: {self.expected}")
        text = self.message + (f" ({'; '.join(detail)})" if detail else "")
        where = self.location()
        return f"{where}: {text}" if where else text

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "code": self.code}


class WorkbookLimitError(WorkbookError, LimitError):
    """A workbook over one of the limits of :mod:`ntm_lib.limits` (file
    size, uncompressed size, compression ratio, members, sheet rows or
    columns, cells, XML elements): a :class:`WorkbookError` and a
    :class:`~ntm_lib.errors.LimitError`, exit code 2. ``expected`` names
    the limit; ``sheet`` and ``cell`` say where when known."""


class WorkbookErrors(WorkbookError):
    """Every problem of a workbook; ``str()`` lists them one per line."""

    def __init__(self, errors: Iterable[WorkbookError]) -> None:
        self.errors = list(errors)
        first = self.errors[0] if self.errors else None
        super().__init__(f"{len(self.errors)} lỗi trong sổ", file=first.file if first else None,
                         code="several")

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


@dataclass
class Collector:
    """Lazy validation of one workbook: problems (which stop the import)
    and notes (what was read differently from how it was written, e.g. a
    code padded with its lost zero), both with the file name set."""

    file: str
    problems: list[WorkbookError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, message: str, *, sheet: str | None = None, cell: str | None = None,
            found: Any = None, expected: Any = None, code: str = "invalid") -> None:
        self.problems.append(WorkbookError(message, file=self.file, sheet=sheet, cell=cell,
                                           found=found, expected=expected, code=code))

    def note(self, text: str, *, sheet: str | None = None, cell: str | None = None) -> None:
        where = f"{sheet}!{cell}: " if sheet and cell else (f"{sheet}: " if sheet else "")
        self.notes.append(where + text)

    def raise_if_any(self) -> None:
        if len(self.problems) == 1:
            raise self.problems[0]
        if self.problems:
            raise WorkbookErrors(self.problems)
