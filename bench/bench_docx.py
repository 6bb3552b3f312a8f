"""Benchmark: the cost of report.docx per report, against the PDF's, in the same runs.

Runs ``ntm run --commune 02881 --year 2023`` ``--runs`` times into a
temporary build folder and reads each run's manifest ``timings``: ``docx``
(the whole Word step: parse the HTML, the reference document, the charts'
220 ppi pictures, zip) and ``pdf`` (WeasyPrint), measured in the same process.
Also measures the DOCX and the PDF in one warm process (imports done, as
in an ``ntm batch`` worker), the DOCX split into the chart pictures (at
each resolution of :data:`DPIS`) and the rest, with the ratio to the PDF
at each resolution. Prints medians
and the ratio to the PDF (target: under a quarter) and writes them as JSON
under ``bench/results/``. Usage::

    .venv/bin/python bench/bench_docx.py --runs 5
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET = 0.25
#: Resolutions of the charts' PNG measured in the warm process: 300 (print), 220
#: (Word's default picture resolution, the one used), 150.
DPIS = (300, 220, 150)


def _warm(html: Path, repeats: int) -> dict:
    """In-process cost once imports are done: whole DOCX, and its chart pictures."""
    sys.path.insert(0, str(ROOT))
    from ntm_lib.fonts import report_serif
    from ntm_lib.render import docx_charts, docx_report

    font = report_serif()
    text = html.read_text(encoding="utf-8")
    reference = docx_report.default_reference()
    charts = docx_report._SVG.findall(text)
    docx_report._docx_bytes(text, font, reference, "t", "a")  # imports, font metrics
    whole = []
    pictures: dict[int, list[float]] = {dpi: [] for dpi in DPIS}
    for _ in range(repeats):
        t0 = time.perf_counter()
        docx_report._docx_bytes(text, font, reference, "t", "a")
        whole.append(time.perf_counter() - t0)
        for dpi in DPIS:
            t0 = time.perf_counter()
            for chart in charts:
                docx_charts.chart_for_word(chart, 467.7, font, dpi=dpi)
            pictures[dpi].append(time.perf_counter() - t0)
    from ntm_lib.render import render_pdf

    pdf_runs = []
    with tempfile.TemporaryDirectory() as out:
        render_pdf(html, Path(out) / "warm.pdf", font=font)
        for _ in range(repeats):
            t0 = time.perf_counter()
            render_pdf(html, Path(out) / "r.pdf", font=font)
            pdf_runs.append(time.perf_counter() - t0)
    pdf_s = statistics.median(pdf_runs)
    docx_s = statistics.median(whole)
    chart_s = {dpi: round(statistics.median(v), 4) for dpi, v in pictures.items()}
    rest = docx_s - chart_s[docx_charts.PNG_DPI]
    return {"docx_s": round(docx_s, 4), "chart_pictures_s": chart_s[docx_charts.PNG_DPI],
            "charts": len(charts), "png_dpi": docx_charts.PNG_DPI,
            "chart_pictures_s_by_dpi": chart_s,
            "docx_s_by_dpi": {dpi: round(rest + s, 4) for dpi, s in chart_s.items()},
            "pdf_s": round(pdf_s, 4),
            "docx_over_pdf_by_dpi": {dpi: round((rest + s) / pdf_s, 3)
                                     for dpi, s in chart_s.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "NTM_HOME": str(ROOT)}
    docx, pdf, html_s = [], [], []
    with tempfile.TemporaryDirectory() as build:
        for _ in range(args.runs):
            subprocess.run([str(BIN / "ntm"), "run", "--commune", "02881", "--year", "2023",
                            "--build", build], cwd=ROOT, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            manifest = json.loads((Path(build) / "2023" / "nam-mon" / "manifest.json")
                                  .read_text(encoding="utf-8"))
            docx.append(manifest["timings"]["docx"])
            pdf.append(manifest["timings"]["pdf"])
            html_s.append(manifest["timings"]["html"])
        html = Path(build) / "2023" / "nam-mon" / "data" / "report.html"
        size = html.with_name("report.docx").stat().st_size
        warm = _warm(html, args.runs)
    result = {
        "date": dt.date.today().isoformat(),
        "runs": args.runs,
        "docx_median_s": round(statistics.median(docx), 4),
        "pdf_median_s": round(statistics.median(pdf), 4),
        "html_median_s": round(statistics.median(html_s), 4),
        "docx_over_pdf": round(statistics.median(docx) / statistics.median(pdf), 3),
        "target_docx_over_pdf": TARGET,
        "docx_bytes": size,
        "warm_process": {k: round(v, 4) if isinstance(v, float) else v for k, v in warm.items()},
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    result["meets_target"] = result["docx_over_pdf"] < TARGET
    print(json.dumps(result, indent=2))
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"docx-{dt.date.today():%Y%m%d}.json").write_text(
        json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
