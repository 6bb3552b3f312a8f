"""Finding sheets, heading rows and cells in a filled workbook, whatever
people did to its layout: sheets renamed in another case or without
diacritics, title rows added above the headings, columns moved or added,
blank rows, merged cells, formulas.

Everything here reports into a :class:`~ntm_lib.workbook.problems.Collector`
and returns what could be read; :mod:`~ntm_lib.workbook.read` gives the
cells their meaning.
"""
from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter

from .cells import BadCell, fold
from .problems import Collector
from .spec import GUIDE_NAME, SHEETS, Field, Sheet

ERROR_VALUES = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!",
                "#CALC!", "#GETTING_DATA")
_HEADER_SCAN = 30


@lru_cache(maxsize=4096)
def heading_keys(text: str) -> tuple[str, str]:
    """(full, base) keys of a heading: folded, years and numbers dropped; the
    base also drops a part in parentheses ("Nguồn (năm 2023)" -> "nguon nam",
    "nguon")."""
    text = re.sub(r"[0-9]+", " ", str(text))
    base = re.sub(r"\(.*?\)", " ", text)
    return fold(text), fold(base)


@dataclass
class Cell:
    """One cell as read: ``value`` (None when empty), number ``fmt``, ``ref``
    ("C7"); ``bad`` when a problem was already reported for it (a formula
    without value, an error value, a cell hidden by a merge), so nothing
    more is said about it; ``formula`` the cell's formula when its value
    was calculated by one."""

    value: Any
    fmt: str
    ref: str
    bad: bool = False
    formula: str | None = None

    @property
    def empty(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


@dataclass
class Table:
    """The heading row (``header_row``), the column of each field found
    (``columns``: key -> 1-based column) and the rows below it."""

    sheet: str
    header_row: int
    columns: dict[str, int]
    rows: list[tuple[int, dict[str, Cell]]] = field(default_factory=list)


def find_sheets(values, col: Collector) -> dict[str, Any]:
    """Each spec sheet's worksheet (by key), matched by folded name or alias;
    a missing sheet is a problem, an unknown one a note. Two sheets that
    match one spec sheet ("Theo quy" and "Theo quý", or a name and its
    alias) are both refused: which one holds the figures is not for the
    program to guess."""
    by_key = {}
    for spec in SHEETS:
        keys = {fold(n) for n in (spec.name, *spec.aliases)}
        matches = [ws for ws in values.worksheets if fold(ws.title) in keys]
        if len(matches) > 1:
            shown = ", ".join(f"'{ws.title}'" for ws in matches)
            col.add(f"{len(matches)} trang cùng được hiểu là trang '{spec.name}': {shown}; "
                    "giữ một trang, xóa hoặc đổi tên các trang kia", sheet=spec.name,
                    code="duplicate_sheet", expected="mỗi trang của mẫu chỉ có một")
            continue
        if not matches:
            col.add(f"thiếu trang '{spec.name}' (trang này ghi {spec.holds}); các trang có trong "
                    f"sổ: {', '.join(w.title for w in values.worksheets)}", sheet=spec.name,
                    code="missing_sheet", expected="sổ lập từ lệnh ntm template, giữ tên các trang")
            continue
        by_key[spec.key] = matches[0]
    used = {ws.title for ws in by_key.values()}
    for ws in values.worksheets:
        if ws.title not in used and fold(ws.title) != fold(GUIDE_NAME):
            col.note(f"trang '{ws.title}' không được đọc")
    return by_key


def cell(ws, wsf, row: int, column: int, col: Collector) -> Cell:
    """The cell at (row, column); a formula without a calculated value or an
    error value (#DIV/0!...) is reported and comes back ``bad``; a formula
    with its value comes back with ``formula`` set (see :func:`parse`)."""
    c = ws.cell(row=row, column=column)
    ref = f"{get_column_letter(column)}{row}"
    value = c.value
    text = None
    if wsf is not None:  # a formula cell; not a text that merely starts with "="
        fc = wsf[ws.title].cell(row=row, column=column)
        if fc.data_type == "f":
            formula = fc.value
            text = formula if isinstance(formula, str) else getattr(formula, "text", None)
            text = text if isinstance(text, str) else "="
    if value is None and text is not None:
        col.add("ô có công thức nhưng chưa có giá trị đã tính (sổ được lưu bởi một chương "
                "trình không tính công thức): mở sổ bằng Excel hoặc LibreOffice, để tính "
                "xong rồi lưu lại, hoặc gõ thẳng con số", sheet=ws.title, cell=ref,
                found=_short(text), code="formula_without_value")
        return Cell(text, "General", ref, bad=True)
    if isinstance(value, str) and value.strip() in ERROR_VALUES:
        col.add("ô có lỗi công thức", sheet=ws.title, cell=ref, found=value.strip(),
                code="formula_error", expected="một giá trị")
        return Cell(value, "General", ref, bad=True)
    return Cell(value, c.number_format or "General", ref, formula=text)


def _short(text: str, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` characters, for a message."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width] + "…"


def _match(keys: tuple[str, str], fields: tuple[Field, ...], taken: set[str]) -> Field | None:
    full, base = keys
    for level in (0, 1):
        for f in fields:
            if f.key in taken:
                continue
            names = [heading_keys(h) for h in (f.heading, *f.aliases)]
            if (level == 0 and full in {n[0] for n in names}) or \
               (level == 1 and base in {n[1] for n in names} | {n[0] for n in names}):
                return f
    return None


def _header_row(ws, fields: tuple[Field, ...]) -> tuple[int, dict[str, int]] | None:
    best: tuple[int, dict[str, int]] | None = None
    for r in range(1, min(ws.max_row, _HEADER_SCAN) + 1):
        columns: dict[str, int] = {}
        for c in range(1, ws.max_column + 1):
            value = ws.cell(row=r, column=c).value
            if isinstance(value, str) and value.strip():
                f = _match(heading_keys(value.strip()), fields, set(columns))
                if f is not None:
                    columns[f.key] = c
        if columns and (best is None or len(columns) > len(best[1])):
            best = (r, columns)
    need = 2 if len(fields) > 2 else 1
    return best if best and len(best[1]) >= need else None


def _merged(ws, header_row: int, col: Collector) -> set[tuple[int, int]]:
    """Report merged ranges in the headings or the data; return the (row,
    column) of every cell they cover."""
    covered: set[tuple[int, int]] = set()
    for merged in ws.merged_cells.ranges:
        if merged.max_row < header_row or merged.size == {"columns": 1, "rows": 1}:
            continue
        covered |= set(merged.cells)
        if merged.min_row <= header_row <= merged.max_row:
            col.add("các ô tiêu đề cột được gộp (merge): bỏ gộp ô, mỗi cột một tiêu đề riêng trên "
                    "cùng một dòng", sheet=ws.title, cell=merged.coord, code="merged_header")
        else:
            col.add("các ô được gộp (merge): bỏ gộp ô và ghi giá trị vào từng ô", sheet=ws.title,
                    cell=merged.coord, code="merged_cells")
    return covered


def read_table(ws, wsf, spec: Sheet, col: Collector) -> Table | None:
    """The heading row and data rows of a table sheet (or the label/value
    rows of a form sheet, with fields ``label`` and ``value``).

    Rows whose cells are all empty are skipped; a column with values but no
    heading, a heading twice, a missing required column and merged cells
    are problems; a column with an unknown heading is a note.
    """
    fields = spec.fields
    found = _header_row(ws, fields)
    headings = ", ".join(f"'{f.heading}'" for f in fields if f.required)
    if found is None:
        col.add("không tìm thấy dòng tiêu đề cột", sheet=ws.title, code="no_header",
                expected=f"một dòng có các tiêu đề {headings}")
        return None
    header_row, columns = found
    covered = _merged(ws, header_row, col)
    for c in range(1, ws.max_column + 1):
        if c in columns.values() or (header_row, c) in covered:
            continue
        head = ws.cell(row=header_row, column=c).value
        letter = get_column_letter(c)
        has_values = any(ws.cell(row=r, column=c).value not in (None, "")
                         for r in range(header_row + 1, ws.max_row + 1))
        if head not in (None, "") and fold(str(head)):
            field_ = _match(heading_keys(str(head)), fields, set())
            if field_ is not None:
                col.add(f"cột '{field_.heading}' có hai lần", sheet=ws.title,
                        cell=f"{letter}{header_row}", found=str(head), code="duplicate_column")
            elif has_values:
                col.note(f"cột '{head}' không có trong mẫu nên không được đọc", sheet=ws.title,
                         cell=f"{letter}{header_row}")
        elif has_values:
            col.add("cột có số liệu nhưng không có tiêu đề", sheet=ws.title,
                    cell=f"{letter}{header_row}", code="unnamed_column",
                    expected="xóa số liệu thừa hoặc ghi vào đúng cột")
    for f in fields:
        if f.required and f.key not in columns:
            col.add(f"thiếu cột '{f.heading}'", sheet=ws.title, cell=f"{header_row}:{header_row}",
                    code="missing_column", expected=f"dòng tiêu đề có các cột {headings}")
    table = Table(ws.title, header_row, columns)
    for r in range(header_row + 1, ws.max_row + 1):
        cells = {}
        for key, c in columns.items():
            got = cell(ws, wsf, r, c, col)
            if (r, c) in covered:
                got.bad = True
            if got.bad or not got.empty:
                cells[key] = got
        if cells:
            table.rows.append((r, cells))
    return table


def cell_ref(columns: dict[str, int], key: str, row: int) -> str:
    """The reference of the (empty) cell of field ``key`` in ``row``."""
    return f"{get_column_letter(columns[key])}{row}" if key in columns else f"{row}:{row}"


#: Kinds of free text, which reach the report as they are: a formula there
#: is refused even with its calculated value (see :func:`parse`).
TEXT_KINDS = ("text", "paragraph")


def parse(c: Cell, f: Field, sheet: str, col: Collector, parser) -> Any:
    """``parser(value, fmt)``, a :class:`BadCell` becoming a problem at the
    cell; None for a cell already reported.

    A formula in a free-text field (:data:`TEXT_KINDS`) is refused even when
    its value was calculated: the text of a report must be what the officer
    typed, not what a formula gave on some computer (``=WEBSERVICE(...)``
    fetches text from the web; a cached value may be stale). A number
    calculated by a formula (``=SUM(C5:C8)``) is read as its value."""
    if c.bad:
        return None
    if c.formula is not None and f.kind in TEXT_KINDS:
        col.add(f"{f.heading}: ô chữ có công thức; hãy gõ thẳng chữ vào ô (hoặc Sao chép rồi "
                "Dán giá trị: Paste Special > Values)", sheet=sheet, cell=c.ref,
                found=_short(c.formula), expected="chữ gõ thẳng, không phải công thức",
                code="formula_in_text")
        return None
    try:
        return parser(c.value, c.fmt)
    except BadCell as bad:
        col.add(f"{f.heading}: {bad.message}", sheet=sheet, cell=c.ref, found=_shown(c.value),
                expected=bad.expected, code=bad.code)
        return None


def _shown(value: Any) -> Any:
    """A cell's value as a message shows it: 3.0 as 3, long text or numbers cut."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return "một số có hơn 60 chữ số"
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = str(value)
        return _short(text) if len(text) > 60 or isinstance(value, str) else value
    return value
