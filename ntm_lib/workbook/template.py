"""Writing the data workbook for one commune-year (``ntm template``), with
what is already known filled in: the commune, the criteria of the set, last
year's statuses, and every figure and text already in ``data/`` and
``params/`` for that year (so the same workbook also corrects data). For a
year without a params file, the lines that rarely change (issuing body,
signer, recipients) come from the commune's latest earlier params file.
"""
from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from ..errors import DataError, OptionError, UnsafePathError
from ..load import COMMUNE_TABLES, Commune, CriteriaSet, list_criteria_sets, load_criteria_sets
from ..load import resolve_commune
from ..load.tables import data_path, read_table, records
from ..params import load_params
from ..paths import data_dir as default_data_dir
from ..paths import params_dir as default_params_dir
from ..safeio import atomic_write
from .commit import blocking_file
from .layout import BOLD, HEADER_ROW, put, write, write_form, write_guide, write_head, write_rows
from .spec import (
    ADVANCED, AS_OF_LABEL, CRITERIA, DOCUMENTS, GENERAL, GUIDE_NAME, LAYOUT_VERSION, NARRATIVE,
    NARRATIVE_SECTIONS, POVERTY, QUARTER_LABELS, QUARTERLY, STATUS_CHOICES, SUPPORT, SUPPORT_KINDS,
    Field, Sheet,
)

#: Carried over from an earlier year's params file.
_CARRIED = ("issuing_body", "issuing_body_short", "header_style", "place", "document_code",
            "signer_capacity", "signer_title", "signer_name", "recipients")
_SPARE_ROWS = {"documents": 10, "support": 5}


@dataclass
class Known:
    """What the project already holds for the commune-year."""

    commune: Commune
    year: int
    params: dict[str, Any]
    main: CriteriaSet
    advanced: CriteriaSet | None
    tables: dict[str, list[dict[str, Any]]]


def gather(commune_key: str, year: int, *, criteria_set: str | None = None,
           data_dir: str | Path | None = None, params_root: str | Path | None = None,
           province: str | None = None, district: str | None = None) -> Known:
    """Collect what is known: params of the year (or carried from an earlier
    year), the criteria sets, and the commune's rows of ``year`` and ``year - 1``.

    The commune is looked up on the map in force at the end of ``year`` (the
    district-era map up to 2024, the map of 01/7/2025 from 2025), by code,
    slug, or name with ``province`` (and ``district`` before 2025): see
    :func:`~ntm_lib.load.registry.resolve_commune`.

    Raises
    ------
    UnknownCommuneError, DataError, ParameterError
        The commune is not in the registry, is ambiguous or does not exist in
        ``year`` (exit code 2, candidates named), or its data or params file
        is invalid (run ``ntm validate``).
    OptionError
        ``criteria_set`` is not a known set (exit code 2).
    UnsafePathError
        A folder (or another non-file) stands where the params file of the
        year should be.
    """
    commune = resolve_commune(commune_key, data_dir, year=year, province=province,
                              district=district)
    root = Path(params_root) if params_root is not None else default_params_dir()
    own = root / str(year) / f"{commune.slug}.yaml"
    params: dict[str, Any] = {}
    if own.exists() and not own.is_file():
        raise UnsafePathError("this is not a file, where the params file of the year should be",
                              file=str(own))
    if own.is_file():
        params = load_params(own)
    else:
        earlier = sorted((int(p.parent.name), p) for p in root.glob(f"*/{commune.slug}.yaml")
                         if p.parent.name.isdigit() and int(p.parent.name) < year
                         and p.is_file())
        if earlier:
            old = load_params(earlier[-1][1])
            params = {k: old[k] for k in _CARRIED if k in old}
            params["_carried_sets"] = (old.get("criteria_set"), old.get("advanced_criteria_set"))
    sets = load_criteria_sets(data_dir)
    if criteria_set is not None and criteria_set not in sets:
        raise OptionError(f"--criteria-set: unknown criteria set {criteria_set!r}",
                          expected=", ".join(sets), found=criteria_set)
    main_id = criteria_set or params.get("criteria_set") or _set_in_force(year, data_dir)
    if main_id not in sets:
        raise DataError(f"unknown criteria set {main_id!r}", expected=", ".join(sets),
                        found=main_id)
    advanced_id = params.get("advanced_criteria_set") if "criteria_set" in params else None
    carried = params.pop("_carried_sets", None)
    if carried and carried[0] == main_id:
        advanced_id = carried[1]
    tables = {}
    folder = data_path(data_dir, "communes", commune.code)
    for name, (columns, _) in COMMUNE_TABLES.items():
        path = folder / name
        frame = read_table(path, columns) if path.is_file() else None
        rows = [rec for _, rec in records(frame)] if frame is not None else []
        tables[name] = [r for r in rows if r["year"] in (year, year - 1)]
    return Known(commune, year, params, sets[main_id], sets.get(advanced_id or ""), tables)


def _set_in_force(year: int, data_dir) -> str:
    """The national set in force at the end of ``year`` (latest in force)."""
    table = list_criteria_sets(data_dir)
    end = dt.date(year, 12, 31)
    rows = [r for _, r in records(table) if r["scope"] == "national" and r["in_force_from"] <= end]
    if not rows:
        raise DataError(f"no national criteria set is in force in {year}",
                        file="data/reference/criteria_sets.csv")
    return max(rows, key=lambda r: r["in_force_from"])["set_id"]


def build_template(known: Known, data_dir: str | Path | None = None) -> Workbook:
    """The workbook for ``known``'s commune-year, filled with what is known."""
    year, c = known.year, known.commune
    sets = load_criteria_sets(data_dir)
    choices = {
        "status": STATUS_CHOICES, "set_id": tuple(sets),
        "style_id": ("state", "party"), "section": tuple(NARRATIVE_SECTIONS.values()),
        "support_kind": tuple(SUPPORT_KINDS.values()),
    }
    wb = Workbook()
    wb.remove(wb.active)
    place = f"{c.type_vi.capitalize()} {c.name} ({c.code})" \
        + (f", {c.district_type_vi} {c.district_name}" if c.district_name else "") \
        + f", {c.province_type_vi} {c.province_name}; năm báo cáo {year}"
    p = known.params
    general = {
        "commune": [c.code], "commune_name": [c.name], "year": [year],
        "criteria_set": [known.main.set_id],
        "advanced_criteria_set": [known.advanced.set_id] if known.advanced else [],
        **{k: (v if isinstance(v, list) else [v]) for k, v in p.items()
           if k in {f.key for f in GENERAL.fields} and k not in ("commune", "year",
                                                                 "criteria_set",
                                                                 "advanced_criteria_set")},
    }
    write_form(wb.create_sheet(GENERAL.name), GENERAL, general, choices)
    for spec, cset in ((CRITERIA, known.main), (ADVANCED, known.advanced)):
        _criteria_sheet(wb.create_sheet(spec.name), spec, cset, known, place, choices)
    ws = wb.create_sheet(QUARTERLY.name)
    write_head(ws, QUARTERLY, [_heading(f) for f in QUARTERLY.fields], place,
          "Dòng Cả năm ghi đúng số báo cáo ghi cho cả năm (không tự cộng): chương trình sẽ "
          "đối chiếu với tổng các quý. Quý chưa có số liệu thì để trống cả dòng.")
    by_quarter = {r["quarter"]: r for r in known.tables["quarterly.csv"] if r["year"] == year}
    stated = next((r for r in known.tables["year_stated.csv"] if r["year"] == year), {})
    rows = [{**by_quarter.get(q, {}), "quarter": QUARTER_LABELS[q]} for q in (1, 2, 3, 4)]
    rows.append({**stated, "quarter": QUARTER_LABELS["year"]})
    write_rows(ws, QUARTERLY, rows, HEADER_ROW + 1, 0, choices, known_keys=("quarter",))
    for spec in (DOCUMENTS, SUPPORT):
        ws = wb.create_sheet(spec.name)
        write_head(ws, spec, [_heading(f) for f in spec.fields], place,
              "Mỗi dòng một " + ("văn bản" if spec is DOCUMENTS else "khoản hỗ trợ")
              + "; thêm dòng nếu cần.")
        name = f"{spec.key}.csv"
        rows = [r for r in known.tables[name] if r["year"] == year]
        write_rows(ws, spec, rows, HEADER_ROW + 1, _SPARE_ROWS[spec.key], choices)
    poverty = next((r for r in known.tables["poverty.csv"] if r["year"] == year), {})
    write_form(wb.create_sheet(POVERTY.name), POVERTY,
          {k: [v] for k, v in poverty.items() if v is not None}, choices)
    _narrative_sheet(wb.create_sheet(NARRATIVE.name), p.get("narrative") or {}, place, choices)
    write_guide(wb.create_sheet(GUIDE_NAME))
    wb.active = 0
    wb.properties.title = f"Số liệu báo cáo {c.type_vi} {c.name} năm {year}"
    wb.properties.creator = "ntm template"
    wb.properties.keywords = f"ntm-workbook layout {LAYOUT_VERSION}"
    return wb


def _heading(f: Field) -> str:
    return f"{f.heading} ({f.unit})" if f.unit and f.kind in ("money", "percent", "percent_of_plan", "points") \
        else f.heading


def _criteria_sheet(ws, spec: Sheet, cset: CriteriaSet | None, known: Known, place: str,
                    choices: dict) -> None:
    year = known.year
    headings = ["Số TT", "Tên tiêu chí", f"Tình trạng năm {year}", f"Nguồn (năm {year})",
                f"Tình trạng cuối năm {year - 1}", f"Nguồn (cuối năm {year - 1})"]
    what = (f"{cset.name_vi} ({cset.legal_source}), {cset.size} tiêu chí" if cset
            else "Chưa chọn bộ tiêu chí nâng cao ở trang Thông tin chung: để trống trang này")
    write_head(ws, spec, headings, f"{place}. {what}",
          f"Chọn tình trạng ở cột C (năm {year}) và cột E (cuối năm {year - 1}). Dòng "
          f"'{AS_OF_LABEL}': ngày đánh giá, để trống nếu là cuối năm.")
    if cset is None:
        return
    status = {(r["year"], r["criterion"]): r for r in known.tables["criteria_status.csv"]
              if r["set_id"] == cset.set_id}
    as_of = {y: next((r["as_of"] for (ry, _), r in status.items() if ry == y), None)
             for y in (year, year - 1)}
    r0 = HEADER_ROW + 1
    write(ws, r0, 2, AS_OF_LABEL).font = BOLD
    put(ws, r0, 3, as_of[year], "date")
    put(ws, r0, 5, as_of[year - 1], "date")
    rows = []
    for number, name in zip(cset.criteria["number"], cset.criteria["name_vi"]):
        now, before = status.get((year, number), {}), status.get((year - 1, number), {})
        rows.append({"criterion": int(number), "name": name, "status": now.get("status"),
                     "source": now.get("source"), "prev_status": before.get("status"),
                     "prev_source": before.get("source")})
    write_rows(ws, spec, rows, r0 + 1, 0, choices, known_keys=("criterion", "name"))


def _narrative_sheet(ws, narrative: dict[str, Any], place: str, choices: dict) -> None:
    write_head(ws, NARRATIVE, [f.heading for f in NARRATIVE.fields], place,
          "Mỗi dòng một đoạn văn; chọn mục ở cột A. Có thể ghi số liệu tính sẵn: "
          "{{ commune.name }}, {{ year }}, {{ next_year }}, {{ criteria.not_met_count }}...")
    rows = []
    for key, label in NARRATIVE_SECTIONS.items():
        value: Any = narrative
        for part in key.split("."):
            value = (value or {}).get(part) if isinstance(value, dict) else None
        texts = [value] if isinstance(value, str) else list(value or [])
        rows += [{"section": label, "text": t} for t in texts] or \
            [{"section": label, "text": None}] * 2
    write_rows(ws, NARRATIVE, rows, HEADER_ROW + 1, 10, choices)


def check_target(path: str | Path, *, force: bool = False,
                 data_dir: str | Path | None = None) -> Path:
    """Return ``path`` when a template may be written there, else raise.

    Raises
    ------
    OptionError
        ``path`` is not named ``*.xlsx``.
    UnsafePathError
        ``path`` (followed through every symbolic link) lies in the
        project's ``params/`` or ``data/`` (never written, even with
        ``force``); it is a folder; a file stands where one of its folders
        should be; or it exists and ``force`` is False.
    """
    path = Path(path)
    real = Path(os.path.realpath(path))
    for root in {default_data_dir(), default_params_dir(), *([Path(data_dir)] if data_dir else [])}:
        root_real = Path(os.path.realpath(root))
        if real == root_real or root_real in real.parents:
            raise UnsafePathError(f"refusing to write a workbook inside {root}: its files are "
                                  "written only by `ntm import`", file=str(path))
    if path.suffix.lower() != ".xlsx":
        raise OptionError("the workbook to write must be named *.xlsx", file=str(path),
                          expected="a file name ending in .xlsx", found=path.name)
    if path.is_dir():
        raise UnsafePathError("a folder stands where the workbook is to be written",
                              file=str(path))
    blocking = blocking_file(path)
    if blocking is not None:
        raise UnsafePathError("a file stands where a folder of the workbook's path should be",
                              file=str(blocking))
    if not force and (path.exists() or path.is_symlink()):
        raise UnsafePathError("file exists; refusing to overwrite it (use --force)",
                              file=str(path))
    return path


def write_template(path: str | Path, known: Known, data_dir: str | Path | None = None, *,
                   force: bool = False) -> Path:
    """Build the workbook and save it at ``path`` (folders created), in one
    atomic write: a reader sees the old file or the new one.

    Raises
    ------
    OptionError, UnsafePathError
        See :func:`check_target`: not ``*.xlsx``, inside ``params/`` or
        ``data/``, a folder, or an existing file without ``force``.
    DiskFullError
        The disk filled up; nothing was left behind.
    """
    path = check_target(path, force=force, data_dir=data_dir)
    data = io.BytesIO()
    build_template(known, data_dir).save(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The cells were redacted as they were written; redacting the bytes of a
    # zip package could only damage it.
    return atomic_write(path, data.getvalue(), overwrite=force, redact=False)
