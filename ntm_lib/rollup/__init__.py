"""Roll-up reports: one province (or district) and year, from the figures
recorded in the archived commune notebooks (never from the raw data again).

- :mod:`~ntm_lib.run.runs`: reading archived runs back (light, standard
  library only: the batch's incremental check uses it);
- :mod:`~ntm_lib.rollup.collect`: one row per commune from its recorded figures;
- :mod:`~ntm_lib.rollup.sections`: the roll-up's tables and chart as HTML;
- :mod:`~ntm_lib.rollup.build`: execute ``notebooks/province_summary.ipynb``,
  render HTML and PDF, archive the run with its manifest.
"""


def __getattr__(name: str):
    """Heavier names load on first use, so ``import ntm_lib.run.runs`` stays quick."""
    if name in ("collect_rollup", "RollupContext"):
        from . import collect
        return getattr(collect, name)
    if name in ("build_rollup", "RollupResult"):
        from . import build
        return getattr(build, name)
    raise AttributeError(f"module 'ntm_lib.rollup' has no attribute {name!r}")
