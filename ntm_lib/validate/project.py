"""Checking what is already in ``data/`` and ``params/`` (``ntm validate``).

For each commune-year found (a params file ``params/<year>/<slug>.yaml`` or
rows of that year in ``data/communes/<code>/``), the tables are loaded with
every check of :mod:`ntm_lib.load`, the params file is checked against the
schema and the reference data, and the consistency rules are evaluated.
Problems that stop a report are *errors*; rules that do not hold are
*warnings* (the report is built and lists them).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import limits
from ..errors import DataError, DataErrors, NtmError, ParameterError
from ..load import (
    Commune,
    CriteriaSet,
    load_band_rule,
    load_commune_facts,
    load_criteria_sets,
    load_header_style,
    load_registry,
    load_status_labels,
)
from ..load.tables import data_path
from ..params import load_params
from ..paths import params_dir as default_params_dir
from ..paths import relative_to_root
from .figures import Subject
from .rules import Outcome, Rule, evaluate_rules, load_rules



@dataclass
class CommuneYear:
    """The findings for one commune-year: ``errors`` stop a report,
    ``outcomes`` are the rules evaluated (``warnings`` those that failed)."""

    commune: Commune
    year: int
    params_file: str | None
    errors: list[NtmError] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def warnings(self):
        return [o.warning for o in self.outcomes if o.warning is not None]


@dataclass
class ProjectCheck:
    """Everything ``ntm validate`` found: errors in the reference data and
    registry (``errors``), then one :class:`CommuneYear` per commune-year."""

    errors: list[NtmError] = field(default_factory=list)
    items: list[CommuneYear] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return len(self.errors) + sum(len(i.errors) for i in self.items)

    @property
    def warning_count(self) -> int:
        return sum(len(i.warnings) for i in self.items)


def _flat(error: NtmError) -> list[NtmError]:
    return list(error.errors) if isinstance(error, DataErrors) else [error]


def _collect(errors: list[NtmError], call: Callable[[], object]) -> object | None:
    try:
        return call()
    except NtmError as error:
        errors.extend(_flat(error))
        return None


def data_years(folder: Path) -> set[int]:
    """Years with at least one row in the commune folder's tables (a quick
    read of the ``year`` column; the loaders do the real checks)."""
    years: set[int] = set()
    for path in sorted(folder.glob("*.csv")):
        try:  # a folder, a device, a FIFO, a huge file or a link out of the project is
            # not read: the loader reports it
            data = limits.read_bounded(path, "CSV_FILE_BYTES", what="CSV table")
            with io.StringIO(data.decode("utf-8-sig"), newline="") as handle:
                for n, row in enumerate(csv.DictReader(handle)):
                    text = (row.get("year") or "").strip()
                    if _YEAR.fullmatch(text):
                        years.add(int(text))
                    if n >= limits.CSV_ROWS:
                        break
        except (OSError, UnicodeDecodeError, csv.Error, NtmError):
            continue  # the loader reports it
    return years


_YEAR = re.compile(r"[0-9]{4}")


def check_project(
    year: int | None = None,
    commune: str | None = None,
    data_dir: str | Path | None = None,
    params_root: str | Path | None = None,
) -> ProjectCheck:
    """Check the reference data, the registry and every commune-year (of
    ``year`` and ``commune`` when given: code or slug)."""
    result = ProjectCheck()
    sets = _collect(result.errors, lambda: load_criteria_sets(data_dir)) or {}
    rules = _collect(result.errors, lambda: load_rules(data_dir)) or []
    for loader in (load_band_rule, load_status_labels):
        _collect(result.errors, lambda loader=loader: loader(data_dir))
    communes = _collect(result.errors, lambda: load_registry(data_dir))
    if communes is None:
        return result
    params_root = Path(params_root) if params_root is not None else default_params_dir()
    wanted = [c for c in communes if commune is None or commune in (c.code, c.slug)
              or (commune.isdigit() and c.code == commune.zfill(5))]
    if commune is not None and not wanted:
        result.errors.append(DataError(f"no commune {commune!r} in the registry",
                                       file=relative_to_root(data_path(data_dir, "registry",
                                                                       "communes.csv"))))
    for unit in wanted:
        folder = data_path(data_dir, "communes", unit.code)
        years = data_years(folder) if folder.is_dir() else set()
        years |= {int(p.parent.name) for p in params_root.glob(f"*/{unit.slug}.yaml")
                  if _YEAR.fullmatch(p.parent.name)}
        for y in sorted(years):
            if year is None or y == year:
                result.items.append(_check_one(unit, y, sets, rules, data_dir, params_root))
    return result


def _check_one(unit: Commune, year: int, sets: dict[str, CriteriaSet], rules: list[Rule],
               data_dir, params_root: Path) -> CommuneYear:
    path = params_root / str(year) / f"{unit.slug}.yaml"
    present = path.exists() or path.is_symlink()  # a folder or device: load_params says
    item = CommuneYear(unit, year, relative_to_root(path) if present else None)
    params = _collect(item.errors, lambda: load_params(path, data_dir=data_dir)) if present \
        else None
    if not present:
        item.notes.append(f"không có tệp tham số {relative_to_root(path)}: chưa lập được báo cáo")
    main = advanced = None
    if isinstance(params, dict):
        main, advanced = _check_params(params, unit, year, sets, item, data_dir)
    facts = _collect(item.errors, lambda: load_commune_facts(unit.code, year, data_dir))
    if facts is not None and rules:
        subject = Subject(facts, sets, main, advanced)
        _collect(item.errors, lambda: item.outcomes.extend(evaluate_rules(rules, subject)))
    return item


def _check_params(params: dict, unit: Commune, year: int, sets: dict[str, CriteriaSet],
                  item: CommuneYear, data_dir) -> tuple[CriteriaSet | None, CriteriaSet | None]:
    file = item.params_file

    def bad(message: str, parameter: str) -> None:
        item.errors.append(ParameterError(message, parameter=parameter, file=file))

    if params["commune"] != unit.code:
        bad(f"the file is named for {unit.slug} ({unit.code}) but holds commune "
            f"{params['commune']}", "commune")
    if params["year"] != year:
        bad(f"the file is in the folder of {year} but holds year {params['year']}", "year")
    chosen: list[CriteriaSet | None] = []
    for name in ("criteria_set", "advanced_criteria_set"):
        set_id = params[name]
        if set_id and set_id not in sets:
            bad(f"unknown criteria set {set_id!r}; known: {', '.join(sets)}", name)
        chosen.append(sets.get(set_id) if set_id else None)
    _collect(item.errors, lambda: load_header_style(params["header_style"], data_dir))
    return chosen[0], chosen[1]
