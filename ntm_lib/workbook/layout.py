"""Writing the workbook's sheets with openpyxl: headings, cells with their
number formats, drop-down lists and number checks, form sheets, the guide.

Every value goes through :func:`write`: text is always a text cell, never a
formula. openpyxl makes a cell a formula when its text starts with "=" (and
an error value when it is "#N/A"...); a registry name or a sentence
"=WEBSERVICE(...)" would then run when the workbook is opened, so the
cell's type is set back to text (it is written as an inline string, which
Excel, LibreOffice and openpyxl read as text). The workbook holds no formula
of its own; its drop-down lists and number checks are data validations,
which this does not touch. Secret values are redacted, and a control
character that a workbook cannot hold is refused naming the sheet and cell.

Used by :mod:`~ntm_lib.workbook.template`; the layout itself is
:mod:`~ntm_lib.workbook.spec`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..errors import DataError
from ..redact import redact_text
from .spec import (
    FORM_HELP, FORM_LABEL, FORM_VALUE, LAYOUT_VERSION, SHEETS, STATUS_CHOICES, SUPPORT_KINDS, Sheet,
)

HEADER_ROW = 4
BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
NOTE = Font(italic=True, color="555555")
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_KNOWN_FILL = PatternFill("solid", fgColor="F2F2F2")
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CELL_CHARS = 32_767  # Excel's limit on one cell
_LABELS = {"met": STATUS_CHOICES[0], "not_met": STATUS_CHOICES[1]}


def write(ws, row: int, column: int, value: Any):
    """Set the cell at (row, column) to ``value`` and return it; text stays
    text (never a formula or an error value), with secrets redacted.

    Raises
    ------
    DataError
        The text holds a control character no workbook can hold (U+0000 to
        U+001F but tab and line breaks), or is longer than a cell holds
        (32,767 characters); the message names the sheet and cell.
    """
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        bad = ILLEGAL_CHARACTERS_RE.search(value)
        if bad or len(value) > _CELL_CHARS:
            what = (f"holds the control character U+{ord(bad.group()):04X}" if bad else
                    f"is {len(value):,} characters long (a cell holds {_CELL_CHARS:,})")
            raise DataError(f"the text {what}, which a workbook cannot hold: correct it in "
                            "data/ or params/", sheet=ws.title, cell=cell.coordinate,
                            found=value[:60])
        cell.value = redact_text(value)
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def write_head(ws, spec: Sheet, headings: list[str], info: str, note: str) -> None:
    write(ws, 1, 1, spec.title).font = _TITLE
    write(ws, 2, 1, info).font = NOTE
    write(ws, 3, 1, note).font = NOTE
    for c, text in enumerate(headings, start=1):
        cell = write(ws, HEADER_ROW, c, text)
        cell.font, cell.fill, cell.border, cell.alignment = BOLD, _HEAD_FILL, _BORDER, _WRAP
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.row_dimensions[HEADER_ROW].height = 45


_FORMATS = {"int": "0", "code": "@", "text": "@", "date": "@", "report_date": "@",
            "paragraph": "@", "status": "@", "criterion": "0", "quarter": "@", "section": "@",
            "support_kind": "@", "set_id": "@", "style_id": "@", "year": "0"}


def put(ws, row: int, column: int, value: Any, kind: str, known: bool = False) -> None:
    cell = write(ws, row, column, shown(value, kind))
    cell.number_format = _FORMATS.get(kind, "General")
    cell.border = _BORDER
    cell.alignment = _WRAP
    if known:
        cell.fill = _KNOWN_FILL


def shown(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "status":
        return _LABELS.get(value, value)
    if kind == "support_kind":
        return SUPPORT_KINDS.get(value, value)
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if kind == "report_date":
        parts = str(value).split("-")
        return "/".join(reversed(parts))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def add_validation(ws, kind: str, cells: str, choices: dict[str, tuple[str, ...]]) -> None:
    message = {"status": "Chọn Đạt, Không đạt hoặc Không có số liệu",
               "int": "Ghi một số nguyên không âm", "money": "Ghi số tiền bằng triệu đồng",
               "percent": "Ghi một tỷ lệ phần trăm từ 0 đến 100"}
    if kind in choices:
        dv = DataValidation(type="list", formula1='"' + ",".join(choices[kind]) + '"',
                            allow_blank=True)
    elif kind == "int":
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0",
                            allow_blank=True)
    elif kind in ("money", "number", "points", "percent_of_plan"):
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                            allow_blank=True)
    elif kind == "percent":
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="100",
                            allow_blank=True)
    else:
        return
    dv.error = message.get(kind, "Giá trị không hợp lệ")
    dv.errorTitle = "Giá trị không hợp lệ"
    dv.showErrorMessage = True
    ws.add_data_validation(dv)
    dv.add(cells)


def write_rows(ws, spec: Sheet, rows: list[dict[str, Any]], first: int, spare: int, choices: dict,
           known_keys: tuple[str, ...] = ()) -> None:
    for r, row in enumerate(rows, start=first):
        for c, f in enumerate(spec.fields, start=1):
            put(ws, r, c, row.get(f.key), f.kind, known=f.key in known_keys)
    last = first + len(rows) + spare - 1
    for r in range(first + len(rows), last + 1):
        for c, f in enumerate(spec.fields, start=1):
            put(ws, r, c, None, f.kind)
    for c, f in enumerate(spec.fields, start=1):
        letter = get_column_letter(c)
        ws.column_dimensions[letter].width = f.width
        add_validation(ws, f.kind, f"{letter}{first}:{letter}{max(last, first)}", choices)


def write_form(ws, spec: Sheet, values: dict[str, list[Any]], choices: dict) -> None:
    write_head(ws, spec, [FORM_LABEL, FORM_VALUE, FORM_HELP], spec.holds.capitalize(),
          "Ghi ở cột Giá trị; không đổi tên ở cột Thông tin. Dòng có thể lặp lại được ghi "
          "nhiều dòng, mỗi dòng một giá trị.")
    r = HEADER_ROW + 1
    for f in spec.fields:
        given = values.get(f.key) or []
        count = len(given) + 2 if f.repeat else 1
        for i in range(count):
            label = write(ws, r, 1, f.heading)
            label.font, label.border = BOLD, _BORDER
            put(ws, r, 2, given[i] if i < len(given) else None, f.kind)
            unit = f"Đơn vị: {f.unit}. " if f.unit else ""
            write(ws, r, 3, (unit + f.help).strip() or None).font = NOTE
            add_validation(ws, f.kind, f"B{r}", choices)
            r += 1
    for letter, width in (("A", 30), ("B", 60), ("C", 60)):
        ws.column_dimensions[letter].width = width


def write_guide(ws) -> None:
    write(ws, 1, 1, "HƯỚNG DẪN GHI SỔ SỐ LIỆU").font = _TITLE
    notes = [
        f"Mẫu sổ phiên bản {LAYOUT_VERSION}. Không đổi tên các trang và các tiêu đề cột; "
        "không gộp (merge) ô; có thể thêm cột ghi chú (không được đọc).",
        "Số: dấu phẩy thập phân, dấu chấm phân cách hàng nghìn (1.234,5); tỷ lệ ghi 31,58 "
        "hoặc 31,58%. Tiền ghi bằng triệu đồng. Ngày ghi ngày/tháng/năm (09/02/2023).",
        "Tình trạng tiêu chí: Đạt, Không đạt (hoặc Chưa đạt), Không có số liệu; không dùng dấu x.",
        "Nhập sổ: ntm import <tệp.xlsx>. Mọi lỗi được báo cùng lúc, kèm trang và ô cần sửa; "
        "khi còn lỗi thì không ghi gì.",
    ]
    for r, text in enumerate(notes, start=2):
        write(ws, r, 1, text).font = NOTE
    headings = ["Trang", "Cột / dòng", "Nội dung", "Đơn vị", "Bắt buộc", "Ví dụ"]
    top = len(notes) + 3
    for c, text in enumerate(headings, start=1):
        cell = write(ws, top, c, text)
        cell.font, cell.fill, cell.border = BOLD, _HEAD_FILL, _BORDER
    r = top + 1
    for spec in SHEETS:
        for f in spec.fields:
            for c, value in enumerate((spec.name, f.heading, f.help, f.unit,
                                       "có" if f.required else "", f.example), start=1):
                cell = write(ws, r, c, value or None)
                cell.border, cell.alignment = _BORDER, _WRAP
                cell.number_format = "@"
            r += 1
    for letter, width in zip("ABCDEF", (18, 36, 60, 16, 9, 36)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
