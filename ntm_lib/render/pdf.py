"""Standalone HTML document -> PDF (WeasyPrint), with the report's serif font only.

The PDF is drawn from the very HTML file the reader sees, with two changes
only: its embedded copy of the font (for browsers) is left out, and a user
stylesheet is added, declaring "NTM Serif" (the family the report CSS names
after "Times New Roman"), "NTM Report Serif" (the embedded copy's name) and
the font's own family for the four faces :func:`ntm_lib.fonts.report_serif`
chose, and setting that family on every element, so that fontconfig's
substitutes for a missing Times New Roman never come into play. The font
set-up is made once per process and shared by every later render. Checks around the render make a bad PDF fail instead of being
shipped:

- before: every character of the text must have a glyph in the serif font
  (:class:`~ntm_lib.errors.GlyphMissingError`);
- during: nothing may be fetched but ``data:`` URIs and the font files, and
  WeasyPrint's warnings about fonts, images or URLs are errors;
- after: every font embedded in the PDF must be the serif (a fallback such as
  DejaVu means some text was drawn in another face).

The output is reproducible: no dates in the PDF unless ``SOURCE_DATE_EPOCH``
is set (then both dates are that instant), no file identifier, fonts subset.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from ntm_lib.errors import GlyphMissingError, RenderError
from ntm_lib.fonts import SerifFont, missing_glyphs, report_serif
from ntm_lib.render.checks import document_fonts, document_text, foreign_fonts
from ntm_lib.render.bounded import run_limited
from ntm_lib.safeio import atomic_write
from ntm_lib.render.svg_images import svg_as_images

__all__ = ["render_pdf", "CSS_FAMILY"]

#: The family name report.css uses for the chosen serif.
CSS_FAMILY = "NTM Serif"
_FACES = {"regular": ("normal", "normal"), "bold": ("bold", "normal"),
          "italic": ("normal", "italic"), "bold-italic": ("bold", "italic")}
# WeasyPrint warnings that mean the PDF is not what the HTML shows (a font,
# image or stylesheet not loaded, a glyph drawn as .notdef, a cell dropped).
# Others ("Using fontTools instead of HarfBuzz-Subset", CSS declarations
# "Ignored `...`" such as SVG properties in inline SVG style attributes) are
# logged at INFO.
_FATAL_WARNING = re.compile(
    r"cannot be loaded|failed|malformed|relative uri|unknown image|missing|notdef"
    r"|unsupported by fonts|fetch|ignored \d+ cells", re.I)
_NOTDEF = re.compile(r"\.notdef glyph", re.I)
_log = logging.getLogger(__name__)


class _NeverRaised(Exception):
    """Stands in for an exception class the installed WeasyPrint lacks."""


def _font_css(font: SerifFont) -> str:
    """The stylesheet added for the PDF: ``@font-face`` rules binding the chosen
    files to "NTM Serif", to "NTM Report Serif" (the name of the HTML's
    embedded copy, which the charts' SVG text asks for; that copy is left out
    of the PDF's input) and to the font's own family name, and that family set
    on every element and page-margin box (user ``!important``, which beats the
    author CSS).

    The report CSS names "Times New Roman" first; when it is not installed,
    fontconfig would substitute whatever it aliases to that name (Tinos, a
    system Liberation Serif, DejaVu Serif...). Binding the family to the
    chosen files makes the PDF the same on every machine, and labels its
    fonts with their true names.
    """
    family = font.family.replace('"', "")
    rules = []
    from .embed import EMBEDDED_FAMILY
    for name in dict.fromkeys((family, CSS_FAMILY, EMBEDDED_FAMILY)):
        for style, path in font.files.items():
            weight, slant = _FACES[style]
            rules.append(
                f'@font-face {{ font-family: "{name}"; src: url("{path.resolve().as_uri()}"); '
                f"font-weight: {weight}; font-style: {slant}; }}"
            )
    stack = f'"{family}", "{CSS_FAMILY}" !important'
    rules.append(f"html, html * {{ font-family: {stack}; }}")
    rules.append(
        "@page { " + " ".join(
            f"@{box} {{ font-family: {stack}; }}"
            for box in ("top-left", "top-center", "top-right", "bottom-left",
                        "bottom-center", "bottom-right")
        ) + " }"
    )
    return "\n".join(rules)


def _font_key(font: SerifFont) -> tuple:
    return (font.family, tuple(sorted((style, str(path.resolve())) for style, path in font.files.items())))


@lru_cache(maxsize=4)
def _font_setup(key: tuple):
    """The URL fetcher, WeasyPrint font configuration and font stylesheet for
    one serif font (``key`` from :func:`_font_key`), made once per process:
    loading the twelve faces into fontconfig is the same work for every
    report."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    family, files = key
    font = SerifFont(family=family, files={style: Path(path) for style, path in files},
                     source="cache")
    fetcher = _local_fetcher({p.resolve().as_uri() for p in font.files.values()})
    font_config = FontConfiguration()
    faces = weasyprint.CSS(string=_font_css(font), font_config=font_config, url_fetcher=fetcher)
    return fetcher, font_config, faces


def _local_fetcher(allowed: set[str]):
    """A URL fetcher that serves ``data:`` URIs and the files in ``allowed`` only;
    anything else (http, https, other files) stops the render."""
    import weasyprint.urls as wurls

    def permitted(url: str) -> bool:
        return url.startswith("data:") or url.split("?")[0] in allowed

    if hasattr(wurls, "URLFetcher"):  # WeasyPrint >= 68

        class LocalOnlyFetcher(wurls.URLFetcher):
            def fetch(self, url, headers=None):
                if not permitted(url):
                    raise ValueError(f"refusing to fetch {url[:120]}: the document must be self-contained")
                return super().fetch(url, headers)

        return LocalOnlyFetcher(fail_on_errors=True)

    def fetcher(url, *args, **kwargs):  # pragma: no cover - older WeasyPrint
        if not permitted(url):
            raise ValueError(f"refusing to fetch {url[:120]}: the document must be self-contained")
        return wurls.default_url_fetcher(url, *args, **kwargs)

    return fetcher


@contextmanager
def _weasyprint_log() -> Iterator[list[logging.LogRecord]]:
    """Collect WeasyPrint's log records of level WARNING and above."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("weasyprint")
    handler = Collect(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


_ENV_LOCK = threading.Lock()
#: One WeasyPrint render at a time per process (they share the font setup).
_RENDER_LOCK = threading.Lock()


def ready(font: SerifFont) -> None:
    """Make :func:`render_pdf`'s per-process set-up for ``font`` now (WeasyPrint
    imported, the serif's faces loaded into fontconfig); the forked render
    children inherit it. Raises what WeasyPrint raises for a broken install."""
    with _RENDER_LOCK:
        _font_setup(_font_key(font))
#: The browser's copy of the font (``ntm_lib.render.embed``): the PDF binds the
#: same family names to the font files instead (see :func:`_font_css`).
_EMBEDDED_FACES = re.compile(r'<style id="ntm-fonts">.*?</style>\n?', re.DOTALL)


@contextmanager
def _font_timestamp(font: SerifFont) -> Iterator[None]:
    """Make fontTools' subsetter stamp embedded fonts with the font file's own date.

    Without HarfBuzz-Subset, WeasyPrint subsets with fontTools, which writes
    the current time into each subset's ``head.modified`` unless
    ``SOURCE_DATE_EPOCH`` is set: the same HTML would give different bytes
    every second. When the variable is unset it is set, for the duration of
    the render only, to the regular face's ``head.modified``.
    """
    if os.environ.get("SOURCE_DATE_EPOCH"):
        yield
        return
    from fontTools.misc.timeTools import epoch_diff
    from fontTools.ttLib import TTFont

    stamp = TTFont(str(font.regular), lazy=True)["head"].modified + epoch_diff
    with _ENV_LOCK:
        os.environ["SOURCE_DATE_EPOCH"] = str(int(stamp))
        try:
            yield
        finally:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


def _source_date() -> str | None:
    """``SOURCE_DATE_EPOCH`` as a W3C date (UTC), or None when unset."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    try:
        moment = datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    except (ValueError, OverflowError, OSError) as exc:
        raise RenderError("bad SOURCE_DATE_EPOCH", expected="seconds since 1970-01-01",
                          found=epoch) from exc
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_pdf(
    html_path: str | os.PathLike[str],
    pdf_path: str | os.PathLike[str],
    *,
    font: SerifFont | None = None,
) -> Path:
    """Render a standalone HTML report (from :func:`render_html`) to an A4 PDF.

    Parameters
    ----------
    html_path:
        The HTML file (UTF-8). Its page size, margins and page numbers come
        from its own CSS (Decree 30/2020/NĐ-CP, Annex I).
    pdf_path:
        Where to write the PDF; written atomically (temporary file, then
        rename), folders created.
    font:
        The serif to draw with; :func:`ntm_lib.fonts.report_serif` when omitted.

    Returns
    -------
    Path
        ``pdf_path``.

    Raises
    ------
    GlyphMissingError
        A character of the text has no glyph in the serif font (checked
        before rendering).
    RenderError
        The HTML cannot be read; it refers to something outside itself (a
        remote or local file other than the font files); WeasyPrint logged an
        error, or a warning about a font, image, stylesheet or URL; a font
        other than the serif was embedded (some text was drawn by a fallback
        font, e.g. an SVG chart naming "DejaVu Sans"); ``SOURCE_DATE_EPOCH``
        is not a whole number; or rendering took longer than
        :data:`ntm_lib.limits.RENDER_SECONDS` (it runs in a child process,
        killed then: :mod:`ntm_lib.render.bounded`; nothing is written).

    Notes
    -----
    Options given to WeasyPrint: ``optimize_images`` (lossless), and
    ``presentational_hints`` (``<img width>``, ``<table border>`` as in a
    browser). Fonts are subset (WeasyPrint's default); no PDF identifier.
    """
    html_file, out = Path(html_path), Path(pdf_path)
    font = font or report_serif()
    try:
        html = html_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RenderError(f"cannot read the HTML: {exc}", file=html_file) from exc
    source_date = _source_date()
    with _RENDER_LOCK:  # one render at a time; the font set-up is made here, once
        _font_setup(_font_key(font))
        data = run_limited(_pdf_bytes, html, html_file, out, font, source_date,
                           what=f"the PDF {out.name}", file=str(html_file))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, data, redact=False)  # drawn from the HTML, which is redacted
    return out


def _pdf_bytes(html: str, html_file: Path, out: Path, font: SerifFont,
               source_date: str | None) -> bytes:
    """The PDF of ``html`` with every check of :func:`render_pdf`; run in
    the child process of :func:`~ntm_lib.render.bounded.run_limited`."""
    import weasyprint
    import weasyprint.urls

    # WeasyPrint < 68 has no fatal fetch error: a refused URL is logged instead.
    fatal_fetch = getattr(weasyprint.urls, "FatalURLFetchingError", None) or _NeverRaised

    text = unicodedata.normalize("NFC", document_text(html))
    missing = missing_glyphs(text, font.regular)
    if missing:
        error = GlyphMissingError(missing, font=f"{font.family} ({font.regular.name})", where=out.name)
        first = min(text.find(c) for c in missing if c in text)
        snippet = " ".join(text[max(first - 40, 0):first + 20].split())
        error.message += f", in the text “…{snippet}…”"
        raise error

    # presentational_hints: <img width="...">, <table border="1"> count as in a browser.
    options = {"optimize_images": True, "presentational_hints": True}
    try:
        with _weasyprint_log() as records, _font_timestamp(font):
            fetcher, font_config, faces = _font_setup(_font_key(font))
            document = weasyprint.HTML(
                string=svg_as_images(_EMBEDDED_FACES.sub("", html, count=1)),
                base_url=html_file.resolve().parent.as_uri() + "/",
                url_fetcher=fetcher,
            ).render(stylesheets=[faces], font_config=font_config, **options)
            document.metadata.created = document.metadata.modified = source_date
            document.metadata.generator = document.metadata.generator or "ntm_lib"
            data = document.write_pdf(**options)
    except fatal_fetch as exc:
        cause = exc.__cause__ or exc
        raise RenderError(f"WeasyPrint was asked to fetch something: {cause}", file=html_file) from exc

    notdef = {str(r.args[0]) for r in records if _NOTDEF.search(str(r.msg)) and r.args}
    if notdef:
        raise GlyphMissingError(notdef, font=font.family, where=out.name)
    problems = [r.getMessage() for r in records
                if r.levelno >= logging.ERROR or (_FATAL_WARNING.search(r.getMessage())
                                                  and not r.getMessage().startswith("Ignored `"))]
    for record in records:
        _log.info("WeasyPrint: %s", record.getMessage())
    if problems:
        raise RenderError("WeasyPrint: " + " | ".join(dict.fromkeys(problems)), file=html_file)

    foreign = foreign_fonts(document_fonts(document), font)
    if foreign:
        raise RenderError(
            f"{out.name}: the PDF embeds {', '.join(sorted(foreign))} besides {font.family}: "
            "some text was drawn by a fallback font (a font-family outside the report "
            "stack, or a glyph the serif lacks)",
            file=html_file,
        )
    return data
