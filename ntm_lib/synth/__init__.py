"""Synthetic communes for scale tests and benchmarks (``ntm synth``).

Synthetic data is always marked and always kept apart from real data:

- it is written to a project folder of its own (``--out``), never to the
  ``data/`` of a real project, with a ``SYNTHETIC.md`` marker at its root;
- commune codes are in the reserved range ``90001``-``99999`` and district
  codes in ``900``-``999`` (real codes stay below those);
- names end in ``(mô phỏng N)``, the issuing body is ``ĐƠN VỊ MÔ PHỎNG``;
- every row's ``source`` says ``synthetic``.

Point ``NTM_HOME`` at that folder to build its reports (``ntm batch``).
"""
from .generate import SYNTHETIC_MARKER, SynthResult, generate, is_synthetic_code

__all__ = ["SYNTHETIC_MARKER", "SynthResult", "generate", "is_synthetic_code"]
