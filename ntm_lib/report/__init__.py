"""The commune report: context (data + figures) and its sections as HTML."""
from . import sections
from .context import ReportContext, prepare_report
from .figures import figures_of

__all__ = ["ReportContext", "figures_of", "prepare_report", "sections"]
