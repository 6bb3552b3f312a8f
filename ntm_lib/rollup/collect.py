"""One row per commune of a province (or district, or the whole country)
and year, from the figures recorded in each commune's archived notebook.

The archive is read in one pass (:func:`ntm_lib.batch.scan.scan_year`: one
manifest read per commune), and each commune in scope has its notebook's
figures read once; a batch's roll-ups share one pass for their
incremental checks (``scan``).

Nothing is computed again from the raw data: criteria met, band, advanced
criteria and poverty change are the values the commune report recorded
(:func:`ntm_lib.record.read_figures`), read from the run that
``build/<year>/<slug>`` points at. Band labels and the advanced set's size
come from the reference tables. Every file read is listed in ``inputs``
with its SHA-256, for the roll-up's manifest.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..record import read_figures
from ..safeio import sha256_file
from ..batch.scan import CommuneRuns, scan_year
from ..run.runs import ArchivedRun, relative

LINKS = (("HTML", "report.html"), ("PDF", "report.pdf"),
         ("notebook", "commune_report.ipynb"), ("manifest", "manifest.json"))


@dataclass
class RollupRow:
    """One commune's recorded figures (None where the report recorded none)."""

    slug: str
    code: str
    name: str
    district_code: str | None
    district_name: str | None
    run_id: str
    criteria_met: int | None
    set_size: int | None
    criteria_not_met_numbers: list[int]
    band: str | None
    recognition_at_risk: bool | None
    band_key_criteria: list[int]
    advanced_met: int | None
    advanced_set: str | None
    poverty_reduction_points: float | None
    poverty_percent_of_plan: float | None
    newer_run_failed: bool = False
    links: dict[str, str] = field(default_factory=dict)
    province_code: str | None = None
    province_name: str | None = None


@dataclass
class RollupContext:
    """The roll-up of ``scope`` (``"province"``, ``"district"`` or
    ``"national"``, whose ``code`` is ``""``) ``code``, ``year``.

    ``rows``: communes with a successful report, by district then name;
    ``missing``: communes of the scope whose runs all failed (``slug``,
    ``code``, ``name``, ``error``, ``run_id``); ``inputs``: the successful
    runs' files read (``path`` relative to the build folder, ``sha256``).
    """

    year: int
    scope: str
    code: str
    name: str
    rows: list[RollupRow]
    missing: list[dict[str, Any]]
    inputs: list[dict[str, Any]]

    def band_counts(self) -> dict[str | None, int]:
        return dict(Counter(r.band for r in self.rows))

    def distribution(self) -> dict[int, int]:
        """Number of communes by criteria met."""
        return dict(sorted(Counter(r.criteria_met for r in self.rows
                                   if r.criteria_met is not None).items()))

    def at_risk(self) -> list[RollupRow]:
        """Communes whose band withdraws NTM recognition (Decision 18/2022)."""
        return [r for r in self.rows if r.recognition_at_risk]

    def by_province(self) -> list[dict[str, Any]]:
        """Per province (code order): ``code``, ``name``, ``communes``,
        ``band_counts`` (band -> communes, None for no band), ``at_risk``,
        ``mean_criteria_met`` (None without data) and ``missing``."""
        groups: dict[str, list[RollupRow]] = {}
        for r in self.rows:
            groups.setdefault(r.province_code or "", []).append(r)
        missing = Counter(m.get("province_code") or "" for m in self.missing)
        out = []
        for code in sorted(set(groups) | set(missing)):
            rows = groups.get(code, [])
            met = [r.criteria_met for r in rows if isinstance(r.criteria_met, (int, float))]
            out.append({"code": code, "name": next((r.province_name for r in rows
                                                    if r.province_name), "") or code,
                        "communes": len(rows), "band_counts": dict(Counter(r.band for r in rows)),
                        "at_risk": sum(1 for r in rows if r.recognition_at_risk),
                        "mean_criteria_met": round(sum(met) / len(met), 2) if met else None,
                        "missing": missing.get(code, 0)})
        return out


def _in_scope(commune: dict[str, Any], scope: str, code: str) -> bool:
    return scope == "national" or commune.get(f"{scope}_code") == code


def _scope(province: str | None, district: str | None) -> tuple[str, str]:
    if district:
        return "district", district
    return ("province", province) if province else ("national", "")


def _row(run: ArchivedRun, slug: str, link_base: Path | None) -> tuple[RollupRow, list[Path]]:
    commune = run.manifest.get("commune") or {}
    notebook = run.file("commune_report.ipynb")
    figures = read_figures(notebook) if notebook else {}

    def value(name: str, default: Any = None) -> Any:
        return figures[name].value if name in figures else default

    links = {}
    if link_base is not None:
        links = {label: relative(p, link_base) for label, name in LINKS
                 if (p := run.file(name)) is not None}
    row = RollupRow(
        slug=slug, code=commune.get("code") or value("commune_code"),
        name=commune.get("name") or value("commune_name"),
        district_code=commune.get("district_code"), district_name=commune.get("district_name"),
        province_code=commune.get("province_code"), province_name=commune.get("province_name"),
        run_id=run.run_id, criteria_met=value("criteria_met"), set_size=value("set_size"),
        criteria_not_met_numbers=value("criteria_not_met_numbers", []),
        band=value("band"), recognition_at_risk=value("recognition_at_risk"),
        band_key_criteria=value("band_key_criteria", []), advanced_met=value("advanced_met"),
        advanced_set=value("advanced_set"),
        poverty_reduction_points=value("poverty_reduction_points"),
        poverty_percent_of_plan=value("poverty_percent_of_plan"), links=links,
    )
    return row, [p for p in (notebook, run.file("manifest.json")) if p is not None]


def collect_rollup(build: str | Path, year: int, *, province: str | None = None,
                   district: str | None = None, link_base: str | Path | None = None,
                   scan: dict[str, CommuneRuns] | None = None) -> RollupContext:
    """Gather the roll-up of a province (``province`` code) or district;
    neither: the whole country (every commune archived for ``year``).

    ``link_base`` is the folder the roll-up's HTML will sit in: each row's
    ``links`` (HTML, PDF, notebook, manifest) are relative to it. ``scan``
    is a pass over the archive already made (:func:`scan_year`).
    """
    scope, code = _scope(province, district)
    build = Path(build).resolve()
    base = Path(link_base).resolve() if link_base else None
    rows, missing, read = [], [], []
    name = "" if scope != "national" else "toàn quốc"
    for slug, runs in (scan if scan is not None else scan_year(build, int(year))).items():
        ok, newest, run = runs.ok, runs.newest, runs.run
        if run is None or not _year_report(run):
            continue
        commune = run.manifest.get("commune") or {}
        if not _in_scope(commune, scope, code):
            continue
        name = name or commune.get(f"{scope}_name") or ""
        if ok is None:
            error = newest.manifest.get("error") or {}
            missing.append({"slug": slug, "code": commune.get("code"), "name": commune.get("name"),
                            "province_code": commune.get("province_code"),
                            "error": error.get("message") or error.get("evalue") or "failed",
                            "cell": error.get("cell_index"), "run_id": newest.run_id})
            continue
        row, files = _row(ok, slug, base)
        row.newer_run_failed = runs.newer_failed
        rows.append(row)
        read += files
    rows.sort(key=lambda r: (r.province_code or "", r.district_name or "", r.name or "",
                             r.code or "") if scope == "national"
              else (r.district_name or "", r.name or "", r.code or ""))
    inputs = [{"path": relative(p, build), "sha256": sha256_file(p)} for p in read]
    return RollupContext(int(year), scope, code, name, rows, missing, inputs)


def _year_report(run: ArchivedRun) -> bool:
    """A roll-up sums year reports only: a quarter's or a half year's
    report of a commune (``nam-mon-6m``) is not another commune."""
    return run.manifest.get("period", "year") == "year"


def planned_inputs(build: str | Path, year: int, *, province: str | None = None,
                   district: str | None = None, scan: dict[str, CommuneRuns] | None = None
                   ) -> tuple[list[str], list[str]]:
    """What a roll-up would read now, without reading figures (for its
    incremental check): the successful runs' files (paths relative to
    ``build``) and the slugs of the communes without a successful run.
    ``scan`` as for :func:`collect_rollup`."""
    scope, code = _scope(province, district)
    build = Path(build).resolve()
    paths, missing = [], []
    for slug, runs in (scan if scan is not None else scan_year(build, int(year))).items():
        ok, run = runs.ok, runs.run
        if run is None or not _year_report(run) \
                or not _in_scope(run.manifest.get("commune") or {}, scope, code):
            continue
        if ok is None:
            missing.append(slug)
        else:
            paths += [relative(p, build) for p in (ok.file("commune_report.ipynb"),
                                                   ok.file("manifest.json")) if p is not None]
    return sorted(paths), sorted(missing)
