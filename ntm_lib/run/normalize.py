"""Make an executed notebook reproducible: the same inputs and environment
give the same bytes.

papermill and nbclient write a few fields that change on every run: start
and end times and durations (notebook and cell metadata ``papermill``), the
kernel message timestamps (cell metadata ``execution``), the output path (a
temporary run folder) and random ids for the cells papermill inserts (the
injected parameters, error banners). :func:`normalise_notebook` moves the
times into a record for the manifest, drops the rest, and gives inserted
cells ids derived from their role and place. Everything else (sources,
outputs, parameters, kernel and language info) is kept as executed.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..paths import relative_to_root

#: Per-cell papermill fields that vary from run to run.
VOLATILE_CELL_FIELDS = ("start_time", "end_time", "duration")
#: Notebook-level papermill fields that vary from run to run (moved or dropped).
VOLATILE_NOTEBOOK_FIELDS = ("start_time", "end_time", "duration", "output_path")
INJECTED_TAG = "injected-parameters"


def normalise_notebook(path: str | Path, template_ids: set[str]) -> dict[str, Any]:
    """Rewrite the executed notebook at ``path`` without volatile fields.

    Parameters
    ----------
    path:
        The executed ``.ipynb`` (rewritten in place, UTF-8, as nbformat
        writes it: one-space indent, sorted keys).
    template_ids:
        Cell ids of the template notebook; any other cell was inserted by
        papermill and gets a deterministic id.

    Returns
    -------
    dict
        What was moved out, for the manifest: ``{"start_time", "end_time",
        "duration", "cells": [{"index", "id", "start_time", "end_time",
        "duration", "execution": {...kernel timestamps}}]}``.
    """
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    meta = nb.setdefault("metadata", {}).setdefault("papermill", {})
    moved: dict[str, Any] = {k: meta.pop(k, None) for k in VOLATILE_NOTEBOOK_FIELDS}
    moved.pop("output_path", None)
    if meta.get("input_path"):
        meta["input_path"] = relative_to_root(meta["input_path"])
    cells_moved = []
    for index, cell in enumerate(nb.get("cells", [])):
        cmeta = cell.setdefault("metadata", {})
        record = {"index": index}
        pm = cmeta.get("papermill", {})
        record.update({k: pm.pop(k, None) for k in VOLATILE_CELL_FIELDS})
        if "execution" in cmeta:
            record["execution"] = cmeta.pop("execution")
        if cell.get("id") not in template_ids:
            tags = cmeta.get("tags") or []
            cell["id"] = INJECTED_TAG if INJECTED_TAG in tags else f"papermill-{index}"
        record["id"] = cell.get("id")
        cells_moved.append(record)
    moved["cells"] = cells_moved
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                    encoding="utf-8")
    return moved


def template_cell_ids(template: str | Path) -> set[str]:
    """The cell ids of a notebook file (empty ids are ignored)."""
    nb = json.loads(Path(template).read_text(encoding="utf-8"))
    return {c["id"] for c in nb.get("cells", []) if c.get("id")}
