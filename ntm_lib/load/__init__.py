"""Loaders: read ``data/`` and check it, reporting every problem at once.

Upstream of every other room of ``ntm_lib``: imports only ``errors``,
``paths`` and ``textnorm``.

- :mod:`~ntm_lib.load.tables`: one CSV against a column spec.
- :mod:`~ntm_lib.load.inputs`: the log of files read, for the manifest.
- :mod:`~ntm_lib.load.reference`: criteria sets, bands, header styles, labels.
- :mod:`~ntm_lib.load.registry`: the commune registry and commune look-up.
- :mod:`~ntm_lib.load.commune`: one commune's facts for one year.
"""
from .commune import TABLES as COMMUNE_TABLES
from .commune import CommuneFacts, load_commune_facts
from .inputs import InputLog, collect_inputs
from .reference import (
    STATUSES,
    BandRule,
    CriteriaSet,
    HeaderStyle,
    header_style_ids,
    list_criteria_sets,
    load_band_rule,
    load_criteria_set,
    load_criteria_sets,
    load_header_style,
    load_status_labels,
)
from .registry import Commune, load_registry, resolve_commune
from .tables import Column, read_table

__all__ = [
    "Column", "read_table", "InputLog", "collect_inputs",
    "STATUSES", "CriteriaSet", "load_criteria_set", "load_criteria_sets", "list_criteria_sets",
    "BandRule", "load_band_rule", "HeaderStyle", "load_header_style", "header_style_ids", "load_status_labels",
    "Commune", "load_registry", "resolve_commune",
    "CommuneFacts", "load_commune_facts", "COMMUNE_TABLES",
]
