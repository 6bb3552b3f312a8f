"""The report notebook as a template: read its JSON within bounds, find its
``parameters`` cell and the defaults written there.

A notebook is JSON (nbformat 4): an object whose ``cells`` is a list. What
is read here is checked before anything runs: a file that is not a regular
file or is over :data:`~ntm_lib.limits.NOTEBOOK_BYTES`, not UTF-8, not JSON,
JSON that is not such an object, a parameters cell that is not Python or
whose defaults are not literals, all raise one typed error naming the file
(exit code 2), never a traceback.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any, Mapping

from .. import limits
from ..errors import LimitError, NotebookError
from ..paths import relative_to_root

PARAMETERS_TAG = "parameters"


def read_notebook(path: str | Path) -> dict[str, Any]:
    """The JSON object of the notebook at ``path``.

    Raises
    ------
    LimitError
        Not a regular file (a folder, ``/dev/zero``), missing, or larger than
        :data:`~ntm_lib.limits.NOTEBOOK_BYTES`.
    NotebookError
        Not UTF-8, not JSON, or not an object with a list of cells.
    """
    shown = relative_to_root(path)
    data = limits.read_bounded(path, "NOTEBOOK_BYTES", what="notebook", shown=shown)
    try:
        nb = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise NotebookError(f"not a notebook: not UTF-8 text (byte {exc.start})",
                            file=shown) from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"not a notebook: not valid JSON ({exc.msg}, line {exc.lineno})",
                            file=shown) from None
    except (ValueError, RecursionError) as exc:
        raise NotebookError(f"not a notebook: {type(exc).__name__}", file=shown) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("not a notebook: expected a JSON object with a list of \"cells\"",
                            file=shown, found=type(nb).__name__ if not isinstance(nb, dict)
                            else "no list of cells")
    return nb


def _tags(cell: Any) -> list:
    metadata = cell.get("metadata") if isinstance(cell, Mapping) else None
    tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
    return tags if isinstance(tags, list) else []


def parameters_cell(notebook: Mapping) -> int:
    """Index of the cell tagged ``parameters``.

    Raises :class:`NotebookError` when there is none (papermill would only
    warn and inject at the top, silently ignoring the defaults) or several,
    or when the notebook has no list of cells.
    """
    cells = notebook.get("cells") if isinstance(notebook, Mapping) else None
    if not isinstance(cells, list):
        raise NotebookError("not a notebook: expected a JSON object with a list of \"cells\"")
    found = [i for i, cell in enumerate(cells) if PARAMETERS_TAG in _tags(cell)]
    if not found:
        raise NotebookError(
            "the notebook has no cell tagged 'parameters'; tag the cell that sets the "
            "default parameters (in JupyterLab: select it, open the Property Inspector, "
            "the gear icon at the right, and add the tag under Common Tools > Cell Tags)",
        )
    if len(found) > 1:
        raise NotebookError(f"the notebook has {len(found)} cells tagged 'parameters' ({found}); keep one")
    return found[0]


def notebook_defaults(notebook_path: str | Path) -> dict[str, Any]:
    """The default parameters written in a notebook's ``parameters`` cell.

    Each statement of the cell must be ``name = <Python literal>``.

    Raises
    ------
    NotebookError
        The notebook cannot be read (see :func:`read_notebook`), has no
        parameters cell (or several), or the cell is not Python made of
        ``name = literal`` statements.
    LimitError
        See :func:`read_notebook`.
    """
    shown = relative_to_root(notebook_path)
    nb = read_notebook(notebook_path)
    try:
        index = parameters_cell(nb)
    except NotebookError as exc:
        raise NotebookError(exc.message, file=shown) from None
    source = nb["cells"][index].get("source", "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise NotebookError("the parameters cell's source is not text", file=shown,
                            cell=str(index))
    try:
        body = ast.parse(source).body
    except SyntaxError as exc:
        raise NotebookError(f"parameters cell line {exc.lineno}: not Python ({exc.msg})",
                            file=shown, cell=str(index)) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise NotebookError(f"parameters cell: not Python ({type(exc).__name__})",
                            file=shown, cell=str(index)) from None
    defaults: dict[str, Any] = {}
    for stmt in body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            raise NotebookError(
                f"parameters cell line {stmt.lineno}: only 'name = value' statements are allowed",
                file=shown, cell=str(index),
            )
        try:
            defaults[stmt.targets[0].id] = ast.literal_eval(stmt.value)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            raise NotebookError(
                f"parameters cell line {stmt.lineno}: the default of {stmt.targets[0].id} "
                f"must be a literal value", file=shown, cell=str(index),
            ) from None
    return defaults
