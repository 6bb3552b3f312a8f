"""Reading a filled data workbook into the tables and parameters of one
commune-year, checking everything and reporting every problem at once.

:func:`read_workbook` returns a :class:`WorkbookData` or raises
:class:`~ntm_lib.workbook.problems.WorkbookErrors` listing each problem
with its sheet and cell. Nothing is written here (see
:mod:`~ntm_lib.workbook.write`).
"""
from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from ..errors import DataError, NtmError
from ..load import Commune, CriteriaSet, load_criteria_sets, load_header_style, resolve_commune
from ..textnorm import match_key
from ..validate.project import TEXT_FIELDS
from .cells import KINDS, fold
from .opening import open_workbook
from .problems import Collector
from .sheets import Cell, Table, find_sheets, parse, read_table
from .spec import (
    ADVANCED, AS_OF_LABEL, CRITERIA, DOCUMENTS, FORM_HELP, FORM_LABEL, FORM_VALUE, GENERAL,
    NARRATIVE, NARRATIVE_SECTIONS, POVERTY, QUARTERLY, SUPPORT, Field, Sheet,
)

_FORM = (Field("label", FORM_LABEL, "text", required=True), Field("value", FORM_VALUE, "text"),
         Field("help", FORM_HELP, "text"))
_COUNTS = ("documents_issued", "visits", "support_million_vnd", "criteria_met",
           "criteria_registered")


@dataclass
class WorkbookData:
    """What a workbook says about one commune-year.

    ``rows`` maps a table file name (``quarterly.csv``) to its rows for the
    year, each a dict of CSV column -> value (None when empty);
    ``owned`` maps each file name to the keys of the rows this workbook
    replaces: ``("year", Y)`` or, for criteria_status, ``(set_id, year)``
    pairs; ``params`` is the report's parameters; ``notes`` what was read
    differently from how it was typed.
    """

    file: str
    commune: Commune
    year: int
    params: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]
    owned_status: set[tuple[str, int]] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def read_workbook(path: str | Path, data_dir: str | Path | None = None) -> WorkbookData:
    """Read and check the workbook at ``path``.

    Raises
    ------
    WorkbookError, WorkbookErrors
        Every problem, each with sheet and cell, what was found and what was
        expected (exit code 2).
    """
    path = Path(path)
    values, formulas = open_workbook(path)
    col = Collector(path.name)
    sheets = find_sheets(values, col)

    def table(spec: Sheet, fields=None) -> Table | None:
        ws = sheets.get(spec.key)
        if ws is None:
            return None
        view = spec if fields is None else Sheet(spec.key, spec.name, spec.title, spec.shape,
                                                 fields, spec.holds)
        return read_table(ws, formulas, view, col)

    general = _form(table(GENERAL, _FORM), GENERAL, col)
    head = _general(general, col, data_dir)
    rows: dict[str, list[dict[str, Any]]] = {}
    owned: set[tuple[str, int]] = set()
    year = head.get("year")
    if year is not None:
        status_rows: list[dict[str, Any]] = []
        for spec, set_key in ((CRITERIA, "criteria_set"), (ADVANCED, "advanced_criteria_set")):
            got = _criteria(table(spec), spec, head.get("_sets", {}).get(set_key),
                            head.get(set_key), year, col)
            if got is not None:
                status_rows += got[0]
                owned |= got[1]
        rows["criteria_status.csv"] = sorted(status_rows, key=lambda r: (r["year"], r["_order"]))
        quarters, stated = _quarterly(table(QUARTERLY), year, col)
        rows["quarterly.csv"], rows["year_stated.csv"] = quarters, stated
        rows["documents.csv"] = _rows(table(DOCUMENTS), DOCUMENTS, year, col)
        rows["support.csv"] = _rows(table(SUPPORT), SUPPORT, year, col)
        rows["poverty.csv"] = _poverty(_form(table(POVERTY, _FORM), POVERTY, col), year, col)
    narrative = _narrative(table(NARRATIVE), col)
    col.raise_if_any()
    params = _params(head, narrative, col)
    col.raise_if_any()
    for table_rows in rows.values():
        for row in table_rows:
            row.pop("_order", None)
    return WorkbookData(path.name, head["_commune"], year, params, rows, owned, col.notes)


# --------------------------------------------------------------------------- forms


def _form(table: Table | None, spec: Sheet, col: Collector) -> dict[str, list[tuple[Any, Cell]]]:
    """Field key -> [(parsed value, cell)] of a form sheet, in row order."""
    out: dict[str, list[tuple[Any, Cell]]] = {}
    if table is None:
        return out
    for r, cells in table.rows:
        label = cells.get("label")
        if label is None:
            if "value" in cells:
                col.add("có giá trị nhưng không có tên thông tin ở cột bên trái", sheet=spec.name,
                        cell=cells["value"].ref, code="unlabelled_value")
            continue
        f = next((f for f in spec.fields
                  if fold(str(label.value)) in {fold(f.heading), *map(fold, f.aliases)}), None)
        if f is None:
            col.note(f"dòng '{label.value}' không có trong mẫu nên không được đọc",
                     sheet=spec.name, cell=label.ref)
            continue
        if f.key in out and not f.repeat:
            col.add(f"'{f.heading}' được ghi hai lần (ô {out[f.key][0][1].ref} và {label.ref})",
                    sheet=spec.name, cell=label.ref, code="duplicate_field")
            continue
        value = cells.get("value")
        out.setdefault(f.key, [])
        if value is not None:
            out[f.key].append((parse(value, f, spec.name, col, KINDS[f.kind]), value))
        elif not f.repeat:
            out[f.key].append((None, Cell(None, "General", _ref(table.columns, "value", r))))
    return out


def _one(form: dict, key: str) -> Any:
    got = [v for v, _ in form.get(key) or [] if v is not None]
    return got[0] if got else None


def _general(form: dict, col: Collector, data_dir) -> dict[str, Any]:
    sheet = GENERAL.name
    head: dict[str, Any] = {"_sets": {}}
    if not form and not col.problems:
        col.add("trang không có thông tin nào", sheet=sheet, code="empty_sheet")
    for f in GENERAL.fields:
        given = form.get(f.key, [])
        values = [v for v, c in given if v is not None]
        if f.required and form and not any(v is not None or c.bad or c.value is not None
                                           for v, c in given):
            empty = next((c.ref for _, c in given), None)
            col.add(f"thiếu '{f.heading}'", sheet=sheet, cell=empty, code="missing_field",
                    expected=f"một dòng '{f.heading}' có giá trị ở cột '{FORM_VALUE}'")
        head[f.key] = values if f.repeat else (values[0] if values else None)
    code = [(v, c) for v, c in form.get("commune", []) if v is not None]
    if code:
        value, c = code[0]
        try:
            commune = resolve_commune(value, data_dir)
            head["_commune"] = commune
            if isinstance(c.value, (int, float)) or len(str(c.value).strip()) < 5:
                col.note(f"mã xã {c.value} được đọc là {value} (số 0 đầu bị mất)", sheet=sheet,
                         cell=c.ref)
            name = head.get("commune_name")
            if name and match_key(name) != match_key(commune.name):
                col.add(f"tên xã không khớp với mã {commune.code} ({commune.name})", sheet=sheet,
                        cell=form["commune_name"][0][1].ref, found=name, expected=commune.name,
                        code="name_mismatch")
        except NtmError as exc:
            where = exc.file or "data/registry/communes.csv"
            col.add(f"mã xã {value} không có trong danh mục xã ({where})", sheet=sheet,
                    cell=c.ref, found=c.value, code="unknown_commune",
                    expected="mã 5 chữ số của một xã trong danh mục")
    sets = _known_sets(data_dir)
    for key in ("criteria_set", "advanced_criteria_set"):
        set_id = head.get(key)
        if set_id is None:
            continue
        if set_id in sets:
            head["_sets"][key] = sets[set_id]
        else:
            col.add("không có bộ tiêu chí này", sheet=sheet, cell=form[key][0][1].ref,
                    found=set_id, expected="một trong: " + ", ".join(sets), code="unknown_set")
    style = head.get("header_style")
    if style:
        try:
            load_header_style(style, data_dir)
        except DataError as exc:
            col.add("không có kiểu tiêu đề này", sheet=sheet, cell=form["header_style"][0][1].ref,
                    found=style, expected=str(exc.expected or "state hoặc party"),
                    code="unknown_style")
    date, year = head.get("report_date"), head.get("year")
    if date and year and int(date[:4]) < year:
        c = form["report_date"][0][1]
        col.add(f"ngày báo cáo trước năm báo cáo {year}", sheet=sheet, cell=c.ref,
                found=c.value, code="date_before_year")
    return head


def _known_sets(data_dir) -> dict[str, CriteriaSet]:
    try:
        return load_criteria_sets(data_dir)
    except DataError:
        return {}


# --------------------------------------------------------------------------- criteria


def _criteria(table: Table | None, spec: Sheet, cset: CriteriaSet | None, set_given: str | None,
              year: int, col: Collector) -> tuple[list[dict], set[tuple[str, int]]] | None:
    if table is None:
        return None
    sheet = spec.name
    as_of: dict[str, dt.date | None] = {"status": None, "prev_status": None}
    entries: list[tuple[int, int | None, dict[str, Cell]]] = []
    for r, cells in table.rows:
        label = cells.get("name")
        if label is not None and fold(str(label.value)).startswith(fold(AS_OF_LABEL)):
            for key in as_of:
                if key in cells:
                    as_of[key] = parse(cells[key], Field(key, AS_OF_LABEL, "date"), sheet, col,
                                       KINDS["date"])
            continue
        number = parse(cells["criterion"], spec.field("criterion"), sheet, col,
                       KINDS["criterion"]) if "criterion" in cells else None
        entries.append((r, number, cells))
    given = {key: any(key in cells for _, _, cells in entries) for key in as_of}
    if cset is None:
        if any(given.values()) and set_given is None:
            col.add("trang có tình trạng tiêu chí nhưng trang Thông tin chung không ghi bộ tiêu "
                    f"chí của trang này ({spec.title.lower()})", sheet=sheet, code="no_set")
        return None
    if spec is CRITERIA and not given["status"]:
        col.add(f"chưa ghi tình trạng tiêu chí năm {year}", sheet=sheet, code="no_status",
                expected=f"Đạt hoặc Không đạt cho từng tiêu chí của {cset.name_vi}")
    out: list[dict] = []
    owned = set()
    for key, row_year, source in (("status", year, "source"), ("prev_status", year - 1,
                                                               "prev_source")):
        if not given[key]:
            continue
        owned.add((cset.set_id, row_year))
        out += _statuses(entries, key, source, cset, row_year, as_of[key], spec, table.columns,
                         col)
    return out, owned


def _statuses(entries, key: str, source: str, cset: CriteriaSet, year: int,
              as_of: dt.date | None, spec: Sheet, columns: dict[str, int],
              col: Collector) -> list[dict]:
    sheet, f = spec.name, spec.field(key)
    seen: dict[int, tuple[int, Any]] = {}
    out = []
    for r, number, cells in entries:
        name = cells.get("name")
        if number is None and "criterion" not in cells and name is not None:
            number = cset.find(str(name.value))
            if number is None:
                col.add("không nhận ra tiêu chí này trong bộ tiêu chí", sheet=sheet, cell=name.ref,
                        found=name.value, expected=f"tên một tiêu chí của {cset.name_vi}",
                        code="unknown_criterion")
                continue
        if number is None:
            continue
        ref = cells["criterion"].ref if "criterion" in cells else f"A{r}"
        if number not in cset.numbers:
            if key == "status":
                col.add(f"không có tiêu chí {number} trong bộ tiêu chí ({cset.size} tiêu chí)",
                        sheet=sheet, cell=ref, found=number, code="criterion_outside_set",
                        expected=f"số từ 1 đến {cset.size}")
            continue
        if name is not None and cset.find(str(name.value)) not in (None, number) and key == "status":
            col.add(f"tên tiêu chí không khớp số {number} ({cset.name_of(number)})", sheet=sheet,
                    cell=name.ref, found=name.value, code="name_mismatch",
                    expected=cset.name_of(number))
        cell = cells.get(key)
        status = parse(cell, f, sheet, col, KINDS["status"]) if cell is not None else None
        if number in seen:
            if key == "status":
                col.add(f"tiêu chí {number} được ghi hai lần (dòng {seen[number][0]} và {r})",
                        sheet=sheet, cell=ref, found=number, code="duplicate_criterion")
            continue
        seen[number] = (r, status)
        if cell is None:
            col.add(f"chưa ghi tình trạng tiêu chí {number} ({cset.name_of(number)})", sheet=sheet,
                    cell=_ref(columns, key, r), code="blank_status",
                    expected="Đạt, Không đạt hoặc Không có số liệu")
            continue
        if status is None:
            continue
        text = cells.get(source)
        out.append({"set_id": cset.set_id, "year": year, "as_of": as_of, "criterion": number,
                    "status": status, "source": _source(text, sheet, col),
                    "_order": (0 if spec is CRITERIA else 1, number)})
    missing = [n for n in cset.numbers if n not in seen]
    if missing and key == "status":
        col.add("thiếu dòng của tiêu chí " + ", ".join(map(str, missing)), sheet=sheet,
                code="missing_criterion", expected=f"một dòng cho mỗi tiêu chí 1 đến {cset.size}")
    return out


def _ref(columns: dict[str, int], key: str, row: int) -> str:
    """The reference of the (empty) cell of field ``key`` in ``row``."""
    return f"{get_column_letter(columns[key])}{row}" if key in columns else f"{row}:{row}"


def _source(c: Cell | None, sheet: str, col: Collector) -> str | None:
    if c is None:
        return None
    return parse(c, Field("source", "Nguồn", "text"), sheet, col, KINDS["text"])


# --------------------------------------------------------------------------- tables


def _parse_row(cells: dict[str, Cell], spec: Sheet, col: Collector) -> dict[str, Any] | None:
    row: dict[str, Any] = {}
    ok = True
    for f in spec.fields:
        c = cells.get(f.key)
        if c is None:
            row[f.key] = None
            continue
        row[f.key] = parse(c, f, spec.name, col, KINDS[f.kind])
        ok = ok and row[f.key] is not None
    return row if ok else None


def _required(cells: dict[str, Cell], spec: Sheet, table: Table, r: int, col: Collector) -> bool:
    missing = [f for f in spec.fields
               if f.required and f.key not in cells and f.key in table.columns]
    for f in missing:
        col.add(f"ô trống: cần ghi '{f.heading}'", sheet=spec.name,
                cell=_ref(table.columns, f.key, r),
                code="empty_cell", expected=f.help or f.heading)
    absent = any(f.required and f.key not in table.columns for f in spec.fields)
    return not missing and not absent


def _quarterly(table: Table | None, year: int, col: Collector) -> tuple[list[dict], list[dict]]:
    quarters: list[dict] = []
    stated: list[dict] = []
    if table is None:
        return quarters, stated
    seen: dict[Any, int] = {}
    for r, cells in table.rows:
        if set(cells) <= {"quarter", "source"}:
            continue  # a label without figures: the quarter is not reported
        if "quarter" not in cells:
            col.add("dòng có số liệu nhưng không ghi quý", sheet=QUARTERLY.name, cell=f"A{r}",
                    code="empty_cell", expected="Quý I, Quý II, Quý III, Quý IV hoặc Cả năm")
            continue
        row = _parse_row(cells, QUARTERLY, col)
        complete = _required(cells, QUARTERLY, table, r, col)
        if row is None or not complete:
            continue
        quarter = row["quarter"]
        if quarter in seen:
            col.add(f"quý này được ghi hai lần (dòng {seen[quarter]} và {r})", sheet=QUARTERLY.name,
                    cell=cells["quarter"].ref, found=cells["quarter"].value,
                    code="duplicate_quarter")
            continue
        seen[quarter] = r
        if row["criteria_met"] > row["criteria_registered"]:
            col.add("số tiêu chí hoàn thành lớn hơn số tiêu chí đăng ký", sheet=QUARTERLY.name,
                    cell=cells["criteria_met"].ref, found=row["criteria_met"],
                    expected=f"không quá {row['criteria_registered']}", code="met_above_registered")
        base = {"year": year, "quarter": quarter} if quarter != "year" else {"year": year}
        record = {**base, **{k: row[k] for k in _COUNTS}, "source": row["source"]}
        (stated if quarter == "year" else quarters).append(record)
    quarters.sort(key=lambda r: r["quarter"])
    return quarters, stated


def _rows(table: Table | None, spec: Sheet, year: int, col: Collector) -> list[dict]:
    out: list[dict] = []
    if table is None:
        return out
    seen: dict[str, int] = {}
    for r, cells in table.rows:
        row = _parse_row(cells, spec, col)
        complete = _required(cells, spec, table, r, col)
        if row is None or not complete:
            continue
        if spec is DOCUMENTS:
            if row["number"] in seen:
                col.add(f"văn bản này được ghi hai lần (dòng {seen[row['number']]} và {r})",
                        sheet=spec.name, cell=cells["number"].ref, found=row["number"],
                        code="duplicate_document")
                continue
            seen[row["number"]] = r
            if row["issued_on"].year != year:
                col.add(f"ngày ban hành ngoài năm báo cáo {year}", sheet=spec.name,
                        cell=cells["issued_on"].ref, found=f"{row['issued_on']:%d/%m/%Y}",
                        expected=f"một ngày trong năm {year}", code="date_outside_year")
        out.append({"year": year, **row})
    return out


def _poverty(form: dict, year: int, col: Collector) -> list[dict]:
    if not any(form.get(f.key) for f in POVERTY.fields):
        return []
    row = {"year": year, **{f.key: _one(form, f.key) for f in POVERTY.fields}}
    if row["poverty_standard"] is None:
        col.add(f"thiếu '{POVERTY.field('poverty_standard').heading}'", sheet=POVERTY.name,
                code="missing_field", expected="ví dụ: Nghị định 07/2021/NĐ-CP")
    return [row]


# --------------------------------------------------------------------------- narrative and params


def _narrative(table: Table | None, col: Collector) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {key: [] for key in NARRATIVE_SECTIONS}
    if table is None:
        return out
    for r, cells in table.rows:
        if "text" not in cells:
            continue
        if "section" not in cells:
            col.add("đoạn văn chưa ghi thuộc mục nào", sheet=NARRATIVE.name, cell=f"A{r}",
                    code="empty_cell", expected="một mục trong danh sách")
            continue
        row = _parse_row(cells, NARRATIVE, col)
        if row is None:
            continue
        for paragraph in row["text"]:
            problem = _placeholder_problem(paragraph)
            if problem:
                col.add(problem, sheet=NARRATIVE.name, cell=cells["text"].ref,
                        found=paragraph[:60], code="bad_placeholder",
                        expected=", ".join("{" + f + "}" for f in TEXT_FIELDS))
        out[row["section"]] += row["text"]
    return out


def _placeholder_problem(text: str) -> str | None:
    try:
        names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
    except ValueError:
        return "dấu ngoặc nhọn { } không đóng mở đúng cặp"
    unknown = sorted(names - set(TEXT_FIELDS))
    if unknown:
        return "tên trong ngoặc nhọn không có: " + ", ".join("{" + n + "}" for n in unknown)
    return None


def _params(head: dict, narrative: dict[str, list[str]], col: Collector) -> dict[str, Any]:
    if not narrative["closing"]:
        col.add("thiếu Lời kết của báo cáo", sheet=NARRATIVE.name, code="missing_closing",
                expected="một dòng mục 'Lời kết' có đoạn văn")
    rec = {k.split(".")[1]: v for k, v in narrative.items() if k.startswith("recommendations.")}
    params = {
        "commune": head["_commune"].code, "year": head["year"],
        "criteria_set": head["criteria_set"],
        "advanced_criteria_set": head["advanced_criteria_set"],
        "issuing_body": head["issuing_body"], "header_style": head["header_style"],
        "place": head["place"], "report_date": head["report_date"],
        "document_number": head["document_number"] or "",
        "document_code": head["document_code"], "signer_capacity": head["signer_capacity"] or "",
        "signer_title": head["signer_title"], "signer_name": head["signer_name"],
        "recipients": head["recipients"],
        "narrative": {
            **{k: v for k, v in narrative.items() if "." not in k and k != "closing"},
            "recommendations": rec, "closing": " ".join(narrative["closing"]),
        },
    }
    if head.get("issuing_body_short"):
        params["issuing_body_short"] = head["issuing_body_short"]
    return params
