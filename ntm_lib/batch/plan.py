"""Which commune-years a batch builds.

A batch over a year takes every params file ``params/<year>/<slug>.yaml``
(files whose name starts with ``_`` or ``.`` are left out); ``--commune``
narrows it to the communes named, by slug (``nam-mon``, ``nam-mon-2``) or by
code (``02881``, also ``2881``). Planning reads file names only, and the
params files' ``commune`` field only when a code is given: it stays cheap
for thousands of communes and imports nothing heavy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import ParameterError
from ..paths import params_dir, relative_to_root

_CODE_LINE = re.compile(r"""^commune:\s*["']?(\d+)["']?\s*(?:#.*)?$""", re.MULTILINE)


@dataclass(frozen=True, order=True)
class Task:
    """One commune-year of a batch.

    ``slug`` is the params file's name without ``.yaml``: by the project's
    convention the commune's slug, and the name of its folder under
    ``build/<year>/``; ``params`` the absolute path of the params file.
    """

    year: int
    slug: str
    params: Path
    #: Write report.docx too (``ntm batch --no-docx``: False).
    docx: bool = True

    @property
    def key(self) -> str:
        """``2023/nam-mon``: how a task is named in messages and records."""
        return f"{self.year}/{self.slug}"


def params_files(year: int, root: Path | None = None) -> list[Path]:
    """The params files of ``year``, sorted by name."""
    folder = (root or params_dir()) / str(year)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.yaml")
                  if p.is_file() and not p.name.startswith(("_", ".")))


def params_code(path: Path) -> str | None:
    """The ``commune:`` code written in a params file (without loading YAML),
    from its first :data:`~ntm_lib.limits.PARAMS_FILE_BYTES` bytes only (a
    larger file is refused when it is loaded)."""
    from ..limits import PARAMS_FILE_BYTES

    with open(path, "rb") as f:
        text = f.read(PARAMS_FILE_BYTES).decode("utf-8", errors="replace")
    match = _CODE_LINE.search(text)
    return match.group(1).zfill(5) if match else None


def plan(year: int, communes: Iterable[str] = (), *, root: Path | None = None) -> list[Task]:
    """The tasks of a batch over ``year``, sorted by slug.

    Parameters
    ----------
    year:
        Year reported on.
    communes:
        Slugs or codes to keep; empty means every params file of the year.
    root:
        Params folder; default ``<project>/params``.

    Raises
    ------
    ParameterError
        No params file for the year, or a commune named has none (the
        message says which file to create, or that the commune is unknown).
    """
    from slugify import slugify

    files = params_files(year, root)
    folder = relative_to_root((root or params_dir()) / str(year))
    if not files:
        raise ParameterError(f"no params files for {year}: nothing to build "
                             f"(expected {folder}/<slug>.yaml)", file=folder)
    by_slug = {p.stem: p for p in files}
    keys = [str(k).strip() for k in communes]
    if not keys:
        return [Task(int(year), p.stem, p.resolve()) for p in files]
    chosen: dict[str, Path] = {}
    by_code: dict[str, list[Path]] | None = None
    for key in keys:
        slug = key if key in by_slug else slugify(key)
        if slug in by_slug:
            chosen[slug] = by_slug[slug]
            continue
        if key.isdigit():
            if by_code is None:
                by_code = {}
                for p in files:
                    by_code.setdefault(params_code(p) or "", []).append(p)
            matches = by_code.get(key.zfill(5), [])
            if matches:
                chosen.update((p.stem, p) for p in matches)
                continue
        raise _no_params(key, year, folder)
    return [Task(int(year), slug, path.resolve()) for slug, path in sorted(chosen.items())]


def _no_params(key: str, year: int, folder: str) -> ParameterError:
    """The error for a commune without a params file (resolving it first, so
    an unknown commune is named as such)."""
    from ..load import resolve_commune  # heavy; only on this error path

    commune = resolve_commune(key)  # raises UnknownCommuneError
    return ParameterError(
        f"no parameters for {commune.name} ({commune.code}) {year}: create "
        f"{folder}/{commune.slug}.yaml (copy another commune's file and edit it)",
    )
