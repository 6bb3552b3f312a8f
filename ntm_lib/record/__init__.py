"""Key figures recorded in executed notebooks (scrapbook's idea, small)."""
from .figures import MEDIA_TYPE, Figure, FigureError, make_payload, read_figures, record, schema

__all__ = ["MEDIA_TYPE", "Figure", "FigureError", "make_payload", "read_figures", "record", "schema"]
