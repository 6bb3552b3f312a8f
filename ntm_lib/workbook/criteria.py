"""The criteria sheets ("Tiêu chí", "Tiêu chí nâng cao"): one row per
criterion of the set, its status this year and at the end of last year, and
the row "Tính đến ngày" with the date of each assessment.

A column of statuses left wholly empty gives nothing (the rows of that set
and year, if any, are kept); once a column has a status, every criterion of
the set needs one ("Không có số liệu" says there is none).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from ..load import CriteriaSet
from .cells import fold
from .kinds import KINDS
from .problems import Collector
from .sheets import Cell, Table, cell_ref, parse
from .spec import AS_OF_LABEL, CRITERIA, Field, Sheet


def read_criteria(table: Table | None, spec: Sheet, cset: CriteriaSet | None, set_given: str | None,
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
                    cell=cell_ref(columns, key, r), code="blank_status",
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


def _source(c: Cell | None, sheet: str, col: Collector) -> str | None:
    if c is None:
        return None
    return parse(c, Field("source", "Nguồn", "text"), sheet, col, KINDS["text"])
