"""Consistency rules kept as data: ``data/reference/validation_rules.csv``.

Like DHIS2's validation rules, each row is a left side, an operator, a right
side, an importance and a message; the sides are expressions over named
figures (:mod:`ntm_lib.validate.expr`, :mod:`ntm_lib.validate.figures`). A
rule that fails is a *warning*: the data may be a faithful copy of an
inconsistent source, so the report is still built and lists the warning in
its appendix ("Chất lượng số liệu"). A rule with no data on either side is
not checked (DHIS2's "skip if any value is missing").
"""
from __future__ import annotations

import math
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..calc import Inconsistency
from ..errors import DataError, Problems
from ..load.tables import Column, cap_problems, data_path, read_table, records, shown_text
from ..text import format_number
from .expr import ExprError, Node, parse, walk
from .figures import Scope, Subject, check_names, evaluate

OPERATORS = ("==", "!=", "<=", "<", ">=", ">")
IMPORTANCE = ("high", "medium", "low")
FOR_EACH = ("quarter", "set")
PLACEHOLDERS = ("left", "right", "quarter", "set", "details")
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

RULE_COLUMNS = [
    Column("rule_id", "str"),
    Column("left", "str"),
    Column("operator", "enum", values=OPERATORS),
    Column("right", "str"),
    Column("tolerance", "number", required=False),
    Column("for_each", "enum", required=False, values=FOR_EACH),
    Column("importance", "enum", values=IMPORTANCE),
    Column("message_vi", "str"),
    Column("source", "str"),
    Column("periods", "str", required=False),
]


@dataclass(frozen=True)
class Rule:
    """One row of ``validation_rules.csv``, its sides parsed.

    ``tolerance`` is absolute, in the unit of the sides (0 when empty);
    ``for_each`` is None (once per commune-year), ``"quarter"`` or ``"set"``;
    ``periods`` the report periods it applies to (ids of ``periods.csv``;
    empty: every period): a rule on the year's stated totals says nothing
    of a 6-month report, whose year is not over.
    """

    rule_id: str
    left: Node
    operator: str
    right: Node
    tolerance: float
    for_each: str | None
    importance: str
    message_vi: str
    source: str
    left_text: str
    right_text: str
    periods: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleWarning(Inconsistency):
    """A rule that does not hold, as a report inconsistency.

    ``field`` is the rule id, ``computed`` and ``stated`` the left and right
    values; ``message_vi`` the rule's message filled in, ``importance``
    high/medium/low, ``quarter`` and ``set_id`` the scope (or None).
    """

    rule_id: str = ""
    importance: str = "medium"
    message_vi: str = ""
    quarter: int | None = None
    set_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How one rule went in one scope: ``status`` "ok", "failed" or
    "skipped" (no data); ``warning`` set when it failed."""

    rule: Rule
    status: str
    warning: RuleWarning | None = None


def load_rules(data_dir: str | Path | None = None) -> list[Rule]:
    """The rules of ``data/reference/validation_rules.csv``, in file order.

    Checks, all reported at once: rule ids distinct; each side an expression
    of the rule language naming known tables, columns, functions and sets;
    ``set`` used only by rules ``for_each`` set; the message's braces among
    {left}, {right}, {quarter}, {set}, {details}.

    Raises
    ------
    DataError, DataErrors
        Every problem, with file, row and column.
    """
    path = data_path(data_dir, "reference", "validation_rules.csv")
    table = read_table(path, RULE_COLUMNS)  # raises every cell problem of the file at once
    file = table.attrs["file"]
    problems = Problems()  # then the checks across rows
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for row, rec in records(table):
        def bad(message: str, column: str, found: Any = None) -> None:
            problems.add(DataError(message, file=file, row=row, column=column,
                                   found=shown_text(found) if isinstance(found, str) else found))

        if rec["rule_id"] in seen:
            bad(f"rule {rec['rule_id']!r} is listed twice (rows {seen[rec['rule_id']]} and {row})",
                "rule_id")
        seen.setdefault(rec["rule_id"], row)
        sides: dict[str, Node] = {}
        for column in ("left", "right"):
            try:
                sides[column] = parse(rec[column])
                for node in walk(sides[column]):
                    check_names(node)
                    if getattr(node, "name", None) == "set" and rec["for_each"] != "set":
                        raise ExprError("'set' is only known in rules whose for_each is set")
            except ExprError as exc:
                bad(f"not a valid rule side: {exc.message}", column, rec[column])
        try:
            fields = [(n, spec, conv) for _, n, spec, conv
                      in string.Formatter().parse(rec["message_vi"]) if n is not None]
        except ValueError as exc:
            fields = []
            bad(f"not a valid message template: {exc}", "message_vi")
        unknown = sorted({n for n, _, _ in fields} - set(PLACEHOLDERS))
        if unknown:
            bad(f"unknown placeholder(s) {', '.join(unknown)}; known: "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS), "message_vi")
        formatted = sorted({n for n, spec, conv in fields if spec or conv})
        if formatted:  # {left:>999999999} would build a gigabyte of spaces
            bad("a placeholder with a format or conversion: write it plainly, e.g. {left}",
                "message_vi", ", ".join(formatted))
        if len(sides) == 2:
            tolerance = rec["tolerance"]
            rules.append(Rule(
                rule_id=rec["rule_id"], left=sides["left"], operator=rec["operator"],
                right=sides["right"], tolerance=0.0 if tolerance is None else float(tolerance),
                for_each=rec["for_each"], importance=rec["importance"],
                message_vi=rec["message_vi"], source=rec["source"],
                left_text=rec["left"], right_text=rec["right"],
                periods=tuple(p.strip() for p in (rec["periods"] or "").split(";") if p.strip()),
            ))
    cap_problems(problems)
    problems.raise_if_any()
    return rules


def _holds(left: float, operator: str, right: float, tolerance: float) -> bool:
    tol = tolerance + 1e-9 * max(1.0, abs(left), abs(right))
    return {
        "==": lambda: abs(left - right) <= tol,
        "!=": lambda: abs(left - right) > tol,
        "<=": lambda: left <= right + tol,
        ">=": lambda: left >= right - tol,
        "<": lambda: left < right,
        ">": lambda: left > right,
    }[operator]()


def _show(value: float) -> str:
    return format_number(value) if math.isfinite(value) else str(value)


def _scopes(rule: Rule, subject: Subject) -> list[Scope]:
    if rule.for_each == "quarter":
        return [Scope(subject, quarter=q) for q in (1, 2, 3, 4)]
    if rule.for_each == "set":
        return [Scope(subject, set=s) for s in subject.assessed_sets()]
    return [Scope(subject)]


def evaluate_rules(rules: list[Rule], subject: Subject) -> list[Outcome]:
    """Check every rule against one commune-year, in rule order, each in
    each of its scopes.

    Raises
    ------
    DataError
        A rule that cannot be evaluated (e.g. a column of several values
        outside ``sum``), naming the rule.
    """
    outcomes: list[Outcome] = []
    for rule in rules:
        for scope in _scopes(rule, subject):
            try:
                left = evaluate(rule.left, scope)
                right = evaluate(rule.right, scope)
            except ExprError as exc:
                raise DataError(f"rule {rule.rule_id} cannot be evaluated: {exc.message}",
                                file="data/reference/validation_rules.csv") from None
            if left is None or right is None:
                outcomes.append(Outcome(rule, "skipped"))
                continue
            if _holds(left, rule.operator, right, rule.tolerance):
                outcomes.append(Outcome(rule, "ok"))
                continue
            values = {
                "left": _show(left), "right": _show(right),
                "quarter": _ROMAN.get(scope.quarter or 0, ""),
                "set": scope.set.name_vi if scope.set else "",
                "details": "; ".join(scope.details),
            }
            message_vi = rule.message_vi.format_map(values)
            outcomes.append(Outcome(rule, "failed", RuleWarning(
                field=rule.rule_id, computed=_number(left), stated=_number(right),
                message=f"[{rule.rule_id}] {message_vi}", rule_id=rule.rule_id,
                importance=rule.importance, message_vi=message_vi, quarter=scope.quarter,
                set_id=scope.set.set_id if scope.set else None,
            )))
    return outcomes


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def rule_warnings(subject: Subject, data_dir: str | Path | None = None,
                  period: str = "year") -> list[RuleWarning]:
    """The warnings of every rule of ``validation_rules.csv`` that applies
    to a report of ``period``, for one commune-year."""
    rules = [r for r in load_rules(data_dir) if not r.periods or period in r.periods]
    outcomes = evaluate_rules(rules, subject)
    return [o.warning for o in outcomes if o.warning is not None]
