"""Bench-only: archived runs for thousands of synthetic communes without a
kernel, for the country benchmark (``bench/batch_country.py``).

Building 3,321 real reports takes about an hour on two cores; the no-op
rerun, the index page and the roll-ups only read the archive. So a handful
of communes are built for real (``ntm batch``) and every other commune of
the synthetic project gets a *derived* run, written here through the
product's own archive code, as ``build_report`` writes one:

real, computed for the derived commune itself
    its commune (registry look-up, ``resolve_commune``), its parameters
    (``load_params`` of its params file), every key figure the roll-up
    reads (``prepare_report`` + ``figures_of`` on its own data: criteria
    met, band, advanced criteria, poverty change, the inputs it read), the
    SHA-256 of each of its inputs (its own data tables, the registry,
    reference tables, layouts, params file, notebook template) and their
    exact copies in the bag, the current environment (library digest
    included), and the run's folders: ``start_run`` (partial folder and
    lock), ``copy_inputs``, ``make_run_bag`` (BagIt, manifest as a tag
    file), ``finish_run`` (one rename), ``point_latest`` (the latest link).
copied from a real run of the same project (the *template*)
    the bytes of ``report.html``, ``report.pdf`` and ``report.docx``, and
    every cell output of the executed notebook but the injected parameters
    (rewritten for the commune) and the recorded figures (the commune's
    own); the manifest's ``execution``, ``timings`` and ``left_out_outputs``.
    The manifest says so: ``bench_derived_from`` names the template run.

So the no-op check, the index and the roll-ups read runs of the real shape
and size with each commune's own facts; only the rendered pages are the
template's. Usage (inside a synthetic project, ``NTM_HOME`` set)::

    NTM_HOME=/tmp/x .venv/bin/python bench/derive_runs.py --year 2026 --workers 2
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import shutil
import sys
import time
from pathlib import Path

MEDIA_TYPE = "application/vnd.ntm.figure.v1+json"
OUTPUTS = ("report.html", "report.pdf", "report.docx")
_STATE: dict = {}


def _template(run) -> dict:
    """What a derived run takes from a real one, read once per process."""
    nb = json.loads((run.run_dir / "data" / "commune_report.ipynb").read_text(encoding="utf-8"))
    return {"run": run, "notebook": nb, "code": run.manifest["commune"]["code"]}


def _init(templates: list[Path]) -> None:
    from ntm_lib.run.manifest import environment
    from ntm_lib.run.runs import read_run

    _STATE["templates"] = [_template(read_run(p)) for p in templates]
    _STATE["environment"] = environment(
        _STATE["templates"][0]["run"].manifest["environment"].get("font"))


def _notebook(template: dict, code: str, year: int, params_file: str, payloads: list) -> str:
    nb = json.loads(json.dumps(template["notebook"]))
    for cell in nb["cells"]:
        tags = (cell.get("metadata") or {}).get("tags") or []
        if "injected-parameters" in tags:
            cell["source"] = ["# Parameters\n", f'commune = "{code}"\n', f"year = {year}\n",
                              f'params_file = "{params_file}"\n']
        outputs = cell.get("outputs") or []
        if any(MEDIA_TYPE in (o.get("data") or {}) for o in outputs):
            cell["outputs"] = [{"data": {MEDIA_TYPE: p}, "metadata": {},
                                "output_type": "display_data"} for p in payloads]
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def derive(task_args: tuple[int, str, str, int]) -> tuple[str, float]:
    """Write one derived run for ``(year, slug, params path, template index)``."""
    from ntm_lib.load import resolve_commune
    from ntm_lib.params import load_params
    from ntm_lib.paths import build_dir, notebooks_dir, project_root, relative_to_root
    from ntm_lib.record import make_payload
    from ntm_lib.report import figures_of, prepare_report
    from ntm_lib.run import archive
    from ntm_lib.run.bag import copy_inputs, make_run_bag
    from ntm_lib.run.report import _new_manifest  # the manifest build_report starts from
    from ntm_lib.safeio import atomic_write, sha256_file

    year, slug, params_path, which = task_args
    began = time.perf_counter()
    template = _STATE["templates"][which % len(_STATE["templates"])]
    t_run, t_code = template["run"], template["code"]
    params_path = Path(params_path)
    params = load_params(params_path)
    commune = resolve_commune(params["commune"], year=year)
    ctx = prepare_report(params)
    figures = figures_of(ctx)
    payloads = [make_payload(**f) for f in figures]
    root, build = project_root(), build_dir()
    shown = relative_to_root(params_path)
    started = dt.datetime.now(dt.timezone.utc)
    run_id = archive.new_run_id(started)
    partial = archive.partial_folder(build, year, slug, run_id)
    archive.start_run(build, year, slug, run_id)
    try:
        manifest, _ = _new_manifest(run_id, commune, year, params, {}, shown, params_path,
                                    notebooks_dir() / "commune_report.ipynb", started)
        manifest["environment"] = _STATE["environment"]
        for key in ("execution", "redacted_secrets", "left_out_outputs", "timings"):
            manifest[key] = t_run.manifest.get(key)
        manifest["bench_derived_from"] = {"run_id": t_run.run_id, "commune": t_code,
                                          "copied": ["report.html", "report.pdf", "report.docx",
                                                     "notebook outputs but figures"]}
        here = f"data/communes/{commune.code}/"
        own = {e["path"]: e for e in ctx.inputs.entries()}
        inputs = []
        for item in t_run.manifest["inputs"]:
            path = item["path"].replace(f"data/communes/{t_code}/", here)
            entry = {k: v for k, v in item.items() if k != "copy"}
            entry.update(own.get(path, {}), path=path)
            full = Path(path) if Path(path).is_absolute() else root / path
            entry["sha256"] = sha256_file(full)
            inputs.append(entry)
        extra = [{"path": shown, "sha256": manifest["params_file"]["sha256"]},
                 {"path": manifest["notebook_template"]["path"],
                  "sha256": manifest["notebook_template"]["sha256"]}]
        notebook = partial / "commune_report.ipynb"
        atomic_write(notebook, _notebook(template, commune.code, year, shown, payloads),
                     within=partial)
        outputs = [notebook]
        for name in OUTPUTS:
            source = t_run.run_dir / "data" / name
            if source.is_file():
                shutil.copyfile(source, partial / name)
                outputs.append(partial / name)
        manifest["inputs"] = copy_inputs(partial, [*inputs, *extra])[: len(inputs)]
        manifest["outputs"] = {p.name: sha256_file(p) for p in outputs}
        manifest["status"] = "ok"
        manifest["ended_utc"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        make_run_bag(partial, manifest, bagging_date=started.date())
        run_dir = archive.finish_run(partial, run_id)
        archive.point_latest(build, year, slug, run_dir)
    except BaseException:
        archive.discard_run(partial)
        raise
    return slug, time.perf_counter() - began


def stale_tasks(year: int) -> list:
    """The planned tasks whose latest run is not up to date (the incremental rule)."""
    from ntm_lib.batch import fingerprint
    from ntm_lib.batch.plan import plan
    from ntm_lib.paths import build_dir, notebooks_dir

    library = fingerprint.library_sha256()
    notebook = notebooks_dir() / "commune_report.ipynb"
    return [t for t in plan(year)
            if not fingerprint.check(t, build_dir(), notebook, library=library).fresh]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--templates", nargs="+", required=True,
                        help="latest links (build/<year>/<slug>) of real runs to derive from")
    args = parser.parse_args()
    from ntm_lib.run.runs import read_run

    templates = [Path(t).resolve() for t in args.templates]
    if any(read_run(t) is None or read_run(t).status != "ok" for t in templates):
        print("error: a template is not a successful run", file=sys.stderr)
        return 2
    began = time.perf_counter()
    todo = [(args.year, t.slug, str(t.params), i) for i, t in enumerate(stale_tasks(args.year))]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(args.workers, initializer=_init, initargs=(templates,)) as pool:
        for n, _ in enumerate(pool.imap_unordered(derive, todo, chunksize=8), start=1):
            if n % 250 == 0:
                print(f"derived {n}/{len(todo)}", file=sys.stderr, flush=True)
    print(json.dumps({"derived": len(todo), "seconds": round(time.perf_counter() - began, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
