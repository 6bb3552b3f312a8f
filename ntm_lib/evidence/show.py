"""Read the evidence of an archived run: its manifest and the figures
recorded in its executed notebook, and where each figure came from."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import LimitError, NtmError, UnsafePathError
from ..limits import CSV_FILE_BYTES, EVIDENCE_JSON_BYTES
from ..paths import build_dir, project_root, relative_to_root
from ..record import Figure, read_figures
from ..run.bag import INPUTS, PAYLOAD
from ..safeio import check_within, read_bytes_nofollow, sha256_file
from .verify import find_runs, read_manifest


class EvidenceLookupError(NtmError):
    """No such run, or no such figure in it, or a run whose files cannot be
    read as evidence."""


class UnknownFigureError(EvidenceLookupError):
    """``ntm trace --figure`` names no figure recorded in the run: a bad
    argument, exit code 2; the message lists the figures there are."""

    exit_code = 2


@dataclass
class Run:
    """An archived run: its folder, manifest (dict) and recorded figures."""

    path: Path
    manifest: dict[str, Any]
    figures: dict[str, Figure]


def _figures(notebook: Path) -> dict[str, Figure]:
    """The figures of an executed notebook, read without following a link."""
    where = relative_to_root(notebook)
    data = _read_evidence(notebook, where, EVIDENCE_JSON_BYTES, "the executed notebook")
    try:
        parsed = json.loads(data.decode("utf-8"))
        if not isinstance(parsed, dict) or not isinstance(parsed.get("cells", []), list):
            raise ValueError("not a notebook")
        return read_figures(parsed)
    except NtmError as exc:
        raise EvidenceLookupError(exc.message, file=where) from None
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise EvidenceLookupError(f"the executed notebook cannot be read ({exc})",
                                  file=where) from None


def open_run(path: str | Path) -> Run:
    """The run at ``path`` (a run folder or a ``build/<year>/<slug>`` link).

    Raises :class:`EvidenceLookupError` when ``path`` holds no single run or
    its notebook cannot be read; :class:`~.verify.VerifyError` for a
    manifest that is not a JSON object; :class:`UnsafePathError` for a link
    leading out of the build folder or a manifest or notebook that is a
    symbolic link.
    """
    runs = find_runs(path)
    if len(runs) != 1:
        raise EvidenceLookupError(
            f"{len(runs)} runs here; name one run folder or a build/<year>/<slug> link",
            file=relative_to_root(path))
    run = runs[0]
    manifest = read_manifest(run)
    notebooks = sorted([*(run / PAYLOAD).glob("*.ipynb"), *run.glob("*.ipynb")])
    figures = _figures(notebooks[0]) if notebooks else {}
    return Run(run, manifest, figures)


def latest_run(commune_key: str, year: int, build: str | Path | None = None) -> Run:
    """The latest successful run of a commune-year (``build/<year>/<slug>``)."""
    from ..load import resolve_commune

    from ..run.archive import latest_link, latest_run_dir

    commune = resolve_commune(str(commune_key))
    build = Path(build or build_dir())
    link = latest_link(build, int(year), commune.slug)
    if not link.exists() and not link.is_symlink():
        raise EvidenceLookupError(
            f"no successful run of {commune.name} ({commune.code}) for {year}; "
            + _how_to_build(commune, int(year)), file=relative_to_root(link))
    if latest_run_dir(build, int(year), commune.slug) is None:
        raise UnsafePathError(
            "the latest link does not name a run of this commune's archive (a link made by "
            f"hand, to nothing or out of the build folder); not followed. Rebuild with: "
            f"ntm run --commune {commune.code} --year {year}",
            file=relative_to_root(link.parent) + "/" + link.name)
    return open_run(link)


def _how_to_build(commune, year: int) -> str:
    """The ``ntm run`` command that builds the missing run, or, when the
    commune has no params file for ``year`` (so that command would fail),
    what is missing and the years that have one."""
    from ..run.report import default_params_path

    params = default_params_path(year, commune.slug)
    if params.is_file():
        return f"build one with: ntm run --commune {commune.code} --year {year}"
    years = sorted(p.parent.name for p in params.parent.parent.glob(f"*/{commune.slug}.yaml")
                   if p.parent.name.isdigit())
    have = (f"; params exist for {', '.join(years)}" if years
            else "; it has no params file for any year")
    return (f"no params file {relative_to_root(params)} to build one from{have} (write it, "
            f"then: ntm run --commune {commune.code} --year {year})")


def _value(figure: Figure) -> str:
    value = figure.value
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
    if len(text) > 100:
        text = text[:97] + "..."
    return f"{text} {figure.unit}" if figure.unit and not isinstance(value, (list, dict)) else text


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7f, 0xa0)] if c != 0x09}


def printable(line: str) -> str:
    """``line`` with control characters (terminal escapes, line breaks)
    shown as ``\\xNN``: a manifest or an input file cannot move the cursor
    or fake a line of the output."""
    return line.translate(_CONTROL)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _short(value: Any, width: int = 90) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:width]


def describe(run: Run) -> list[str]:
    """Lines for ``ntm show``: run, status, parameters, recorded figures.
    A field of the wrong type is shown as it is, never trusted."""
    m = run.manifest
    commune = _dict(m.get("commune"))
    git = _dict(_dict(m.get("environment")).get("git"))
    lines = [
        f"run        {m.get('run_id')}  ({relative_to_root(run.path)})",
        f"kind       {m.get('schema')}",
        f"status     {m.get('status')}",
    ]
    if commune:
        lines.append(f"commune    {commune.get('name')} ({commune.get('code')}), "
                     f"{commune.get('district_name') or '-'}, {commune.get('province_name')}")
    lines += [
        f"year       {m.get('year')}",
        f"started    {m.get('started_utc')}   ended {m.get('ended_utc')}",
        f"git        {git.get('commit')}" + (" (uncommitted changes)" if git.get("dirty") else ""),
        "parameters",
    ]
    for key, value in _dict(m.get("parameters")).items():
        if key == "narrative" and isinstance(value, dict):
            value = f"({sum(len(v) if isinstance(v, list) else 1 for v in value.values())} texts)"
        lines.append(f"  {str(key):<22} {_short(value)}")
    error = m.get("error")
    if error:
        lines.append(f"error      {_dict(error).get('message') or _short(error)}")
    lines.append("figures")
    for name, figure in run.figures.items():
        if name == "inputs":
            continue
        lines.append(f"  {name:<26} {_value(figure)}")
    return [printable(line) for line in lines]


def _source_path(source: Any, run: Run) -> tuple[str, list[int]]:
    """A figure source's project path and rows, refused when the path could
    lead out of the project or the run (absolute, ``..``) or rows are not
    whole numbers."""
    where = relative_to_root(run.path)
    path = source.get("path") if isinstance(source, dict) else None
    rows = source.get("rows") if isinstance(source, dict) else None
    if not isinstance(path, str) or not path:
        raise EvidenceLookupError("a figure source names no file", file=where)
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or "\\" in path:
        raise UnsafePathError("a figure source path leads out of the project",
                              file=where, found=path)
    rows = rows or []
    if not isinstance(rows, list) or not all(isinstance(r, int) and not isinstance(r, bool)
                                             for r in rows):
        raise EvidenceLookupError("a figure source's rows are not whole numbers",
                                  file=where, found=str(rows)[:80])
    return path, rows


def _copy_lines(run: Run, path: str) -> list[str] | None:
    """The lines of the run's own copy of ``path``, or None when it has
    none; never through a symbolic link."""
    inputs = run.path / PAYLOAD / INPUTS
    copy = inputs / path
    if not copy.exists() and not copy.is_symlink():
        return None
    shown = relative_to_root(run.path) + f"/{PAYLOAD}/{INPUTS}/{path}"
    try:
        check_within(copy.parent, run.path)
    except UnsafePathError as exc:
        raise UnsafePathError(exc.message, file=shown) from None
    data = _read_evidence(copy, shown, CSV_FILE_BYTES, "the run's copy")
    return data.decode("utf-8", errors="replace").splitlines()


def trace(run: Run, figure_name: str) -> list[str]:
    """Lines for ``ntm trace``: the figure, then each input file and row it
    came from, read from the run's own copy of that file, and whether the
    project's file still has the same bytes.

    Raises :class:`UnknownFigureError` (exit code 2) for an unknown figure,
    :class:`EvidenceLookupError` for a source that is not a file and rows; :class:`UnsafePathError` for a source path
    leading out of the project or a copy that is a symbolic link (never
    read); :class:`LimitError` for a copy over the CSV size limit.
    """
    if figure_name not in run.figures:
        names = [printable(n) for n in run.figures if n != "inputs"]
        raise UnknownFigureError(
            f"no figure {printable(figure_name)!r} in this run; "
            + (f"figures recorded: {', '.join(names)}" if names else "it recorded no figures"),
            file=relative_to_root(run.path))
    figure = run.figures[figure_name]
    lines = [f"{figure.name} = {_value(figure)}"
             + (f"  ({figure.description})" if figure.description else ""),
             f"run {run.manifest.get('run_id')} ({relative_to_root(run.path)})"]
    recorded = {i.get("path"): i.get("sha256") for i in run.manifest.get("inputs") or []
                if isinstance(i, dict)} if isinstance(run.manifest.get("inputs"), list) else {}
    sources = figure.sources if isinstance(figure.sources, list) else []
    if not sources:
        lines.append("  computed from parameters or reference data; no input rows")
    for source in sources:
        path, rows = _source_path(source, run)
        current = project_root() / path
        if current.is_file() and path in recorded:
            same = sha256_file(current) == recorded[path]
            state = "unchanged in the project since" if same else "CHANGED in the project since"
        else:
            state = "no longer in the project"
        lines.append(f"from {path}" + (f", rows {', '.join(map(str, rows))}" if rows else "")
                     + f"  [{state}]")
        text = _copy_lines(run, path) if rows else None
        if text:
            header = next(csv.reader(io.StringIO(text[0])), [])
            lines.append(f"  row 1: {','.join(header)}")
            for row in rows:
                if 0 < row <= len(text):
                    lines.append(f"  row {row}: {text[row - 1]}")
    return [printable(line) for line in lines]


def _read_evidence(path, shown: str, limit: int, what: str) -> bytes:
    """A file of a run, read without following a link and within ``limit``
    bytes; errors name ``shown`` (the path as the user knows it)."""
    try:
        return read_bytes_nofollow(path, limit=limit)
    except (UnsafePathError, LimitError) as exc:
        raise type(exc)(exc.message, file=shown, expected=exc.expected, found=exc.found) from None
    except OSError as exc:
        raise EvidenceLookupError(f"cannot read {what}: {exc.strerror}", file=shown) from None
