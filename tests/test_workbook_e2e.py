"""End to end: the sample typed into a blank workbook, imported into a copy
of the project, gives the same report as the shipped sample (``ntm run``,
real kernel). Slow: marked ``e2e``."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ntm_lib import read_figures
from test_workbook import before_2023, fill_from_data

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
NTM = str(Path(sys.executable).with_name("ntm"))


def ntm(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NTM_HOME": str(root)}
    result = subprocess.run([NTM, *args], cwd=root, env=env, capture_output=True, text=True,
                            encoding="utf-8", timeout=600)
    assert result.returncode == 0, result.stderr
    return result


def project(target: Path) -> Path:
    for part in ("data", "params", "notebooks"):
        shutil.copytree(ROOT / part, target / part)
    return target


def visible_text(html: str) -> str:
    html = re.sub(r"<(style|svg|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def report(root: Path) -> tuple[dict, str]:
    ntm(root, "run", "--commune", "02881", "--year", "2023")
    latest = root / "build" / "2023" / "nam-mon"
    notebook = next(latest.rglob("commune_report.ipynb"))
    html = next(latest.rglob("report.html")).read_text(encoding="utf-8")
    return {k: f.value for k, f in read_figures(notebook).items()}, visible_text(html)


def test_imported_sample_gives_the_sample_report(tmp_path):
    shipped = project(tmp_path / "sample")
    imported = project(tmp_path / "typed" / "project")
    kept = before_2023(imported)
    ntm(imported, "template", "--commune", "02881", "--year", "2023", "--out", "blank.xlsx")
    fill_from_data(imported / "blank.xlsx", kept, 2023, imported / "nam-mon-2023.xlsx")
    result = ntm(imported, "import", "nam-mon-2023.xlsx")
    assert "params/2023/nam-mon.yaml: tệp mới" in result.stdout
    figures, text = report(imported)
    expected_figures, expected_text = report(shipped)
    assert figures == expected_figures
    assert figures["criteria_met"] == 13 and figures["data_warnings"] == []
    assert text == expected_text
