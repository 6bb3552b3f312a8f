"""Where the project's folders are.

The project root is found from ``NTM_HOME`` when set, else from the current
directory upwards (the first folder holding both ``data/`` and ``params/``),
else the folder this package was installed from (editable install).
"""
from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The project folder: holds ``data/``, ``params/``, ``notebooks/``, ``build/``."""
    env = os.environ.get("NTM_HOME")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "data").is_dir() and (folder / "params").is_dir():
            return folder
    return _PACKAGE_ROOT


def data_dir() -> Path:
    """``<root>/data``: reference tables, the commune registry and commune facts."""
    return project_root() / "data"


def params_dir() -> Path:
    """``<root>/params``: one YAML file of report parameters per year and commune."""
    return project_root() / "params"


def notebooks_dir() -> Path:
    """``<root>/notebooks``: the report notebooks (committed without outputs)."""
    return project_root() / "notebooks"


def build_dir() -> Path:
    """``<root>/build``: executed notebooks, reports and manifests (never committed)."""
    return project_root() / "build"


def relative_to_root(path: str | Path) -> str:
    """``path`` relative to the project root with ``/`` separators, else absolute."""
    p = Path(path).resolve()
    try:
        return p.relative_to(project_root()).as_posix()
    except ValueError:
        return p.as_posix()


def cache_dir() -> Path:
    """Where made things are kept between processes (font subsets, compiled
    prose templates): ``$NTM_CACHE_DIR``, else the user cache folder
    (``~/.cache/ntm-workbook`` on Linux). Safe to delete; entries are named
    by the SHA-256 of everything they depend on."""
    import platformdirs

    return Path(os.environ.get("NTM_CACHE_DIR") or platformdirs.user_cache_dir("ntm-workbook"))
