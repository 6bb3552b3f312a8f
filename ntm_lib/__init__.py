"""ntm_lib: data, checks, calculations, charts and formatting for commune
reports of Vietnam's National Target Programs.

The public API is small; the rooms follow the data's way:
``load`` (read and validate) -> ``params`` -> ``calc`` (domain calculations)
-> ``text`` (Vietnamese formats) -> ``charts`` -> ``record`` (figures kept in
executed notebooks) -> ``report`` (the report's data) -> ``notebook`` (prose, layouts and charts the analyst writes) -> ``render``
(HTML, PDF) -> ``run`` (execute, archive) -> ``cli``.
"""
from .errors import (
    DataError,
    DataErrors,
    ExecutionError,
    GlyphMissingError,
    NotebookError,
    NtmError,
    ParameterError,
    RenderError,
    UnknownCommuneError,
)
from .params import load_params
from .record import read_figures, record

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "DataErrors",
    "ExecutionError",
    "GlyphMissingError",
    "NotebookError",
    "NtmError",
    "ParameterError",
    "RenderError",
    "UnknownCommuneError",
    "build_report",
    "load_params",
    "prepare_report",
    "read_figures",
    "record",
    "resolve_commune",
]


def __getattr__(name: str):
    """Heavier names load on first use, so ``import ntm_lib`` stays quick."""
    if name == "build_report":
        from .run import build_report
        return build_report
    if name == "prepare_report":
        from .report import prepare_report
        return prepare_report
    if name == "resolve_commune":
        from .load import resolve_commune
        return resolve_commune
    raise AttributeError(f"module 'ntm_lib' has no attribute {name!r}")
