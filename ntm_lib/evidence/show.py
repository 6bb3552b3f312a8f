"""Read the evidence of an archived run: its manifest and the figures
recorded in its executed notebook, and where each figure came from."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NtmError
from ..paths import build_dir, project_root, relative_to_root
from ..record import Figure, read_figures
from ..run.bag import INPUTS, MANIFEST, PAYLOAD
from ..run.manifest import sha256_file
from .verify import find_runs

class EvidenceLookupError(NtmError):
    """No such run, or no such figure in it."""


@dataclass
class Run:
    """An archived run: its folder, manifest (dict) and recorded figures."""

    path: Path
    manifest: dict[str, Any]
    figures: dict[str, Figure]


def open_run(path: str | Path) -> Run:
    """The run at ``path`` (a run folder or a ``build/<year>/<slug>`` link).

    Raises :class:`EvidenceLookupError` when ``path`` holds no single run.
    """
    runs = find_runs(path)
    if len(runs) != 1:
        raise EvidenceLookupError(
            f"{len(runs)} runs here; name one run folder or a build/<year>/<slug> link",
            file=relative_to_root(path))
    run = runs[0]
    manifest = json.loads((run / MANIFEST).read_text(encoding="utf-8"))
    notebooks = sorted((run / PAYLOAD).glob("*.ipynb"))  # commune report or roll-up
    figures = read_figures(notebooks[0]) if notebooks else {}
    return Run(run, manifest, figures)


def latest_run(commune_key: str, year: int, build: str | Path | None = None) -> Run:
    """The latest successful run of a commune-year (``build/<year>/<slug>``)."""
    from ..load import resolve_commune

    commune = resolve_commune(str(commune_key))
    link = Path(build or build_dir()) / str(year) / commune.slug
    if not link.exists():
        raise EvidenceLookupError(
            f"no successful run of {commune.name} ({commune.code}) for {year}; "
            f"build one with: ntm run --commune {commune.code} --year {year}",
            file=relative_to_root(link))
    return open_run(link)


def _value(figure: Figure) -> str:
    value = figure.value
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
    if len(text) > 100:
        text = text[:97] + "..."
    return f"{text} {figure.unit}" if figure.unit and not isinstance(value, (list, dict)) else text


def describe(run: Run) -> list[str]:
    """Lines for ``ntm show``: run, status, parameters, recorded figures."""
    m = run.manifest
    commune = m.get("commune") or {}
    git = (m.get("environment") or {}).get("git") or {}
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
    for key, value in m.get("parameters", {}).items():
        if key == "narrative":
            value = f"({sum(len(v) if isinstance(v, list) else 1 for v in value.values())} texts)"
        lines.append(f"  {key:<22} {json.dumps(value, ensure_ascii=False)[:90]}")
    if m.get("error"):
        lines.append(f"error      {m['error'].get('message')}")
    lines.append("figures")
    for name, figure in run.figures.items():
        if name == "inputs":
            continue
        lines.append(f"  {name:<26} {_value(figure)}")
    return lines


def trace(run: Run, figure_name: str) -> list[str]:
    """Lines for ``ntm trace``: the figure, then each input file and row it
    came from, read from the run's own copy of that file, and whether the
    project's file still has the same bytes."""
    if figure_name not in run.figures:
        raise EvidenceLookupError(
            f"no figure {figure_name!r} in this run; recorded: "
            + ", ".join(n for n in run.figures if n != "inputs"),
            file=relative_to_root(run.path))
    figure = run.figures[figure_name]
    lines = [f"{figure.name} = {_value(figure)}"
             + (f"  ({figure.description})" if figure.description else ""),
             f"run {run.manifest.get('run_id')} ({relative_to_root(run.path)})"]
    recorded = {i["path"]: i["sha256"] for i in run.manifest.get("inputs", [])}
    if not figure.sources:
        lines.append("  computed from parameters or reference data; no input rows")
    for source in figure.sources:
        path = source["path"]
        copy = run.path / PAYLOAD / INPUTS / path
        current = project_root() / path
        if current.exists() and path in recorded:
            same = sha256_file(current) == recorded[path]
            state = "unchanged in the project since" if same else "CHANGED in the project since"
        else:
            state = "no longer in the project"
        rows = source.get("rows")
        lines.append(f"from {path}" + (f", rows {', '.join(map(str, rows))}" if rows else "")
                     + f"  [{state}]")
        if rows and copy.exists():
            text = copy.read_text(encoding="utf-8").splitlines()
            header = next(csv.reader(io.StringIO(text[0]))) if text else []
            lines.append(f"  row 1: {','.join(header)}")
            for row in rows:
                if 0 < row <= len(text):
                    lines.append(f"  row {row}: {text[row - 1]}")
    return lines
