"""Batch runs: every commune-year of a year (or those named), in parallel,
incrementally, with a record, an index page and roll-up reports (``ntm batch``).

- :mod:`~ntm_lib.batch.plan`: which commune-years (params files);
- :mod:`~ntm_lib.batch.fingerprint`: the incremental rule (skip what is up to date);
- :mod:`~ntm_lib.batch.worker`: one report in a worker process (``build_report``);
- :mod:`~ntm_lib.batch.kernel`, :mod:`~ntm_lib.batch.zygote`: kernels forked
  from a warm template;
- :mod:`~ntm_lib.batch.pool`, :mod:`~ntm_lib.batch.dask`: local process pool, Dask;
- :mod:`~ntm_lib.batch.record`, :mod:`~ntm_lib.batch.index`: batch record, index page;
- :mod:`~ntm_lib.batch.rollups`: the roll-up step;
- :mod:`~ntm_lib.batch.run`: all of it, :func:`run_batch`.

Importing this package imports nothing heavy.
"""
