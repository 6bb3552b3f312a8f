"""Benchmark of the national commune registry (issue 9).

Measures, on this project's data:

1. ``ntm template`` wall time for one commune, whole process (start-up,
   imports, registry build, workbook): median of ``--rounds`` runs (default 5)
   for Xã Bắc Hà 2026 (02839, new map), and for Xã Bản Phố 2023 (02866, old
   map);
2. in one process: the first ``national_registry()`` (reads the package's
   data and ``communes.csv``, builds both maps), a second call (cached: reads
   and hashes ``communes.csv`` only), and a loop resolving all 3,321 codes of
   the new map for 2026 (``Registry.resolve``), and the same through
   ``resolve_commune`` (one call each, as a caller that does not keep the
   registry would), and ``predecessors`` of all 3,321.

Prints the figures and writes them to ``bench/results/registry-<date>.json``::

    .venv/bin/python bench/bench_registry.py            # ~15 s
    .venv/bin/python bench/bench_registry.py --rounds 3
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
NTM = str(Path(sys.executable).with_name("ntm"))


def template_wall(code: str, year: int, rounds: int) -> list[float]:
    """Seconds of ``ntm template --commune CODE --year YEAR`` per run."""
    env = {**os.environ, "NTM_HOME": str(ROOT)}
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            out = Path(tmp) / f"t{i}.xlsx"
            start = time.perf_counter()
            done = subprocess.run([NTM, "template", "--commune", code, "--year", str(year),
                                   "--out", str(out)], env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                sys.exit(f"ntm template failed: {done.stderr}")
    return times


def in_process() -> dict[str, float]:
    os.environ["NTM_HOME"] = str(ROOT)
    from ntm_lib.load.registry import national_registry, predecessors, resolve_commune

    start = time.perf_counter()
    registry = national_registry()
    first = time.perf_counter() - start
    start = time.perf_counter()
    national_registry()
    cached = time.perf_counter() - start
    codes = list(registry.new)
    start = time.perf_counter()
    for code in codes:
        registry.resolve(code, year=2026)
    loop = time.perf_counter() - start
    start = time.perf_counter()
    for code in codes:
        resolve_commune(code, year=2026)
    loop_calls = time.perf_counter() - start
    start = time.perf_counter()
    for code in codes:
        predecessors(code)
    pred = time.perf_counter() - start
    return {"communes_new_map": len(codes), "communes_old_map": len(registry.old),
            "first_build_s": first, "cached_call_s": cached,
            "resolve_all_new_codes_registry_s": loop,
            "resolve_all_new_codes_resolve_commune_s": loop_calls,
            "predecessors_all_new_codes_s": pred}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, object] = {"date": dt.date.today().isoformat(), "rounds": args.rounds}
    for code, year in (("02839", 2026), ("02866", 2023)):
        times = template_wall(code, year, args.rounds)
        results[f"template_{code}_{year}_wall_s"] = {"median": statistics.median(times),
                                                     "runs": times}
        print(f"ntm template --commune {code} --year {year}: median {statistics.median(times):.2f} s"
              f" wall over {args.rounds} runs ({', '.join(f'{t:.2f}' for t in times)})")
    figures = in_process()
    results.update(figures)
    print(f"first national_registry() {figures['first_build_s']:.3f} s "
          f"({figures['communes_old_map']} old + {figures['communes_new_map']} new units), "
          f"cached call {figures['cached_call_s'] * 1000:.2f} ms")
    print(f"resolve all {figures['communes_new_map']} new codes for 2026: "
          f"Registry.resolve {figures['resolve_all_new_codes_registry_s']:.3f} s, "
          f"resolve_commune {figures['resolve_all_new_codes_resolve_commune_s']:.3f} s; "
          f"predecessors of all {figures['predecessors_all_new_codes_s']:.3f} s")
    out = ROOT / "bench" / "results" / f"registry-{dt.date.today():%Y%m%d}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
