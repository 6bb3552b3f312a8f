"""Generate a synthetic project folder: reference data, registry, commune
data and params, all plausible, all marked synthetic.

Layout of the folder written (a project root: point ``NTM_HOME`` at it)::

    SYNTHETIC.md                      marker: what this is, seed, command
    data/reference/*.csv              copied from the real project
    data/registry/communes.csv        the real registry rows, then the synthetic ones
    data/communes/9xxxx/*.csv         synthetic facts (every row's source: synthetic)
    params/<year>/<slug>.yaml         the notebook's defaults with the commune's code
    notebooks -> <real project>/notebooks   the shipped notebooks (a link)

The same ``seed``, count and year always give the same bytes.
"""
from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml
from slugify import slugify

from ..errors import NtmError, UnsafePathError
from ..paths import project_root, relative_to_root
from ..safeio import atomic_write, check_within
from ..textnorm import nfc

#: Name of the marker file at the root of every synthetic project.
SYNTHETIC_MARKER = "SYNTHETIC.md"
FIRST_CODE = 90001
LAST_CODE = 99999
FIRST_DISTRICT = 901
COMMUNES_PER_DISTRICT = 12
#: At most this many provinces in one synthetic project (2-digit codes).
MAX_PROVINCES = 60
ISSUING_BODY = "ĐƠN VỊ MÔ PHỎNG"
_SOURCE = "synthetic (ntm synth, seed {seed}): not real data"

# Syllables of place names of the northern mountains, combined at random.
_FIRST = ("Nậm", "Bản", "Tả", "Sín", "Lùng", "Mường", "Pha", "Cốc", "Na", "Thào", "Hoàng",
          "Cán", "Bảo", "Lũng", "Phìn", "Sa", "Y", "Trịnh", "Quang", "Tung", "Pờ", "Dền")
_SECOND = ("Chảy", "Mòn", "Phìn", "Hồ", "Ly", "Xèo", "Vai", "Lầu", "Khoang", "Cấu", "Sáng",
           "Lìn", "Pạc", "Tường", "Thẩn", "Nhù", "Chư", "Vần", "Sán", "Hạ", "Lóng", "Đét")


class SynthError(NtmError):
    """The synthetic folder cannot be written (it holds real data, is a
    file, or leads out through a symbolic link) or an option is bad: bad
    input, exit code 2. Raised before anything is written."""

    exit_code = 2


@dataclass
class SynthResult:
    """What :func:`generate` wrote: the folder, and the synthetic communes
    as ``(code, slug, name)``."""

    root: Path
    year: int
    communes: list[tuple[str, str, str]] = field(default_factory=list)
    copied: list[tuple[str, str, str]] = field(default_factory=list)


def is_synthetic_code(code: str) -> bool:
    """True for commune codes of the reserved synthetic range (90001-99999)."""
    return code.isdigit() and len(code) == 5 and FIRST_CODE <= int(code) <= LAST_CODE


def _csv_text(header: Iterable[str], rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()


def _write(path: Path, text: str, root: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text, within=root)


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _check_out(out: Path, source: Path) -> None:
    """Refuse to write into the real project, into a folder holding other
    data, over a file, or through a symbolic link leading out of ``out``."""
    for above in (out, *out.parents):
        if above.exists() or above.is_symlink():
            if not above.is_dir():
                raise SynthError("--out must be a folder (or not exist yet); this is a file"
                                 if above == out else f"--out is inside {above}, a file",
                                 file=str(out))
            break
    out_r, src_r = out.resolve(), source.resolve()
    if out_r == src_r or src_r in out_r.parents or out_r in src_r.parents:
        raise SynthError("synthetic data must go to a folder of its own, outside the project",
                         file=str(out), expected="a folder outside " + str(src_r))
    if out.exists() and any(out.iterdir()) and not (out / SYNTHETIC_MARKER).is_file():
        raise SynthError(f"the folder is not empty and has no {SYNTHETIC_MARKER}: it may hold "
                         "real data, so nothing was written", file=str(out))
    for sub in ("data", "params", SYNTHETIC_MARKER):
        try:
            check_within(out / sub, out)
        except UnsafePathError as exc:
            raise SynthError(f"{exc.message}; nothing was written", file=str(out / sub)) from None


def _real_communes(source: Path, codes: Iterable[str], year: int) -> list:
    """``(commune, params file, data folder)`` of each real commune to copy,
    all checked before anything is written."""
    from ..load import resolve_commune

    found = {}
    for code in codes:
        commune = resolve_commune(code, source / "data")
        params = source / "params" / str(year) / f"{commune.slug}.yaml"
        folder = source / "data" / "communes" / commune.code
        if not params.is_file() or not folder.is_dir():
            raise SynthError(f"--copy-real {code}: no data or params for {commune.name} "
                             f"({commune.code}) {year} to copy; nothing was written",
                             file=relative_to_root(params))
        found.setdefault(commune.code, (commune, params, folder))
    return list(found.values())


def _set_numbers(criteria: list[dict[str, str]], set_id: str) -> list[int]:
    numbers = sorted(int(r["number"]) for r in criteria if r["set_id"] == set_id)
    if not numbers:
        raise SynthError(f"criteria set {set_id} has no criteria in data/reference/criteria.csv")
    return numbers


def _statuses(rng: random.Random, numbers: list[int], met_count: int,
              hard: set[int]) -> dict[int, str]:
    """``met_count`` criteria met, the hard ones (income, poverty,
    environment) less likely among them."""
    weights = [0.35 if n in hard else 1.0 for n in numbers]
    pool, met = list(numbers), set()
    while len(met) < met_count:
        pick = rng.choices(pool, weights=[w for n, w in zip(numbers, weights) if n in pool])[0]
        met.add(pick)
        pool.remove(pick)
    return {n: "met" if n in met else "not_met" for n in numbers}


def _commune_tables(rng: random.Random, code: str, name: str, year: int, seed: int,
                    main_set: str, main_numbers: list[int], advanced_set: str | None,
                    advanced_numbers: list[int], hard: set[int],
                    previous_too: bool = True) -> dict[str, str]:
    """The six CSV tables of one synthetic commune, as text (last year's
    statuses only when the set governed last year too)."""
    from ..load import COMMUNE_TABLES  # column order of each table

    source = _SOURCE.format(seed=seed)
    size = len(main_numbers)
    # Criteria met: most communes between half and all of the set.
    end = min(size, max(0, round(rng.betavariate(5, 2) * size)))
    start = min(size, max(0, end + rng.choice((-3, -2, -1, -1, 0, 0, 0, 1, 1, 2))))
    end_status = _statuses(rng, main_numbers, end, hard)
    # Last year's statuses differ from this year's by a few criteria.
    previous = dict(end_status)
    met_now = [n for n, s in end_status.items() if s == "met"]
    not_met_now = [n for n, s in end_status.items() if s == "not_met"]
    if start < end:
        for n in rng.sample(met_now, end - start):
            previous[n] = "not_met"
    elif start > end:
        for n in rng.sample(not_met_now, start - end):
            previous[n] = "met"
    status_rows = []
    years = ((year - 1, previous, f"{year - 1}-12-31"),) if previous_too else ()
    for y, statuses, as_of in (*years, (year, end_status, "")):
        status_rows += [{"set_id": main_set, "year": y, "as_of": as_of, "criterion": n,
                         "status": s, "source": source} for n, s in sorted(statuses.items())]
    if advanced_set and end >= size - 4:
        adv = _statuses(rng, advanced_numbers, rng.randint(0, len(advanced_numbers) // 2), hard)
        status_rows += [{"set_id": advanced_set, "year": year, "as_of": f"{year}-11-30",
                         "criterion": n, "status": s, "source": source}
                        for n, s in sorted(adv.items())]

    quarters, met_q = [], start
    for q in range(1, 5):
        met_q = end if q == 4 else min(size, max(0, met_q + rng.choice((-1, 0, 0, 1))))
        quarters.append({
            "year": year, "quarter": q, "documents_issued": rng.choice((0, 1, 1, 2, 2, 3)),
            "visits": rng.randint(1, 8), "support_million_vnd": rng.choice((0, 0, 0, 5, 10, 15, 20)),
            "criteria_met": met_q, "criteria_registered": size, "source": source,
        })
    stated = {k: sum(q[k] for q in quarters) for k in ("documents_issued", "visits",
                                                      "support_million_vnd")}
    stated.update(year=year, criteria_met=end, criteria_registered=size, source=source)

    rate_start = round(rng.uniform(4, 45), 2)
    reduction = round(min(rate_start, rng.uniform(0.5, 7)), 2)
    plan = round(rng.choice((2, 3, 4, 5, 6)) * 1.0, 2)
    poverty = {"year": year, "poverty_standard": "Nghị định 07/2021/NĐ-CP",
               "rate_start_percent": rate_start,
               "rate_end_percent": round(rate_start - reduction, 2),
               "reduction_points": reduction, "plan_reduction_points": plan,
               "stated_percent_of_plan": round(reduction / plan * 100, 2), "source": source}

    # Documents and support named in the text stay within the quarters' figures.
    documents, numbers = [], set()
    for q in quarters:
        for _ in range(rng.randint(0, q["documents_issued"])):
            month, day = rng.randint(3 * q["quarter"] - 2, 3 * q["quarter"]), rng.randint(1, 28)
            kind = rng.choice((("KH", "Kế hoạch"), ("CV", "Công văn")))
            number = f"{rng.randint(10, 999)}-{kind[0]}/MP"
            while number in numbers:  # a number is listed once a year (the data check)
                number = f"{rng.randint(10, 999)}-{kind[0]}/MP"
            numbers.add(number)
            documents.append({
                "year": year, "number": number,
                "kind_vi": kind[1], "issued_on": f"{year}-{month:02d}-{day:02d}",
                "title_vi": f"{kind[1]} giúp đỡ xã {name} xây dựng nông thôn mới năm {year}",
                "source": source,
            })
    documents.sort(key=lambda d: d["issued_on"])
    support = []
    total = stated["support_million_vnd"]
    if total and rng.random() < 0.7:
        households = rng.randint(2, max(2, int(total)))
        support.append({"year": year, "kind": "material",
                        "description_vi": "Tặng quà Tết Nguyên đán cho hộ nghèo",
                        "recipient_count": households, "recipient_unit_vi": "hộ nghèo",
                        "amount_million_vnd": min(total, households * rng.choice((0.5, 1))),
                        "source": source})

    rows = {"criteria_status.csv": status_rows, "quarterly.csv": quarters,
            "year_stated.csv": [stated], "poverty.csv": [poverty],
            "documents.csv": documents, "support.csv": support}
    return {name: _csv_text([c.name for c in COMMUNE_TABLES[name][0]], rows[name])
            for name in COMMUNE_TABLES}


def _params_text(defaults: dict[str, Any], code: str, year: int, place: str, name: str) -> str:
    params = dict(defaults)
    params.update(commune=code, year=year, place=place, issuing_body=[ISSUING_BODY],
                  report_date=f"{year}-12", signer_name="Người ký mô phỏng")
    header = (f"# Synthetic parameters (ntm synth): commune {code}, {name}, year {year}.\n"
              "# Not a real report: generated for scale tests and benchmarks.\n")
    # libyaml's emitter when present (the pure-Python one took 7 ms a file: 23 s
    # of the 3,321 communes' 30 s); the same text either way for these values.
    return header + yaml.dump(params, Dumper=_DUMPER, allow_unicode=True, sort_keys=False,
                              width=100)


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


#: The first year reported on the map of 01/7/2025 (no districts).
NEW_MAP_YEAR = 2025


def _sets_in_force(source: Path, year: int, sample: dict[str, Any]) -> tuple[str, str | None, bool]:
    """The sample's criteria sets when they govern ``year``, else the
    national set in force then (and no advanced set); and whether the main
    set also governed the year before (for last year's statuses)."""
    import datetime as dt

    from ..load import load_criteria_sets
    from ..load.periods import in_force

    sets = load_criteria_sets(source / "data")
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)

    def governs(set_id, first=start, last=end):
        return set_id in sets and in_force(sets[set_id], first, last)

    main = sample["criteria_set"]
    if not governs(main):
        national = [s for s in sets.values() if s.scope == "national" and in_force(s, start, end)]
        if not national:
            raise SynthError(f"no national criteria set is in force in {year}",
                             found=year)
        main = max(national, key=lambda s: s.in_force_from).set_id
    advanced = sample.get("advanced_criteria_set")
    advanced = advanced if advanced and governs(advanced) else None
    return main, advanced, governs(main, dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31))


def _without_district(value: Any) -> Any:
    """Free texts without sentences naming the district (a new-map commune has none)."""
    if isinstance(value, str):
        return re.sub(r",?\s*huyện\s*\{\{\s*commune\.district\s*\}\}", "", value)
    if isinstance(value, list):
        return [v for v in value if not (isinstance(v, str) and "commune.district" in v)]
    if isinstance(value, dict):
        return {k: _without_district(v) for k, v in value.items()}
    return value


#: The params file synthetic communes are modelled on (the sample report).
SAMPLE_PARAMS = Path("params") / "2023" / "nam-mon.yaml"


def _sample_params(source: Path) -> dict[str, Any]:
    """The sample report's parameters (secret ones never are in a params file)."""
    from ..params import load_params

    return dict(load_params(source / SAMPLE_PARAMS, data_dir=source / "data"))


def generate(
    count: int,
    year: int,
    out: str | Path,
    *,
    seed: int = 0,
    province_code: str = "99",
    copy_real: Iterable[str] = (),
    source: str | Path | None = None,
    provinces: int = 1,
) -> SynthResult:
    """Write a synthetic project folder with ``count`` communes for ``year``.

    Parameters
    ----------
    count:
        Number of synthetic communes (codes 90001, 90002, ...).
    year:
        Year of the data and params (the year before is given criteria
        statuses too, for the year-on-year comparison).
    out:
        The folder; created, or refreshed when it already holds a synthetic
        project. Refused when it is inside the real project or holds other files.
    seed:
        Random seed: the same seed gives the same folder.
    province_code:
        Province the synthetic districts belong to: a code of the real
        registry ("10", Lào Cai) takes its name; "99" (default) or any code
        not in the registry is a synthetic province "Mô Phỏng".
    copy_real:
        Codes of real communes whose data and params for ``year`` are copied
        too (e.g. "02881"), to mix them in one batch; they keep their real codes.
    source:
        The real project to copy reference data, registry and notebooks from;
        default the current project.
    provinces:
        Number of provinces the communes are spread over, in contiguous
        blocks of codes (the country has 34 since 01/7/2025): the first is
        ``province_code``, the others the highest 2-digit codes the registry
        does not use (98, 97, ...), synthetic provinces "Mô Phỏng N".
    """
    source = Path(source) if source else project_root()
    out = Path(out)
    if isinstance(count, bool) or not isinstance(count, int) \
            or not 1 <= count <= LAST_CODE - FIRST_CODE + 1:
        raise SynthError(f"--communes must be between 1 and {LAST_CODE - FIRST_CODE + 1}",
                         found=count)
    if not re.fullmatch(r"[0-9]{2}", str(province_code)):
        raise SynthError("--province must be a 2-digit province code such as 10",
                         found=province_code)
    if isinstance(provinces, bool) or not isinstance(provinces, int) \
            or not 1 <= provinces <= min(count, MAX_PROVINCES):
        raise SynthError(f"--provinces must be between 1 and {MAX_PROVINCES}, and at most "
                         "--communes", found=provinces)
    _check_out(out, source)
    real = _real_communes(source, copy_real, year)
    # Everything read from the real project is read before anything is written.
    header, registry = _read_csv(source / "data" / "registry" / "communes.csv")
    _, criteria = _read_csv(source / "data" / "reference" / "criteria.csv")
    _, band_keys = _read_csv(source / "data" / "reference" / "band_key_criteria.csv")
    defaults = _sample_params(source)
    main_set, advanced_set, previous_too = _sets_in_force(source, year, defaults)
    defaults.update(criteria_set=main_set, advanced_criteria_set=advanced_set)
    if year >= NEW_MAP_YEAR:  # no district level since 01/7/2025
        defaults["narrative"] = {**defaults["narrative"],
                                 "recommendations": {**defaults["narrative"]["recommendations"],
                                                     "district": []}}
        defaults["recipients"] = [r for r in defaults["recipients"] if "district" not in r]
        defaults["narrative"] = _without_district(defaults["narrative"])
    main_numbers = _set_numbers(criteria, main_set)
    advanced_numbers = _set_numbers(criteria, advanced_set) if advanced_set else []
    key_names = {nfc(r["name_vi"]).casefold() for r in band_keys}
    hard = {int(r["number"]) for r in criteria if r["set_id"] == main_set
            and nfc(r["name_vi"]).casefold() in key_names}

    for sub in ("data", "params"):
        shutil.rmtree(out / sub, ignore_errors=True)
    rng = random.Random(f"ntm-synth-{seed}-{year}")
    shutil.copytree(source / "data" / "reference", out / "data" / "reference")

    places = _provinces(registry, province_code, provinces)
    result = SynthResult(out, year)
    source_note = _SOURCE.format(seed=seed)
    rows = list(registry)
    real_names = {nfc(r["commune_name"]) for r in registry}
    for i in range(count):
        code = f"{FIRST_CODE + i:05d}"
        # Districts 901-999 (cycled for a country-size run); none on the new map.
        district = FIRST_DISTRICT + (i // COMMUNES_PER_DISTRICT) % (1000 - FIRST_DISTRICT)
        base = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)}"
        while nfc(base) in real_names:  # never the name of a real unit
            base = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)}"
        name = f"{base} (mô phỏng {i + 1})"
        district_rng = random.Random(f"ntm-synth-district-{seed}-{district}")
        district_name = f"{district_rng.choice(_FIRST)} {district_rng.choice(_SECOND)} (mô phỏng)"
        province_code_, province_name, province_type = places[i * len(places) // count]
        rows.append({
            "commune_code": code, "commune_name": name, "commune_type": "xã",
            "district_code": f"{district:03d}" if year < NEW_MAP_YEAR else "",
            "district_name": district_name if year < NEW_MAP_YEAR else "",
            "district_type": "huyện" if year < NEW_MAP_YEAR else "",
            "province_code": province_code_,
            "province_name": province_name, "province_type": province_type,
            "valid_from": "", "valid_to": "", "successor_code": "", "source": source_note,
        })
        slug = slugify(nfc(name))
        for table, text in _commune_tables(rng, code, name, year, seed, main_set, main_numbers,
                                           advanced_set, advanced_numbers, hard,
                                           previous_too).items():
            _write(out / "data" / "communes" / code / table, text, out)
        _write(out / "params" / str(year) / f"{slug}.yaml",
               _params_text(defaults, code, year, province_name, name), out)
        result.communes.append((code, slug, name))
    _write(out / "data" / "registry" / "communes.csv", _csv_text(header, rows), out)

    for commune, params, folder in real:
        result.copied.append(_copy_real(out, commune, params, folder))
    notebooks = out / "notebooks"
    if notebooks.is_symlink() or notebooks.exists():
        notebooks.unlink() if notebooks.is_symlink() else shutil.rmtree(notebooks)
    os.symlink((source / "notebooks").resolve(), notebooks, target_is_directory=True)
    _write(out / SYNTHETIC_MARKER, _marker(result, seed, province_code, provinces), out)
    return result


def _provinces(registry: list[dict[str, str]], first: str,
               count: int) -> list[tuple[str, str, str]]:
    """``(code, name, type)`` of the ``count`` provinces of a synthetic
    project: ``first`` (its registry name, or "Mô Phỏng"), then the highest
    2-digit codes the registry does not use, "Mô Phỏng 2", "Mô Phỏng 3"..."""
    def place(code: str, n: int) -> tuple[str, str, str]:
        row = next((r for r in registry if r["province_code"] == code), None)
        if row:
            return code, row["province_name"], row["province_type"]
        return code, "Mô Phỏng" if n == 1 else f"Mô Phỏng {n}", "tỉnh"

    used = {r["province_code"] for r in registry} | {first}
    free = [f"{c:02d}" for c in range(99, 0, -1) if f"{c:02d}" not in used]
    return [place(code, n) for n, code in enumerate([first, *free][:count], start=1)]


def _copy_real(out: Path, commune, params: Path, folder: Path) -> tuple[str, str, str]:
    """Copy one real commune's data folder and its params (checked by
    :func:`_real_communes`)."""
    shutil.copytree(folder, out / "data" / "communes" / commune.code)
    _write(out / "params" / params.parent.name / params.name,
           params.read_text(encoding="utf-8"), out)
    return commune.code, commune.slug, commune.name


def _marker(result: SynthResult, seed: int, province_code: str, provinces: int = 1) -> str:
    spread = f" --provinces {provinces}" if provinces > 1 else ""
    lines = [
        "# Synthetic project: NOT REAL DATA",
        "",
        f"Written by `ntm synth --communes {len(result.communes)} --year {result.year} "
        f"--seed {seed} --province {province_code}{spread}` for scale tests and benchmarks.",
        "Synthetic communes have codes 90001-99999, names ending in \"(mô phỏng N)\" and",
        "\"synthetic\" in the source column of every row. Build them with",
        "`NTM_HOME=<this folder> ntm batch --year YEAR`.",
        "",
    ]
    if result.copied:
        lines += ["Real communes copied in (their own data, unchanged): "
                  + ", ".join(f"{c} {n}" for c, _, n in result.copied), ""]
    return "\n".join(lines)
