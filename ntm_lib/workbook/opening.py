"""Opening a file that should be a data workbook (.xlsx), or saying plainly
why it is not one: empty, password-protected, old .xls, LibreOffice .ods,
a CSV or another file, damaged, or over a limit (:mod:`~ntm_lib.workbook.package`).
The file is read once; openpyxl reads those bytes, not the file again.

A password-protected .xlsx is not a ZIP package but an OLE compound file
(magic bytes ``D0 CF 11 E0``) holding an ``EncryptedPackage`` stream; the
old Excel 97-2003 .xls is an OLE file too, without that stream.
"""
from __future__ import annotations

import io
import stat
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

from .. import limits
from .package import check_package
from .problems import WorkbookError, WorkbookLimitError

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_SAVE_AS = "mở bằng Excel hoặc LibreOffice và Lưu thành (Save As) kiểu Excel Workbook (.xlsx)"


def _refuse(path: Path, message: str, code: str, expected: str | None = None) -> WorkbookError:
    return WorkbookError(message, file=path.name, code=code, expected=expected)


def sniff(path: Path) -> bytes:
    """The bytes of the .xlsx workbook at ``path`` (read once, at most
    ``limits.XLSX_FILE_BYTES``), or :class:`WorkbookError` saying why it is
    not one; its zip package is checked by
    :func:`~ntm_lib.workbook.package.check_package`."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise _refuse(path, "không tìm thấy tệp", "not_found") from None
    except OSError as exc:
        raise _refuse(path, f"không đọc được tệp ({exc.strerror})", "unreadable") from None
    if stat.S_ISDIR(info.st_mode):
        raise _refuse(path, "đây là thư mục, không phải tệp", "not_a_file")
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(path, "đây không phải một tệp thường (thiết bị, ống dẫn...)", "not_a_file",
                      "một sổ Excel (.xlsx)")
    if info.st_size > limits.XLSX_FILE_BYTES:
        raise WorkbookLimitError(
            f"tệp quá lớn ({info.st_size:,} byte)".replace(",", "."), file=path.name,
            code="too_large", expected=f"tối đa {limits.XLSX_FILE_BYTES // limits.MiB} MiB "
            "(giới hạn limits.XLSX_FILE_BYTES)")
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.XLSX_FILE_BYTES + 1)
    except OSError as exc:
        raise _refuse(path, f"không đọc được tệp ({exc.strerror})", "unreadable") from None
    if len(data) > limits.XLSX_FILE_BYTES:  # grew since it was sized
        raise WorkbookLimitError("tệp quá lớn", file=path.name, code="too_large",
                                 expected="giới hạn limits.XLSX_FILE_BYTES")
    if not data:
        raise _refuse(path, "tệp rỗng (0 byte)", "empty_file", "một sổ Excel (.xlsx)")
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTED in data:
            raise _refuse(path, "sổ được đặt mật khẩu mở tệp nên không đọc được: mở bằng Excel, "
                          "bỏ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc > Mã hóa bằng mật "
                          "khẩu, xóa trống) rồi lưu lại", "password_protected")
        raise _refuse(path, "đây là tệp Excel 97-2003 (.xls), không phải .xlsx: " + _SAVE_AS,
                      "old_xls")
    if data.startswith(ZIP_MAGIC):
        _sniff_zip(path, data)
        check_package(data, path.name)
        return data
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<html", b"<!doctype")):
        what = "một trang web (HTML)"
    elif head.startswith(b"%pdf"):
        what = "một tệp PDF"
    elif head and all(b >= 9 for b in head[:512]):
        what = "một tệp văn bản (CSV?)"
    else:
        what = "một tệp không phải sổ Excel"
    raise _refuse(path, f"đây là {what}, không phải sổ Excel (.xlsx)", "not_a_workbook",
                  "sổ Excel (.xlsx) lập từ lệnh ntm template")


def _sniff_zip(path: Path, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.getinfo("mimetype").file_size <= 1024:
                mimetype = archive.read("mimetype")[:80]
            else:
                mimetype = b""
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, NotImplementedError,
            EOFError, ValueError, zlib.error) as exc:
        raise _refuse(path, f"tệp bị hỏng, không mở được ({exc})", "damaged") from None
    if b"opendocument.spreadsheet" in mimetype:
        raise _refuse(path, "đây là tệp LibreOffice (.ods): " + _SAVE_AS, "ods")
    if "xl/workbook.xml" not in names:
        what = "tệp Word" if "word/document.xml" in names else "tệp nén ZIP"
        raise _refuse(path, f"đây là {what}, không phải sổ Excel (.xlsx)", "not_a_workbook")


def open_workbook(path: str | Path) -> tuple[Any, Any]:
    """The workbook twice: with the values Excel last calculated
    (``data_only``) and with the formulas, to tell a formula whose value was
    never calculated from an empty cell.

    Raises
    ------
    WorkbookError
        Not a workbook (see :func:`sniff`) or openpyxl cannot read it;
        :class:`~ntm_lib.workbook.problems.WorkbookLimitError` when it is over
        a limit (see :mod:`~ntm_lib.workbook.package`), checked before
        openpyxl reads it.
    """
    import openpyxl

    path = Path(path)
    data = sniff(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            values = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
            formulas = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged package
        raise _refuse(path, f"không đọc được sổ ({type(exc).__name__}: {exc})",
                      "damaged") from None
    return values, formulas
