"""Readying the renderers while the notebook runs.

``ntm run`` spends most of a report waiting: the kernel executes the notebook
in its own process while this one polls its sockets. The renderers need a
second of set-up that does not depend on the notebook: importing nbconvert
and compiling the report template, importing WeasyPrint and loading the
report serif into fontconfig (:func:`ntm_lib.render.pdf.render_pdf` keeps
that set-up per process), and for the Word document python-docx, Beautiful
Soup, fontTools and resvg with the serif's metrics. :func:`start` does that
work in a background thread during the execution; :func:`finish` waits for
it before the first render, so every render still runs alone (and the
forked render children of :mod:`ntm_lib.render.bounded` are never forked
while the thread runs).

Nothing here changes what is rendered: the same set-up is made by the
renderers on first use when it was not made here (a batch worker has it
already; a failure here is left for the render itself to report).
"""
from __future__ import annotations

import threading

__all__ = ["start", "finish", "ready"]


def ready(*, docx: bool) -> None:
    """Make the renderers' per-process set-up now (idempotent).

    Parameters
    ----------
    docx:
        Also ready the Word document's libraries and font metrics.

    Raises whatever the set-up raises (missing font, broken install); the
    renderers raise the same on first use.
    """
    from . import html, pdf
    from ..fonts import report_serif

    html.ready()
    font = report_serif()
    pdf.ready(font)
    if docx:
        from . import docx_report

        docx_report.ready(font)


def _quietly(docx: bool) -> None:
    try:
        ready(docx=docx)
    except Exception:  # noqa: BLE001 - the render itself reports it, with its place
        pass


def start(*, docx: bool) -> threading.Thread:
    """Run :func:`ready` in a daemon thread and return the thread."""
    thread = threading.Thread(target=_quietly, args=(docx,), name="ntm-render-warm-up",
                              daemon=True)
    thread.start()
    return thread


def finish(thread: threading.Thread | None) -> None:
    """Wait until the warm-up of :func:`start` is over (nothing when ``None``)."""
    if thread is not None:
        thread.join()
