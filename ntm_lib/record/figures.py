"""Record key figures inside an executed notebook and read them back.

The idea is scrapbook's (a versioned JSON Schema plus a custom media type),
written small because scrapbook is no longer maintained. Inside the kernel,
:func:`record` displays one output whose only media type is
:data:`MEDIA_TYPE`; nbconvert shows nothing for it, the ``.ipynb`` keeps it.
Later, :func:`read_figures` reads every such output of an archived notebook
and checks each against ``figure.v1.json``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

import jsonschema

from ..errors import NtmError

MEDIA_TYPE = "application/vnd.ntm.figure.v1+json"
SCHEMA_ID = "ntm.figure.v1"


class FigureError(NtmError):
    """A recorded figure is malformed, or a value cannot be recorded.

    ``file`` is the notebook, ``cell`` the cell index (as text) when reading.
    """


@dataclass(frozen=True)
class Figure:
    """One recorded figure: ``name``, JSON ``value``, ``unit``,
    ``description`` and ``sources`` (list of ``{"path", "rows"}``)."""

    name: str
    value: Any
    unit: str | None = None
    description: str | None = None
    sources: list[dict] = field(default_factory=list)


@lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema of a recorded figure (``figure.v1.json``)."""
    text = resources.files(__package__).joinpath("figure.v1.json").read_text(encoding="utf-8")
    return json.loads(text)


def _jsonable(value: Any, name: str) -> Any:
    """Plain JSON types from numpy/pandas scalars, tuples, dates; else FigureError."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise FigureError(f"figure {name}: {value} cannot be recorded; record None for no data")
        return value
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):  # numpy scalar
        return _jsonable(value.item(), name)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, name) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [_jsonable(v, name) for v in items]
    raise FigureError(f"figure {name}: values of type {type(value).__name__} cannot be recorded")


def make_payload(
    name: str,
    value: Any,
    *,
    unit: str | None = None,
    description: str | None = None,
    sources: Sequence[Mapping[str, Any]] = (),
) -> dict:
    """The schema-checked JSON payload of one figure (see ``figure.v1.json``).

    Raises :class:`FigureError` when the name or value does not fit the schema.
    """
    payload = {
        "schema": SCHEMA_ID,
        "name": name,
        "value": _jsonable(value, name),
        "unit": unit,
        "description": description,
        "sources": [dict(s) for s in sources],
    }
    _validate(payload, where=f"figure {name}")
    return payload


def record(name: str, value: Any, **kw: Any) -> None:
    """Record a figure in the running notebook (one invisible display output).

    Keyword arguments as :func:`make_payload`. Outside a kernel, nothing is
    shown but the payload is still checked.
    """
    payload = make_payload(name, value, **kw)
    from IPython.display import display  # imported here: only needed in a kernel

    display({MEDIA_TYPE: payload}, raw=True)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    """One validator for the schema, built once: ``jsonschema.validate``
    would check the schema itself and build a validator on every call
    (about 15 ms, paid for every figure of every report)."""
    cls = jsonschema.validators.validator_for(schema())
    cls.check_schema(schema())
    return cls(schema())


def _validate(payload: Any, *, where: str, file: str | None = None, cell: int | None = None) -> None:
    exc = jsonschema.exceptions.best_match(_validator().iter_errors(payload))
    if exc is not None:
        path = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise FigureError(
            f"{where}: {path}: {exc.message}", file=file,
            cell=None if cell is None else str(cell),
        ) from None


def read_figures(notebook: str | Path | Mapping) -> dict[str, Figure]:
    """All figures recorded in an executed notebook, by name.

    Parameters
    ----------
    notebook:
        Path of an ``.ipynb`` file or an already-read notebook (nbformat
        NotebookNode or plain dict).

    Returns
    -------
    dict
        name -> :class:`Figure`; when a name was recorded twice, the later
        output wins (as a re-run cell would).

    Raises
    ------
    FigureError
        An output with the media type fails the schema (file and cell named).
    """
    file = None
    if not isinstance(notebook, Mapping):
        file = str(notebook)
        notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
    figures: dict[str, Figure] = {}
    for index, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if MEDIA_TYPE not in data:
                continue
            payload = data[MEDIA_TYPE]
            if isinstance(payload, str):
                payload = json.loads(payload)
            _validate(payload, where=f"cell {index}", file=file, cell=index)
            figures[payload["name"]] = Figure(
                name=payload["name"],
                value=payload["value"],
                unit=payload.get("unit"),
                description=payload.get("description"),
                sources=list(payload.get("sources") or []),
            )
    return figures
