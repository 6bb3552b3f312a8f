"""Reference tables of ``data/reference/``: criteria sets (from
:mod:`ntm_lib.load.criteria`), the bands of criteria not met, document header
styles and status labels.

Every rule is data with its legal source, so a user corrects a name, a band
or a header line by editing a CSV, never the code.
"""
from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError, DataErrors, Problems
from ..paths import relative_to_root
from ..textnorm import match_key
from .criteria import (
    CriteriaSet,
    list_criteria_sets,
    load_criteria_set,
    load_criteria_sets,
)
from .tables import Column, data_path, read_table, records

__all__ = [
    "STATUSES", "CriteriaSet", "load_criteria_set", "load_criteria_sets",
    "list_criteria_sets", "BandRule", "load_band_rule", "HeaderStyle",
    "load_header_style", "header_style_ids", "load_status_labels",
]

#: Machine codes of a criterion's status at a date; labels are in statuses.csv.
STATUSES = ("met", "not_met")

BANDS_COLUMNS = [
    Column("band_id", "str"),
    Column("lower_percent", "number"),
    Column("upper_percent", "number"),
    Column("upper_inclusive", "bool"),
    Column("requires_key_criterion", "bool"),
    Column("recognition_withdrawn", "bool"),
    Column("label_vi", "str"),
    Column("label_en", "str"),
    Column("legal_source", "str"),
    Column("issued_on", "date"),
    Column("in_force_from", "date"),
    Column("in_force_to", "date", required=False),
]
KEY_CRITERIA_COLUMNS = [
    Column("name_vi", "str"),
    Column("legal_source", "str"),
    Column("issued_on", "date"),
    Column("note", "str", required=False),
]
HEADER_COLUMNS = [
    Column("style_id", "str"),
    Column("right_line1", "str"),
    Column("right_line2", "str", required=False),
    Column("number_format", "str"),
    Column("asterisk_under_body", "bool"),
    Column("legal_source", "str"),
    Column("issued_on", "date"),
    Column("verified", "bool"),
    Column("note", "str", required=False),
]
STATUS_COLUMNS = [
    Column("status", "enum", values=STATUSES),
    Column("label_vi", "str"),
    Column("label_en", "str"),
]


# --------------------------------------------------------------------------- bands


@dataclass(frozen=True)
class BandRule:
    """Bands of the share of criteria not met (Quyết định 18/2022/QĐ-TTg, 02/8/2022).

    A commune's NTM recognition is withdrawn when 30% up to 50% of its
    criteria are not met *and* one of them is a key criterion, or when 50%
    or more are not met.

    Attributes
    ----------
    bands:
        The rows of ``bands.csv`` sorted by ``lower_percent``: ``band_id``
        (str), ``lower_percent``, ``upper_percent`` (float64, percent of the
        set's criteria, 0..100), ``upper_inclusive`` (bool: the band is
        ``[lower, upper]`` when True, ``[lower, upper)`` otherwise),
        ``requires_key_criterion``, ``recognition_withdrawn`` (bool),
        ``label_vi``, ``label_en``, ``legal_source`` (str), ``issued_on``
        (datetime.date). The bands cover 0..100 with no gap or overlap.
    key_criteria:
        Names (NFC, as in ``band_key_criteria.csv``) of the key criteria;
        match them to a set with :meth:`CriteriaSet.find`.
    legal_source, issued_on:
        The decision that set the bands and its date.
    in_force_from, in_force_to:
        The days the rule governs (Decision 18/2022 governs 2021-2025; no
        rule for 2026-2030 was found): a report of another period has no band.
    """

    bands: pd.DataFrame = field(compare=False, repr=False)
    key_criteria: tuple[str, ...]
    legal_source: str
    issued_on: dt.date
    in_force_from: dt.date | None = None
    in_force_to: dt.date | None = None


def load_band_rule(data_dir: str | Path | None = None) -> BandRule:
    """The band rule from ``bands.csv`` and ``band_key_criteria.csv``.

    Checks, all reported at once: band ids distinct; sorted by
    ``lower_percent`` the bands start at 0, end at 100, each ``upper`` equals
    the next ``lower``, only the last is ``upper_inclusive``; every row of
    both files names the same legal source and date; each key criterion is
    the name or alias of a criterion in some criteria set (so a typo cannot
    silently disable the rule).

    Raises
    ------
    DataError, DataErrors
        Every problem found, with file, row and column.
    """
    problems = Problems()
    bands_path = data_path(data_dir, "reference", "bands.csv")
    keys_path = data_path(data_dir, "reference", "band_key_criteria.csv")
    bands = read_table(bands_path, BANDS_COLUMNS, problems=problems)
    keys = read_table(keys_path, KEY_CRITERIA_COLUMNS, problems=problems)
    if bands is None or keys is None or problems.items:
        problems.raise_if_any()
    assert bands is not None and keys is not None
    bands_file, keys_file = relative_to_root(bands_path), relative_to_root(keys_path)

    rows = sorted(records(bands), key=lambda item: item[1]["lower_percent"])
    _check_bands(rows, bands_file, problems)
    sources = {(rec["legal_source"], rec["issued_on"]) for _, rec in rows}
    first = (rows[0][1]["legal_source"], rows[0][1]["issued_on"]) if rows else (None, None)
    if len(sources) > 1:
        problems.add(DataError(
            "all bands must come from one decision", file=bands_file, column="legal_source",
            expected=f"{first[0]} of {first[1]} on every row",
            found="; ".join(sorted(f"{s} of {d}" for s, d in sources)),
        ))

    known = _criterion_keys(data_dir, problems)
    names: list[str] = []
    for row, rec in records(keys):
        if (rec["legal_source"], rec["issued_on"]) != first:
            problems.add(DataError(
                "a key criterion must come from the decision of the bands", file=keys_file,
                row=row, column="legal_source", expected=f"{first[0]} of {first[1]}",
                found=f"{rec['legal_source']} of {rec['issued_on']}",
            ))
        if match_key(rec["name_vi"]) in {match_key(n) for n in names}:
            problems.add(DataError(f"key criterion {rec['name_vi']!r} is listed twice",
                                   file=keys_file, row=row, column="name_vi"))
        elif known is not None and match_key(rec["name_vi"]) not in known:
            problems.add(DataError(
                f"key criterion {rec['name_vi']!r} is not the name or alias of a criterion "
                "in any criteria set",
                file=keys_file, row=row, column="name_vi",
                expected="a name of data/reference/criteria.csv", found=rec["name_vi"],
            ))
        names.append(rec["name_vi"])
    problems.raise_if_any()
    table = bands.sort_values("lower_percent", kind="stable", ignore_index=True)
    table.attrs = {}
    return BandRule(
        bands=table, key_criteria=tuple(names), legal_source=first[0], issued_on=first[1],
        in_force_from=rows[0][1]["in_force_from"] if rows else None,
        in_force_to=rows[0][1]["in_force_to"] if rows else None,
    )


def _check_bands(rows: list[tuple[int, dict[str, Any]]], file: str, problems: Problems) -> None:
    def add(message: str, row: int | None, column: str, **kw: Any) -> None:
        problems.add(DataError(message, file=file, row=row, column=column, **kw))

    if not rows:
        add("no bands", None, "band_id", expected="bands covering 0..100 percent")
        return
    seen: dict[str, int] = {}
    for row, rec in rows:
        if rec["band_id"] in seen:
            add(f"band {rec['band_id']!r} is listed twice (rows {seen[rec['band_id']]} and {row})",
                row, "band_id")
        seen.setdefault(rec["band_id"], row)
        if not 0 <= rec["lower_percent"] < rec["upper_percent"] <= 100:
            add("a band needs 0 <= lower_percent < upper_percent <= 100", row, "upper_percent",
                found=f"{rec['lower_percent']}..{rec['upper_percent']}")
    if rows[0][1]["lower_percent"] != 0:
        add("the lowest band must start at 0", rows[0][0], "lower_percent",
            expected=0, found=rows[0][1]["lower_percent"])
    if rows[-1][1]["upper_percent"] != 100 or not rows[-1][1]["upper_inclusive"]:
        add("the highest band must end at 100 included (upper_inclusive true)", rows[-1][0],
            "upper_percent", expected="100, true",
            found=f"{rows[-1][1]['upper_percent']}, {rows[-1][1]['upper_inclusive']}")
    for (row, rec), (next_row, nxt) in zip(rows, rows[1:]):
        if rec["upper_percent"] != nxt["lower_percent"]:
            kind = "gap" if rec["upper_percent"] < nxt["lower_percent"] else "overlap"
            add(f"{kind} between bands {rec['band_id']} and {nxt['band_id']} (row {next_row})",
                row, "upper_percent", expected=nxt["lower_percent"], found=rec["upper_percent"])
        elif rec["upper_inclusive"]:
            add(f"bands {rec['band_id']} and {nxt['band_id']} both include {rec['upper_percent']}",
                row, "upper_inclusive", expected="false", found="true")


def _criterion_keys(data_dir: str | Path | None, problems: Problems) -> set[str] | None:
    try:
        sets = load_criteria_sets(data_dir)
    except DataError as error:
        problems.items.extend(error.errors if isinstance(error, DataErrors) else [error])
        return None
    keys = set()
    for criteria_set in sets.values():
        table = criteria_set.criteria
        for name, aliases in zip(table["name_vi"], table["aliases"]):
            keys.update(match_key(text) for text in (name, *aliases))
    return keys


# --------------------------------------------------------------------------- headers


@dataclass(frozen=True)
class HeaderStyle:
    """How the top of a document is laid out (``header_styles.csv``).

    State bodies follow Nghị định 30/2020/NĐ-CP, Phụ lục I (national motto
    at top right, "Số: 12/KH-UBND"); Party bodies and mass associations such
    as the Farmers' Association use Party style ("ĐẢNG CỘNG SẢN VIỆT NAM",
    "Số 256a-KH/HNDT", an asterisk under the body's name).

    Attributes
    ----------
    style_id:
        ``"state"`` or ``"party"`` in the shipped table.
    right_line1, right_line2:
        The lines at top right; ``right_line2`` is None when there is none.
    number_format:
        Template of the number line with the fields ``{number}`` (required)
        and ``{code}`` (optional): ``"Số: {number}/{code}"``.
    asterisk_under_body:
        Whether an asterisk goes under the issuing body's name.
    legal_source, issued_on, verified, note:
        Where the style comes from, its date, whether checked, free text.
    """

    style_id: str
    right_line1: str
    right_line2: str | None
    number_format: str
    asterisk_under_body: bool
    legal_source: str
    issued_on: dt.date
    verified: bool
    note: str | None


def load_header_style(style_id: str, data_dir: str | Path | None = None) -> HeaderStyle:
    """The header style ``style_id`` of ``data/reference/header_styles.csv``.

    Raises
    ------
    DataError
        ``style_id`` is unknown (the message lists the known ones); or the
        table is invalid: a style listed twice, or a ``number_format`` that
        is not a template of ``{number}`` and ``{code}``.
    """
    path = data_path(data_dir, "reference", "header_styles.csv")
    table = read_table(path, HEADER_COLUMNS)  # raises every cell problem of the file at once
    file = table.attrs["file"]
    problems = Problems()  # then the checks across rows
    styles: dict[str, HeaderStyle] = {}
    for row, rec in records(table):
        if rec["style_id"] in styles:
            problems.add(DataError(f"style {rec['style_id']!r} is listed twice", file=file,
                                   row=row, column="style_id"))
        reason = _template_problem(rec["number_format"])
        if reason:
            problems.add(DataError(reason, file=file, row=row, column="number_format",
                                   expected="a template such as 'Số: {number}/{code}'",
                                   found=rec["number_format"]))
        styles.setdefault(rec["style_id"], HeaderStyle(**rec))
    problems.raise_if_any()
    if style_id not in styles:
        raise DataError(f"unknown header style {style_id!r}", file=file,
                        expected="one of " + ", ".join(styles), found=style_id)
    return styles[style_id]


def header_style_ids(data_dir: str | Path | None = None) -> list[str]:
    """The ``style_id`` of every row of ``data/reference/header_styles.csv``,
    in file order (for checking a params file's ``header_style``).

    Raises
    ------
    DataError, DataErrors
        The table cannot be read or holds a bad cell.
    """
    table = read_table(data_path(data_dir, "reference", "header_styles.csv"), HEADER_COLUMNS)
    return list(dict.fromkeys(s for s in table["style_id"] if s is not None))


def _template_problem(template: str) -> str | None:
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        return f"not a valid template: {exc}"
    if "number" not in fields:
        return "the template has no {number} field"
    if fields - {"number", "code"}:
        unknown = ", ".join(sorted(fields - {"number", "code"}))
        return f"unknown field(s) {unknown}: only {{number}} and {{code}}"
    return None


# --------------------------------------------------------------------------- statuses


def load_status_labels(data_dir: str | Path | None = None) -> dict[str, str]:
    """Vietnamese label of each status: ``{"met": "Đạt", "not_met": "Chưa đạt"}``.

    Raises
    ------
    DataError, DataErrors
        ``data/reference/statuses.csv`` is invalid, lists a status other than
        ``met``/``not_met``, lists one twice or misses one.
    """
    path = data_path(data_dir, "reference", "statuses.csv")
    table = read_table(path, STATUS_COLUMNS)  # raises every cell problem of the file at once
    file = table.attrs["file"]
    problems = Problems()  # then the checks across rows
    labels: dict[str, str] = {}
    for row, rec in records(table):
        if rec["status"] in labels:
            problems.add(DataError(f"status {rec['status']!r} is listed twice", file=file,
                                   row=row, column="status"))
        labels.setdefault(rec["status"], rec["label_vi"])
    for status in STATUSES:
        if status not in labels:
            problems.add(DataError(f"no label for status {status!r}", file=file, column="status",
                                   expected="one row for each of " + ", ".join(STATUSES)))
    problems.raise_if_any()
    return labels
