"""Benchmark: the per-report cost of this tree against an earlier design.

Issue "The notebook is the report" moved the report's words from Python into
the notebook (``%%report`` cells, layouts, figures shown the normal way);
its budget is that a report costs no more than 5% more. This measures, in
one run and interleaved so both see the same machine state:

* ``ntm run --commune 02881 --year 2023 --no-docx`` of this tree (the DOCX
  is a new output, measured by ``bench_docx.py``);
* the same command of ``--baseline REV`` (default: the last commit before
  the notebook layer), checked out in a temporary git worktree and run with
  the same interpreter (``PYTHONPATH`` and ``NTM_HOME`` point at it).

Whole processes; the first round of each warms caches and is dropped;
medians over ``--runs``; the per-step split is taken from each run's
manifest (``timings``). Results go to ``bench/results/design-<date>.json``::

    .venv/bin/python bench/bench_design.py --runs 7
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
NTM = Path(sys.executable).with_name("ntm")
#: The last commit of the earlier design (report sentences in ntm_lib/report/sections.py).
BASELINE = "81f64f0"


def run_once(home: Path, build: Path, extra: list[str]) -> tuple[float, dict]:
    env = {**os.environ, "NTM_HOME": str(home), "PYTHONPATH": str(home)}
    start = time.perf_counter()
    subprocess.run([str(NTM), "run", "--commune", "02881", "--year", "2023", "--build", str(build),
                    *extra],
                   cwd=home, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    manifest = json.loads((build / "2023" / "nam-mon" / "manifest.json").read_text(encoding="utf-8"))
    return seconds, manifest.get("timings", {})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the earlier design")
    args = parser.parse_args()
    results: dict[str, dict[str, list[float]]] = {"current": {}, "baseline": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        old = tmp / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.baseline], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            homes = {"current": ROOT, "baseline": old}
            for i in range(args.runs + 1):
                for name, home in homes.items():
                    # The Word document is a new output of its own (bench_docx.py):
                    # the design's cost is compared on the outputs both make.
                    extra = ["--no-docx"] if name == "current" else []
                    seconds, timings = run_once(home, tmp / f"build-{name}", extra)
                    if i == 0:
                        continue
                    results[name].setdefault("total", []).append(seconds)
                    for step, value in timings.items():
                        results[name].setdefault(step, []).append(value)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT,
                           capture_output=True)
    medians = {name: {k: round(statistics.median(v), 4) for k, v in steps.items()}
               for name, steps in results.items()}
    ratio = medians["current"]["total"] / medians["baseline"]["total"]
    report = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "runs": args.runs, "baseline": args.baseline, "median_seconds": medians,
              "ratio_current_to_baseline": round(ratio, 4), "raw": results}
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"design-{dt.date.today():%Y%m%d}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for name in ("baseline", "current"):
        m = medians[name]
        print(f"{name:9s} total {m['total']:.3f} s  "
              + "  ".join(f"{k} {v:.3f}" for k, v in m.items() if k != "total"))
    print(f"ratio current/baseline: {ratio:.3f} (budget 1.05)  -> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
