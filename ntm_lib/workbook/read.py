"""Reading a filled data workbook into the tables and parameters of one
commune-year, checking everything and reporting every problem at once.

:func:`read_workbook` returns a :class:`WorkbookData` or raises
:class:`~ntm_lib.workbook.problems.WorkbookErrors` listing each problem
with its sheet and cell. Nothing is written here (see
:mod:`~ntm_lib.workbook.write`).
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..load import Commune
from ..params import TEXT_FIELDS
from .criteria import read_criteria
from .forms import first_value, read_form, read_general
from .kinds import KINDS
from .opening import open_workbook
from .problems import Collector
from .sheets import Cell, Table, cell_ref, find_sheets, parse, read_table
from .spec import (
    ADVANCED, CRITERIA, DOCUMENTS, FORM_HELP, FORM_LABEL, FORM_VALUE, GENERAL,
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
    year, each a dict of CSV column -> value (None when empty); the
    workbook replaces the rows of its year in every table but
    criteria_status, where it replaces the ``(set_id, year)`` pairs of
    ``owned_status`` (a column of statuses left empty replaces nothing);
    ``params`` holds the parameters the workbook gives; ``notes`` what was
    read differently from how it was typed.
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

    general = read_form(table(GENERAL, _FORM), GENERAL, col)
    head = read_general(general, col, data_dir)
    rows: dict[str, list[dict[str, Any]]] = {}
    owned: set[tuple[str, int]] = set()
    year = head.get("year")
    if year is not None:
        status_rows: list[dict[str, Any]] = []
        for spec, set_key in ((CRITERIA, "criteria_set"), (ADVANCED, "advanced_criteria_set")):
            got = read_criteria(table(spec), spec, head.get("_sets", {}).get(set_key),
                                head.get(set_key), year, col)
            if got is not None:
                status_rows += got[0]
                owned |= got[1]
        rows["criteria_status.csv"] = sorted(status_rows, key=lambda r: (r["year"], r["_order"]))
        quarters, stated = _quarterly(table(QUARTERLY), year, col)
        rows["quarterly.csv"], rows["year_stated.csv"] = quarters, stated
        rows["documents.csv"] = _rows(table(DOCUMENTS), DOCUMENTS, year, col)
        rows["support.csv"] = _rows(table(SUPPORT), SUPPORT, year, col)
        rows["poverty.csv"] = _poverty(read_form(table(POVERTY, _FORM), POVERTY, col), year, col)
    narrative = _narrative(table(NARRATIVE), col)
    col.raise_if_any()
    params = _params(head, narrative, col)
    col.raise_if_any()
    for table_rows in rows.values():
        for row in table_rows:
            row.pop("_order", None)
    return WorkbookData(path.name, head["_commune"], year, params, rows, owned, col.notes)


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
                cell=cell_ref(table.columns, f.key, r),
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
    if all(first_value(form, f.key) is None for f in POVERTY.fields):
        return []  # nothing given: no poverty row for the year
    row = {"year": year, **{f.key: first_value(form, f.key) for f in POVERTY.fields}}
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
    if not out["closing"]:
        col.add("thiếu Lời kết của báo cáo", sheet=NARRATIVE.name, code="missing_closing",
                expected="một dòng mục 'Lời kết' có đoạn văn")
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
