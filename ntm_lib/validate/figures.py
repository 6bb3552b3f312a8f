"""The figures a consistency rule may name, and how a side is evaluated.

A rule is evaluated for one commune-year (a :class:`Subject`), once, for
each quarter, or for each criteria set assessed that year. What a name means:

``quarterly.COLUMN``
    The year's quarterly rows (``quarterly.csv``); in a quarter scope, the
    row of that quarter only.
``year_stated.COLUMN``, ``poverty.COLUMN``
    The one row of the year (``year_stated.csv``, ``poverty.csv``).
``documents``, ``support``
    The year's rows; in a quarter scope, ``documents`` keeps the documents
    issued in that quarter (``support`` has no date and is not filtered).
``criteria_set``, ``advanced_set``, ``set``
    The report's criteria set and advanced set (from the parameters), and in
    a set scope the set being checked.

Functions: ``sum(col)`` (None when no value is present), ``last(col)`` (the
value of the last row, by quarter for ``quarterly``), ``count(table)``,
``met(s)``, ``not_met(s)`` (criteria with that status at the end of the
year), ``size(s)`` (criteria in the set), ``both_states(s)`` (criteria that
are both met and not met on the same date, the year before included).

A value is a number or None (no data); a rule with None on either side is
not checked. A column of several rows is only allowed inside ``sum`` or
``last``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..calc import as_number
from ..load import COMMUNE_TABLES, CommuneFacts, CriteriaSet
from ..load.tables import records
from .expr import BinOp, Call, ExprError, Name, Neg, Node, Num, Ref

#: table name of a rule -> CSV file it reads
TABLE_FILES = {
    "quarterly": "quarterly.csv",
    "year_stated": "year_stated.csv",
    "poverty": "poverty.csv",
    "documents": "documents.csv",
    "support": "support.csv",
}
SINGLE_ROW = ("year_stated", "poverty")
SET_NAMES = ("criteria_set", "advanced_set", "set")


@dataclass
class Subject:
    """One commune-year under check: its facts and the sets of its report.

    ``sets`` holds every known criteria set by id (for the set scope);
    ``criteria_set`` and ``advanced_set`` are the report's (None when not
    known, e.g. no params file: rules naming them are then not checked).
    """

    facts: CommuneFacts
    sets: Mapping[str, CriteriaSet]
    criteria_set: CriteriaSet | None = None
    advanced_set: CriteriaSet | None = None

    def __post_init__(self) -> None:
        # Plain records, read once: filtering DataFrames per scope would copy
        # their attrs (row numbers) on every step.
        self.records = {name: [rec for _, rec in records(getattr(self.facts, name))]
                        for name in ("quarterly", "documents", "support", "criteria_status")}

    @property
    def year(self) -> int:
        return self.facts.year

    def assessed_sets(self) -> list[CriteriaSet]:
        """Known sets with statuses recorded for the year, in file order."""
        ids = dict.fromkeys(r["set_id"] for r in self.records["criteria_status"]
                            if r["year"] == self.year)
        return [self.sets[i] for i in ids if i in self.sets]


@dataclass
class Scope:
    """Where a side is evaluated: ``quarter`` (1-4) or ``set`` when the rule
    runs for each; ``details`` collects text a function adds for messages."""

    subject: Subject
    quarter: int | None = None
    set: CriteriaSet | None = None
    details: list[str] = field(default_factory=list)


class Column(list):
    """The values of one column over several rows (only for sum/last)."""


def _rows(scope: Scope, table: str) -> list[dict[str, Any]] | dict | None:
    facts = scope.subject.facts
    if table == "year_stated":
        return facts.year_stated
    if table == "poverty":
        return facts.poverty
    rows = scope.subject.records[table]
    if scope.quarter is not None:
        if table == "quarterly":
            rows = [r for r in rows if r["quarter"] == scope.quarter]
        elif table == "documents":
            rows = [r for r in rows if (r["issued_on"].month - 1) // 3 + 1 == scope.quarter]
    return rows


def _ref(node: Ref, scope: Scope) -> Any:
    rows = _rows(scope, node.table)
    if rows is None:
        return None
    if isinstance(rows, dict):
        return as_number(rows.get(node.column))
    values = Column(as_number(r[node.column]) for r in rows)
    if len(values) > 1:
        return values
    return values[0] if values else None


def _set(node: Node, scope: Scope) -> CriteriaSet | None:
    name = node.name if isinstance(node, Name) else None
    if name == "set":
        return scope.set
    if name in ("criteria_set", "advanced_set"):
        return getattr(scope.subject, name)
    raise ExprError(f"expected a criteria set name ({', '.join(SET_NAMES)})")


def _statuses(scope: Scope, cset: CriteriaSet, years: tuple[int, ...]) -> list[dict[str, Any]]:
    return [r for r in scope.subject.records["criteria_status"]
            if r["set_id"] == cset.set_id and r["year"] in years]


def _count_status(status: str) -> Callable[[tuple[Node, ...], Scope], Any]:
    def count(args: tuple[Node, ...], scope: Scope) -> Any:
        cset = _set(args[0], scope)
        if cset is None:
            return None
        rows = _statuses(scope, cset, (scope.subject.year,))
        return float(sum(r["status"] == status for r in rows)) if rows else None
    return count


def _size(args: tuple[Node, ...], scope: Scope) -> Any:
    cset = _set(args[0], scope)
    return None if cset is None else float(cset.size)


def _both_states(args: tuple[Node, ...], scope: Scope) -> Any:
    """Criteria listed as met and as not met for the same date (``as_of``, or
    31/12 of the row's year), over the year and the year before."""
    cset = _set(args[0], scope)
    if cset is None:
        return None
    year = scope.subject.year
    seen: dict[tuple[dt.date, int], set[str]] = {}
    for r in _statuses(scope, cset, (year - 1, year)):
        date = r["as_of"] if isinstance(r["as_of"], dt.date) else dt.date(r["year"], 12, 31)
        seen.setdefault((date, r["criterion"]), set()).add(r["status"])
    both = sorted(key for key, statuses in seen.items() if len(statuses) > 1)
    scope.details += [f"tiêu chí {n} ({d:%d/%m/%Y})" for d, n in both]
    return float(len(both))


def _aggregate(how: str) -> Callable[[tuple[Node, ...], Scope], Any]:
    def aggregate(args: tuple[Node, ...], scope: Scope) -> Any:
        value = evaluate(args[0], scope, column_ok=True)
        values = value if isinstance(value, Column) else [value]
        if how == "last":
            return values[-1] if values else None
        present = [v for v in values if v is not None]
        return float(sum(present)) if present else None
    return aggregate


def _count(args: tuple[Node, ...], scope: Scope) -> Any:
    node = args[0]
    if not isinstance(node, Name) or node.name not in TABLE_FILES or node.name in SINGLE_ROW:
        raise ExprError("count() takes a table of several rows: quarterly, documents or support")
    return float(len(_rows(scope, node.name)))  # type: ignore[arg-type]


#: function name -> (number of arguments, implementation)
FUNCTIONS: dict[str, tuple[int, Callable[[tuple[Node, ...], Scope], Any]]] = {
    "sum": (1, _aggregate("sum")),
    "last": (1, _aggregate("last")),
    "count": (1, _count),
    "met": (1, _count_status("met")),
    "not_met": (1, _count_status("not_met")),
    "size": (1, _size),
    "both_states": (1, _both_states),
}


def check_names(node: Node) -> None:
    """Raise :class:`ExprError` for an unknown table, column, function or set,
    or a function given the wrong number of arguments."""
    if isinstance(node, Ref):
        if node.table not in TABLE_FILES:
            raise ExprError(f"unknown table {node.table!r}; known: {', '.join(TABLE_FILES)}")
        columns = [c.name for c in COMMUNE_TABLES[TABLE_FILES[node.table]][0]]
        if node.column not in columns:
            raise ExprError(f"table {node.table} has no column {node.column!r}; "
                            f"known: {', '.join(columns)}")
    elif isinstance(node, Name):
        if node.name not in SET_NAMES and node.name not in TABLE_FILES:
            raise ExprError(f"unknown name {node.name!r}")
    elif isinstance(node, Call):
        if node.function not in FUNCTIONS:
            raise ExprError(f"unknown function {node.function!r}; known: {', '.join(FUNCTIONS)}")
        arity = FUNCTIONS[node.function][0]
        if len(node.args) != arity:
            raise ExprError(f"{node.function}() takes {arity} argument(s), not {len(node.args)}")


def evaluate(node: Node, scope: Scope, *, column_ok: bool = False) -> Any:
    """The value of a side: a float, None (no data), or a :class:`Column`
    when ``column_ok`` (inside ``sum``/``last``).

    Raises
    ------
    ExprError
        A column of several rows outside ``sum``/``last``, or a name used
        where it means nothing (a table as a number).
    """
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Ref):
        value = _ref(node, scope)
        if isinstance(value, Column) and not column_ok:
            raise ExprError(f"{node.table}.{node.column} has several values here: "
                            "use sum(...) or last(...)")
        return value
    if isinstance(node, Call):
        return FUNCTIONS[node.function][1](node.args, scope)
    if isinstance(node, Neg):
        value = evaluate(node.operand, scope)
        return None if value is None else -value
    if isinstance(node, BinOp):
        left, right = evaluate(node.left, scope), evaluate(node.right, scope)
        if left is None or right is None:
            return None
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        return None if right == 0 else left / right
    raise ExprError(f"{node.name!r} is not a number")  # a bare Name
