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
    values = {v for k, v in os.environ.items() if k.startswith(SECRET_ENV_PREFIX) and v}
    values |= _registered
    return sorted(values, key=len, reverse=True)


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every secret value replaced by :data:`REDACTED`."""
    for value in secret_values() if secrets is None else secrets:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def redact_bytes(data: bytes, secrets: list[str] | None = None) -> bytes:
    """``data`` with every secret's UTF-8 bytes replaced (also as it reads
    in JSON with ``ensure_ascii``, where non-ASCII is escaped)."""
    import json

    for value in secret_values() if secrets is None else secrets:
        for form in {value.encode("utf-8"), json.dumps(value)[1:-1].encode("ascii")}:
            if form and form in data:
                data = data.replace(form, REDACTED.encode("utf-8"))
    return data


def count_secrets(text: str, secrets: list[str] | None = None) -> int:
    """How many times secret values occur in ``text``."""
    return sum(text.count(v) for v in (secret_values() if secrets is None else secrets))


def redact_obj(obj: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with every string
    redacted; keys too."""
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, dict):
        return {redact_obj(k): redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(v) for v in obj]
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
