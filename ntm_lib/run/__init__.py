"""Executing, rendering, packaging and archiving runs.

Names load on first use: reading a manifest helper (``ntm_lib.run.manifest``)
must not import pandas, papermill or WeasyPrint.
"""
from __future__ import annotations

import importlib

_NAMES = {
    "ExecutionTimings": ".execute",
    "execute_notebook": ".execute",
    "sha256_file": ".manifest",
    "write_manifest": ".manifest",
    "RunResult": ".report",
    "build_report": ".report",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name], __name__), name)
    raise AttributeError(f"module 'ntm_lib.run' has no attribute {name!r}")
