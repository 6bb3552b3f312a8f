"""The roll-up step of a batch: one roll-up report per province of the
batch and, when the batch spans more than one province, the national
roll-up. Their incremental checks share one pass over the archive
(:func:`ntm_lib.batch.scan.scan_year`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .record import BatchRecord


def _message(exc: Exception) -> str:
    """One line for the record: the error's own text, a full disk named as such."""
    from ..errors import NtmError
    from ..run.archive import is_disk_full_error

    if is_disk_full_error(exc) and not isinstance(exc, NtmError):
        return f"disk full: the roll-up could not be written ({getattr(exc, 'strerror', exc)})"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if isinstance(exc, NtmError) else f"{type(exc).__name__}: {text}"


def rollups_for(record: BatchRecord, build: Path, *, force: bool = False,
                scan: dict | None = None) -> list[dict[str, Any]]:
    """Build (or skip, when up to date) the roll-up of each province whose
    communes the batch built or found up to date, then the national one
    (scope ``{"national": true}``) when there are several; return one entry per
    roll-up for the batch record (``title``, ``scope``, ``status``,
    ``run_id``, ``reason``, ``links`` relative to ``build``, ``error``).
    Never raises but for KeyboardInterrupt: a roll-up that fails (a full
    disk included) is an entry with ``status`` ``failed``. ``scan``: the
    archive read once already (:func:`~ntm_lib.batch.scan.scan_year`)."""
    provinces = sorted({o.province_code for o in record.outcomes
                        if o.status in ("ran", "skipped") and o.province_code})
    if not provinces:
        return []
    from ..rollup.build import build_rollup, rollup_links
    from .scan import scan_year

    scan = scan if scan is not None else scan_year(build, record.year)
    entries = []
    scopes = [{"province": code} for code in provinces]
    if len(provinces) > 1:
        scopes.append({"national": True})
    for scope in scopes:
        code = scope.get("province")
        entry: dict[str, Any] = {"scope": scope}
        try:
            result = build_rollup(record.year, province=code, build=build, force=force,
                                  scan=scan)
        except Exception as exc:  # noqa: BLE001 - a roll-up failure stays with the roll-up
            entry.update(title=f"province {code}" if code else "national", status="failed",
                         error={"message": _message(exc)})
        else:
            entry.update(title=result.title, status=result.status, run_id=result.run_id,
                         reason=result.reason, seconds=round(result.seconds, 3),
                         links=rollup_links(result, build), error=result.error)
        entries.append(entry)
    return entries
