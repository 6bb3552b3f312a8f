"""Deterministic packaging of a ``.docx`` (an Open Packaging Conventions zip).

python-docx writes each zip member with the current time and leaves the core
properties' dates as they are in the template, so two saves of the same
document differ. :func:`deterministic_zip` rewrites the package with:

- the members in python-docx's own order (``[Content_Types].xml`` first, then
  the parts as reached from the package relationships: the same for the same
  document), minus any member named in ``drop``;
- every member stamped 1980-01-01 00:00:00 (the zip format's first date), or
  ``SOURCE_DATE_EPOCH`` when it is set (reproducible-builds.org), deflated at
  zlib's default level, with fixed permissions;

and :func:`set_core_dates` removes ``dcterms:created``/``dcterms:modified``
from the core properties, or sets both to ``SOURCE_DATE_EPOCH``.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import zipfile

from ntm_lib.errors import RenderError

__all__ = ["deterministic_zip", "source_date", "set_core_dates"]

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def source_date() -> dt.datetime | None:
    """``SOURCE_DATE_EPOCH`` as an aware UTC datetime, or None when unset.

    Raises
    ------
    RenderError
        The variable is set but is not a whole number of seconds.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    try:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
    except (ValueError, OverflowError, OSError) as exc:
        raise RenderError("bad SOURCE_DATE_EPOCH", expected="seconds since 1970-01-01",
                          found=epoch) from exc


def set_core_dates(core_properties) -> None:
    """Core properties (python-docx ``CoreProperties``) without dates, or with
    both dates at ``SOURCE_DATE_EPOCH``; ``lastModifiedBy`` emptied and the
    revision set to 1, so nothing in them depends on when or where it ran."""
    moment = source_date()
    element = core_properties._element  # python-docx keeps no "remove" API for dates
    for name in ("created", "modified"):
        for child in element.findall("{http://purl.org/dc/terms/}" + name):
            element.remove(child)
    if moment is not None:
        naive = moment.replace(tzinfo=None)
        core_properties.created = naive
        core_properties.modified = naive
    core_properties.last_modified_by = ""
    core_properties.revision = 1


def deterministic_zip(data: bytes, *, drop: tuple[str, ...] = ()) -> bytes:
    """``data`` (a zip) rewritten with fixed dates, order and attributes.

    Parameters
    ----------
    data:
        The package python-docx saved.
    drop:
        Member names to leave out (the reference generator drops the
        template's thumbnail and unused parts).

    Returns
    -------
    bytes
        The same members, byte for byte, in the same order.
    """
    moment = source_date()
    stamp = _ZIP_EPOCH
    if moment is not None and moment.year >= 1980:
        stamp = moment.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            member = zipfile.ZipInfo(info.filename, date_time=stamp)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.create_system = 0
            member.external_attr = 0o644 << 16
            target.writestr(member, source.read(info.filename))
    return out.getvalue()
