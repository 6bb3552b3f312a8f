"""Reading one params YAML file within bounds, refusing what YAML would let
pass silently.

YAML is generous: an alias (``*a``) repeats a whole anchored node, so 6 KB
of nested aliases (an "alias bomb") expand to billions of nodes; an alias
inside its own anchor makes a structure that contains itself; a key written
twice in a mapping keeps the last value without a word. :func:`read_yaml`
reads the file in three steps:

1. the file must be a regular file (not a folder, not ``/dev/zero``) of at
   most :data:`~ntm_lib.limits.PARAMS_FILE_BYTES`, in UTF-8;
2. one pass over libyaml's parser events, before any tree is built
   (:func:`_scan`), counts aliases and nodes *as expanded* (an alias of a
   node holding aliases counts them all again: the true cost of reading
   it), refuses more than :data:`~ntm_lib.limits.YAML_ALIASES` aliases,
   :data:`~ntm_lib.limits.YAML_NODES` nodes or nesting deeper than
   :data:`~ntm_lib.limits.YAML_DEPTH`, an alias of a node that contains it,
   whole numbers of more than :data:`~ntm_lib.limits.INTEGER_DIGITS`
   digits, and a key repeated in one mapping, each with its line;
3. the same safe loader (libyaml's ``CSafeLoader`` when available) composes
   and constructs the document.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from .. import limits
from ..errors import LimitError, ParameterError, ParameterErrors

#: PyYAML's safe loader, in C (libyaml) when PyYAML was built with it.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = Resolver()
_INT_TAG = "tag:yaml.org,2002:int"


class ParameterLimitError(ParameterError, LimitError):
    """A params file over one of the limits of :mod:`ntm_lib.limits` (size,
    aliases, nodes, nesting, text or number length): exit code 2, printed
    like a :class:`ParameterError` (file, line, parameter), ``expected``
    naming the limit."""


@dataclass
class _Frame:
    """An open mapping or sequence during :func:`_scan`."""

    kind: str  # "map" or "seq"
    path: tuple
    anchor: str | None
    aliases: int = 0
    nodes: int = 1
    expect_key: bool = True
    key: Any = None
    index: int = 0
    keys: dict = field(default_factory=dict)  # (tag, value) -> line

    def advance(self) -> None:
        if self.kind == "map":
            self.expect_key = not self.expect_key
        else:
            self.index += 1

    def child_path(self) -> tuple:
        return self.path + ((self.key,) if self.kind == "map" else (self.index,))


def dotted(path: tuple) -> str | None:
    """A parameter's path as ``narrative.plans.0``, each part cut to 40
    characters (a hostile key is not repeated at length), None for the root."""
    parts = [str(p) if len(str(p)) <= 40 else f"{str(p)[:40]}…" for p in path]
    return ".".join(parts) or None


def _tag(event: yaml.ScalarEvent) -> str:
    if event.tag and event.tag != "!":
        return event.tag
    return _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)


def _scan(text: str, shown: str) -> list[ParameterError]:
    """Check the events of ``text`` (see the module docstring); return the
    repeated keys as errors, raise :class:`ParameterLimitError` or
    :class:`ParameterError` for the rest. YAML syntax errors are left to the
    composer, which reports them with their line."""
    repeated: list[ParameterError] = []
    try:
        return _scan_events(_events(text), shown, repeated)
    except yaml.YAMLError:
        return []  # the composer reports it, with its line


def _scan_events(events, shown: str, repeated: list[ParameterError]) -> list[ParameterError]:
    stack: list[_Frame] = []
    latest: dict[str, Any] = {}  # anchor -> open _Frame, or (aliases, nodes) once complete
    aliases = nodes = 0

    def over(what: str, limit: int, name: str, found: str, line: int, path: tuple,
             unit: str = "") -> None:
        raise ParameterLimitError(
            what, file=shown, row=line, parameter=dotted(path),
            expected=f"at most {limit:,}{unit} (limit limits.{name})", found=found)

    for event in events:
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            done = stack.pop()
            if done.anchor and latest.get(done.anchor) is done:
                latest[done.anchor] = (done.aliases, done.nodes)
            if stack:
                stack[-1].aliases += done.aliases
                stack[-1].nodes += done.nodes
                stack[-1].advance()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue  # stream and document events
        line = event.start_mark.line + 1
        parent = stack[-1] if stack else None
        is_key = parent is not None and parent.kind == "map" and parent.expect_key
        path = parent.child_path() if parent is not None and not is_key else (
            parent.path if parent is not None else ())
        if isinstance(event, yaml.AliasEvent):
            target = latest.get(event.anchor)
            if target is None:
                raise ParameterError(f"the alias *{event.anchor} has no anchor "
                                     f"&{event.anchor} before it", file=shown, row=line)
            if isinstance(target, _Frame):
                raise ParameterError(
                    f"the alias *{event.anchor} is inside the value it names (a recursive "
                    "alias): write the value out", file=shown, row=line,
                    parameter=dotted(path))
            cost_aliases, cost_nodes = 1 + target[0], target[1]
            aliases, nodes = aliases + cost_aliases, nodes + cost_nodes
            if aliases > limits.YAML_ALIASES:
                over("too many YAML aliases (counted as expanded: an alias of a value that "
                     "holds aliases repeats them all)", limits.YAML_ALIASES, "YAML_ALIASES",
                     f"{aliases:,} or more", line, path)
            if nodes > limits.YAML_NODES:
                over("too many values once the YAML aliases are expanded", limits.YAML_NODES,
                     "YAML_NODES", f"{nodes:,} or more", line, path)
            if parent is not None:
                parent.aliases += cost_aliases
                parent.nodes += cost_nodes
                if is_key:
                    parent.key = f"*{event.anchor}"
                parent.advance()
            continue
        nodes += 1
        if nodes > limits.YAML_NODES:
            over("too many values", limits.YAML_NODES, "YAML_NODES", f"{nodes:,} or more",
                 line, path)
        if isinstance(event, yaml.ScalarEvent):
            tag = _tag(event)
            digits = len(event.value.lstrip("+-").replace("_", "")) if tag == _INT_TAG else 0
            if digits > limits.INTEGER_DIGITS:
                over("number too large", limits.INTEGER_DIGITS, "INTEGER_DIGITS",
                     f"{digits:,} digits", line, path, " digits")
            if event.anchor:
                latest[event.anchor] = (0, 1)
            if parent is not None:
                parent.nodes += 1
                if is_key:
                    first = parent.keys.get((tag, event.value))
                    if first is not None:
                        repeated.append(ParameterError(
                            f"{event.value[:60]!r} is given twice in the same mapping (lines "
                            f"{first} and {line}); YAML would silently keep the last: keep one",
                            file=shown, row=line, parameter=dotted(parent.path + (event.value,))))
                    else:
                        parent.keys[(tag, event.value)] = line
                    parent.key = event.value
                parent.advance()
            continue
        if len(stack) >= limits.YAML_DEPTH:
            over("lists and mappings nested too deeply", limits.YAML_DEPTH, "YAML_DEPTH",
                 f"more than {len(stack):,} levels", line, path, " levels")
        if is_key:
            parent.key = "?"  # a complex key: not checked for repeats
        frame = _Frame("map" if isinstance(event, yaml.MappingStartEvent) else "seq",
                       path, event.anchor)
        if event.anchor:
            latest[event.anchor] = frame
        stack.append(frame)
    return repeated


def _events(text: str):
    loader = LOADER(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


def read_text(path: Path, shown: str) -> str:
    """The text of the params file at ``path``.

    Raises
    ------
    ParameterError
        The file does not exist or is not UTF-8.
    LimitError
        It is not a regular file (a folder, ``/dev/zero``) or is larger than
        :data:`~ntm_lib.limits.PARAMS_FILE_BYTES`.
    """
    if not path.exists() and not path.is_symlink():
        raise ParameterError("params file not found", file=shown)
    data = limits.read_bounded(path, "PARAMS_FILE_BYTES", what="params file", shown=shown)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=shown
        ) from None


def read_yaml(path: str | Path, shown: str) -> tuple[Any, yaml.Node | None]:
    """The document of the params file at ``path`` and its composed node
    tree (for the line of each value), read within bounds.

    Raises
    ------
    ParameterError, ParameterErrors
        Missing, not UTF-8, not YAML, a value that cannot be read (a date
        such as 2023-02-30), an alias without or inside its anchor, a key
        given twice (every one, with both lines).
    LimitError
        Over a limit: :class:`ParameterLimitError` with the line, or the
        file itself (see :func:`read_text`).
    """
    text = read_text(Path(path), shown)
    repeated = _scan(text, shown)
    if len(repeated) > limits.PROBLEMS_PER_FILE:
        more = len(repeated) - limits.PROBLEMS_PER_FILE
        repeated = repeated[:limits.PROBLEMS_PER_FILE] + [ParameterError(
            f"and {more:,} more keys given twice (limit limits.PROBLEMS_PER_FILE)", file=shown)]
    if len(repeated) == 1:
        raise repeated[0]
    if repeated:
        raise ParameterErrors(repeated)
    loader = LOADER(text)
    node = None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParameterError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
                             file=shown, row=mark.line + 1 if mark else None) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. 2023-02-30, !!int x
        raise ParameterError(f"a value cannot be read: {exc}", file=shown,
                             row=_failing_line(node)) from None
    finally:
        loader.dispose()
    return data, node


def _failing_line(node: yaml.Node | None) -> int | None:
    """The line of the first scalar of ``node`` that cannot be constructed."""
    seen: set[int] = set()
    todo = [node] if node is not None else []
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            try:
                SafeConstructor().construct_object(current)
            except (ValueError, TypeError, OverflowError, yaml.YAMLError):
                return current.start_mark.line + 1
        elif isinstance(current, yaml.SequenceNode):
            todo.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            todo.extend(part for pair in current.value for part in pair)
    return None
