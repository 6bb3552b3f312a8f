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


@pytest.fixture
def synthetic_project(tmp_path, monkeypatch):
    """A synthetic project of 3 communes plus a copy of Nậm Mòn, as NTM_HOME:
    ``(folder, what ntm_lib.synth.generate returned)``."""
    from ntm_lib.synth import generate

    out = tmp_path / "synthetic"
    result = generate(3, 2023, out, seed=7, province_code="10", copy_real=["02881"], source=ROOT)
    monkeypatch.setenv("NTM_HOME", str(out))
    return out, result


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project (data, params, notebooks) as NTM_HOME; modules
    that need another project (a synthetic one) define their own."""
    import shutil

    for part in ("data", "params", "notebooks"):
        shutil.copytree(ROOT / part, tmp_path / part, symlinks=True)
    monkeypatch.setenv("NTM_HOME", str(tmp_path))
    return tmp_path
