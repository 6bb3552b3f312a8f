"""The notebook is the report: the README's four analyst tasks, done by
editing only a copy of the notebook (the fourth only a copy of the commune's
params file), rebuilt with the real ``ntm run``, checked in the PDF's text;
and the failures an analyst meets (a typo in a name, a glyph the font lacks)
named with their cell."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from pypdf import PdfReader

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
NTM = str(Path(sys.executable).with_name("ntm"))
NOTEBOOK = ROOT / "notebooks" / "commune_report.ipynb"
PARAMS = ROOT / "params" / "2023" / "nam-mon.yaml"


def ntm(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NTM_HOME": str(ROOT)}
    return subprocess.run([NTM, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=600)


def pdf_text(run: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(run / "data" / "report.pdf").pages).split())


def cell_with(nb, text: str):
    [cell] = [c for c in nb.cells if text in c.source]
    return cell


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """The four tasks at once, plus a debugging print and a bare value."""
    folder = tmp_path_factory.mktemp("analyst")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # 1. Reword "Các tiêu chí đã đạt chuẩn: 13/19 tiêu chí" to add the percentage.
    results = cell_with(nb, "Các tiêu chí đã đạt chuẩn")
    results.source = results.source.replace(
        "{{ criteria.met_count | count_of(criteria.size) }} tiêu chí",
        "{{ criteria.met_count | count_of(criteria.size) }} tiêu chí "
        "({{ criteria.met_count | percent_of(criteria.size) }})", 1)
    # 2. A sentence in section III stating a computed number.
    difficulties = cell_with(nb, "narrative.difficulties")
    difficulties.source += ("\n\nCòn {{ criteria.not_met_count }} tiêu chí chưa đạt, "
                            "chiếm {{ criteria.percent_not_met | percent }} bộ tiêu chí.")
    # 3. A small chart, the normal way, with its caption.
    index = nb.cells.index(cell_with(nb, "%layout signature"))  # as the README says
    nb.cells.insert(index, new_code_cell(
        "#| fig-cap: Biểu đồ 4. Số lượt về xã làm việc theo quý, năm {{ year }}\n"
        "fig, ax = plt.subplots(figsize=(4, 2))\n"
        "quarters = report.names.quarters\n"
        'ax.bar([f"Quý {ntm_lib.text.format_quarter(q.quarter)}" for q in quarters],\n'
        "       [q.visits for q in quarters])\n"
        "plt.show()"))
    # Debugging output: stays in the notebook.
    nb.cells.insert(index, new_code_cell('print("GỠ LỖI: kiểm tra")\nctx.totals["visits"]'))
    notebook = folder / "commune_report.ipynb"
    nbformat.write(nb, notebook)
    # 4. One sentence for Nậm Mòn only: its params file.
    params = folder / "nam-mon.yaml"
    params.write_text(PARAMS.read_text(encoding="utf-8").replace(
        "Tiếp tục duy trì và nâng cao chất lượng các tiêu chí đã đạt.",
        "Tiếp tục duy trì {{ criteria.met_count }} tiêu chí đã đạt của xã {{ commune.name }}."),
        encoding="utf-8")
    result = ntm("run", "--commune", "02881", "--year", "2023", "--notebook", str(notebook),
                 "--params", str(params), "--build", str(folder / "build"))
    return result, folder / "build" / "2023" / "nam-mon"


def test_the_four_tasks_show_in_the_pdf(edited):
    result, run = edited
    assert result.returncode == 0, result.stderr
    text = pdf_text(run)
    assert "Các tiêu chí đã đạt chuẩn: 13/19 tiêu chí (68,42%)" in text
    assert "Còn 6 tiêu chí chưa đạt, chiếm 31,58% bộ tiêu chí." in text
    assert "Biểu đồ 4. Số lượt về xã làm việc theo quý, năm 2023" in text
    assert "Tiếp tục duy trì 13 tiêu chí đã đạt của xã Nậm Mòn." in text
    html = (run / "data" / "report.html").read_text(encoding="utf-8")
    assert html.count('<figure class="chart">') == 4 and "<svg" in html
    assert "Biểu đồ 4. Số lượt về xã làm việc theo quý, năm 2023" in html
    # before the signature block, its bars labelled by quarter
    assert text.index("Biểu đồ 4.") < text.index("Nơi nhận")
    chart = html[html.index("Biểu đồ 4.") - 60000:html.index("Biểu đồ 4.")]
    assert all(f"Quý {q}" in chart for q in ("I", "II", "III", "IV"))


def test_printed_text_and_plain_values_stay_out_and_are_listed(edited):
    result, run = edited
    text = pdf_text(run)
    html = (run / "data" / "report.html").read_text(encoding="utf-8")
    for shown in ("GỠ LỖI", "<Figure", "Figure size"):
        assert shown not in text and shown not in html
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert [o["preview"] for o in manifest["left_out_outputs"]] == ["GỠ LỖI: kiểm tra", "16"]
    assert "2 output(s) of cells are not in the report" in result.stderr
    assert "GỠ LỖI: kiểm tra" in result.stderr


def failing_run(tmp_path, edit) -> subprocess.CompletedProcess:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    edit(nb)
    notebook = tmp_path / "commune_report.ipynb"
    nbformat.write(nb, notebook)
    return ntm("run", "--commune", "02881", "--year", "2023", "--notebook", str(notebook),
               "--build", str(tmp_path / "build"))


def test_a_typo_in_a_name_fails_the_run_naming_cell_line_and_name(tmp_path):
    def edit(nb):
        cell = cell_with(nb, "narrative.difficulties")
        cell.source += "\n\nCòn {{ critera.not_met_count }} tiêu chí."
    result = failing_run(tmp_path, edit)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "ProseError" in result.stderr and "critera" in result.stderr
    assert "did you mean criteria?" in result.stderr and "cell " in result.stderr
    assert not (tmp_path / "build" / "2023" / "nam-mon").exists()  # the latest link: untouched
    [run] = (tmp_path / "build" / "archive" / "2023" / "nam-mon").iterdir()  # kept as failed
    assert json.loads((run / "manifest.json").read_text(encoding="utf-8"))["status"] == "failed"


def test_a_chart_with_a_glyph_the_font_lacks_fails_the_run(tmp_path):
    def edit(nb):
        index = nb.cells.index(cell_with(nb, "%layout appendix"))
        nb.cells.insert(index, new_code_cell(
            "fig, ax = plt.subplots()\nax.set_title('Biểu đồ \\U0001D538')\nplt.show()"))
    result = failing_run(tmp_path, edit)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "GlyphMissingError" in result.stderr and "U+1D538" in result.stderr
    assert "cell " in result.stderr
    assert not list((tmp_path / "build" / "archive" / "2023" / "nam-mon").glob(".partial-*"))
