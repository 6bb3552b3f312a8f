"""Benchmark: a batch worker's kept render child against one child per render.

On a synthetic project of ``--communes`` communes (``ntm synth``), runs
``ntm batch --workers 2 --force --no-rollup`` in ``--rounds`` interleaved
rounds, each round once with the worker's kept render child (the default,
:mod:`ntm_lib.render.kept`) and once with ``NTM_KEEP_RENDER_CHILD=0`` (a
child forked for each HTML, PDF and Word render, as ``ntm run`` does).
Measures whole processes: wall seconds, reports per minute and the CPU
seconds the whole machine spent per report (``/proc/stat``); reports the
medians and the ratio kept / per-render, and checks that every report file
(HTML, PDF, DOCX) has the same SHA-256 in both modes. Writes the figures to
``bench/results/render-child-<date>.json``::

    .venv/bin/python bench/bench_render_child.py --communes 24 --rounds 3
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
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
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import busy_cpu_seconds  # noqa: E402

MODES = {"per_render_child": "0", "kept_child": "1"}


def batch(home: Path, build: Path, keep: str) -> tuple[float, float | None]:
    env = {**os.environ, "NTM_HOME": str(home), "NTM_KEEP_RENDER_CHILD": keep}
    cpu0 = busy_cpu_seconds()
    start = time.perf_counter()
    done = subprocess.run([str(BIN / "ntm"), "batch", "--year", "2023", "--workers", "2", "--quiet",
                           "--force", "--no-rollup", "--build", str(build)],
                          cwd=home, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"ntm batch exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    cpu = busy_cpu_seconds()
    return seconds, (cpu - cpu0) if cpu is not None and cpu0 is not None else None


def digests(build: Path) -> dict[str, str]:
    year = build / "2023"
    return {str(p.relative_to(year)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(year.glob("*/data/report.*"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    med = statistics.median
    runs: dict[str, list[dict]] = {label: [] for label in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "synthetic"
        subprocess.run([str(BIN / "ntm"), "synth", "--communes", str(args.communes), "--year", "2023",
                        "--out", str(home), "--seed", "2023"], cwd=ROOT, check=True,
                       capture_output=True)
        files: dict[str, dict[str, str]] = {}
        for round_ in range(args.rounds):
            for label, keep in MODES.items():
                build = Path(tmp) / f"build-{label}-{round_}"
                seconds, cpu = batch(home, build, keep)
                runs[label].append({"seconds": round(seconds, 2),
                                    "reports_per_min": round(args.communes / seconds * 60, 2),
                                    "cpu_s_per_report": round(cpu / args.communes, 3) if cpu else None})
                files.setdefault(label, digests(build))
                print(f"round {round_ + 1} {label}: {args.communes} reports in {seconds:.1f} s",
                      file=sys.stderr)
    summary = {label: {"reports_per_min": med(r["reports_per_min"] for r in rs),
                       "cpu_s_per_report": med(r["cpu_s_per_report"] for r in rs
                                               if r["cpu_s_per_report"] is not None),
                       "runs": rs}
               for label, rs in runs.items()}
    kept, per = summary["kept_child"], summary["per_render_child"]
    result = {
        "command": " ".join([".venv/bin/python", "bench/bench_render_child.py",
                             f"--communes {args.communes}", f"--rounds {args.rounds}"]),
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "communes": args.communes, "rounds": args.rounds,
        "modes": summary,
        "throughput_ratio_kept_over_per_render": round(kept["reports_per_min"] / per["reports_per_min"], 3),
        "cpu_ratio_kept_over_per_render": round(kept["cpu_s_per_report"] / per["cpu_s_per_report"], 3),
        "report_files_compared": len(files["kept_child"]),
        "same_sha256": files["kept_child"] == files["per_render_child"],
    }
    out = ROOT / "bench" / "results" / f"render-child-{dt.date.today():%Y%m%d}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "modes"}, indent=2))
    print(f"kept {kept['reports_per_min']:.1f} reports/min ({kept['cpu_s_per_report']:.2f} CPU-s), "
          f"per render {per['reports_per_min']:.1f} ({per['cpu_s_per_report']:.2f}) -> {out}",
          file=sys.stderr)
    return 0 if result["same_sha256"] else 1


if __name__ == "__main__":
    sys.exit(main())
