"""The form sheets (rows of label and value): "Thông tin chung" and "Giảm
nghèo", and the checks of the general information against the registry and
the reference data (commune, criteria sets, header style, report date)."""
from __future__ import annotations

from typing import Any

from ..errors import DataError, NtmError
from ..load import CriteriaSet, load_criteria_sets, load_header_style, resolve_commune
from ..params import schema
from ..textnorm import match_key
from .cells import fold
from .kinds import KINDS
from .problems import Collector
from .sheets import Cell, Table, cell_ref, parse
from .spec import FORM_VALUE, GENERAL, Sheet


def read_form(table: Table | None, spec: Sheet, col: Collector) -> dict[str, list[tuple[Any, Cell]]]:
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
        else:  # an empty value: remembered for the message "thiếu ..." with its cell
            out[f.key].append((None, Cell(None, "General", cell_ref(table.columns, "value", r))))
    return out


def first_value(form: dict, key: str) -> Any:
    got = [v for v, _ in form.get(key) or [] if v is not None]
    return got[0] if got else None


def read_general(form: dict, col: Collector, data_dir) -> dict[str, Any]:
    sheet = GENERAL.name
    head: dict[str, Any] = {"_sets": {}}
    if not form and not col.problems:
        col.add("trang không có thông tin nào", sheet=sheet, code="empty_sheet")
    needed = _needed()
    for f in GENERAL.fields:
        given = form.get(f.key, [])
        values = [v for v, c in given if v is not None]
        if (f.required or f.key in needed) and form and not any(v is not None or c.bad or c.value is not None
                                           for v, c in given):
            empty = next((c.ref for _, c in given), None)
            col.add(f"thiếu '{f.heading}'", sheet=sheet, cell=empty, code="missing_field",
                    expected=f"một dòng '{f.heading}' có giá trị ở cột '{FORM_VALUE}'")
        head[f.key] = values if f.repeat else (values[0] if values else None)
    code = [(v, c) for v, c in form.get("commune", []) if v is not None]
    if code:
        value, c = code[0]
        try:
            year = head.get("year")  # the map of the report's year (issue 9)
            commune = resolve_commune(value, data_dir,
                                      year=year if isinstance(year, int) else None)
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
    sets = known_sets(data_dir)
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


def _needed() -> set[str]:
    """Parameters the schema requires to be non-empty (a new one, such as
    ``issuing_body_short``, is required here without changing the layout)."""
    spec = schema()
    return {name for name in spec.get("required", [])
            if spec["properties"].get(name, {}).get("minLength", 0) > 0
            or spec["properties"].get(name, {}).get("minItems", 0) > 0}


def known_sets(data_dir) -> dict[str, CriteriaSet]:
    try:
        return load_criteria_sets(data_dir)
    except DataError:
        return {}
