"""``ntm synth``: a synthetic project folder for scale tests and benchmarks."""
from __future__ import annotations

import argparse
from pathlib import Path

from ._args import province_code, seed_type, synth_count, synth_provinces, year_type


def register(sub) -> None:
    synth = sub.add_parser(
        "synth", help="write synthetic communes (data and params) to a folder of their own",
        description="Write a project folder of plausible synthetic communes, always marked "
                    "synthetic (codes 90001-99999, names ending in '(mô phỏng N)', 'synthetic' "
                    "in every source column, SYNTHETIC.md at the root) and never inside the "
                    "real project. Build them with NTM_HOME=DIR ntm batch --year YEAR. Every "
                    "option is checked before anything is written; exit code 2 for a bad "
                    "option or output folder.")
    synth.add_argument("--communes", required=True, type=synth_count,
                       help="number of synthetic communes (1 to 9,999)")
    synth.add_argument("--year", required=True, type=year_type, help="year of the data and params")
    synth.add_argument("--out", required=True, type=Path, help="folder to write (a project root)")
    synth.add_argument("--seed", type=seed_type, default=0, help="random seed (default 0)")
    synth.add_argument("--province", default="99", metavar="CODE", type=province_code,
                       help='province of the synthetic districts: a registry code ("10") takes '
                            'its name; default 99, a synthetic province')
    synth.add_argument("--provinces", type=synth_provinces, default=1, metavar="N",
                       help="spread the communes over N provinces (default 1; the country "
                            "has 34): --province, then synthetic ones")
    synth.add_argument("--copy-real", action="append", default=[], metavar="CODE",
                       help="also copy this real commune's data and params (repeatable)")
    synth.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from ..synth import generate

    result = generate(args.communes, args.year, args.out, seed=args.seed,
                      province_code=args.province, copy_real=args.copy_real,
                      provinces=args.provinces)
    print(f"{len(result.communes)} synthetic communes for {args.year} in {result.root}/ "
          f"(codes {result.communes[0][0]}-{result.communes[-1][0]})")
    for code, slug, name in result.copied:
        print(f"  with the real commune {code} {name} ({slug})")
    print(f"build them: NTM_HOME={result.root} ntm batch --year {args.year}")
    return 0
