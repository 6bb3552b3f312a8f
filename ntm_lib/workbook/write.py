"""Writing what a workbook says into ``data/communes/<code>/*.csv`` and
``params/<year>/<slug>.yaml``, all or nothing, and saying what changed.

Rows of other years (and of criteria sets the workbook does not give) are
kept as they are, byte for byte; the workbook's rows replace those of its
year where they stood. Every target is checked before anything is
written (a folder or a file where a file or folder belongs is refused);
the new tables are loaded with every check of
:func:`ntm_lib.load.load_commune_facts` from a staging copy; then each
changed file gets a backup and is written atomically
(:func:`ntm_lib.safeio.atomic_write`), and any failure (a full disk, an
interrupt) restores every file from its backup: a reader never sees half a
file and a failed import leaves every file as it was, with nothing stray.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from ..errors import DataErrors, NtmError, ParameterError
from ..load import COMMUNE_TABLES, load_commune_facts, load_criteria_sets
from ..load.tables import data_path
from ..params import schema, validate_params
from ..paths import params_dir as default_params_dir
from ..paths import relative_to_root
from ..redact import redact_text
from ..validate import RuleWarning, Subject, rule_warnings
from .commit import check_target, replace_all
from .problems import WorkbookError
from .read import WorkbookData

#: table -> the columns identifying a row, for the report of changes
KEYS: dict[str, tuple[str, ...]] = {
    "criteria_status.csv": ("set_id", "year", "criterion"),
    "quarterly.csv": ("year", "quarter"),
    "year_stated.csv": ("year",),
    "poverty.csv": ("year",),
    "documents.csv": ("year", "number"),
    "support.csv": ("year", "kind", "description_vi"),
}


@dataclass
class Change:
    """What an import does to one file: ``status`` "new", "changed" or
    "unchanged"; row counts for tables, changed parameters for params."""

    path: str
    status: str
    table: bool = True
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    parameters: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line in Vietnamese: "thêm 4 dòng, sửa 0, xóa 0, giữ nguyên 0"."""
        if self.status == "unchanged":
            return f"{self.path}: không đổi"
        head = "tệp mới" if self.status == "new" else "cập nhật"
        if not self.table:
            return f"{self.path}: " + (f"sửa {', '.join(self.parameters)}" if self.parameters
                                        else head)
        return (f"{self.path}: {head}: thêm {self.added} dòng, sửa {self.changed}, "
                f"xóa {self.removed}, giữ nguyên {self.unchanged}")


def cell_text(value: Any) -> str:
    """A value as the CSV tables write it: ints without ".0", dates ISO, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        value = round(value, 10)
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _read_csv(path: Path) -> tuple[list[str] | None, list[dict[str, str]]]:
    if not path.is_file():
        return None, []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _csv_text(columns: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue()


def merge_table(name: str, path: Path, new_rows: list[dict[str, Any]],
                owns: Callable[[dict[str, str]], bool]) -> tuple[str, Change]:
    """The new text of table ``name``: rows the workbook ``owns`` replaced by
    ``new_rows`` (at the place of the first one, else in year order)."""
    columns = [c.name for c in COMMUNE_TABLES[name][0]]
    header, old = _read_csv(path)
    fresh = [{c: cell_text(r.get(c)) for c in columns} for r in new_rows]
    kept, replaced, at = [], [], None
    for row in old:
        if owns(row):
            at = len(kept) if at is None else at
            replaced.append(row)
        else:
            kept.append(row)
    if at is None:
        year = fresh[0]["year"] if fresh else ""
        at = next((i for i, r in enumerate(kept) if r.get("year", "") > year), len(kept))
    rows = kept[:at] + fresh + kept[at:]
    key = KEYS[name]
    before = {tuple(r.get(k, "") for k in key): r for r in replaced}
    after = {tuple(r[k] for k in key): r for r in fresh}
    same = sum(1 for k, r in after.items() if k in before and
               all(before[k].get(c, "") == r[c] for c in columns))
    change = Change(relative_to_root(path), "new" if header is None else "changed",
                    added=len(set(after) - set(before)), removed=len(set(before) - set(after)),
                    changed=len(set(after) & set(before)) - same, unchanged=same)
    text = _csv_text(columns if header is None else header, rows)
    if header is not None and text == path.read_text(encoding="utf-8-sig"):
        change.status = "unchanged"
    return text, change


class _Dumper(yaml.SafeDumper):
    pass


class _Quoted(str):
    pass


_Dumper.add_representer(_Quoted, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v),
                                                                  style='"'))
_QUOTED = ("commune", "report_date", "document_number")


def params_text(params: dict[str, Any], header: str) -> str:
    """The params YAML: codes and dates in double quotes, Unicode as is."""
    shown = {k: _Quoted(v) if k in _QUOTED and isinstance(v, str) else v for k, v in params.items()}
    body = yaml.dump(shown, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=96,
                     default_flow_style=False)
    return header + body


def _params_change(path: Path, params: dict[str, Any], source: str) -> tuple[str | None, Change]:
    shown = relative_to_root(path)
    if not path.is_file():
        header = (f"# Parameters of the {params['year']} report on commune {params['commune']},\n"
                  f"# written by `ntm import {source}`.\n")
        return params_text(params, header), Change(shown, "new", table=False)
    text = path.read_text(encoding="utf-8")
    old = yaml.safe_load(text) or {}
    changed = tuple(_diff(old, params))
    if not changed:
        return None, Change(shown, "unchanged", table=False)
    header = "".join(f"{line}\n" for line in itertools.takewhile(
        lambda ln: ln.startswith("#"), text.splitlines()))  # keep the file's leading comments
    return params_text(params, header), Change(shown, "changed", table=False, parameters=changed)


def _diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in dict.fromkeys([*new, *old]):
            out += _diff(old.get(key), new.get(key), f"{prefix}{key}.")
        return out
    return [] if old == new else [prefix.rstrip(".")]


@dataclass
class ImportResult:
    """The changes made (or that would be made, for a dry run) and the
    warnings of the consistency rules on the new data."""

    changes: list[Change]
    warnings: list[RuleWarning]
    written: bool


def write_import(data: WorkbookData, data_dir: str | Path | None = None,
                 params_root: str | Path | None = None, dry_run: bool = False) -> ImportResult:
    """Check the new tables and params by loading them from a staging copy,
    then move every changed file into place.

    Every target is checked first (:func:`~ntm_lib.workbook.commit.check_target`),
    also for a dry run; the files are then put in place all or nothing
    (:func:`~ntm_lib.workbook.commit.replace_all`).
    Secret values are redacted from the texts before they are checked.

    Raises
    ------
    WorkbookError
        The tables would not load (a check the workbook reader does not
        make); nothing is written.
    UnsafePathError, NtmError
        A target cannot be written (a folder, a file where its folder should
        be, a link out of ``data/`` or ``params/``, no permission); nothing
        is written.
    DiskFullError
        The disk filled up; every file was left as it was.
    """
    code, year = data.commune.code, data.year
    folder = data_path(data_dir, "communes", code)
    params_root = Path(params_root) if params_root is not None else default_params_dir()
    params_path = params_root / str(year) / f"{data.commune.slug}.yaml"
    for name in data.rows:
        check_target(folder / name, data_path(data_dir))
    check_target(params_path, params_root)
    texts: dict[Path, str] = {}
    changes: list[Change] = []
    for name, new_rows in data.rows.items():
        if name == "criteria_status.csv":
            owns = lambda r: (r.get("set_id"), _int(r.get("year"))) in data.owned_status  # noqa: E731
        else:
            owns = lambda r: _int(r.get("year")) == year  # noqa: E731
        text, change = merge_table(name, folder / name, new_rows, owns)
        changes.append(change)
        if change.status != "unchanged":
            texts[folder / name] = redact_text(text)
    params = final_params(data, params_root)
    params_text_, change = _params_change(params_path, params, data.file)
    changes.append(change)
    warnings = _check_staged(data, folder, texts, data_dir)
    if params_text_ is not None:
        texts[params_path] = redact_text(params_text_)
    if not dry_run:
        replace_all(texts)
    return ImportResult(changes, warnings, written=not dry_run and bool(texts))


def final_params(data: WorkbookData, params_root: Path) -> dict[str, Any]:
    """The workbook's parameters, plus those it does not hold kept from the
    commune's params file of the year (else of its latest earlier year);
    secret parameters are never written.

    Raises
    ------
    WorkbookError
        The parameters fail the schema (e.g. a parameter no sheet holds).
    """
    files = sorted((int(p.parent.name), p) for p in params_root.glob(f"*/{data.commune.slug}.yaml")
                   if p.parent.name.isdigit() and int(p.parent.name) <= data.year
                   and p.is_file())
    existing: dict[str, Any] = {}
    if files:
        try:
            existing = yaml.safe_load(files[-1][1].read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            existing = {}
    names = [n for n, spec in schema()["properties"].items() if not spec.get("x-secret")]
    params = {n: data.params[n] if n in data.params else existing[n] for n in names
              if n in data.params or n in existing}
    try:
        validate_params(params)
    except ParameterError as exc:
        raise WorkbookError(f"tham số báo cáo không hợp lệ: {exc}", file=data.file,
                            sheet="Thông tin chung", code="bad_parameters") from None
    return params


def _int(text: Any) -> int | None:
    try:
        return int(str(text).strip())
    except ValueError:
        return None


def _check_staged(data: WorkbookData, folder: Path, texts: dict[Path, str],
                  data_dir) -> list[RuleWarning]:
    base = data_path(data_dir)
    with tempfile.TemporaryDirectory(prefix="ntm-import-") as tmp:
        staged = Path(tmp) / "data"
        for part in ("reference", "registry"):
            shutil.copytree(base / part, staged / part)
        target = staged / "communes" / data.commune.code
        target.mkdir(parents=True)
        for name in COMMUNE_TABLES:
            path = folder / name
            if path in texts:
                (target / name).write_text(texts[path], encoding="utf-8")
            elif path.is_file():
                shutil.copyfile(path, target / name)
        try:
            facts = load_commune_facts(data.commune.code, data.year, staged)
            sets = load_criteria_sets(staged)
            subject = Subject(facts, sets, sets.get(data.params["criteria_set"]),
                              sets.get(data.params.get("advanced_criteria_set") or ""))
            return rule_warnings(subject, staged)
        except NtmError as exc:
            errors = exc.errors if isinstance(exc, DataErrors) else [exc]
            text = "; ".join(e.message + (f" (row {e.row}, column {e.column})" if e.row else "")
                             for e in errors)
            raise WorkbookError(f"số liệu sau khi nhập không qua được kiểm tra của bảng: {text}",
                                file=data.file, code="tables_rejected") from None
