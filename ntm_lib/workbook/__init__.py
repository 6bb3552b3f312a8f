"""The data workbook: how figures and texts come in from the field.

Downstream of ``load``, ``params``, ``validate`` and ``report`` (for the
names a narrative may use); used by the ``ntm template`` and ``ntm import``
commands.

- :mod:`~ntm_lib.workbook.spec`: the layout as a declarative table.
- :mod:`~ntm_lib.workbook.cells`, :mod:`~ntm_lib.workbook.numbers`,
  :mod:`~ntm_lib.workbook.words`, :mod:`~ntm_lib.workbook.kinds`: one cell as
  people type it (text, numbers, dates, statuses, codes), one parser per kind.
- :mod:`~ntm_lib.workbook.problems`: problems with sheet and cell, collected lazily.
- :mod:`~ntm_lib.workbook.opening`: opening a file, or saying why it is not a workbook.
- :mod:`~ntm_lib.workbook.package`: a workbook's cost bounded before openpyxl loads it.
- :mod:`~ntm_lib.workbook.sheets`: sheets, heading rows and cells, whatever the layout became.
- :mod:`~ntm_lib.workbook.forms`, :mod:`~ntm_lib.workbook.criteria`: the form
  sheets and the criteria sheets.
- :mod:`~ntm_lib.workbook.read`: the tables and parameters a workbook gives, all problems at once.
- :mod:`~ntm_lib.workbook.template`, :mod:`~ntm_lib.workbook.layout`: a
  workbook filled with what is known.
- :mod:`~ntm_lib.workbook.write`: what an import changes in data/ and params/.
- :mod:`~ntm_lib.workbook.commit`: the files put in place all or nothing, rolled back on failure.
"""
from .problems import WorkbookError, WorkbookErrors
from .read import WorkbookData, read_workbook
from .template import build_template, gather, write_template
from .write import ImportResult, write_import

__all__ = ["WorkbookError", "WorkbookErrors", "WorkbookData", "read_workbook", "gather",
           "build_template", "write_template", "ImportResult", "write_import"]
