"""Report parameters: read a params YAML file, check it against the schema
*before* papermill injects it, and check the notebook can take it.

The schema is ``schema.v1.json`` beside this module. Rules it enforces: every
parameter present, none unknown, codes as quoted strings of digits. YAML
reads an unquoted ``02871`` as the octal number 1529 and ``2881`` as an
integer: both are refused with a message saying to quote the code.
"""
from __future__ import annotations

import ast
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml

from ..errors import NotebookError, ParameterError
from ..paths import relative_to_root
from ..textnorm import nfc

PARAMETERS_TAG = "parameters"


@lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema of report parameters (``schema.v1.json``)."""
    text = resources.files(__package__).joinpath("schema.v1.json").read_text(encoding="utf-8")
    return json.loads(text)


def parameter_names() -> list[str]:
    """Names of all report parameters, in schema order."""
    return list(schema()["properties"])


def _marks(node: yaml.Node, path: tuple = ()) -> dict[tuple, yaml.Mark]:
    """Start mark of every value in a composed YAML tree, by key path."""
    found = {path: node.start_mark}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found[path + (key.value,)] = key.start_mark
            found.update({k: v for k, v in _marks(value, path + (key.value,)).items() if k != path + (key.value,)})
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found.update(_marks(item, path + (i,)))
    return found


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {nfc(str(k)): _normalise(v) for k, v in value.items()}
    return value


def load_params(path: str | Path) -> dict[str, Any]:
    """Read and validate one params file.

    Parameters
    ----------
    path:
        A YAML file, UTF-8, holding one mapping of parameter name -> value
        (see ``schema.v1.json`` and ``params/2023/nam-mon.yaml``).

    Returns
    -------
    dict
        The parameters, strings NFC-normalised.

    Raises
    ------
    ParameterError
        The file is missing, not UTF-8, not YAML, not a mapping, or fails the
        schema; the error names the file, line and parameter.
    """
    path = Path(path)
    shown = relative_to_root(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError("params file not found", file=shown) from None
    except UnicodeDecodeError as exc:
        raise ParameterError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=shown
        ) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParameterError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", file=shown,
            row=mark.line + 1 if mark else None,
        ) from None
    if not isinstance(data, dict):
        raise ParameterError("expected a mapping of parameter: value", file=shown)
    validate_params(_normalise(data), file=shown, marks=_marks(node) if node else {})
    return _normalise(data)


def validate_params(
    params: Mapping[str, Any],
    *,
    file: str | None = None,
    marks: Mapping[tuple, yaml.Mark] | None = None,
) -> None:
    """Check parameters against the schema; raise the first problem found.

    Problems are sorted by their place in the file so the first one reported
    is the first one a person meets reading it. Raises :class:`ParameterError`
    with ``parameter`` (dotted path) and ``row`` (YAML line) set.
    """
    marks = marks or {}
    validator = jsonschema.Draft202012Validator(schema())
    errors = list(validator.iter_errors(dict(params)))
    if not errors:
        return

    def where(err: jsonschema.ValidationError) -> tuple:
        path = tuple(err.absolute_path)
        mark = marks.get(path)
        return (mark.line if mark else 10**9, path)

    errors.sort(key=lambda e: (where(e)[0], [str(p) for p in e.absolute_path]))
    err = errors[0]
    path = tuple(err.absolute_path)
    name = ".".join(str(p) for p in path) or None
    mark = marks.get(path)
    line = mark.line + 1 if mark else None
    more = f" ({len(errors) - 1} more problem(s) after this one)" if len(errors) > 1 else ""
    raise ParameterError(_explain(err, params) + more, parameter=name, file=file, row=line)


def _explain(err: jsonschema.ValidationError, params: Mapping[str, Any]) -> str:
    """A plain-words message for one schema failure."""
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        return f"unknown parameter(s) {', '.join(extra)}; known: {', '.join(allowed)}"
    if err.validator == "required":
        missing = [name for name in err.validator_value if name not in err.instance]
        return f"missing parameter(s) {', '.join(missing)}"
    if err.validator in ("type", "pattern") and err.schema.get("pattern") == "^[0-9]{5}$":
        value = err.instance
        if isinstance(value, int) and not isinstance(value, bool):
            return (
                f"commune code must be a quoted 5-digit string such as \"02881\"; YAML read "
                f"the number {value} (an unquoted code loses its leading zero, or is read as "
                f"octal when its digits are 0-7): write it in quotes"
            )
        return f"commune code must be 5 digits with leading zeros, such as \"02881\"; found {value!r}"
    description = err.schema.get("description")
    hint = f" ({description})" if description else ""
    return f"{err.message}{hint}"


def parameters_cell(notebook: Mapping) -> int:
    """Index of the cell tagged ``parameters``.

    Raises :class:`NotebookError` when there is none (papermill would only
    warn and inject at the top, silently ignoring the defaults) or several.
    """
    found = [
        i for i, cell in enumerate(notebook.get("cells", []))
        if PARAMETERS_TAG in (cell.get("metadata", {}).get("tags") or [])
    ]
    if not found:
        raise NotebookError(
            "the notebook has no cell tagged 'parameters'; tag the cell that sets the "
            "default parameters (View > Cell Toolbar > Tags in Jupyter)",
        )
    if len(found) > 1:
        raise NotebookError(f"the notebook has {len(found)} cells tagged 'parameters' ({found}); keep one")
    return found[0]


def notebook_defaults(notebook_path: str | Path) -> dict[str, Any]:
    """The default parameters written in a notebook's ``parameters`` cell.

    Each statement of the cell must be ``name = <Python literal>``. Raises
    :class:`NotebookError` for a missing cell or a non-literal default.
    """
    shown = relative_to_root(notebook_path)
    nb = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    try:
        index = parameters_cell(nb)
    except NotebookError as exc:
        raise NotebookError(exc.message, file=shown) from None
    source = nb["cells"][index]["source"]
    source = "".join(source) if isinstance(source, list) else source
    defaults: dict[str, Any] = {}
    for stmt in ast.parse(source).body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            raise NotebookError(
                f"parameters cell line {stmt.lineno}: only 'name = value' statements are allowed",
                file=shown, cell=str(index),
            )
        try:
            defaults[stmt.targets[0].id] = ast.literal_eval(stmt.value)
        except ValueError:
            raise NotebookError(
                f"parameters cell line {stmt.lineno}: the default of {stmt.targets[0].id} "
                f"must be a literal value", file=shown, cell=str(index),
            ) from None
    return defaults
