"""Bounding what a workbook costs before openpyxl opens it.

An .xlsx file is a zip package of XML members. A hostile one can be small
on disk and huge inside (a 413 KB zip bomb took 181 s and 4.2 GB), or hold
a single value in cell A1048576 so that every loop over the rows runs a
million times. :func:`check_package` looks at the package with
:mod:`zipfile` and a streaming XML parser (:mod:`xml.parsers.expat`, fed in
blocks, nothing kept), and refuses, naming the file, the sheet, the cell
and the limit of :mod:`ntm_lib.limits`:

* more members than ``XLSX_MEMBERS``; more than ``XLSX_UNCOMPRESSED_BYTES``
  once uncompressed; a member compressed more than ``XLSX_COMPRESSION_RATIO``
  to one (the sizes are those the zip declares; :mod:`zipfile`, which
  openpyxl reads through, never gives more bytes than declared);
* a cell, merged range or hyperlink range beyond ``SHEET_ROWS`` rows or
  ``SHEET_COLUMNS`` columns (counted from the cells themselves, not from the
  ``<dimension>`` element, which may lie); more than ``XLSX_CELLS`` cells in
  all (merged and hyperlink ranges count every cell they cover, as openpyxl
  makes one object per cell); more than ``XLSX_XML_ELEMENTS`` XML elements;
* a DTD or entity declaration (no spreadsheet program writes one; it is how
  an XML entity bomb starts), a text node longer than a cell can hold.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.parsers import expat

from openpyxl.utils import get_column_letter

from .. import limits
from .problems import WorkbookError, WorkbookLimitError

_BLOCK = 1 << 16
#: Members smaller than this are not judged by their compression ratio.
_RATIO_FLOOR = 256 * 1024
#: Excel's own limit on the characters of one cell.
_EXCEL_CELL_CHARS = 32_767
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


class _Stop(Exception):
    """Raised from inside the parser's handlers to end the scan."""

    def __init__(self, error: WorkbookError) -> None:
        super().__init__(str(error))
        self.error = error


def _n(number: int) -> str:
    """``number`` with Vietnamese thousands dots: 1.048.576."""
    return f"{number:,}".replace(",", ".")


def _limit(file: str, message: str, limit: str | None, value: int, unit: str,
           **where) -> _Stop:
    source = f"limits.{limit}" if limit else "của Excel"
    expected = f"tối đa {_n(value)} {unit} (giới hạn {source})"
    return _Stop(WorkbookLimitError(message, file=file, code="too_large", expected=expected,
                                    **where))


def _column(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


@dataclass
class _Scan:
    """What the scan has counted so far, over all members."""

    file: str
    cells: int = 0
    elements: int = 0
    sheet_of: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)


def check_package(data: bytes, file: str) -> None:
    """Refuse the workbook ``data`` (the bytes of file ``file``) when it is
    over a limit, or when its package or XML is damaged.

    Raises
    ------
    WorkbookLimitError
        A limit is exceeded (exit code 2); the message names the limit.
    WorkbookError
        The zip package or one of its XML members cannot be read (``damaged``).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
            _sizes(infos, file)
            scan = _Scan(file)
            first = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
            ordered = sorted(infos, key=lambda i: (i.filename not in first,
                                                   first.index(i.filename)
                                                   if i.filename in first else 0))
            for info in ordered:
                _scan_member(archive, info, scan)
                if info.filename == first[1]:
                    _name_sheets(scan)
    except _Stop as stop:
        raise stop.error from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError,
            EOFError, OSError, ValueError, zlib.error) as exc:
        raise WorkbookError(f"tệp bị hỏng, không mở được ({exc})", file=file,
                            code="damaged") from None


def _sizes(infos: list[zipfile.ZipInfo], file: str) -> None:
    if len(infos) > limits.XLSX_MEMBERS:
        raise _limit(file, f"gói sổ có {_n(len(infos))} tệp con", "XLSX_MEMBERS",
                     limits.XLSX_MEMBERS, "tệp con")
    total = sum(i.file_size for i in infos)
    if total > limits.XLSX_UNCOMPRESSED_BYTES:
        raise _limit(file, f"sổ giải nén ra {_n(total)} byte", "XLSX_UNCOMPRESSED_BYTES",
                     limits.XLSX_UNCOMPRESSED_BYTES, "byte")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > limits.XLSX_COMPRESSION_RATIO:
            raise _limit(file, f"tệp con {info.filename} nén {ratio:.0f} lần (một quả bom "
                         "nén, không phải sổ Excel thật)", "XLSX_COMPRESSION_RATIO",
                         limits.XLSX_COMPRESSION_RATIO, "lần")


def _name_sheets(scan: _Scan) -> None:
    """Map each worksheet member to its tab's name, once the workbook and
    its relationships were scanned (they are scanned first)."""
    for rid, name in scan.ids.items():
        target = scan.targets.get(rid)
        if target:
            path = target.lstrip("/") if target.startswith("/") else \
                posixpath.normpath(posixpath.join("xl", target))
            scan.sheet_of[path] = name


def _scan_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, scan: _Scan) -> None:
    with archive.open(info) as member:
        block = member.read(_BLOCK)
        if not block.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            return  # not XML (an image, a VBA project): only its size counts
        parser = expat.ParserCreate(namespace_separator=" ")
        state = _Member(scan, info.filename, scan.sheet_of.get(info.filename))
        parser.StartDoctypeDeclHandler = state.doctype
        parser.EntityDeclHandler = state.doctype
        parser.StartElementHandler = state.start
        parser.EndElementHandler = state.end
        parser.CharacterDataHandler = state.text
        try:
            while block:
                parser.Parse(block, False)
                block = member.read(_BLOCK)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise _Stop(WorkbookError(
                f"tệp con {info.filename} hỏng, không đọc được XML ({expat.ErrorString(exc.code)}, "
                f"dòng {exc.lineno})", file=scan.file, code="damaged")) from None


class _Member:
    """The parser's handlers for one member; rows and cells are counted when
    its root element is a worksheet."""

    def __init__(self, scan: _Scan, name: str, sheet: str | None) -> None:
        self.scan, self.name, self.sheet = scan, name, sheet or name
        self.root: str | None = None
        self.row = self.column = self.chars = 0

    def doctype(self, *_args) -> None:
        raise _Stop(WorkbookError(
            f"tệp con {self.name} có khai báo DTD hoặc thực thể XML, điều mà Excel và "
            "LibreOffice không bao giờ ghi: không đọc sổ này", file=self.scan.file,
            code="xml_entities"))

    def text(self, data: str) -> None:
        self.chars += len(data)
        if self.chars > _EXCEL_CELL_CHARS:
            raise _limit(self.scan.file, f"tệp con {self.name} có một đoạn chữ dài hơn một ô "
                         "Excel chứa được", None, _EXCEL_CELL_CHARS, "ký tự một ô")

    def end(self, _name: str) -> None:
        self.chars = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        scan = self.scan
        scan.elements += 1
        self.chars = 0
        if scan.elements > limits.XLSX_XML_ELEMENTS:
            raise _limit(scan.file, f"sổ có hơn {_n(limits.XLSX_XML_ELEMENTS)} phần tử XML "
                         f"(đến tệp con {self.name})", "XLSX_XML_ELEMENTS",
                         limits.XLSX_XML_ELEMENTS, "phần tử")
        local = name.rpartition(" ")[2]
        if self.root is None:
            self.root = local
        if local == "sheet" and self.name == "xl/workbook.xml":
            rid = next((v for k, v in attrs.items() if k.rpartition(" ")[2] == "id"), None)
            if rid and "name" in attrs:
                scan.ids[rid] = attrs["name"]
        elif local == "Relationship" and self.name == "xl/_rels/workbook.xml.rels":
            scan.targets[attrs.get("Id", "")] = attrs.get("Target", "")
        if self.root != "worksheet":
            return
        if local == "row":
            r = attrs.get("r", "")
            self.row = int(r) if r.isdigit() else self.row + 1
            self.column = 0
        elif local == "c":
            m = _REF.fullmatch(attrs.get("r", ""))
            if m:
                self.column, self.row = _column(m.group(1)), int(m.group(2))
            else:
                self.column += 1
            self._cover(self.row, self.column, self.row, self.column, attrs.get("r"))
        elif local in ("mergeCell", "hyperlink") and "ref" in attrs:
            parts = [_REF.fullmatch(p) for p in attrs["ref"].split(":")]
            if all(parts) and len(parts) in (1, 2):
                (c1, r1), (c2, r2) = [(_column(p.group(1)), int(p.group(2)))
                                      for p in (parts[0], parts[-1])]
                self._cover(min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2), attrs["ref"])

    def _cover(self, r1: int, c1: int, r2: int, c2: int, ref: str | None) -> None:
        scan = self.scan
        if r2 > limits.SHEET_ROWS:
            raise _limit(scan.file, f"có ô ở dòng {_n(r2)}, ngoài vùng đọc được: xóa các "
                         "dòng thừa", "SHEET_ROWS", limits.SHEET_ROWS, "dòng",
                         sheet=self.sheet, cell=ref or f"{r2}:{r2}")
        if c2 > limits.SHEET_COLUMNS:
            raise _limit(scan.file, f"có ô ở cột {get_column_letter(min(c2, 16384))}, ngoài "
                         "vùng đọc được: xóa các cột thừa", "SHEET_COLUMNS",
                         limits.SHEET_COLUMNS, "cột", sheet=self.sheet, cell=ref)
        scan.cells += (r2 - r1 + 1) * (c2 - c1 + 1)
        if scan.cells > limits.XLSX_CELLS:
            raise _limit(scan.file, f"sổ có hơn {_n(limits.XLSX_CELLS)} ô (đến trang này)",
                         "XLSX_CELLS", limits.XLSX_CELLS, "ô", sheet=self.sheet)
