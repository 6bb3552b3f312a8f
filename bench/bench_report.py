"""Benchmark: one commune report, whole process, against a bare baseline.

Measures, in one run, interleaved so both see the same machine state:

* ``ntm run --commune 02881 --year 2023`` (whole process: start-up, kernel
  start, execution, HTML, PDF, manifest, archive), with the split of each run
  taken from its manifest (``timings``);
* the bare baseline: ``papermill`` on the same notebook, then
  ``jupyter nbconvert --to html --no-input`` (two processes, no PDF).

Prints medians over ``--runs`` runs and the ratio, and writes them as JSON
under ``bench/results/``. Usage::

    .venv/bin/python bench/bench_report.py --runs 5
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
NOTEBOOK = ROOT / "notebooks" / "commune_report.ipynb"


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "NTM_HOME": str(ROOT)}
    ntm_total, base_total, base_papermill, base_html = [], [], [], []
    split: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        build = tmp / "build"
        for i in range(args.runs + 1):  # the first round warms caches and is dropped
            t = timed([str(BIN / "ntm"), "run", "--commune", "02881", "--year", "2023",
                       "--build", str(build)], env)
            manifest = json.loads((build / "2023" / "nam-mon" / "manifest.json").read_text(encoding="utf-8"))
            out = tmp / f"baseline-{i}.ipynb"
            p = timed([str(BIN / "papermill"), "--no-progress-bar", str(NOTEBOOK), str(out)], env)
            h = timed([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)], env)
            if i == 0:
                continue
            ntm_total.append(t)
            base_papermill.append(p)
            base_html.append(h)
            base_total.append(p + h)
            for key, value in manifest["timings"].items():
                split.setdefault(key, []).append(value)
            print(f"run {i}: ntm {t:.2f} s, baseline {p + h:.2f} s", file=sys.stderr)

    med = statistics.median
    result = {
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "ntm_run_median_s": round(med(ntm_total), 3),
        "ntm_split_median_s": {k: round(med(v), 3) for k, v in split.items()},
        "baseline_median_s": round(med(base_total), 3),
        "baseline_papermill_median_s": round(med(base_papermill), 3),
        "baseline_nbconvert_html_median_s": round(med(base_html), 3),
        "ratio_ntm_over_baseline": round(med(ntm_total) / med(base_total), 3),
    }
    print(json.dumps(result, indent=2))
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"report-{result['date_utc'][:10]}.json").write_text(
        json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
