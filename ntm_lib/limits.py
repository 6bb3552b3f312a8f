"""Bounds on every input, so that hostile or careless input costs seconds,
not minutes or gigabytes.

Each limit is a named value; :func:`check_size` and :func:`check_text`
raise :class:`~ntm_lib.errors.LimitError` naming the limit, the file (and
line, parameter or cell where known) and the size found. The figures are
engineering bounds well above any real report (the seed's params file is
about 8 KB, its largest table under 4 KB, its longest paragraph under 1,000
characters), not domain rules.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import LimitError

KiB = 1024
MiB = 1024 * KiB

#: Largest params YAML file (bytes).
PARAMS_FILE_BYTES = 1 * MiB
#: Most YAML aliases (``*name``) one params file may use (an alias bomb uses thousands).
YAML_ALIASES = 100
#: Largest CSV table (bytes).
CSV_FILE_BYTES = 20 * MiB
#: Largest notebook template (bytes).
NOTEBOOK_BYTES = 5 * MiB
#: Largest data workbook (.xlsx, bytes on disk).
XLSX_FILE_BYTES = 20 * MiB
#: Largest total uncompressed size of a workbook's zip members (bytes).
XLSX_UNCOMPRESSED_BYTES = 200 * MiB
#: Largest compression ratio of one zip member (a zip bomb compresses ~1000:1).
XLSX_COMPRESSION_RATIO = 200
#: Most members (files) in a workbook's zip package (a template has about 20).
XLSX_MEMBERS = 500
#: Most cells (with a value, a style, or covered by a merge or hyperlink range)
#: in all the sheets of one workbook; bounds the time openpyxl takes to load it
#: (about 1.5 s per 100,000 cells; a template has about 2,000).
XLSX_CELLS = 100_000
#: Most XML elements in all the members of one workbook (cells, rows, styles,
#: strings...): bounds the cost of parsing whatever a hostile file holds.
XLSX_XML_ELEMENTS = 1_000_000
#: Largest used range of one worksheet.
SHEET_ROWS = 5_000
SHEET_COLUMNS = 60
#: Longest text value (characters) of one parameter or cell.
TEXT_CHARS = 20_000
#: Longest run of characters without a space (a word) in report text.
WORD_CHARS = 200
#: Largest whole number in a count field (digits).
INTEGER_DIGITS = 12
#: Seconds allowed for rendering one report's HTML or PDF.
RENDER_SECONDS = 120
#: Peak resident memory (MiB) after which a batch worker's kept render child
#: retires and a fresh one is forked (:mod:`ntm_lib.render.kept`); one render
#: of the seed's report peaks at about 200 MiB.
RENDER_CHILD_MB = 400
#: Largest manifest or record JSON file read back as evidence (bytes).
EVIDENCE_JSON_BYTES = 20 * MiB
#: Most nodes (scalars, lists, mappings) of one params file, aliases expanded
#: (the seed's file has about 60).
YAML_NODES = 20_000
#: Deepest nesting of lists and mappings in one params file (the seed's: 4).
YAML_DEPTH = 20
#: Most rows (records, blank ones included) of one CSV table (a registry of
#: every commune of Viet Nam has about 11,000).
CSV_ROWS = 100_000
#: Longest record of a CSV table, in characters (line breaks inside quoted
#: cells included).
CSV_ROW_CHARS = 1 * MiB
#: Most problems listed for one table; the others are counted in one line.
PROBLEMS_PER_FILE = 100
#: Seconds allowed to a batch report's notebook (``ntm batch --timeout``):
#: at least MIN (a kernel takes about a second to start), at most MAX (24 h).
TIMEOUT_MIN_SECONDS = 1
TIMEOUT_MAX_SECONDS = 24 * 3600


def check_size(path: str | Path, limit: int, *, what: str, shown: str | None = None) -> int:
    """Return the size of ``path`` in bytes, or raise :class:`LimitError`
    when it is over ``limit`` bytes (``what`` names the kind of file in the
    message, ``shown`` the path to print). Only regular files are sized; a
    device or FIFO (``/dev/zero``) is refused as not a regular file."""
    import stat

    shown = shown or str(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise LimitError(f"cannot read {what}: {exc.strerror}", file=shown) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise LimitError(f"{what} must be a regular file; this is {kind}", file=shown)
    if info.st_size > limit:
        raise LimitError(f"{what} is too large", file=shown,
                         expected=f"at most {_size(limit)}", found=_size(info.st_size))
    return info.st_size


def read_bounded(path: str | Path, name: str, *, what: str, shown: str | None = None) -> bytes:
    """The bytes of a regular file within the limit called ``name`` (an
    attribute of this module, e.g. ``"CSV_FILE_BYTES"``), named in the
    messages. The file is opened once (:func:`ntm_lib.safeio.open_input`)
    and checked on the open file, so nothing changes between check and read.

    Raises
    ------
    UnsafePathError
        The path, inside the project, is or passes through a symbolic link
        leading out of the project (``data/communes/X/poverty.csv ->
        /etc/passwd``): refused before anything is read, named by its path
        in the project, never by the link's target.
    LimitError
        A folder, a device or FIFO (``/dev/zero`` is never read), a file that
        cannot be opened, or a larger file (also one that grew while read).
    """
    import stat

    from .safeio import open_input

    limit = globals()[name]
    shown = shown or str(path)
    try:
        handle = open_input(path, what=what)
    except IsADirectoryError:
        raise LimitError(f"{what} must be a regular file; this is a folder", file=shown) from None
    except OSError as exc:
        raise LimitError(f"cannot read {what}: {exc.strerror or exc}", file=shown) from None
    with handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise LimitError(f"{what} must be a regular file; this is not a regular file",
                             file=shown)
        if info.st_size > limit:
            raise LimitError(f"{what} is too large", file=shown,
                             expected=f"at most {_size(limit)} (limit limits.{name})",
                             found=_size(info.st_size))
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise LimitError(f"{what} is too large", file=shown,
                         expected=f"at most {_size(limit)} (limit limits.{name})",
                         found=f"more than {info.st_size:,} bytes")
    return data


def check_text(text: str, *, where: str, limit: int = TEXT_CHARS,
               word_limit: int = WORD_CHARS, **location) -> None:
    """Raise :class:`LimitError` when ``text`` is longer than ``limit``
    characters or holds a word (a run without white space) longer than
    ``word_limit``: such a word cannot be wrapped on an A4 line and stalls
    the PDF engine. ``where`` names the field; ``location`` (``file``,
    ``row``, ``cell``, ...) is passed to the error."""
    if len(text) > limit:
        raise LimitError(f"{where}: text too long", expected=f"at most {limit:,} characters",
                         found=f"{len(text):,} characters", **location)
    longest = max((len(w) for w in text.split()), default=0)
    if longest > word_limit:
        raise LimitError(f"{where}: a word is too long to print",
                         expected=f"words of at most {word_limit} characters",
                         found=f"a word of {longest:,} characters", **location)


def _size(n: int) -> str:
    if n >= MiB:
        return f"{n / MiB:.1f} MiB"
    if n >= KiB:
        return f"{n / KiB:.1f} KiB"
    return f"{n} bytes"
