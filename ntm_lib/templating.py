"""The one Jinja2 environment for the product's own HTML pages and fragments:
the roll-up's parts (``ntm_lib/rollup/templates``) and ``build/<year>/index.html``
(``ntm_lib/batch/templates``).

Markup lives in the templates only; Python hands them plain values, already
redacted (:func:`text`). The environment autoescapes every value (quotes
too) and is strict: a name a template uses that was not passed raises
:class:`jinja2.UndefinedError` instead of printing nothing. Numbers are
formatted the Vietnamese way (:mod:`ntm_lib.text`) in Python, before
redaction, as the values are prepared.

Templates are named ``<package>/<file>``: ``rollup/title.html.j2``,
``batch/index.html.j2``.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from .redact import redact_text

_HERE = Path(__file__).resolve().parent
#: Template folders by prefix.
FOLDERS = {"rollup": _HERE / "rollup" / "templates", "batch": _HERE / "batch" / "templates"}


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """The strict, autoescaping environment loading :data:`FOLDERS`."""
    return jinja2.Environment(
        loader=jinja2.PrefixLoader({prefix: jinja2.FileSystemLoader(str(folder))
                                    for prefix, folder in FOLDERS.items()}),
        autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render(name: str, **data: Any) -> str:
    """Template ``name`` rendered with ``data``.

    Raises :class:`jinja2.TemplateNotFound` for an unknown name and
    :class:`jinja2.UndefinedError` when the template uses a value not given
    (both programming errors, never caused by input data).
    """
    return environment().get_template(name).render(**data)


def text(value: Any) -> str:
    """``value`` as text for a template: secrets redacted
    (:func:`ntm_lib.redact.redact_text`); ``None`` is empty."""
    return redact_text("" if value is None else str(value))
