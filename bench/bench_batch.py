"""Benchmark and acceptance run of ``ntm batch`` on synthetic communes.

In one run, on a synthetic project of ``--communes`` communes plus a copy of
Nậm Mòn (``ntm synth``), with one commune made to fail in a notebook cell on
purpose (a hidden cell of a copy of the report notebook raises for it):

1. acceptance: a batch with 2 workers ends with every other report built,
   one failure naming its cell, a record, an index, a roll-up and exit 1; a
   second identical batch skips every success; a change to one commune's
   data rebuilds that commune alone;
2. the no-op rerun: a batch over the up-to-date communes (whole process);
3. throughput on every built commune (or ``--sample`` of them), forced:
   1 worker, 2 workers, 2 workers without the Word document (``--no-docx``:
   what the DOCX costs), and 2 workers on a Dask LocalCluster, in reports
   per minute (whole ``ntm batch`` processes, start-up included), with the
   CPU seconds per report the whole machine spent;
4. the bare baseline loop on ``--bare`` communes: per commune, the
   ``papermill`` command, then ``jupyter nbconvert --to html --no-input``;
   3 and 4 run in ``--rounds`` interleaved rounds, and their medians give
   the ratios;
5. the per-report split (kernel start, execution, HTML, PDF, archive):
   medians of the manifests' timings of the acceptance batch.

Prints the medians and ratios and writes them to ``bench/results/``::

    .venv/bin/python bench/bench_batch.py                  # 50 communes, ~17 min
    .venv/bin/python bench/bench_batch.py --communes 8 --sample 4 --bare 2 --rounds 1   # quick
    .venv/bin/python bench/bench_batch.py --mode country --communes 3321   # bookkeeping
    .venv/bin/python bench/bench_batch.py --mode cluster --communes 8 --rounds 3
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


def run(cmd: list[str], home: Path, check_codes=(0, 1)) -> tuple[float, subprocess.CompletedProcess]:
    env = {**os.environ, "NTM_HOME": str(home)}
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=home, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in check_codes:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return seconds, done


def busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux
    ``/proc/stat``; None elsewhere): the difference over a run is the CPU
    the run cost, all its processes included."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def record(build: Path) -> dict:
    return json.loads((build / "2023" / "batch.json").read_text(encoding="utf-8"))


def statuses(rec: dict) -> dict[str, int]:
    return {k: v for k, v in rec["counts"].items() if v}


def failing_notebook(folder: Path, fail: str) -> Path:
    nb = json.loads((ROOT / "notebooks" / "commune_report.ipynb").read_text(encoding="utf-8"))
    at = next(i for i, c in enumerate(nb["cells"]) if "nb.start(" in "".join(c["source"]))
    nb["cells"].insert(at + 1, {"cell_type": "code", "execution_count": None, "id": "fault",
                                "metadata": {"tags": ["remove-cell"]}, "outputs": [],
                                "source": f"if commune == {fail!r}:\n"
                                          "    raise ValueError('lỗi cố ý (bench)')"})
    path = folder / "commune_report_bench.ipynb"
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return path


#: The other modes, each a module of bench/ with ``main(argv)``.
MODES = {"country": "batch_country", "cluster": "batch_cluster"}


def main() -> int:
    mode = argparse.ArgumentParser(add_help=False)
    mode.add_argument("--mode", choices=("throughput", *MODES), default="throughput")
    chosen, rest = mode.parse_known_args()
    if chosen.mode != "throughput":  # country: bookkeeping at 3,321; cluster: real Dask
        import importlib

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        return importlib.import_module(MODES[chosen.mode]).main(rest)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("throughput", *MODES), default="throughput",
                        help="throughput (this module), country (bench/batch_country.py: "
                             "3,321 communes' bookkeeping), cluster (bench/batch_cluster.py: "
                             "real scheduler and workers)")
    parser.add_argument("--communes", type=int, default=50)
    parser.add_argument("--sample", type=int, default=0,
                        help="communes per throughput run; 0 (default): every commune the "
                             "acceptance batch built, so start-up weighs as in a real batch")
    parser.add_argument("--bare", type=int, default=6, help="communes of the bare loop per round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of throughput runs and bare loop; medians are reported")
    parser.add_argument("--noop-runs", type=int, default=3)
    args = parser.parse_args()
    ntm = str(BIN / "ntm")
    med = statistics.median
    result: dict = {"date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "cpus": os.cpu_count(), "communes": args.communes + 1}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "synthetic"
        run([ntm, "synth", "--communes", str(args.communes), "--year", "2023", "--out", str(home),
             "--seed", "2023", "--province", "10", "--copy-real", "02881"], ROOT)
        fail = f"{90000 + min(7, args.communes):05d}"
        notebook = failing_notebook(home, fail)  # inside the project: Dask ships it
        nb = ["--notebook", str(notebook)]
        build = home / "build"

        # 1. Acceptance.
        seconds, first = run([ntm, "batch", "--year", "2023", "--workers", "2", "--quiet", *nb], home)
        rec = record(build)
        failed = [c for c in rec["communes"] if c["status"] == "failed"]
        result["acceptance"] = {
            "first_batch_s": round(seconds, 1), "first": statuses(rec), "exit_code": first.returncode,
            "failure": {k: failed[0]["error"].get(k) for k in ("cell", "message")} if failed else None,
            "rollup": [r["status"] for r in rec["rollups"]],
            "index": (build / "2023" / "index.html").exists(),
        }
        print(f"first batch: {statuses(rec)} in {seconds:.1f} s, exit {first.returncode}",
              file=sys.stderr)
        split: dict[str, list[float]] = {}
        for c in rec["communes"]:
            for k, v in (c.get("timings") or {}).items():
                split.setdefault(k, []).append(v)
        result["per_report_split_median_s"] = {k: round(med(v), 3) for k, v in split.items()}
        result["per_report_wall_median_s"] = round(med(
            c["seconds"] for c in rec["communes"] if c["status"] == "ran"), 3)

        seconds, second = run([ntm, "batch", "--year", "2023", "--quiet", *nb], home)
        rec = record(build)
        result["acceptance"]["second"] = statuses(rec)
        result["acceptance"]["second_reasons"] = sorted({c["reason"].split(" since")[0]
                                                         for c in rec["communes"]})
        result["acceptance"]["second_rollup"] = [r["status"] for r in rec["rollups"]]
        data = home / "data" / "communes" / "90003" / "quarterly.csv"
        data.write_text(data.read_text(encoding="utf-8").replace(",3,", ",4,", 1), encoding="utf-8")
        run([ntm, "batch", "--year", "2023", "--quiet", *nb], home)
        rec = record(build)
        result["acceptance"]["after_one_change"] = {
            "statuses": statuses(rec),
            "ran": [c["code"] for c in rec["communes"] if c["status"] == "ran"]}
        print(f"acceptance: {json.dumps(result['acceptance'], ensure_ascii=False)}", file=sys.stderr)

        # 2. No-op rerun of every up-to-date commune (the failing one left out).
        ok = [c["slug"] for c in rec["communes"] if c["status"] != "failed"]
        chosen = [a for slug in ok for a in ("--commune", slug)]
        noop = []
        for _ in range(args.noop_runs):
            seconds, done = run([ntm, "batch", "--year", "2023", "--quiet", *nb, *chosen], home,
                                check_codes=(0,))
            assert statuses(record(build)) == {"skipped": len(ok)}, statuses(record(build))
            noop.append(seconds)
        result["noop_rerun"] = {"communes": len(ok), "median_s": round(med(noop), 3),
                                "runs_s": [round(s, 3) for s in noop]}
        print(f"no-op rerun of {len(ok)}: {med(noop):.2f} s", file=sys.stderr)

        # 3 and 4, in rounds: throughput (forced, no roll-up, each in its own
        # build folder) and the bare loop, interleaved so that a slow moment
        # of the machine weighs on all of them; medians over the rounds.
        chosen_sample = ok[: args.sample] if args.sample else ok
        sample = [a for slug in chosen_sample for a in ("--commune", slug)]
        configs = (("pool_1_worker", ["--workers", "1"]),
                   ("pool_2_workers", ["--workers", "2"]),
                   ("pool_2_workers_no_docx", ["--workers", "2", "--no-docx"]),
                   ("dask_local_2_workers", ["--workers", "2", "--scheduler", "local"]))
        runs: dict[str, list[dict]] = {label: [] for label, _ in configs}
        bare_runs: list[dict] = []
        for round_ in range(args.rounds):
            for label, extra in configs:
                out = Path(tmp) / f"build-{label}-{round_}"
                cpu0 = busy_cpu_seconds()
                seconds, _ = run([ntm, "batch", "--year", "2023", "--quiet", "--force", "--no-rollup",
                                  "--build", str(out), *nb, *extra, *sample], home, check_codes=(0,))
                cpu = busy_cpu_seconds() - cpu0 if cpu0 is not None else None
                runs[label].append({"seconds": round(seconds, 2),
                                    "reports_per_min": round(len(chosen_sample) / seconds * 60, 2),
                                    "cpu_s_per_report": round(cpu / len(chosen_sample), 3) if cpu else None})
                print(f"round {round_ + 1} {label}: {len(chosen_sample)} reports in {seconds:.1f} s",
                      file=sys.stderr)
            bare = []
            for slug in ok[: args.bare]:  # papermill, then jupyter nbconvert --to html --no-input
                params = home / "params" / "2023" / f"{slug}.yaml"
                out = Path(tmp) / f"bare-{slug}.ipynb"
                start = time.perf_counter()
                run([str(BIN / "papermill"), "--no-progress-bar", str(ROOT / "notebooks" /
                     "commune_report.ipynb"), str(out), "-f", str(params)], home, check_codes=(0,))
                run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)], home,
                    check_codes=(0,))
                bare.append(time.perf_counter() - start)
            bare_runs.append({"communes": len(bare), "per_report_median_s": round(med(bare), 3),
                              "reports_per_min": round(len(bare) / sum(bare) * 60, 2)})
            print(f"round {round_ + 1} bare loop: {med(bare):.2f} s per report", file=sys.stderr)
        result["throughput"] = {
            label: {"communes": len(chosen_sample),
                    "seconds": med(r["seconds"] for r in rs),
                    "reports_per_min": med(r["reports_per_min"] for r in rs),
                    "cpu_s_per_report": (med(r["cpu_s_per_report"] for r in rs)
                                         if all(r["cpu_s_per_report"] for r in rs) else None),
                    "runs": rs}
            for label, rs in runs.items()}
        result["bare_loop"] = {"communes": args.bare,
                               "per_report_median_s": med(r["per_report_median_s"] for r in bare_runs),
                               "reports_per_min": med(r["reports_per_min"] for r in bare_runs),
                               "runs": bare_runs}

    r = result["throughput"]
    bare_rate = result["bare_loop"]["reports_per_min"]
    result["ratios"] = {
        "pool2_over_bare": round(r["pool_2_workers"]["reports_per_min"] / bare_rate, 2),
        "pool2_over_pool1": round(r["pool_2_workers"]["reports_per_min"]
                                  / r["pool_1_worker"]["reports_per_min"], 2),
        "dask_over_pool2": round(r["dask_local_2_workers"]["reports_per_min"]
                                 / r["pool_2_workers"]["reports_per_min"], 2),
        "pool2_no_docx_over_pool2": round(r["pool_2_workers_no_docx"]["reports_per_min"]
                                          / r["pool_2_workers"]["reports_per_min"], 2),
    }
    # The targets of "The whole country in under 40 minutes on two cores":
    # HTML, PDF and DOCX of each report built (3,321 in under 40 minutes).
    pool2 = r["pool_2_workers"]["reports_per_min"]
    result["targets"] = {
        "pool2_at_least_83_per_min": pool2 >= 83,
        "country_3321_minutes_at_pool2": round(3321 / pool2, 1),
        "pool2_at_least_6x_bare": result["ratios"]["pool2_over_bare"] >= 6,
        "pool2_at_least_1.8x_pool1": result["ratios"]["pool2_over_pool1"] >= 1.8,
        "noop_under_2s": result["noop_rerun"]["median_s"] < 2,
        "dask_within_15pct": result["ratios"]["dask_over_pool2"] >= 0.85,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"batch-{result['date_utc'][:10]}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
