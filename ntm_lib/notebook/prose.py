"""Prose with inline values: Markdown plus Jinja2, as the ``%%report`` cells,
the layouts beside the notebook and a commune's free text are written.

The template language is Jinja2 (the one nbconvert's own templates use):
``{{ criteria.met_count }}`` inserts a value, ``{% if changes.any %}...
{% else %}...{% endif %}`` chooses wording, filters format values the
Vietnamese way (:data:`FILTERS`). The environment is strict: a name that is
not in :data:`ntm_lib.notebook.names.NAMES`, or an attribute it does not
have, fails with :class:`ProseError` naming the line and the name. Values
are HTML-escaped; a value is inserted after the Markdown is rendered, so a
``*`` or ``_`` in a name is text, never emphasis.

Markdown is CommonMark (markdown-it-py), with two conventions of the seed
report: a list item is printed with its own marker (``- ``, ``+ ``) as a
paragraph, as Vietnamese administrative documents write lists; ``##`` and
``###`` headings get the report's ``section`` and ``subsection`` classes.
Document numbers ("07/2021/NĐ-CP") are kept on one line.
"""
from __future__ import annotations

import contextvars
import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import jinja2
from jinja2 import meta
from jinja2 import nodes as jinja_nodes
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from ..errors import NtmError
from ..text import (format_count_of, format_date, format_date_long, format_million_vnd,
                    format_number, format_percent, format_points, format_quarter, join_vi)
from .names import as_date


class ProseError(NtmError):
    """A prose template (a ``%%report`` cell, a layout or a free text) cannot
    be rendered: a syntax error, or a name or attribute that does not exist.
    ``row`` is the line in the template, ``name`` the unknown name, ``file``
    the layout or params file (None for a notebook cell: the cell is named
    by the run's error)."""

    exit_code = 1

    def __init__(self, message: str, *, name: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.name = name

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback: the one line to fix."""
        return [f"\x1b[31mProseError\x1b[0m: {self}"]

    def location(self) -> str:
        where = [self.file] if self.file else []
        if self.column:
            where.append(self.column)
        if self.row is not None:
            where.append(f"line {self.row}")
        return ", ".join(where)


def _criteria_names(items: Iterable[Any], pattern: str = "Tiêu chí {number} ({name})",
                    sep: str = "; ") -> str:
    """Criteria as text: ``pattern`` per criterion (fields ``number``,
    ``name``), joined with ``sep``."""
    return sep.join(pattern.format(number=c.number, name=c.name) for c in items)


def _percent_of(count: float, total: float, decimals: int = 2) -> str:
    """``count`` over ``total`` as a Vietnamese percent: 13 of 19 -> "68,42%"."""
    return format_percent(count / total * 100, decimals)


#: The filters of the template language, by name: what an analyst writes
#: after ``|``. Each takes the value on its left.
FILTERS: dict[str, Callable[..., Any]] = {
    "number": format_number,          # 1234.5 -> "1.234,5"
    "percent": format_percent,        # 31.5789 (percent) -> "31,58%"
    "points": format_points,          # 10 (points) -> "10 điểm phần trăm"
    "million_vnd": format_million_vnd,  # 10 -> "10 triệu đồng"
    "count_of": format_count_of,      # 6 | count_of(19) -> "06/19"
    "percent_of": _percent_of,        # 13 | percent_of(19) -> "68,42%"
    "date": lambda d: format_date(as_date(d)),            # "09/02/2023"
    "date_long": lambda d: format_date_long(as_date(d)),  # "ngày 09 tháng 02 năm 2023"
    "quarter": format_quarter,        # 2 -> "II"
    "join_vi": join_vi,               # ["A", "B", "C"] -> "A, B và C"
    "criteria_names": _criteria_names,  # "Tiêu chí 1 (Quy hoạch); Tiêu chí 2 (Giao thông)"
}

# Numbers of legal documents ("18/2022/QĐ-TTg", "256a-KH/HNDT", "07/2021/NĐ-CP"):
# kept on one line, as a citation broken at its hyphen misreads.
_DOC_NUMBER = re.compile(r"\b\d+[a-z]?(?:/\d{4})?(?:/|-)[A-ZĐ][A-ZĐa-z]*(?:[-/][A-ZĐ][A-ZĐa-z]*)+")
_TAG = re.compile(r"(<[^>]*>)")
_TOKEN = re.compile("\ue000(\\d+)\ue001")


def keep_numbers_together(html: str) -> str:
    """Wrap document numbers in the text of ``html`` in ``span.nowrap``."""
    parts = _TAG.split(html)
    for i in range(0, len(parts), 2):  # text between tags
        parts[i] = _DOC_NUMBER.sub(lambda m: f'<span class="nowrap">{m.group()}</span>', parts[i])
    return "".join(parts)


class _SourceLoader(jinja2.BaseLoader):
    """Templates of cells and free texts, named by the SHA-256 of their
    source, so that their compiled form is kept in the bytecode cache;
    other names are layouts, from the layouts folder."""

    def __init__(self, layouts: str | None) -> None:
        self.sources: dict[str, str] = {}
        self.layouts = jinja2.FileSystemLoader(layouts) if layouts else None

    def get_source(self, environment, template):
        if template in self.sources:
            source = self.sources[template]
            return source, None, lambda: True
        if self.layouts is None:
            raise jinja2.TemplateNotFound(template)
        return self.layouts.get_source(environment, template)


#: The values a Markdown render is collecting (see :func:`render`).
_VALUES: contextvars.ContextVar[list | None] = contextvars.ContextVar("ntm_prose", default=None)


@jinja2.pass_eval_context  # never called at compile time on constants
def _keep(eval_ctx: Any, value: Any) -> Any:
    """Jinja2's ``finalize``: outside Markdown the value as it is; inside,
    its escaped text is kept aside and a token stands in its place."""
    values = _VALUES.get()
    if values is None:
        return value
    if value is None:
        raise ProseError("a value to print is missing (None); test it with {% if ... %} first")
    values.append(str(escape(value)))
    return f"\ue000{len(values) - 1}\ue001"


@lru_cache(maxsize=None)
def environment(layouts: str | None = None) -> jinja2.Environment:
    """The strict, autoescaping Jinja2 environment with :data:`FILTERS`;
    ``layouts`` is the folder ``{% include %}`` and layouts load from.
    Compiled templates are kept in the cache folder
    (:func:`ntm_lib.paths.cache_dir`), keyed by their source."""
    from ..paths import cache_dir

    # Compiled code depends on this module and Jinja2 too, not only on the source.
    salt = hashlib.sha256(Path(__file__).read_bytes() + jinja2.__version__.encode()).hexdigest()
    folder = cache_dir() / "prose" / salt[:16]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        bytecode = jinja2.FileSystemBytecodeCache(str(folder))
    except OSError:  # a read-only home: compile every time
        bytecode = None
    env = jinja2.Environment(
        loader=_SourceLoader(layouts), bytecode_cache=bytecode, finalize=_keep,
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=False,
        trim_blocks=False, lstrip_blocks=True)
    env.filters.update(FILTERS)
    return env


def _template(env: jinja2.Environment, source: str) -> jinja2.Template:
    name = "prose-" + hashlib.sha256(source.encode("utf-8")).hexdigest()
    env.loader.sources[name] = source
    return env.get_template(name)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": False})

    def list_item_open(self, tokens, idx, options, env):
        marker = tokens[idx].markup or "-"
        return f"<p>{escape(marker)} " if marker in "-+*" else f"<p>{escape(tokens[idx].info)}. "

    def hidden(self, tokens, idx, options, env):
        return ""

    def heading_open(self, tokens, idx, options, env):
        tag = tokens[idx].tag
        cls = {"h2": ' class="section"', "h3": ' class="subsection"'}.get(tag, "")
        return f"<{tag}{cls}>"

    md.add_render_rule("list_item_open", list_item_open)
    md.add_render_rule("list_item_close", lambda *a: "</p>\n")
    for rule in ("bullet_list_open", "bullet_list_close", "ordered_list_open",
                 "ordered_list_close"):
        md.add_render_rule(rule, hidden)
    md.add_render_rule("heading_open", heading_open)

    def tighten(state):  # a list item's paragraph is the item itself
        for token in state.tokens:
            if token.type in ("paragraph_open", "paragraph_close") and token.level > 0:
                token.hidden = True

    md.core.ruler.push("ntm_tight_lists", tighten)
    return md


_MD = _markdown()


def _located(exc: Exception, where: dict[str, Any], known: Iterable[str]) -> ProseError:
    import difflib

    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:  # a runtime error: the template's frame has its line
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    message = str(exc.message if hasattr(exc, "message") and exc.message else exc)
    name = None
    m = re.search(r"'([^']+)' is undefined", message)
    if m:
        name = m.group(1)
        close = difflib.get_close_matches(name, list(known), n=1)
        message = f"unknown name {{{{ {name} }}}}" + (f" (did you mean {close[0]}?)"
                                                     if close else "")
    m = re.search(r"has no attribute '([^']+)'", message)
    if m:
        name = m.group(1)
        message = f"unknown attribute .{name} (README, \"Editing the report\", lists each name's attributes)"
    return ProseError(message, name=name, row=line, **where)


def render(source: str, names: dict[str, Any], *, markdown: bool = True,
           layouts: str | Path | None = None, where: dict[str, Any] | None = None) -> str:
    """Render ``source`` (Jinja2, then Markdown unless ``markdown`` is
    False) with ``names``; return HTML.

    Raises
    ------
    ProseError
        A syntax error, an unknown name or attribute (strict), or a filter
        that fails on its value; with the line in ``source`` and ``where``
        (``file``, ``column``: the params file and field of a free text).
    """
    env = environment(str(layouts) if layouts else None)
    where = where or {}
    values: list[str] = []
    token = _VALUES.set(values if markdown else None)
    try:
        text = _template(env, source).render(names)
    except ProseError as exc:
        for key, value in where.items():
            setattr(exc, key, value)
        raise
    except jinja2.TemplateError as exc:
        raise _located(exc, where, names) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ProseError(f"a filter or value failed: {exc}", **where) from None
    finally:
        _VALUES.reset(token)
    if not markdown:
        return keep_numbers_together(text)
    html = _MD.render(text)
    html = keep_numbers_together(html)
    return _TOKEN.sub(lambda m: keep_numbers_together(values[int(m.group(1))]), html).strip()


def _no_none(value: Any) -> Any:
    if value is None:
        raise ProseError("a value to print is missing (None, e.g. the district of a commune of "
                         "the map of 01/7/2025); test it with {% if ... %} first")
    return value


@lru_cache(maxsize=1)
def _text_environment() -> jinja2.Environment:
    env = environment(None).overlay(autoescape=False, finalize=_no_none)
    env.loader = _SourceLoader(None)
    return env


def render_text(source: str, names: dict[str, Any], *, where: dict[str, Any] | None = None) -> str:
    """A free text (one sentence of a params file) filled with ``names``:
    plain text, not HTML (it is escaped where it is inserted)."""
    if "{" not in source:
        return source
    try:
        return _template(_text_environment(), source).render(names)
    except ProseError as exc:
        for key, value in (where or {}).items():
            setattr(exc, key, value)
        raise
    except jinja2.TemplateError as exc:
        raise _located(exc, where or {}, names) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ProseError(f"a filter or value failed: {exc}", **(where or {})) from None


@lru_cache(maxsize=512)
def _parsed(source: str) -> jinja2.nodes.Template:
    """The syntax tree of a free text (each text is checked for names, then
    for attributes: parsed once). Raises ``TemplateSyntaxError``."""
    return _PLAIN.parse(source)


_PLAIN = jinja2.Environment()


def unknown_names(source: str, known: Iterable[str]) -> tuple[list[str], str | None]:
    """Top-level names ``source`` uses that are not in ``known``, and a
    syntax error message (or None): the check of a free text before a run."""
    try:
        used = meta.find_undeclared_variables(_parsed(source))
    except jinja2.TemplateSyntaxError as exc:
        return [], f"line {exc.lineno}: {exc.message}"
    return sorted(n for n in used if n not in set(known)), None


def unknown_attributes(source: str, attributes: Mapping[str, Iterable[str]]
                       ) -> list[tuple[str, str]]:
    """``(name, attribute)`` of each ``{{ name.attribute }}`` in ``source``
    whose name is a key of ``attributes`` and whose attribute is not among
    its values (``[]`` when ``source`` does not parse: :func:`unknown_names`
    says why)."""
    try:
        tree = _parsed(source)
    except jinja2.TemplateSyntaxError:
        return []
    found = []
    for node in tree.find_all(jinja_nodes.Getattr):
        if isinstance(node.node, jinja_nodes.Name) and node.node.name in attributes \
                and node.attr not in set(attributes[node.node.name]):
            found.append((node.node.name, node.attr))
    return found


def markup(html: str) -> Markup:
    """HTML made by :func:`render`, safe to insert into another template."""
    return Markup(html)
