"""Executing, rendering and archiving runs."""
from .execute import ExecutionTimings, execute_notebook
from .manifest import sha256_file, write_manifest
from .report import RunResult, build_report

__all__ = ["ExecutionTimings", "RunResult", "build_report", "execute_notebook", "sha256_file", "write_manifest"]
