"""Reading one CSV table strictly, against a declared column spec.

The tables under ``data/`` are machine tables: UTF-8, comma-separated, a
header row, ``.`` as decimal point, dates ``yyyy-mm-dd``, booleans
``true``/``false``. :func:`read_table` checks the header and every cell and
reports *every* problem at once (lazy validation, as pandera does), each as a
:class:`~ntm_lib.errors.DataError` carrying the file, the row as a
spreadsheet shows it (header = row 1), the column, what was expected and
what was found.

Every table read without a problem is recorded in the input log
(:func:`ntm_lib.load.inputs.collect_inputs`), which the report manifest lists as the run's inputs.
"""
from __future__ import annotations

import copy
import csv
import io
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import pandas as pd

from .. import limits
from ..errors import DataError, LimitError, Problems, UnsafePathError
from ..paths import data_dir as default_data_dir
from ..paths import relative_to_root
from ..textnorm import nfc
from .encoding import decode_utf8
from ._kinds import KINDS, BadCell
from .inputs import record_input

__all__ = ["Column", "read_table", "records", "python_value", "data_path",
           "cap_problems"]

EXTRA_COLUMNS = ("error", "ignore", "keep")


@dataclass(frozen=True)
class Column:
    """One column of a table spec.

    Parameters
    ----------
    name:
        Header name, exactly as in the CSV.
    kind:
        ``"str"`` text (object dtype of ``str``; text that looks like TCVN3
        or VNI bytes read as Latin-1, "B¸t X¸t", is refused); ``"int"`` whole number
        >= 0 (``int64``, nullable ``Int64`` when optional); ``"number"``
        decimal with ``.`` as decimal point (``float64``, NaN when empty);
        ``"bool"`` ``true``/``false``, any case (``bool``, nullable
        ``boolean`` when optional); ``"date"`` ISO ``yyyy-mm-dd`` and a real
        calendar date (object dtype of :class:`datetime.date`); ``"code"``
        exactly ``width`` digits, kept as ``str`` with its leading zeros,
        never converted to a number; ``"enum"`` one of ``values`` (``str``).
    required:
        When False the cell may be empty: the value is then None (object
        columns), NaN (``number``) or ``pd.NA`` (``int``, ``bool``).
    values:
        The allowed values of an ``enum`` column.
    width:
        The number of digits of a ``code`` column.
    """

    name: str
    kind: str
    required: bool = True
    values: tuple[str, ...] | None = None
    width: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"column {self.name}: unknown kind {self.kind!r}; one of {sorted(KINDS)}"
            )
        if self.values is not None:
            object.__setattr__(self, "values", tuple(self.values))
        if self.kind == "enum" and not self.values:
            raise ValueError(f"column {self.name}: an enum column needs values")
        if self.kind == "code" and not (isinstance(self.width, int) and self.width > 0):
            raise ValueError(f"column {self.name}: a code column needs a width > 0")

    @property
    def expected(self) -> str:
        """What a cell of this column must hold, in words (for error messages)."""
        return KINDS[self.kind].expected(self)


def data_path(data_dir: str | Path | None, *parts: str) -> Path:
    """``<data_dir>/<parts...>``; ``data_dir`` None means the project's ``data/``."""
    base = Path(data_dir) if data_dir is not None else default_data_dir()
    return base.joinpath(*parts)


def python_value(value: Any) -> Any:
    """``value`` as a plain Python object: missing (None, NaN, NA) -> None,
    numpy scalars -> int/float/bool."""
    if value is None or (not isinstance(value, (tuple, list)) and pd.isna(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


def records(frame: pd.DataFrame) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(spreadsheet row, {column: python value})`` for each row of a table
    returned by :func:`read_table` (row numbers from ``frame.attrs["rows"]``)."""
    rows = frame.attrs.get("rows") or [i + 2 for i in range(len(frame))]
    for row, values in zip(rows, frame.to_dict("records")):
        yield row, {k: python_value(v) for k, v in values.items()}


# --------------------------------------------------------------------------- reading


def read_table(
    path: str | Path,
    columns: Sequence[Column],
    *,
    extra_columns: str = "error",
    problems: Problems | None = None,
) -> pd.DataFrame | None:
    """Read the CSV at ``path`` and check it against ``columns``.

    The file is decoded strictly as UTF-8 (a leading byte-order mark is
    allowed) and every cell read as text: nothing is inferred, so the code
    ``02881`` stays ``"02881"``. Cells and header names are NFC-normalised
    and stripped. Columns may come in any order; rows whose cells are all
    empty are skipped (but still counted in row numbers).

    Parameters
    ----------
    path:
        The CSV file.
    columns:
        The expected columns; the result has them in this order.
    extra_columns:
        What to do with a header name not in ``columns``: ``"error"``
        (default) reports it, ``"ignore"`` drops the column, ``"keep"`` keeps
        it as optional text after the declared columns. An unnamed column
        with no values (a trailing comma) is always ignored.
    problems:
        Lazy mode for loaders that check several tables: problems are added
        to this collector instead of raised, and the result is the table
        with bad cells left empty (None/NaN/NA), or None when the file could
        not be read or lacks a column.

    Returns
    -------
    pandas.DataFrame
        One row per data row, index 0..n-1, dtypes as described in
        :class:`Column`. ``df.attrs["file"]`` is the path relative to the
        project root and ``df.attrs["rows"]`` the spreadsheet row number
        of each row (header = row 1).

    Raises
    ------
    DataError
        One problem: missing file, not UTF-8 (named line and byte; TCVN3 or
        VNI files are the usual cause), empty file, bad header or bad cell;
        or a limit of :mod:`ntm_lib.limits` passed, named in the message: not
        a regular file (a folder, FIFO, ``/dev/zero``), over ``CSV_FILE_BYTES``,
        ``CSV_ROWS`` or ``CSV_ROW_CHARS``, a cell over ``TEXT_CHARS``, a word
        over ``WORD_CHARS``, a number over ``INTEGER_DIGITS`` digits; a text
        cell holding a control or bidirectional-control character.
    DataErrors
        Several problems, all of them (at most ``PROBLEMS_PER_FILE`` a file,
        then one line saying there are more), one per line in ``str()``.
    """
    if extra_columns not in EXTRA_COLUMNS:
        raise ValueError(f"extra_columns must be one of {EXTRA_COLUMNS}, not {extra_columns!r}")
    local = Problems()
    df, data = _read(Path(path), list(columns), extra_columns, local)
    if not local.items and df is not None and data is not None:
        record_input(df.attrs["file"], data, len(df))
    if problems is None:
        local.raise_if_any()
        return df
    problems.items.extend(local.items)
    return df


def _read(
    path: Path, columns: list[Column], extra_columns: str, problems: Problems
) -> tuple[pd.DataFrame | None, bytes | None]:
    rel = relative_to_root(path)
    header_line = ",".join(c.name for c in columns)

    listed = 0

    def problem(message: str, **where: Any) -> None:
        nonlocal listed
        listed += 1
        if listed <= limits.PROBLEMS_PER_FILE:
            problems.add(DataError(message, file=rel, **where))
        elif listed == limits.PROBLEMS_PER_FILE + 1:
            problems.add(DataError(
                f"more problems from here on; only the first {limits.PROBLEMS_PER_FILE} are "
                "listed (limit limits.PROBLEMS_PER_FILE): fix them and check again", file=rel,
                row=where.get("row")))

    if not path.exists() and not path.is_symlink():
        problem("file not found", expected=f"a CSV file with the header {header_line}")
        return None, None
    try:
        data = _read_bounded(path, rel)
    except UnsafePathError as exc:  # refused before reading: raised at once, exit code 2
        raise UnsafeTableError(exc.message, file=exc.file) from None
    except LimitError as exc:  # named by its own path, not where a link leads (/dev/zero)
        problems.add(DataError(exc.message, file=_unresolved(path), expected=exc.expected,
                               found=exc.found))
        return None, None
    except OSError as exc:
        problem(f"cannot read the file: {exc.strerror or exc}")
        return None, None
    key = (rel, data, tuple(columns), extra_columns)
    with _PARSED_LOCK:
        cached = _PARSED.get(key)
        if cached is not None:
            _PARSED.move_to_end(key)
    if cached is not None:  # the same bytes read the same way before: same table, same problems
        frame, found = cached
        problems.items.extend(copy.copy(e) for e in found)
        return (_copy(frame) if frame is not None else None), data
    before = len(problems.items)
    frame = _parse(rel, data, columns, extra_columns, problem, header_line)
    found = [copy.copy(e) for e in problems.items[before:]]
    if len(data) <= _PARSED_MAX_BYTES:
        with _PARSED_LOCK:
            _PARSED[key] = (_copy(frame) if frame is not None else None, found)
            while len(_PARSED) > _PARSED_MAX:
                _PARSED.popitem(last=False)
    return frame, data


def cap_problems(problems: Problems) -> None:
    """Keep at most :data:`~ntm_lib.limits.PROBLEMS_PER_FILE` problems of each
    file (checks across rows, such as repeats, can find one per row), and
    one line saying more were found; order kept."""
    kept: list[DataError] = []
    count: dict[str | None, int] = {}
    for error in problems.items:
        n = count[error.file] = count.get(error.file, 0) + 1
        if n <= limits.PROBLEMS_PER_FILE:
            kept.append(error)
        elif n == limits.PROBLEMS_PER_FILE + 1:
            kept.append(DataError(
                f"more problems from here on; only the first {limits.PROBLEMS_PER_FILE} are "
                "listed (limit limits.PROBLEMS_PER_FILE): fix them and check again",
                file=error.file, row=error.row))
    problems.items[:] = kept


class UnsafeTableError(DataError, UnsafePathError):
    """A data table reached through a symbolic link leading out of the
    project (:func:`ntm_lib.safeio.open_input`): a data problem of that
    table and an unsafe path, exit code 2. Raised at once, not collected
    with the table's other problems: nothing of the target was read."""


def _unresolved(path: Path) -> str:
    """``path`` relative to the project root, symbolic links not followed."""
    from ..paths import project_root

    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(project_root()).as_posix()
    except ValueError:
        return absolute.as_posix()


def _read_bounded(path: Path, rel: str) -> bytes:
    """The bytes of a regular file of at most :data:`~ntm_lib.limits.CSV_FILE_BYTES`.

    Raises :class:`LimitError` for a folder, a device or FIFO (``/dev/zero``
    is never read), or a larger file (also one that grew while read)."""
    return limits.read_bounded(path, "CSV_FILE_BYTES", what="CSV table", shown=rel)


#: Tables parsed in this process, by (file, bytes, columns, extra_columns):
#: a report reads the reference tables several times (and a batch worker
#: once per commune); parsing is the cost, reading the bytes is not. Keyed
#: on the bytes themselves, so a changed file is parsed again.
_PARSED: "OrderedDict[tuple, tuple[pd.DataFrame | None, list[DataError]]]" = OrderedDict()
_PARSED_MAX = 64
_PARSED_MAX_BYTES = 1 << 20  # larger files are parsed each time, not kept
_PARSED_LOCK = threading.Lock()


def _copy(frame: pd.DataFrame) -> pd.DataFrame:
    copy = frame.copy(deep=True)
    copy.attrs = {"file": frame.attrs["file"], "rows": list(frame.attrs["rows"])}
    return copy


def _parse(rel: str, data: bytes, columns: list[Column], extra_columns: str, problem: Any,
           header_line: str) -> pd.DataFrame | None:
    text, failure = decode_utf8(data)
    if failure is not None:
        line, reason = failure
        problem(reason, row=line)
        return None
    records = _parse_csv(text or "", problem)
    if records is None:
        return None
    if not any(_cells_present(r) for r in records):
        problem("empty file: no header row", expected=f"header {header_line}")
        return None
    if not _cells_present(records[0]):
        problem("row 1 must be the header", row=1, expected=header_line)
        return None

    names = [nfc(name).strip() for name in records[0]]
    body = records[1:]
    positions, complete = _check_header(names, body, columns, extra_columns, header_line, problem)
    declared = list(columns)
    if extra_columns == "keep":
        known = {c.name for c in columns}
        declared += [Column(n, "str", required=False) for n in positions if n not in known]

    values: dict[str, list[Any]] = {c.name: [] for c in declared if c.name in positions}
    rows: list[int] = []
    for row, record in enumerate(body, start=2):
        if not _cells_present(record):
            continue
        if len(record) != len(names):
            if len(record) > len(names) and not _cells_present(record[len(names):]):
                record = record[: len(names)]
            else:
                hint = (
                    "a comma inside a text? put that text in double quotes"
                    if len(record) > len(names)
                    else "a missing comma or cell?"
                )
                problem(
                    f"row has {len(record)} cells but the header has {len(names)}: {hint}",
                    row=row,
                )
                continue
        rows.append(row)
        for column in declared:
            if column.name in values:
                cell = record[positions[column.name]]
                values[column.name].append(_cell(cell, column, row, problem))

    if not complete:
        return None
    frame = pd.DataFrame({c.name: KINDS[c.kind].series(values[c.name], c) for c in declared})
    frame.attrs["file"] = rel
    frame.attrs["rows"] = rows
    return frame


class _RecordTooLong(Exception):
    pass


class _Lines:
    """The lines of ``text`` for :mod:`csv`, stopping with
    :class:`_RecordTooLong` when one record (lines read since the last
    :meth:`record_done`) passes :data:`~ntm_lib.limits.CSV_ROW_CHARS`."""

    def __init__(self, text: str) -> None:
        self._lines = io.StringIO(text, newline="")
        self._pending = 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._pending += len(line)
        if self._pending > limits.CSV_ROW_CHARS:
            raise _RecordTooLong()
        return line

    def record_done(self) -> None:
        self._pending = 0


def _parse_csv(text: str, problem: Any) -> list[list[str]] | None:
    lines = _Lines(text)
    reader = csv.reader(lines, strict=True)
    records: list[list[str]] = []
    try:
        for record in reader:
            lines.record_done()
            records.append(record)
            if len(records) > limits.CSV_ROWS:
                problem("too many rows", row=len(records),
                        expected=f"at most {limits.CSV_ROWS:,} rows (limit limits.CSV_ROWS)")
                return None
    except _RecordTooLong:
        problem("row too long", row=reader.line_num + 1,
                expected=f"at most {limits.CSV_ROW_CHARS:,} characters a row "
                         "(limit limits.CSV_ROW_CHARS)")
        return None
    except csv.Error as exc:
        problem(
            f"not readable as CSV ({exc}): check the double quotes around texts",
            row=reader.line_num,
        )
        return None
    return records


def _cells_present(cells: Iterable[str]) -> bool:
    return any(cell.strip() for cell in cells)


def _check_header(
    names: list[str],
    body: list[list[str]],
    columns: list[Column],
    extra_columns: str,
    header_line: str,
    problem: Any,
) -> tuple[dict[str, int], bool]:
    """Map header names to positions; report missing, repeated, unknown and unnamed columns."""
    positions: dict[str, int] = {}
    known = {c.name for c in columns}
    for index, name in enumerate(names):
        if name == "":
            if any(len(r) > index and r[index].strip() for r in body):
                problem(f"column {index + 1} has values but no name", row=1, expected=header_line)
            continue
        if name in positions:
            problem(
                f"column {name!r} appears twice (columns {positions[name] + 1} and {index + 1})",
                row=1,
                column=name,
            )
            continue
        if name not in known:
            if extra_columns == "error":
                problem(f"unknown column {name!r}", row=1, column=name,
                        expected=f"header {header_line}")
                continue
            if extra_columns == "ignore":
                continue
        positions[name] = index
    complete = True
    for column in columns:
        if column.name not in positions:
            complete = False
            problem(
                f"missing column {column.name!r}",
                row=1,
                column=column.name,
                expected=f"header {header_line}",
            )
    return positions, complete


def _cell(raw: str, column: Column, row: int, problem: Any) -> Any:
    if len(raw) > limits.TEXT_CHARS:  # before any work on it
        problem("cell too long", row=row, column=column.name, found=f"{len(raw):,} characters",
                expected=f"at most {limits.TEXT_CHARS:,} characters (limit limits.TEXT_CHARS)")
        return None
    text = nfc(raw).strip()
    if text == "":
        if column.required:
            problem("empty cell", row=row, column=column.name, expected=column.expected)
        return None
    try:
        return KINDS[column.kind].parse(text, column)
    except BadCell as bad:
        problem(bad.message, row=row, column=column.name,
                expected=bad.expected or column.expected, found=shown_text(text))
        return None


def shown_text(text: str, width: int = 60) -> str:
    """``text`` as a message may quote it: cut to about ``width`` characters
    (a hostile cell of a megabyte is not repeated in every message)."""
    if len(text) <= width:
        return text
    return f"{text[:width]}… ({len(text):,} characters)"
