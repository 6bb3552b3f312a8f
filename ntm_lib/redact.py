"""One redaction pass for every byte the product writes or prints.

Secret parameters (``x-secret`` in the params schema, such as
``data_api_token``) reach the kernel through environment variables
``NTM_SECRET_<NAME>``. A cell may still quote one (a connection error that
prints its URL), and from there it could travel into the manifest, the batch
record, the index page or the terminal. Every writer of the product goes
through :func:`redact_text` (via :func:`ntm_lib.safeio.atomic_write`), and
the command line wraps ``sys.stdout`` and ``sys.stderr`` with
:class:`RedactingStream`, so a secret value is replaced by :data:`REDACTED`
wherever it would appear.

The secrets are the current values of the ``NTM_SECRET_*`` variables, plus
any value given to :func:`register_secret` (read once per call, so a value
set after start-up is covered too).
"""
from __future__ import annotations

import io
import os
import sys
from functools import lru_cache
from typing import Any, TextIO

SECRET_ENV_PREFIX = "NTM_SECRET_"
REDACTED = "«secret redacted»"
_registered: set[str] = set()


def register_secret(value: str) -> None:
    """Treat ``value`` as a secret from now on, in this process."""
    if value:
        _registered.add(value)


def secret_values() -> list[str]:
    """Every secret value known now, longest first (so a secret containing
    another is replaced whole)."""
    if os.supports_bytes_environ:  # the same variables, without decoding every name
        prefix = SECRET_ENV_PREFIX.encode("ascii")
        values = {os.fsdecode(v) for k, v in os.environb.items() if k.startswith(prefix) and v}
    else:
        values = {v for k, v in os.environ.items() if k.startswith(SECRET_ENV_PREFIX) and v}
    values |= _registered
    return sorted(values, key=len, reverse=True)


def _quoted_forms(value: str) -> list[str]:
    """``value`` as Python's ``repr()`` and ``ascii()`` write it inside a
    quoted string (an error message's ``{value!r}``), whichever quote the
    text around it makes them choose."""
    forms = []
    for show in (repr, ascii):
        for end in ("", '"', "'"):  # a quote after it changes the quote chosen
            shown = show(value + end)
            cut = len(end) + (end == shown[0])  # the end, escaped when it is the quote
            forms.append(shown[1:-1][:len(shown) - 2 - cut])
    return forms


@lru_cache(maxsize=256)
def secret_forms(value: str) -> tuple[str, ...]:
    """The forms a secret takes once written somewhere, longest first: as it
    is, HTML-escaped (``html.escape``, with and without quotes, and as
    Jinja2/MarkupSafe writes it), percent-encoded (a URL's query), quoted by
    ``repr``/``ascii``, and each of these as it reads inside a JSON string
    (with ``ensure_ascii`` or without)."""
    import html
    import json
    from urllib.parse import quote, quote_plus

    bases = {value, html.escape(value), html.escape(value, quote=False),
             value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
             .replace("'", "&#39;").replace('"', "&#34;"),
             quote(value), quote(value, safe=""), quote_plus(value),
             *_quoted_forms(value)}
    forms = set()
    for base in bases:
        forms |= {base, json.dumps(base)[1:-1], json.dumps(base, ensure_ascii=False)[1:-1]}
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every secret value, in any of its
    :func:`secret_forms`, replaced by :data:`REDACTED`."""
    for value in secret_values() if secrets is None else secrets:
        for form in secret_forms(value):
            if form in text:
                text = text.replace(form, REDACTED)
    return text


def redact_bytes(data: bytes, secrets: list[str] | None = None) -> bytes:
    """``data`` with every secret's UTF-8 bytes, in any of its
    :func:`secret_forms`, replaced by :data:`REDACTED` (UTF-8)."""
    for value in secret_values() if secrets is None else secrets:
        for form in secret_forms(value):
            encoded = form.encode("utf-8")
            if encoded in data:
                data = data.replace(encoded, REDACTED.encode("utf-8"))
    return data


def count_secrets(text: str, secrets: list[str] | None = None) -> int:
    """How many times secret values occur in ``text``."""
    return sum(text.count(v) for v in (secret_values() if secrets is None else secrets))


def redact_obj(obj: Any, secrets: list[str] | None = None) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with every string
    redacted; keys too. The secrets are read once per call (a batch record
    holds some 300,000 strings)."""
    values = secret_values() if secrets is None else secrets
    if isinstance(obj, str):
        return redact_text(obj, values)
    if isinstance(obj, dict):
        return {redact_obj(k, values): redact_obj(v, values) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(v, values) for v in obj]
    return obj


class RedactingStream(io.TextIOBase):
    """A text stream that redacts what is written through it, line by line
    (a secret split across two ``write`` calls on one line is still found);
    a carriage return ends a line too, so progress bars still move."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        cut = max(self._pending.rfind("\n"), self._pending.rfind("\r"))
        if cut >= 0:
            head, self._pending = self._pending[:cut + 1], self._pending[cut + 1:]
            self._stream.write(redact_text(head))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(redact_text(self._pending))
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")


def install_stream_redaction() -> None:
    """Wrap ``sys.stdout`` and ``sys.stderr`` in :class:`RedactingStream`
    (once); what the command prints is then redacted like what it writes."""
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout)
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr)
