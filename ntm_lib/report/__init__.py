"""The commune report's data: the context (parameters, data, every computed
figure) and the figures recorded in the executed notebook. The words, tables
and charts are written in the notebook (:mod:`ntm_lib.notebook`) and its
layouts (``notebooks/layouts/``)."""
from .context import ReportContext, prepare_report
from .figures import figures_of

__all__ = ["ReportContext", "figures_of", "prepare_report"]
