"""Benchmark: a batch's planning and registry look-ups at the country's size.

Makes (or reuses) a synthetic project of ``--communes`` communes (``ntm
synth``; 3,321 is the number of commune-level units since 01/7/2025), then
times, in fresh processes, medians over ``--runs``:

* planning: :func:`ntm_lib.batch.plan.plan` over every params file of the
  year (what ``ntm batch`` does before it checks or runs anything);
* look-ups: :func:`ntm_lib.load.resolve_commune` of every planned commune
  with its year, after planning (the worker's first step).

Results go to ``bench/results/plan-<date>.json``::

    .venv/bin/python bench/bench_plan.py --communes 3321 --runs 5
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NTM = Path(sys.executable).with_name("ntm")
PROBE = """
import json, sys, time
t0 = time.perf_counter()
from ntm_lib.batch.plan import plan, params_code
tasks = plan({year})
t1 = time.perf_counter()
from ntm_lib.load import resolve_commune
codes = [params_code(t.params) for t in tasks]
for code in codes:
    resolve_commune(code, year={year})
t2 = time.perf_counter()
print(json.dumps({{"tasks": len(tasks), "plan_s": t1 - t0, "resolve_all_s": t2 - t1}}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=3321)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--home", type=Path, default=Path("/tmp/ntm-bench-plan"))
    args = parser.parse_args()
    home = args.home / str(args.communes)
    if not (home / "params" / str(args.year)).is_dir():
        subprocess.run([str(NTM), "synth", "--communes", str(args.communes), "--year",
                        str(args.year), "--out", str(home), "--seed", "1"], check=True,
                       stdout=subprocess.DEVNULL)
    env = {**os.environ, "NTM_HOME": str(home)}
    samples = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", PROBE.format(year=args.year)], cwd=home,
                             env=env, check=True, capture_output=True, text=True).stdout
        samples.append(json.loads(out.strip().splitlines()[-1]))
    report = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "communes": args.communes, "tasks": samples[0]["tasks"], "runs": args.runs,
              "plan_median_s": round(statistics.median(s["plan_s"] for s in samples), 4),
              "resolve_all_median_s": round(statistics.median(s["resolve_all_s"] for s in samples), 4)}
    folder = ROOT / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"plan-{dt.date.today():%Y%m%d}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{report['tasks']} tasks: planning {report['plan_median_s']:.3f} s, "
          f"resolving every commune {report['resolve_all_median_s']:.3f} s (medians of "
          f"{args.runs}) -> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
