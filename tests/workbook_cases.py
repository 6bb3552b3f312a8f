"""Bad workbooks, each built by code, and what ``ntm import`` must say.

Each case is ``(id, build, code, message)``: ``build(good, path)`` writes the
bad file at ``path`` from the path of a good workbook (the template of the
sample, which imports cleanly), ``code`` is the problem's reason code and
``message`` a part of the line the officer reads (with the cell to fix).
The catalogue is used by ``tests/test_workbook.py``.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Callable

import openpyxl

OLE = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504)


def raw(data: bytes) -> Callable[[Path, Path], None]:
    def build(good: Path, path: Path) -> None:
        path.write_bytes(data)
    return build


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def edit(change: Callable[[openpyxl.Workbook], None]) -> Callable[[Path, Path], None]:
    """A case that loads the good workbook, changes it and saves it."""
    def build(good: Path, path: Path) -> None:
        wb = openpyxl.load_workbook(good)
        change(wb)
        wb.save(path)
    return build


def cell(sheet: str, ref: str, value) -> Callable[[openpyxl.Workbook], None]:
    def change(wb):
        wb[sheet][ref] = value
    return change


def both(*changes) -> Callable[[openpyxl.Workbook], None]:
    def change(wb):
        for c in changes:
            c(wb)
    return change


def form_value(sheet: str, label: str, value) -> Callable[[openpyxl.Workbook], None]:
    """Set the value of the first row of a form sheet labelled ``label``."""
    def change(wb):
        ws = wb[sheet]
        row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)
        ws.cell(row, 2).value = value
    return change


def _delete_sheet(name):
    def change(wb):
        del wb[name]
    return change


def _rename_sheet(name, new):
    def change(wb):
        wb[name].title = new
    return change


def _merge(sheet, cells):
    def change(wb):
        wb[sheet].merge_cells(cells)
    return change


def _delete_column(sheet, index):
    def change(wb):
        wb[sheet].delete_cols(index)
    return change


def _empty_workbook(good: Path, path: Path) -> None:
    openpyxl.Workbook().save(path)


def _closing_removed(wb):
    ws = wb["Lời văn"]
    for r in range(5, ws.max_row + 1):
        if ws.cell(r, 1).value == "Lời kết":
            ws.cell(r, 2).value = None


def _header_removed(wb):
    ws = wb["Văn bản"]
    for c in range(1, 6):
        ws.cell(4, c).value = None


# The sample's template: "Tiêu chí" has the as-of row 5 and criteria 1..19 in
# rows 6..24 (status in C, previous year in E); "Theo quý" has quarters I-IV in
# rows 5..8 and the year in row 9; "Văn bản" documents from row 5.
CASES: list[tuple[str, Callable[[Path, Path], None], str, str]] = [
    ("empty-file", raw(b""), "empty_file", "tệp rỗng"),
    ("csv-file", raw("year,quarter\n2023,1\n".encode()), "not_a_workbook", "tệp văn bản"),
    ("pdf-file", raw(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "not_a_workbook", "PDF"),
    ("password-protected", raw(OLE + "EncryptedPackage".encode("utf-16-le") + bytes(64)),
     "password_protected", "mật khẩu"),
    ("old-xls", raw(OLE + "Workbook".encode("utf-16-le") + bytes(64)), "old_xls", ".xls"),
    ("libreoffice-ods", raw(_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                  "content.xml": b"<x/>"})), "ods", ".ods"),
    ("zip-not-workbook", raw(_zip({"readme.txt": b"hello"})), "not_a_workbook", "tệp nén ZIP"),
    ("damaged-zip", raw(b"PK\x03\x04" + bytes(100)), "damaged", "hỏng"),
    ("workbook-without-sheets", _empty_workbook, "missing_sheet", "thiếu trang 'Thông tin chung'"),
    ("missing-sheet", edit(_delete_sheet("Theo quý")), "missing_sheet", "thiếu trang 'Theo quý'"),
    ("renamed-sheet", edit(_rename_sheet("Văn bản", "Sheet3")), "missing_sheet",
     "các trang có trong sổ: Thông tin chung, Tiêu chí, Tiêu chí nâng cao, Theo quý, Sheet3"),
    ("status-mark-x", edit(cell("Tiêu chí", "C7", "x")), "status_mark", "Tiêu chí!C7: "),
    ("status-blank", edit(cell("Tiêu chí", "C9", None)), "blank_status",
     "Tiêu chí!C9: chưa ghi tình trạng tiêu chí 4 (Điện)"),
    ("status-unknown", edit(cell("Tiêu chí", "C8", "Tốt")), "bad_status", "Tiêu chí!C8"),
    ("status-mark-advanced", edit(cell("Tiêu chí nâng cao", "C13", "✓")), "status_mark",
     "Tiêu chí nâng cao!C13"),
    ("criterion-outside-set", edit(cell("Tiêu chí", "A24", 20)), "criterion_outside_set",
     "Tiêu chí!A24: không có tiêu chí 20"),
    ("criterion-twice", edit(cell("Tiêu chí", "A24", 18)), "duplicate_criterion",
     "tiêu chí 18 được ghi hai lần"),
    ("tcvn3-text", edit(cell("Văn bản", "D5", "KÕ ho¹ch gióp ®ì x· B¸t X¸t")), "legacy_encoding",
     "Văn bản!D5: Trích yếu nội dung: chữ viết bằng bảng mã cũ TCVN3"),
    ("vni-text", edit(cell("Hỗ trợ", "D5", "hoä ngheøo")), "legacy_encoding", "bảng mã cũ VNI"),
    ("impossible-date", edit(cell("Văn bản", "C5", "31/02/2023")), "impossible_date",
     "ngày 31/02/2023 không có thật: tháng 2 năm 2023 chỉ có 28 ngày"),
    ("date-outside-year", edit(cell("Văn bản", "C6", "18/04/2022")), "date_outside_year",
     "Văn bản!C6: ngày ban hành ngoài năm báo cáo 2023"),
    ("two-digit-year", edit(cell("Văn bản", "C7", "19/4/23")), "two_digit_year", "4 chữ số"),
    ("words-for-a-number", edit(cell("Theo quý", "C6", "bảy")), "not_a_number",
     "Theo quý!C6: Số lượt trực tiếp về xã làm việc: không phải là số"),
    ("decimal-count", edit(cell("Theo quý", "B5", "2,5")), "not_whole", "không phải số nguyên"),
    ("negative-count", edit(cell("Theo quý", "C5", -3)), "negative", "không được là số âm"),
    ("money-in-dong", edit(cell("Theo quý", "D5", "10.000.000")), "unit_dong", "triệu đồng"),
    ("formula-without-value", edit(cell("Theo quý", "C9", "=SUM(C5:C8)")),
     "formula_without_value", "Theo quý!C9: ô có công thức nhưng chưa có giá trị"),
    ("formula-error", edit(cell("Theo quý", "D9", "#DIV/0!")), "formula_error", "#DIV/0!"),
    ("merged-data-cells", edit(_merge("Theo quý", "F5:F8")), "merged_cells", "Theo quý!F5:F8"),
    ("merged-header-cells", edit(_merge("Theo quý", "E4:F4")), "merged_header",
     "Theo quý!E4:F4: các ô tiêu đề cột được gộp"),
    ("missing-column", edit(_delete_column("Theo quý", 3)), "missing_column",
     "thiếu cột 'Số lượt trực tiếp về xã làm việc'"),
    ("no-heading-row", edit(_header_removed), "no_header", "không tìm thấy dòng tiêu đề cột"),
    ("unnamed-column-with-values", edit(cell("Theo quý", "J6", 5)), "unnamed_column", "Theo quý!J4"),
    ("quarter-twice", edit(cell("Theo quý", "A6", "Quý I")), "duplicate_quarter",
     "quý này được ghi hai lần"),
    ("quarter-unknown", edit(cell("Theo quý", "A8", "Quý V")), "bad_quarter", "Theo quý!A8"),
    ("quarter-label-missing", edit(cell("Theo quý", "A7", None)), "empty_cell",
     "dòng có số liệu nhưng không ghi quý"),
    ("met-above-registered", edit(cell("Theo quý", "E6", 25)), "met_above_registered",
     "số tiêu chí hoàn thành lớn hơn số tiêu chí đăng ký"),
    ("required-cell-empty", edit(cell("Văn bản", "B6", None)), "empty_cell",
     "Văn bản!B6: ô trống: cần ghi 'Loại văn bản'"),
    ("document-twice", edit(cell("Văn bản", "A6", "256a-KH/HNDT")), "duplicate_document",
     "văn bản này được ghi hai lần"),
    ("unknown-commune", edit(form_value("Thông tin chung", "Mã xã", "99999")), "unknown_commune",
     "Thông tin chung!B5: mã xã 99999 không có trong danh mục xã"),
    ("code-with-letter", edit(form_value("Thông tin chung", "Mã xã", "O2881")), "bad_code",
     "mã xã chỉ gồm chữ số"),
    ("commune-name-mismatch", edit(form_value("Thông tin chung", "Tên xã", "Nậm Khánh")),
     "name_mismatch", "tên xã không khớp với mã 02881 (Nậm Mòn)"),
    ("unknown-criteria-set", edit(form_value("Thông tin chung", "Bộ tiêu chí", "ntm-2099")),
     "unknown_set", "không có bộ tiêu chí này"),
    ("report-date-before-year", edit(form_value("Thông tin chung", "Ngày báo cáo", "05/12/2022")),
     "date_before_year", "ngày báo cáo trước năm báo cáo 2023"),
    ("percent-above-100", edit(form_value("Giảm nghèo", "Tỷ lệ nghèo đa chiều đầu năm", "131,5")),
     "out_of_range", "tỷ lệ phần trăm lớn hơn 100"),
    ("unknown-placeholder", edit(cell("Lời văn", "B5", "Giúp xã {xa_name} hoàn thành.")),
     "bad_placeholder", "Lời văn!B5: tên trong ngoặc nhọn không có: {xa_name}"),
    ("closing-missing", edit(_closing_removed), "missing_closing", "thiếu Lời kết"),
    ("signer-missing", edit(form_value("Thông tin chung", "Họ và tên người ký", None)),
     "missing_field", "Thông tin chung!B21: thiếu 'Họ và tên người ký'"),
    ("body-in-running-text-missing",
     edit(form_value("Thông tin chung", "Tên cơ quan trong câu văn", None)), "missing_field",
     "thiếu 'Tên cơ quan trong câu văn'"),
]


# --------------------------------------------------------------------------- hostile workbooks
# Built by editing the package's XML where openpyxl cannot write the case
# (a formula with its calculated value, a DTD, a dimension that lies). Used
# by tests/test_hostile_workbook.py.

SHEET_MEMBERS = {"Thông tin chung": "xl/worksheets/sheet1.xml", "Theo quý": "xl/worksheets/sheet4.xml",
                 "Văn bản": "xl/worksheets/sheet5.xml", "Lời văn": "xl/worksheets/sheet8.xml",
                 "Hướng dẫn": "xl/worksheets/sheet9.xml"}


def rezip(path: Path, change: Callable[[dict[str, bytes]], None],
          compression: int = zipfile.ZIP_DEFLATED) -> None:
    """Rewrite the zip package at ``path``: ``change`` edits the dict of
    member name -> bytes in place."""
    with zipfile.ZipFile(path) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    change(members)
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def xml_edit(sheet: str, change: Callable[[bytes], bytes]) -> Callable[[Path, Path], None]:
    """A case: the good workbook with the XML of ``sheet`` changed."""
    def build(good: Path, path: Path) -> None:
        path.write_bytes(good.read_bytes())
        member = SHEET_MEMBERS[sheet]

        def edit_member(members):
            members[member] = change(members[member])
        rezip(path, edit_member)
    return build


def cached_formula(sheet: str, ref: str, formula: str, value: str) -> Callable[[Path, Path], None]:
    """A case: cell ``ref`` holds ``formula`` with the text ``value`` as its
    calculated result (as Excel saves it; openpyxl cannot write both)."""
    import re
    from xml.sax.saxutils import escape

    def set_formula(wb):
        wb[sheet][ref] = formula

    def change(xml: bytes) -> bytes:
        pattern = rb'<c r="' + ref.encode() + rb'"([^>]*)><f>(.*?)</f>(?:<v ?/>|<v></v>)?</c>'
        new, n = re.subn(pattern, lambda m: b'<c r="' + ref.encode() + b'"' + m.group(1)
                         + b' t="str"><f>' + m.group(2) + b"</f><v>"
                         + escape(value).encode() + b"</v></c>", xml)
        assert n == 1, xml[:400]
        return new

    def build(good: Path, path: Path) -> None:
        edit(set_formula)(good, path)
        xml_edit(sheet, change)(path, path)
    return build


def add_sheet_copy(source: str, title: str) -> Callable[[openpyxl.Workbook], None]:
    """A change: a copy of sheet ``source`` named ``title``."""
    def change(wb):
        wb.copy_worksheet(wb[source]).title = title
    return change


def big_member(name: str, size: int, byte: bytes = b" ") -> Callable[[Path, Path], None]:
    """A case: the good workbook plus a member of ``size`` repeated bytes."""
    def build(good: Path, path: Path) -> None:
        path.write_bytes(good.read_bytes())
        rezip(path, lambda m: m.__setitem__(name, byte * size))
    return build


def many_members(count: int) -> Callable[[Path, Path], None]:
    def build(good: Path, path: Path) -> None:
        path.write_bytes(good.read_bytes())
        rezip(path, lambda m: m.update({f"xl/media/x{i}.bin": b"" for i in range(count)}))
    return build


ENTITY_BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
               + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1
                                                          else b"&lol;") * 10)
                          for i in range(1, 10)) + b"]>")


def with_entity_bomb(xml: bytes) -> bytes:
    """A worksheet with a billion-laughs DTD in front and the entity used."""
    body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
    return ENTITY_BOMB + body.replace(b"<sheetData>", b"<sheetData>&lol9;", 1)


def lying_size(name: str, size: int, declared: int = 1000) -> Callable[[Path, Path], None]:
    """A case: the good workbook plus a member of ``size`` zero bytes whose
    zip headers declare only ``declared`` bytes (a bomb hiding its size)."""
    import struct

    def build(good: Path, path: Path) -> None:
        path.write_bytes(good.read_bytes())
        rezip(path, lambda m: m.__setitem__(name, bytes(size)))
        data = bytearray(path.read_bytes())
        for signature, name_at, header, size_at in ((b"PK\x03\x04", 26, 30, 22),
                                                    (b"PK\x01\x02", 28, 46, 24)):
            pos = data.find(signature)
            while pos >= 0:
                length = struct.unpack_from("<H", data, pos + name_at)[0]
                if data[pos + header:pos + header + length] == name.encode():
                    struct.pack_into("<I", data, pos + size_at, declared)
                pos = data.find(signature, pos + 4)
        path.write_bytes(bytes(data))
    return build
