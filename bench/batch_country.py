"""Benchmark, country mode: a batch's bookkeeping over 3,321 communes.

What is measured, each as whole processes (medians of ``--runs`` where
cheap), in a synthetic project of ``--communes`` communes over
``--provinces`` provinces (``ntm synth``; 3,321 communes in 34 provinces
since 01/7/2025):

* ``synth``: ``ntm synth`` writing the project (once);
* ``planning``: :func:`ntm_lib.batch.plan.plan` over every params file;
* ``fingerprints``: the incremental rule of every commune
  (:func:`ntm_lib.batch.fingerprint.check`) with the batch's hash cache
  (as a rerun does) and without it (every output hashed: the first rerun);
* ``noop``: ``ntm batch --year Y`` when every report and roll-up is up to
  date: planning, checks, roll-ups' checks, record and index;
* ``index``: :func:`ntm_lib.batch.index.write_index` over every commune;
* ``rollups``: the first batch after the reports, which builds every
  province roll-up and the national one (seconds of each from
  ``batch.json``), and the national roll-up built again alone;
* memory: peak RSS of each of those processes (``wait4``), the batch's own
  ``peak_rss_mb`` and its workers' ``workers_peak_rss_mb`` from ``batch.json``.

What is real and what is derived. ``--real`` communes (default 4, spread
over the provinces) are built for real by ``ntm batch`` (kernel, HTML, PDF,
Word, bag). Every other commune gets a *derived* run
(``bench/derive_runs.py``): its own commune, parameters, key figures
(``prepare_report`` + ``figures_of`` on its own data), input hashes and
copies, environment and BagIt bag, written by the product's archive code
(``start_run``, ``copy_inputs``, ``make_run_bag``, ``finish_run``,
``point_latest``); only the bytes of its HTML, PDF and Word files and the
notebook's rendered outputs are copied from a real run (the manifest's
``bench_derived_from`` says which). Planning, the checks, the no-op batch,
the index and the roll-ups are the product's code, unchanged, over that
archive. Derived runs are made once and kept in ``--home`` (a rerun
re-derives only the runs the incremental rule finds stale, e.g. after a
library change); the roll-ups are built by the first batch only, unless
``--rollups-again`` removes them from the benchmark's own project first::

    .venv/bin/python bench/batch_country.py --communes 3321     # ~10 min the first time (2 cores)
    .venv/bin/python bench/batch_country.py --communes 3321     # ~2 min once derived

Measured on 2 shared cores (bench/results/country-20261201.json): planning
0.38 s, fingerprints 1.1 s (2.8 s without the hash cache), no-op batch
3.5 s, index 1.0 s, national roll-up 9.8 s alone (8.0 s in the batch), 35
roll-ups built in 146 s; peak RSS 147 MB per worker, 238 MB for the batch
process that renders the roll-ups (168 MB for the no-op). ``bench_batch.py`` calls
``country_mode(parser().parse_args([...]))``.

Results go to ``bench/results/country-<date>.json``, each figure with its command.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NTM = BIN / "ntm"
TARGETS = {"planning_s": 1.0, "noop_s": 5.0, "index_s": 30.0, "national_rollup_s": 30.0,
           "worker_peak_mb": 300.0, "batch_peak_mb": 1024.0}

PROBE_PLAN = """
import json, time
t0 = time.perf_counter()
from ntm_lib.batch.plan import plan
tasks = plan({year})
print(json.dumps({{"tasks": len(tasks), "s": time.perf_counter() - t0}}))
"""
PROBE_FINGERPRINTS = """
import json, time
from ntm_lib.batch import fingerprint
from ntm_lib.batch.plan import plan
from ntm_lib.paths import build_dir, notebooks_dir
tasks = plan({year})
build, notebook = build_dir(), notebooks_dir() / "commune_report.ipynb"
t0 = time.perf_counter()
library = fingerprint.library_sha256()
cache = fingerprint.HashCache.load(build / "{year}" / fingerprint.CACHE_NAME) if {cached} else None
fresh = sum(fingerprint.check(t, build, notebook, library=library, hashes=cache).fresh
            for t in tasks)
print(json.dumps({{"fresh": fresh, "s": time.perf_counter() - t0,
                   "hashed": cache.hashed if cache else None}}))
"""
PROBE_INDEX = """
import json, time
from ntm_lib.batch.index import write_index
from ntm_lib.batch.record import read_record
from ntm_lib.paths import build_dir
t0 = time.perf_counter()
page = write_index(build_dir(), {year}, read_record(build_dir(), {year}))
print(json.dumps({{"s": time.perf_counter() - t0, "bytes": page.stat().st_size}}))
"""
PROBE_NATIONAL = """
import json, time
from ntm_lib.rollup.build import build_rollup
t0 = time.perf_counter()
r = build_rollup({year}, force=True)
print(json.dumps({{"s": time.perf_counter() - t0, "status": r.status}}))
"""


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> dict:
    """Run ``cmd``; its wall seconds, peak RSS (MiB, itself and the children
    it waited for) and exit code, and the last line it printed (JSON probes)."""
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = out.strip().splitlines()
    last = None
    if lines:
        try:
            last = json.loads(lines[-1])
        except ValueError:
            pass
    return {"s": round(time.perf_counter() - began, 3), "rc": proc.returncode,
            "peak_mb": round(usage.ru_maxrss / 1024, 1), "out": last}


def median(samples: list[dict]) -> float:
    """Median wall seconds of whole-process samples."""
    return round(statistics.median(s["s"] for s in samples), 3)


def _record(home: Path, year: int) -> dict:
    return json.loads((home / "build" / str(year) / "batch.json").read_text(encoding="utf-8"))


def country_mode(args: argparse.Namespace) -> dict:
    """Run the country benchmark (see the module docstring); return its figures."""
    home = Path(args.home) / f"{args.communes}-{args.provinces}"
    env = {**os.environ, "NTM_HOME": str(home)}
    if not args.keep_pythonpath:
        env.pop("PYTHONPATH", None)
    year, runs, py = args.year, args.runs, sys.executable
    result: dict = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "communes": args.communes, "provinces": args.provinces, "year": year,
                    "runs": runs, "real": args.real, "targets": TARGETS, "commands": {}}
    cmd = result["commands"]
    synth = [str(NTM), "synth", "--communes", str(args.communes), "--year", str(year),
             "--out", str(home), "--seed", "1", "--provinces", str(args.provinces)]
    cmd["synth"] = " ".join(synth)
    if args.fresh and home.exists():
        shutil.rmtree(home)
    if not (home / "params" / str(year)).is_dir():
        result["synth"] = timed(synth, {k: v for k, v in env.items() if k != "NTM_HOME"}, ROOT)
    codes = [f"{90001 + i * args.communes // args.real:05d}" for i in range(args.real)]
    real = [str(NTM), "batch", "--year", str(year), "--workers", str(args.workers),
            "--no-rollup", *[a for c in codes for a in ("--commune", c)]]
    cmd["real"] = " ".join(real)
    result["real_batch"] = timed(real, env, home)
    record = _record(home, year)
    result["real_batch"].update(counts=record["counts"], peak_rss_mb=record.get("peak_rss_mb"),
                                workers_peak_rss_mb=record.get("workers_peak_rss_mb"))
    templates = [str(home / "build" / str(year) / c["slug"]) for c in record["communes"]]
    derive = [py, str(ROOT / "bench" / "derive_runs.py"), "--year", str(year), "--workers",
              str(args.workers), "--templates", *templates]
    cmd["derive"] = " ".join(derive)
    result["derive"] = timed(derive, env, home)

    def probe(name: str, code: str, n: int = runs) -> list[dict]:
        cmd[name] = f"{py} -c <PROBE_{name.upper()}> (bench/batch_country.py)"
        return [timed([py, "-c", code], env, home) for _ in range(n)]

    plans = probe("plan", PROBE_PLAN.format(year=year))
    result["planning"] = {"median_s": round(statistics.median(p["out"]["s"] for p in plans), 3),
                          "process_median_s": median(plans), "tasks": plans[0]["out"]["tasks"]}
    def all_fresh() -> None:
        """Refuse to go on when some report is not up to date (the library
        changed during the benchmark, say): the batch would build them all."""
        out = timed([py, "-c", PROBE_FINGERPRINTS.format(year=year, cached=False)], env, home)
        if out["out"]["fresh"] != args.communes:
            raise SystemExit(f"only {out['out']['fresh']} of {args.communes} reports are up to "
                             "date (did ntm_lib change during the benchmark?): run it again")

    first = [str(NTM), "batch", "--year", str(year), "--workers", str(args.workers)]
    cmd["rollups_first"] = cmd["noop"] = " ".join(first)
    all_fresh()
    if args.rollups_again:  # the benchmark's own project: its roll-ups are built again
        for folder in (home / "build" / "archive" / str(year)).glob("rollup-*"):
            shutil.rmtree(folder)
    built = timed(first, env, home)
    record = _record(home, year)
    result["rollups"] = {"batch": built, "counts": record["counts"],
                         "peak_rss_mb": record.get("peak_rss_mb"),
                         "each": [{"title": r.get("title"), "status": r.get("status"),
                                   "seconds": r.get("seconds")} for r in record["rollups"]]}
    noops = []
    for _ in range(runs):
        all_fresh()
        noops.append(timed(first, env, home))
    record = _record(home, year)
    for cached in (False, True):  # after a no-op batch has saved its hash cache
        samples = probe("fingerprints", PROBE_FINGERPRINTS.format(year=year, cached=cached))
        result[f"fingerprints_{'cached' if cached else 'uncached'}"] = {
            "median_s": round(statistics.median(p["out"]["s"] for p in samples), 3),
            "fresh": samples[0]["out"]["fresh"], "hashed": samples[-1]["out"]["hashed"]}
    result["noop"] = {"median_s": median(noops), "peak_mb": max(n["peak_mb"] for n in noops),
                      "counts": record["counts"], "peak_rss_mb": record.get("peak_rss_mb"),
                      "rollups": sorted({r.get("status") for r in record["rollups"]})}
    indexes = probe("index", PROBE_INDEX.format(year=year))
    result["index"] = {"median_s": round(statistics.median(p["out"]["s"] for p in indexes), 3),
                       "bytes": indexes[0]["out"]["bytes"],
                       "peak_mb": max(p["peak_mb"] for p in indexes)}
    national = probe("national", PROBE_NATIONAL.format(year=year), n=1)
    result["national_rollup"] = {"s": round(national[0]["out"]["s"], 3),
                                 "process_s": national[0]["s"],
                                 "status": national[0]["out"]["status"],
                                 "peak_mb_with_kernel": national[0]["peak_mb"]}
    result["summary"] = {
        "planning_s": result["planning"]["median_s"], "noop_s": result["noop"]["median_s"],
        "index_s": result["index"]["median_s"], "national_rollup_s": result["national_rollup"]["s"],
        "worker_peak_mb": result["real_batch"]["workers_peak_rss_mb"],
        "batch_peak_mb": max(result["noop"]["peak_mb"], record.get("peak_rss_mb") or 0,
                             result["rollups"]["peak_rss_mb"] or 0)}
    return result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--communes", type=int, default=3321)
    p.add_argument("--provinces", type=int, default=34)
    p.add_argument("--year", type=int, default=2026)
    p.add_argument("--real", type=int, default=4, help="communes built for real")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--home", type=Path, default=Path("/tmp/ntm-bench-country"))
    p.add_argument("--fresh", action="store_true", help="write the synthetic project again")
    p.add_argument("--rollups-again", action="store_true",
                   help="remove the benchmark project's roll-ups first, to time their build")
    p.add_argument("--keep-pythonpath", action="store_true", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result = country_mode(args)
    folder = ROOT / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"country-{dt.date.today():%Y%m%d}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    s = result["summary"]
    print(f"{args.communes} communes, {args.provinces} provinces: planning {s['planning_s']} s, "
          f"no-op {s['noop_s']} s, index {s['index_s']} s, national roll-up "
          f"{s['national_rollup_s']} s, worker peak {s['worker_peak_mb']} MB, batch peak "
          f"{s['batch_peak_mb']} MB -> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
