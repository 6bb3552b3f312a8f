"""Consistency rules over a commune-year's data, kept as data.

Downstream of ``load``, ``calc`` and ``text``; the report (``prepare_report``)
and the ``ntm validate`` and ``ntm import`` commands run them.

- :mod:`~ntm_lib.validate.expr`: the rule language (parsing only, no eval).
- :mod:`~ntm_lib.validate.figures`: the figures and functions a rule may name.
- :mod:`~ntm_lib.validate.rules`: ``data/reference/validation_rules.csv``, evaluation.
- :mod:`~ntm_lib.validate.project`: checking what is in ``data/`` and ``params/``.
"""
from .figures import Subject
from .rules import Outcome, Rule, RuleWarning, evaluate_rules, load_rules, rule_warnings

__all__ = ["Subject", "Rule", "RuleWarning", "Outcome", "load_rules", "evaluate_rules",
           "rule_warnings"]
