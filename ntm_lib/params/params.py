"""Report parameters: read a params YAML file, check it against the schema
*before* papermill injects it, and check the notebook can take it.

The schema is ``schema.v1.json`` beside this module. Rules it enforces: every
parameter present, none unknown, codes as quoted strings of digits. YAML
reads an unquoted ``02871`` as the octal number 1529 and ``2881`` as an
integer: both are refused with a message saying to quote the code.
"""
from __future__ import annotations

import ast
import datetime as dt
import difflib
import json
import re
import string
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml

from ..errors import NotebookError, ParameterError, ParameterErrors
from ..paths import relative_to_root
from ..textnorm import nfc

PARAMETERS_TAG = "parameters"


@lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema of report parameters (``schema.v1.json``)."""
    text = resources.files(__package__).joinpath("schema.v1.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


#: PyYAML's safe loader, in C (libyaml) when PyYAML was built with it.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parameter_names() -> list[str]:
    """Names of all report parameters, in schema order."""
    return list(schema()["properties"])


#: Prefix of the environment variables that carry secret parameters.
SECRET_ENV_PREFIX = "NTM_SECRET_"


def secret_names() -> list[str]:
    """Parameters marked ``"x-secret": true`` in the schema: given through the
    environment (``NTM_SECRET_<NAME>``), never written to a params file, the
    executed notebook, the manifest or the archive."""
    return [name for name, spec in schema()["properties"].items() if spec.get("x-secret")]


def secret_env_name(name: str) -> str:
    """``data_api_token`` -> ``NTM_SECRET_DATA_API_TOKEN``."""
    return SECRET_ENV_PREFIX + name.upper()


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
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParameterError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", file=shown,
            row=mark.line + 1 if mark else None,
        ) from None
    if not isinstance(data, dict):
        raise ParameterError("expected a mapping of parameter: value", file=shown)
    for name in secret_names():
        if name in data:
            mark = _marks(node).get((name,)) if node else None
            raise ParameterError(
                f"{name} is secret and must not be written in a params file (it would be "
                f"archived with the run); set the environment variable {secret_env_name(name)}",
                parameter=name, file=shown, row=mark.line + 1 if mark else None,
            )
    validate_params(_normalise(data), file=shown, marks=_marks(node) if node else {})
    return _normalise(data)


#: Facts a narrative or recipient text may name in braces, e.g. "xã {commune_name}".
TEXT_FIELDS = ("commune_name", "district_name", "province_name", "year", "next_year")


def _texts(params: Mapping[str, Any]):
    """(path, text) of every free text that may name facts in braces."""
    for i, text in enumerate(params.get("recipients") or []):
        if isinstance(text, str):
            yield ("recipients", i), text
    narrative = params.get("narrative")
    if isinstance(narrative, Mapping):
        for key, value in narrative.items():
            if isinstance(value, str):
                yield ("narrative", key), value
            elif isinstance(value, list):
                for i, text in enumerate(value):
                    if isinstance(text, str):
                        yield ("narrative", key, i), text
            elif isinstance(value, Mapping):
                for level, texts in value.items():
                    for i, text in enumerate(texts if isinstance(texts, list) else []):
                        if isinstance(text, str):
                            yield ("narrative", key, level, i), text


def text_field_problem(text: str) -> str | None:
    """Why ``text`` cannot be filled with :data:`TEXT_FIELDS`, or ``None``."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text)
                  if name is not None]
    except ValueError as exc:
        return f"braces do not match ({exc}); write {{{{ and }}}} for a literal brace"
    for name, spec, conv in fields:
        if name not in TEXT_FIELDS or spec or conv:
            close = difflib.get_close_matches(name, TEXT_FIELDS, n=1)
            hint = f" (did you mean {{{close[0]}}}?)" if close else ""
            return (f"unknown field {{{name}}}{hint}; known fields: "
                    + ", ".join("{" + f + "}" for f in TEXT_FIELDS))
    return None


def _semantic_problems(params: Mapping[str, Any]) -> list[tuple[tuple, str]]:
    """Checks the schema cannot express: a real report date, fields in texts."""
    problems = []
    date = params.get("report_date")
    if isinstance(date, str) and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", date):
        parts = [int(p) for p in date.split("-")]
        try:
            dt.date(parts[0], parts[1], parts[2] if len(parts) == 3 else 1)
        except ValueError as exc:
            problems.append((("report_date",), f"{date} is not a real date ({exc})"))
    for path, text in _texts(params):
        reason = text_field_problem(text)
        if reason:
            problems.append((path, f"{reason}; in {text[:60]!r}"))
    return problems


def validate_params(
    params: Mapping[str, Any],
    *,
    file: str | None = None,
    marks: Mapping[tuple, yaml.Mark] | None = None,
) -> None:
    """Check parameters against the schema and the rules it cannot express
    (a real ``report_date``; only known ``{fields}`` in texts).

    Every problem is reported, in the order of the file, each with its
    ``parameter`` (dotted path, e.g. ``narrative.plans.0``) and ``row`` (YAML
    line). Raises :class:`ParameterError` for one problem,
    :class:`ParameterErrors` for several.
    """
    marks = marks or {}
    validator = _validator()
    found: list[tuple[tuple, str]] = []
    for err in validator.iter_errors(dict(params)):
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties":
            allowed = list(err.schema.get("properties", {}))
            for extra in sorted(set(err.instance) - set(allowed)):
                close = difflib.get_close_matches(extra, allowed, n=1)
                hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(allowed)}"
                found.append((path + (extra,), f"unknown parameter {extra}{hint}"))
        elif err.validator == "required":
            for name in err.validator_value:
                if name not in err.instance:
                    found.append((path + (name,), f"missing parameter {name}"))
        else:
            found.append((path, _explain(err, params)))
    found += _semantic_problems(params)
    if not found:
        return

    def line_of(path: tuple) -> int | None:
        for cut in range(len(path), 0, -1):
            if path[:cut] in marks:
                return marks[path[:cut]].line + 1
        return None

    errors = [ParameterError(message, parameter=".".join(map(str, path)) or None,
                             file=file, row=line_of(path))
              for path, message in found]
    errors.sort(key=lambda e: (e.row or 10**9, e.parameter or ""))
    if len(errors) == 1:
        raise errors[0]
    raise ParameterErrors(errors)


def _explain(err: jsonschema.ValidationError, params: Mapping[str, Any]) -> str:
    """A plain-words message for one schema failure (type, pattern, ...)."""
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
            "default parameters (in JupyterLab: select it, open the Property Inspector, "
            "the gear icon at the right, and add the tag under Common Tools > Cell Tags)",
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
