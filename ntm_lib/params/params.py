"""Report parameters: read a params YAML file, check it against the schema
*before* papermill injects it, and check the notebook can take it.

The schema is ``schema.v1.json`` beside this module. Rules it enforces: every
parameter present, none unknown, codes as quoted strings of digits. YAML
reads an unquoted ``02871`` as the octal number 1529 and ``2881`` as an
integer: both are refused with a message saying to quote the code.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml

from .. import limits
from ..errors import DataError, LimitError, ParameterError, ParameterErrors
from ..load.encoding import unsafe_character, unsafe_message
from ..paths import relative_to_root
from ..textnorm import nfc
from .notebook import PARAMETERS_TAG, notebook_defaults, parameters_cell, read_notebook
from .yamlread import ParameterLimitError, dotted, read_yaml

__all__ = ["PARAMETERS_TAG", "notebook_defaults", "parameters_cell", "read_notebook",
           "load_params", "validate_params", "schema", "parameter_names", "secret_names",
           "secret_env_name", "text_field_problem", "TEXT_FIELDS", "ParameterLimitError"]



@lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema of report parameters (``schema.v1.json``)."""
    text = resources.files(__package__).joinpath("schema.v1.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def parameter_names() -> list[str]:
    """Names of all report parameters, in schema order."""
    return list(schema()["properties"])


def parameter_defaults() -> dict[str, Any]:
    """The parameters a params file may leave out, with the value they take
    (``period``: ``"year"``)."""
    return {k: v["default"] for k, v in schema()["properties"].items() if "default" in v}


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


def load_params(path: str | Path, *, data_dir: str | Path | None = None) -> dict[str, Any]:
    """Read and validate one params file.

    Parameters
    ----------
    path:
        A YAML file, UTF-8, holding one mapping of parameter name -> value
        (see ``schema.v1.json`` and ``params/2023/nam-mon.yaml``).
    data_dir:
        The ``data/`` folder whose reference tables name the criteria sets
        and header styles; the project's when None.

    Returns
    -------
    dict
        The parameters, strings NFC-normalised.

    Raises
    ------
    ParameterError
        The file is missing, not UTF-8, not YAML, not a mapping, repeats a
        key, holds a control or bidirectional-control character, fails the
        schema, or names a criteria set or header style the reference tables
        do not have; the error names the file, line and parameter.
    LimitError
        The file is not a regular file or is over a limit of
        :mod:`ntm_lib.limits` (size, aliases, nodes, nesting, text, word or
        number length), with its line when known.
    """
    path = Path(path)
    shown = relative_to_root(path)
    data, node = read_yaml(path, shown)
    if not isinstance(data, dict):
        raise ParameterError("expected a mapping of parameter: value", file=shown)
    marks = _marks(node) if node else {}
    for name in secret_names():
        if name in data:
            mark = marks.get((name,))
            raise ParameterError(
                f"{name} is secret and must not be written in a params file (it would be "
                f"archived with the run); set the environment variable {secret_env_name(name)}",
                parameter=name, file=shown, row=mark.line + 1 if mark else None,
            )
    params = _normalise(data)
    for name, value in parameter_defaults().items():
        params.setdefault(name, value)
    validate_params(params, file=shown, marks=marks)
    _raise(_reference_problems(params, data_dir), shown, marks)
    return params


def _reference_problems(params: Mapping[str, Any], data_dir) -> list[tuple]:
    """The criteria sets and header style the parameters name must be in the
    reference tables (checked here, so the message names the params line,
    not the table). A reference table that cannot be read is left to the
    data checks, which name its own file."""
    from ..load import header_style_ids, load_criteria_sets

    problems = []
    try:
        sets = load_criteria_sets(data_dir)  # set id -> CriteriaSet
    except DataError:
        sets = None
    for name in ("criteria_set", "advanced_criteria_set"):
        value = params.get(name)
        if sets is not None and isinstance(value, str) and value not in sets:
            close = difflib.get_close_matches(value, sets, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append(((name,), f"unknown criteria set {value[:80]!r}; {hint}known: "
                             f"{', '.join(sets)} (data/reference/criteria_sets.csv)"))
    problems += _in_force_problems(params, sets, data_dir)
    try:
        styles = header_style_ids(data_dir)
    except DataError:
        styles = None
    style = params.get("header_style")
    if styles is not None and isinstance(style, str) and style not in styles:
        problems.append((("header_style",), f"unknown header style {style[:80]!r}; known: "
                         f"{', '.join(styles)} (data/reference/header_styles.csv)"))
    return problems


def _in_force_problems(params: Mapping[str, Any], sets, data_dir) -> list[tuple]:
    """The report period must be one of ``periods.csv``, and the criteria
    sets must govern it (``in_force_from``..``in_force_to`` of
    ``criteria_sets.csv``): a 2026 report under the 2021-2025 set is refused."""
    from ..load.periods import days, in_force, load_periods

    try:
        periods = load_periods(data_dir)
    except DataError:
        return []
    period_id, year = params.get("period"), params.get("year")
    if not isinstance(period_id, str) or period_id not in periods:
        return [(("period",), f"unknown report period {str(period_id)[:20]!r}; known: "
                 f"{', '.join(periods)} (data/reference/periods.csv)")]
    if sets is None or not isinstance(year, int) or isinstance(year, bool):
        return []
    period = periods[period_id]
    start, end = period.start(year), period.end(year)
    problems = []
    for name in ("criteria_set", "advanced_criteria_set"):
        value = params.get(name)
        if isinstance(value, str) and value in sets:
            cset = sets[value]
            if not in_force(cset, start, end):
                problems.append(((name,), f"criteria set {value} ({cset.legal_source}) is "
                                 f"{days(cset)}, not in the report period "
                                 f"{start:%d/%m/%Y}-{end:%d/%m/%Y} "
                                 "(data/reference/criteria_sets.csv)"))
    return problems


#: The single-brace fields of the first params files and the names that
#: replace them (``{commune_name}`` is now ``{{ commune.name }}``).
#: A field of the old single-brace form (``{commune_name}``).
_OLD_FIELD = re.compile(r"(?<!\{)\{([A-Za-z_]+)\}(?!\})")
#: A name in braces, as the free texts write them (``{{ x }}``, ``{% if %}``,
#: or the old form).
_PLACEHOLDER = re.compile(r"\{\{|\{%|" + _OLD_FIELD.pattern)

TEXT_FIELDS = {"commune_name": "commune.name", "district_name": "commune.district",
               "province_name": "commune.province", "year": "year", "next_year": "next_year"}


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
    """Why the free text ``text`` cannot be filled with the report's names
    (``{{ commune.name }}``, ``{{ criteria.not_met_count }}``: the template
    language of the notebook's prose, :mod:`ntm_lib.notebook.prose`), or
    ``None``. Checked before a run: a syntax error, an unknown name, an
    unknown attribute of a name that is an object
    (:data:`ntm_lib.notebook.names.ATTRIBUTES`), or a field of the old
    single-brace form (``{commune_name}``)."""
    from ..notebook.names import ATTRIBUTES, FREE_TEXT_NAMES  # the names are the notebook's
    from ..notebook.prose import unknown_attributes, unknown_names

    old = _OLD_FIELD.search(text)
    if old:
        new = TEXT_FIELDS.get(old.group(1))
        hint = f"write {{{{ {new} }}}}" if new else "names are written {{ name }}"
        return f"unknown field {{{old.group(1)}}}: {hint}"
    unknown, syntax = unknown_names(text, FREE_TEXT_NAMES)
    if syntax:
        return f"the text's braces do not parse ({syntax}); write {{{{ '{{' }}}} for a literal brace"
    if unknown:
        close = difflib.get_close_matches(unknown[0], FREE_TEXT_NAMES, n=1)
        hint = f" (did you mean {{{{ {close[0]} }}}}?)" if close else ""
        return (f"unknown name {{{{ {unknown[0]} }}}}{hint}; names: "
                + ", ".join(FREE_TEXT_NAMES))
    for name, attribute in unknown_attributes(text, ATTRIBUTES):
        known = sorted(ATTRIBUTES[name])
        close = difflib.get_close_matches(attribute, known, n=1)
        hint = f" (did you mean {{{{ {name}.{close[0]} }}}}?)" if close else ""
        return (f"unknown attribute {{{{ {name}.{attribute} }}}}{hint}; {name} has: "
                + ", ".join(known))
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
    (a real ``report_date``; only known ``{fields}`` in texts; no control or
    bidirectional-control character, no text or word over the limits).

    Every problem is reported, in the order of the file, each with its
    ``parameter`` (dotted path, e.g. ``narrative.plans.0``) and ``row`` (YAML
    line). Raises :class:`ParameterError` for one problem,
    :class:`ParameterErrors` for several; a text over a limit is a
    :class:`~ntm_lib.params.yamlread.ParameterLimitError` (also a
    :class:`~ntm_lib.errors.LimitError`), and text problems are reported
    before the schema is checked.
    """
    marks = marks or {}
    texts = _text_problems(params)
    if texts:  # before the schema, whose messages would repeat a huge text
        _raise(texts, file, marks)
    validator = _validator()
    found: list[tuple] = []
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
    _raise(found, file, marks)


def _raise(found: list[tuple], file: str | None, marks: Mapping[tuple, yaml.Mark]) -> None:
    """Raise the problems ``found`` (``(path, message)``, or ``(path,
    message, expected, found)`` for a limit) in the order of the file."""
    if not found:
        return

    def line_of(path: tuple) -> int | None:
        for cut in range(len(path), 0, -1):
            if path[:cut] in marks:
                return marks[path[:cut]].line + 1
        return None

    errors: list[ParameterError] = []
    for path, message, *limit in found:
        where = dict(parameter=dotted(path), file=file, row=line_of(path))
        if limit:
            errors.append(ParameterLimitError(message, expected=limit[0], found=limit[1], **where))
        else:
            errors.append(ParameterError(message, **where))
    errors.sort(key=lambda e: (e.row or 10**9, e.parameter or ""))
    if len(errors) == 1:
        raise errors[0]
    raise ParameterErrors(errors)


def _strings(value: Any, path: tuple = ()):
    """``(path, text, is_key)`` of every string of ``value``, keys included."""
    if isinstance(value, str):
        yield path, value, False
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                yield path + (key,), key, True
            yield from _strings(item, path + (key,))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _strings(item, path + (i,))




def _text_problems(params: Mapping[str, Any]) -> list[tuple]:
    """Control and bidirectional-control characters (line breaks and tabs
    are allowed in the narrative only), names in braces outside the texts
    that are filled with them (recipients, narrative), then texts and words over
    :data:`~ntm_lib.limits.TEXT_CHARS` and :data:`~ntm_lib.limits.WORD_CHARS`,
    in every string of the parameters."""
    problems: list[tuple] = []
    for path, text, is_key in _strings(params):
        multiline = path[:1] == ("narrative",) and not is_key
        char = unsafe_character(text, multiline=multiline)
        if char is not None:
            problems.append((path, unsafe_message(char, multiline=multiline)))
            continue
        if not is_key and path[:1] not in (("recipients",), ("narrative",)) \
                and _PLACEHOLDER.search(text):
            problems.append((path, "this field is printed as written, its braces too: only "
                             "recipients and narrative texts are filled with names "
                             "({{ name }})"))
            continue
        try:
            limits.check_text(text, where="text")
        except LimitError as exc:
            name = "WORD_CHARS" if "word" in exc.message else "TEXT_CHARS"
            problems.append((path, exc.message.removeprefix("text: "),
                             f"{exc.expected} (limit limits.{name})", exc.found))
    return problems


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
