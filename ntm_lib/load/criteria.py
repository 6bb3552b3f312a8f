"""Criteria sets: ``data/reference/criteria_sets.csv`` and ``criteria.csv``.

Each set is versioned reference data with its legal source: the national
commune set 2021-2025 (Quyết định 318/QĐ-TTg, 08/3/2022, 19 criteria), the
2016-2020 set (Quyết định 1980/QĐ-TTg), Lào Cai's advanced set (Quyết định
894/QĐ-UBND, names unverified) and the 2026-2030 set (Quyết định
51/2025/QĐ-TTg, 10 criteria). The number of criteria is a property of a set,
never a constant. Public names are re-exported by
:mod:`ntm_lib.load.reference`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError, Problems
from ..paths import relative_to_root
from ..textnorm import match_key
from .tables import Column, cap_problems, data_path, read_table, records

SETS_COLUMNS = [
    Column("set_id", "str"),
    Column("name_vi", "str"),
    Column("name_en", "str"),
    Column("scope", "enum", values=("national", "provincial")),
    Column("criteria_count", "int"),
    Column("legal_source", "str"),
    Column("issued_on", "date"),
    Column("in_force_from", "date"),
    Column("in_force_to", "date", required=False),
    Column("verified", "bool"),
    Column("note", "str", required=False),
]
CRITERIA_COLUMNS = [
    Column("set_id", "str"),
    Column("number", "int"),
    Column("name_vi", "str"),
    Column("group_vi", "str", required=False),
    Column("aliases", "str", required=False),
]
_SET_FIELDS = (
    "set_id", "name_vi", "name_en", "scope", "legal_source",
    "issued_on", "in_force_from", "in_force_to", "verified", "note",
)
Rows = list[tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class CriteriaSet:
    """One versioned set of criteria.

    Attributes
    ----------
    set_id:
        Stable id, e.g. ``"ntm-commune-2021-2025"``.
    name_vi, name_en:
        Official Vietnamese name and an English gloss.
    scope:
        ``"national"`` or ``"provincial"`` (a province's version of a set).
    legal_source, issued_on, in_force_from, in_force_to:
        The decision that issued the set ("Quyết định 318/QĐ-TTg"), its date
        and the first and last day it governs (:class:`datetime.date`;
        ``in_force_to`` None when open-ended).
    verified:
        False when the names come from one weak source (Lào Cai's advanced
        set): reports should say so.
    note:
        Free text, or None.
    criteria:
        DataFrame sorted by number, one row per criterion: ``number`` (int64,
        1..size), ``name_vi`` (str, NFC), ``group_vi`` (str or None),
        ``aliases`` (tuple of str: short or older names used in reports).
        Not part of equality: two sets are equal when their fields are.
    """

    set_id: str
    name_vi: str
    name_en: str
    scope: str
    legal_source: str
    issued_on: dt.date
    in_force_from: dt.date
    in_force_to: dt.date | None
    verified: bool
    note: str | None
    criteria: pd.DataFrame = field(compare=False, repr=False)

    def __post_init__(self) -> None:
        names: dict[int, str] = {}
        keys: dict[str, int] = {}
        for number, name, aliases in zip(
            self.criteria["number"], self.criteria["name_vi"], self.criteria["aliases"]
        ):
            names[int(number)] = name
            for text in (name, *aliases):
                keys.setdefault(match_key(text), int(number))
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_keys", keys)

    @property
    def size(self) -> int:
        """Number of criteria in the set (19 for 2021-2025, 10 for 2026-2030)."""
        return len(self.criteria)

    @property
    def numbers(self) -> tuple[int, ...]:
        """The criterion numbers in order, ``(1, 2, ..., size)``."""
        return tuple(self._names)  # type: ignore[attr-defined]

    def name_of(self, number: int) -> str:
        """Official name of criterion ``number``
        (``name_of(17) == "Môi trường và an toàn thực phẩm"`` in 2021-2025).

        Raises
        ------
        DataError
            ``number`` is not a criterion of this set.
        """
        try:
            return self._names[int(number)]  # type: ignore[attr-defined]
        except (KeyError, TypeError, ValueError):
            raise DataError(
                f"criterion {number} is not in the set {self.set_id}",
                expected=f"a number from 1 to {self.size}",
                found=number,
            ) from None

    def find(self, name: str) -> int | None:
        """Number of the criterion whose official name or an alias is ``name``,
        compared after :func:`~ntm_lib.textnorm.match_key` (case, tone
        placement, spacing and end punctuation ignored); None when none is.

        In the 2021-2025 commune set ``find("hộ nghèo") == 11`` (an alias)
        and ``find("Thuỷ lợi") == 3`` (alias "Thủy lợi", old tone placement).
        """
        return self._keys.get(match_key(name))  # type: ignore[attr-defined]


def load_criteria_sets(data_dir: str | Path | None = None) -> dict[str, CriteriaSet]:
    """Every criteria set, by set_id, after checking both tables.

    Checks, all reported at once: each ``set_id`` of ``criteria.csv`` is in
    ``criteria_sets.csv`` and no set_id is listed twice there; within a set,
    numbers run 1..N with no gap or repeat, names and aliases are distinct
    after :func:`~ntm_lib.textnorm.match_key`, and ``criteria_count`` equals N.

    Raises
    ------
    DataError, DataErrors
        Every problem in ``data/reference/criteria_sets.csv`` and
        ``data/reference/criteria.csv``.
    """
    return _read_criteria(data_dir)[1]


def load_criteria_set(set_id: str, data_dir: str | Path | None = None) -> CriteriaSet:
    """The criteria set ``set_id`` (e.g. ``"ntm-commune-2021-2025"``).

    Raises
    ------
    DataError
        ``set_id`` is not in ``criteria_sets.csv`` (the message lists the
        known ids), or the criteria tables are invalid (see
        :func:`load_criteria_sets`).
    """
    sets = load_criteria_sets(data_dir)
    if set_id not in sets:
        raise DataError(
            f"unknown criteria set {set_id!r}",
            file=relative_to_root(data_path(data_dir, "reference", "criteria_sets.csv")),
            expected="one of " + ", ".join(sets),
            found=set_id,
        )
    return sets[set_id]


def list_criteria_sets(data_dir: str | Path | None = None) -> pd.DataFrame:
    """The table ``data/reference/criteria_sets.csv``, checked with ``criteria.csv``.

    Returns
    -------
    pandas.DataFrame
        In file order: ``set_id, name_vi, name_en, scope, legal_source`` (str),
        ``criteria_count`` (int64), ``issued_on, in_force_from``
        (datetime.date), ``verified`` (bool), ``note`` (str or None).
    """
    return _read_criteria(data_dir)[0]


def aliases_of(text: str | None) -> tuple[str, ...]:
    """The ``;``-separated aliases of a ``criteria.csv`` cell, stripped."""
    return tuple(a.strip() for a in (text or "").split(";") if a.strip())


#: Criteria sets built in this process, by the content of the two tables
#: (:func:`_content_key`): a report asks for them several times (params
#: check, context, facts), a batch worker once per commune. Tables with a
#: problem are never kept: they raise every time.
_BUILT: "OrderedDict[tuple, dict[str, CriteriaSet]]" = OrderedDict()
_BUILT_MAX = 8
_BUILT_LOCK = threading.Lock()


def _content_key(frame: pd.DataFrame) -> tuple:
    """The file, row numbers and a digest of every cell of a table read by
    :func:`read_table`: equal keys mean the same table."""
    cells = pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
    return (frame.attrs["file"], tuple(frame.attrs["rows"]), tuple(frame.columns),
            hashlib.sha256(cells).hexdigest())


def _read_criteria(data_dir: str | Path | None) -> tuple[pd.DataFrame, dict[str, CriteriaSet]]:
    problems = Problems()
    sets_path = data_path(data_dir, "reference", "criteria_sets.csv")
    crit_path = data_path(data_dir, "reference", "criteria.csv")
    sets = read_table(sets_path, SETS_COLUMNS, problems=problems)
    crit = read_table(crit_path, CRITERIA_COLUMNS, problems=problems)
    if sets is None or crit is None:
        problems.raise_if_any()
    assert sets is not None and crit is not None
    key = (_content_key(sets), _content_key(crit))
    with _BUILT_LOCK:
        built = _BUILT.get(key)
    if built is not None and not problems.items:
        return sets, dict(built)
    result = _build_sets(sets, crit, sets_path, crit_path, problems)
    with _BUILT_LOCK:
        _BUILT[key] = result
        while len(_BUILT) > _BUILT_MAX:
            _BUILT.popitem(last=False)
    return sets, dict(result)


def _build_sets(sets: pd.DataFrame, crit: pd.DataFrame, sets_path: Path, crit_path: Path,
                problems: Problems) -> dict[str, CriteriaSet]:
    """Check both tables and build the sets (raises every problem found)."""
    sets_file, crit_file = relative_to_root(sets_path), relative_to_root(crit_path)

    metas: dict[str, tuple[int, dict[str, Any]]] = {}
    for row, rec in records(sets):
        set_id = rec["set_id"]
        if set_id in metas:
            problems.add(DataError(
                f"set {set_id!r} is listed twice (rows {metas[set_id][0]} and {row})",
                file=sets_file, row=row, column="set_id", found=set_id,
            ))
        elif set_id is not None:
            metas[set_id] = (row, rec)

    by_set: dict[str, Rows] = {set_id: [] for set_id in metas}
    for row, rec in records(crit):
        set_id = rec["set_id"]
        if set_id is not None and set_id not in metas:
            problems.add(DataError(
                f"unknown criteria set {set_id!r}", file=crit_file, row=row, column="set_id",
                expected=f"a set_id of {sets_file}: {', '.join(metas)}", found=set_id,
            ))
        elif set_id is not None and rec["number"] is not None:
            by_set[set_id].append((row, rec))

    result: dict[str, CriteriaSet] = {}
    for set_id, (set_row, meta) in metas.items():
        rows = by_set[set_id]
        bad = _check_numbers(set_id, rows, crit_file, problems)
        bad = _check_names(set_id, rows, crit_file, problems) or bad
        count = meta["criteria_count"]
        if not rows:
            bad = True
            problems.add(DataError(
                f"set {set_id} has no criteria in {crit_file}",
                file=sets_file, row=set_row, column="set_id", found=set_id,
            ))
        elif count is not None and count != len(rows):
            bad = True
            problems.add(DataError(
                f"set {set_id} declares {count} criteria but {crit_file} has {len(rows)} for it",
                file=sets_file, row=set_row, column="criteria_count",
                expected=len(rows), found=count,
            ))
        if not bad and all(meta[k] is not None for k in _SET_FIELDS if k != "note"):
            result[set_id] = CriteriaSet(
                **{k: meta[k] for k in _SET_FIELDS}, criteria=_criteria_frame(rows)
            )
    cap_problems(problems)
    problems.raise_if_any()
    return result


def _criteria_frame(rows: Rows) -> pd.DataFrame:
    frame = pd.DataFrame({
        "number": pd.Series([r["number"] for _, r in rows], dtype="int64"),
        "name_vi": pd.Series([r["name_vi"] for _, r in rows], dtype=object),
        "group_vi": pd.Series([r["group_vi"] for _, r in rows], dtype=object),
        "aliases": pd.Series([aliases_of(r["aliases"]) for _, r in rows], dtype=object),
    })
    return frame.sort_values("number", ignore_index=True)


def _check_numbers(set_id: str, rows: Rows, file: str, problems: Problems) -> bool:
    """Numbers 1..N, no repeat, no gap; True when something is wrong."""
    seen: dict[int, int] = {}
    bad = False
    for row, rec in rows:
        number = rec["number"]
        if number in seen:
            bad = True
            problems.add(DataError(
                f"criterion {number} of set {set_id} is listed twice "
                f"(rows {seen[number]} and {row})",
                file=file, row=row, column="number", found=number,
            ))
            continue
        seen[number] = row
        if number < 1:
            bad = True
            problems.add(DataError(
                f"criterion numbers of set {set_id} start at 1",
                file=file, row=row, column="number", expected="a number >= 1", found=number,
            ))
    top = max(seen, default=0)
    if top > len(rows):  # a gap: list the missing numbers when they are few
        if top - len(seen) > 50:
            problems.add(DataError(
                f"set {set_id} has {len(rows)} criteria, numbered up to {top}: "
                f"numbers must run from 1 to {len(rows)} without gaps",
                file=file, column="number", expected=f"numbers 1 to {len(rows)}", found=top,
            ))
            return True
    missing = [str(n) for n in range(1, top + 1) if n not in seen]
    if missing:
        bad = True
        problems.add(DataError(
            f"set {set_id} has no criterion {', '.join(missing)}: "
            f"numbers must run from 1 to {top} without gaps",
            file=file, column="number",
        ))
    return bad


def _check_names(set_id: str, rows: Rows, file: str, problems: Problems) -> bool:
    """Names and aliases distinct within the set; True when something is wrong."""
    owner: dict[str, int] = {}
    bad = False
    for row, rec in rows:
        texts = [("name_vi", rec["name_vi"])] + [("aliases", a) for a in aliases_of(rec["aliases"])]
        for column, text in texts:
            if text is None:
                continue
            key = match_key(text)
            if owner.get(key, rec["number"]) != rec["number"]:
                bad = True
                problems.add(DataError(
                    f"{text!r} is already the name or an alias of criterion {owner[key]} "
                    f"of set {set_id}",
                    file=file, row=row, column=column, found=text,
                ))
            owner.setdefault(key, rec["number"])
    return bad
