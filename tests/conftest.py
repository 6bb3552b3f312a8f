"""Shared fixtures. Tests run against the project's own data/ and params/."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _project_root(monkeypatch):
    """Every test sees this checkout as the project, whatever the cwd."""
    monkeypatch.setenv("NTM_HOME", str(ROOT))


@pytest.fixture
def root() -> Path:
    return ROOT
