"""Verify archived runs: every file of a run still has the bytes it was
archived with, nothing was added, nothing went missing.

A commune run is a BagIt bag: the bag's own manifests
(``manifest-sha256.txt``, ``tagmanifest-sha256.txt``) are the reference;
parsing and the final verdict are the ``bagit`` package's, so ``ntm verify``
agrees with any standard BagIt validator, and in addition names each file
that changed, was added or went missing. A roll-up run (not a bag) is
checked against the SHA-256 of each output its ``manifest.json`` records.

Nothing is read through a symbolic link: a link inside a run is reported,
never followed, and a link met while looking for runs (``build/<year>/<slug>``)
is followed only when it stays inside the build folder; one leading out of
it, or to nothing, is reported as a failure.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import NtmError, UnsafePathError
from ..limits import EVIDENCE_JSON_BYTES
from ..paths import relative_to_root
from ..safeio import read_bytes_nofollow, sha256_file

_MANIFEST_FILE = re.compile(r"^tagmanifest-[a-z0-9]+\.txt$")
MANIFEST = "manifest.json"


class VerifyError(NtmError):
    """The path to verify holds no archived run, or a run's manifest cannot
    be read."""


class NoRunHere(VerifyError):
    """The path given does not exist or holds no archived run: a wrong
    argument (exit code 2), not a failed check."""

    exit_code = 2


@dataclass
class BagReport:
    """Verification of one run: ``changed``, ``added``, ``missing`` (paths
    inside the run) and ``errors`` (other failures: a broken ``bagit.txt``,
    a symbolic link, a link to nothing); ``ok`` when all are empty.
    ``kind`` is ``"bag"``, ``"roll-up"`` (checked against its manifest) or
    ``"link"`` (a link that leads to no run: not a run itself)."""

    path: Path
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    kind: str = "bag"
    shown: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.changed or self.added or self.missing or self.errors)

    def lines(self) -> list[str]:
        """One line per finding, for the command line."""
        where = self.shown or relative_to_root(self.path)
        if self.kind == "roll-up":
            where += "  (roll-up: outputs checked against its manifest)"
        if self.ok:
            return [f"ok       {where}"]
        out = [f"FAILED   {where}"]
        out += [f"  changed  {p}" for p in self.changed]
        out += [f"  added    {p}" for p in self.added]
        out += [f"  missing  {p}" for p in self.missing]
        out += [f"  error    {e}" for e in self.errors]
        return out


def _files(path: Path, report: BagReport) -> set[str]:
    """Relative paths of the regular files under ``path``; symbolic links
    (to files or folders) are reported as errors and not followed."""
    present = set()
    for folder, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            full = Path(folder) / name
            if full.is_symlink():
                rel = full.relative_to(path).as_posix()
                report.errors.append(f"symbolic link (not followed): {rel} -> "
                                     f"{os.readlink(full)}")
        for name in files:
            full = Path(folder) / name
            if not full.is_symlink():
                present.add(full.relative_to(path).as_posix())
    return present


def _digest(path: Path, rel: str, report: BagReport) -> str | None:
    try:
        return sha256_file(path / rel, follow_symlinks=False)
    except (OSError, UnsafePathError) as exc:
        report.errors.append(f"cannot read {rel}: {getattr(exc, 'strerror', None) or exc}")
        return None


def _compare(path: Path, expected: dict[str, str], present: set[str], report: BagReport) -> None:
    """Name each expected file that is missing or whose SHA-256 changed."""
    for rel in sorted(expected):
        if rel not in present:
            report.missing.append(rel)
        else:
            digest = _digest(path, rel, report)
            if digest is not None and digest != expected[rel]:
                report.changed.append(rel)


def verify_bag(path: str | Path) -> BagReport:
    """Check one run folder (a bag) file by file, then with ``bagit``'s own
    validation; every difference is reported, none raised."""
    import bagit

    path = Path(path)
    report = BagReport(path.resolve())
    present = _files(path, report)
    bag = None
    if report.errors:  # a link: bagit would follow one among the tag files, so the
        # manifests are read here, without following links, and every file still compared
        expected = _entries_nofollow(path, report)
    else:
        try:
            bag = bagit.Bag(str(path))
        except Exception as exc:  # noqa: BLE001 - bagit.BagError, or a hostile file it trips on
            report.errors.append("not a valid bag: "
                                 f"{str(exc).splitlines()[0] if str(exc) else exc}")
            return report
        expected = {}
        for rel, hashes in bag.entries.items():
            if "sha256" in hashes:
                expected[rel.replace(os.sep, "/")] = hashes["sha256"]
    present = {p for p in present if not ("/" not in p and _MANIFEST_FILE.match(p))}
    _compare(path, expected, present, report)
    report.added = sorted(present - set(expected))
    if report.ok and bag is not None:
        try:
            bag.validate(processes=1)
        except Exception as exc:  # noqa: BLE001 - BagValidationError and the like
            report.errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return report


_BAGIT_ESCAPES = {"%0D": "\r", "%0A": "\n", "%25": "%"}


def _entries_nofollow(path: Path, report: BagReport) -> dict[str, str]:
    """The SHA-256 of each file the bag's ``manifest-sha256.txt`` and
    ``tagmanifest-sha256.txt`` list (BagIt lines ``<digest> <path>``, paths
    percent-escaped), read without following a symbolic link (a manifest
    that is a link is already reported and not read) and within
    :data:`~ntm_lib.limits.EVIDENCE_JSON_BYTES`. Used when the run holds a
    link, so the other files are still checked one by one."""
    expected: dict[str, str] = {}
    for name in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):
        manifest = path / name
        if manifest.is_symlink():
            continue
        try:
            text = read_bytes_nofollow(manifest, limit=EVIDENCE_JSON_BYTES).decode("utf-8")
        except FileNotFoundError:
            report.errors.append(f"not a valid bag: {name} is missing")
            continue
        except (OSError, NtmError, UnicodeDecodeError) as exc:
            report.errors.append(f"cannot read {name}: "
                                 f"{getattr(exc, 'strerror', None) or getattr(exc, 'message', exc)}")
            continue
        for n, line in enumerate(text.splitlines(), start=1):
            parts = line.strip().split(None, 1)
            if not parts:
                continue
            if len(parts) != 2 or not re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
                report.errors.append(f"{name}, line {n}: not a '<sha256> <path>' line")
                continue
            rel = re.sub(r"%0[DA]|%25", lambda m: _BAGIT_ESCAPES[m.group(0).upper()],
                         parts[1].strip(), flags=re.IGNORECASE)
            expected[rel.removeprefix("./")] = parts[0].lower()
    return expected


def read_manifest(run: Path) -> dict:
    """A run's ``manifest.json``, read without following a symbolic link
    and within :data:`~ntm_lib.limits.EVIDENCE_JSON_BYTES`.

    Raises :class:`VerifyError` (file named) when it is missing, not JSON or
    not an object; :class:`UnsafePathError` for a symbolic link;
    :class:`~ntm_lib.errors.LimitError` when too large.
    """
    where = relative_to_root(run / MANIFEST)
    try:
        data = read_bytes_nofollow(run / MANIFEST, limit=EVIDENCE_JSON_BYTES)
    except UnsafePathError:
        raise UnsafePathError("refusing to follow a symbolic link", file=where) from None
    except OSError as exc:
        raise VerifyError(f"cannot read the manifest: {exc.strerror or exc}", file=where) from None
    try:
        manifest = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise VerifyError("the manifest is not UTF-8 text", file=where) from None
    except ValueError as exc:
        raise VerifyError(f"the manifest is not valid JSON ({exc})", file=where) from None
    if not isinstance(manifest, dict):
        raise VerifyError("the manifest is not a JSON object", file=where,
                          found=type(manifest).__name__)
    return manifest


def verify_recorded(path: str | Path) -> BagReport:
    """Check a run that is not a bag (a roll-up) against the SHA-256 of each
    output its manifest records; every other file but the manifest is
    reported as added."""
    path = Path(path)
    report = BagReport(path.resolve(), kind="roll-up")
    present = _files(path, report)
    try:
        outputs = read_manifest(path).get("outputs")
    except NtmError as exc:
        report.errors.append(str(exc))
        return report
    if not isinstance(outputs, dict):
        report.errors.append("the manifest records no outputs")
        return report
    expected: dict[str, str] = {}
    for name, digest in outputs.items():
        rel = name if name in present or f"data/{name}" not in present else f"data/{name}"
        expected[rel] = str(digest)
    _compare(path, expected, present, report)
    report.added = sorted(present - set(expected) - {MANIFEST})
    return report


def verify_run(path: str | Path) -> BagReport:
    """:func:`verify_bag` for a bag, :func:`verify_recorded` otherwise;
    then the copy of the library the run names, if any (:func:`verify_code`)."""
    path = Path(path)
    if (path / "bagit.txt").exists() or (path / "bagit.txt").is_symlink():
        report = verify_bag(path)
    else:
        report = verify_recorded(path)
    if report.ok:
        verify_code(path, report)
    return report


def verify_code(run: Path, report: BagReport) -> None:
    """The library copy a manifest names (``environment.library_copy``,
    :mod:`ntm_lib.run.codecopy`) must be there, in the build folder, and its
    files must still give the digest the manifest records."""
    from ..run.codecopy import check_library_copy

    try:
        environment = read_manifest(run).get("environment") or {}
    except Exception:  # noqa: BLE001 - a bad manifest is reported by the checks above
        return
    copy = environment.get("library_copy") if isinstance(environment, dict) else None
    if not copy:
        return
    root = _build_root(run)
    target = root / str(copy)
    if not isinstance(copy, str) or Path(copy).is_absolute() or ".." in Path(copy).parts \
            or not _within(os.path.realpath(target), os.path.realpath(root)):
        report.errors.append(f"the library copy named is not in the build folder: {copy!s:.120}")
        return
    if target.is_symlink() or not target.is_file():
        report.missing.append(f"(build folder) {copy}")
        return
    try:
        digest = check_library_copy(target)
    except Exception as exc:  # noqa: BLE001 - a damaged archive
        report.errors.append(f"{copy}: not a readable library copy ({exc})")
        return
    if digest != environment.get("library_sha256"):
        report.changed.append(f"(build folder) {copy}")


def _build_root(path: Path) -> Path:
    """The build folder ``path`` is in: the nearest folder at or above it
    holding ``archive/``; else the folder holding ``path``."""
    for folder in (path, *path.parents):
        archive = folder / "archive"
        if not folder.is_symlink() and archive.is_dir() and not archive.is_symlink():
            return folder
    return path if path.is_dir() and not path.is_symlink() else path.parent


def _within(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


@dataclass
class Scan:
    """What :func:`scan` found: ``runs`` (folders as found, one per run)
    and ``problems`` (a link to nothing or out of the build folder)."""

    runs: list[Path]
    problems: list[BagReport]
    refused: list[UnsafePathError] = field(default_factory=list)


def scan(path: str | Path) -> Scan:
    """Every archived run (a folder with ``bagit.txt`` or ``manifest.json``)
    at or under ``path``, following links that stay inside the build folder;
    for ``build/<year>`` also every run in ``build/archive/<year>``
    (roll-ups included). Partial folders are skipped."""
    path = Path(os.path.abspath(path))
    root = _build_root(path)
    root_real = os.path.realpath(root)
    roots = [path]
    archive_year = path.parent / "archive" / path.name
    if path.name.isdigit() and archive_year.is_dir():
        roots.append(archive_year)
    runs: dict[str, Path] = {}
    problems: list[BagReport] = []
    refused: list[UnsafePathError] = []
    seen: set[str] = set()
    stack = list(reversed(roots))
    while stack:
        folder = stack.pop()
        real = os.path.realpath(folder)
        shown = relative_to_root(folder.parent) + "/" + folder.name
        if folder.is_symlink() and not os.path.exists(real):
            problems.append(BagReport(folder, kind="link", shown=shown, errors=[
                f"the link leads to nothing: {os.readlink(folder)}"]))
            continue
        if not _within(real, root_real):  # through this link or one above it
            message = (f"refusing to follow a symbolic link out of "
                       f"{relative_to_root(root)}: it leads to {real}")
            problems.append(BagReport(folder, kind="link", shown=shown, errors=[message]))
            refused.append(UnsafePathError(message, file=shown))
            continue
        if real in seen or not os.path.isdir(real):
            continue
        seen.add(real)
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        if "bagit.txt" in names or MANIFEST in names:
            runs.setdefault(real, folder)
            continue
        for name in reversed(names):
            child = folder / name
            if name.startswith(".partial-") or name == "data":
                continue
            if child.is_symlink() or child.is_dir():
                stack.append(child)
    return Scan([runs[k] for k in sorted(runs)], problems, refused)


def find_runs(path: str | Path) -> list[Path]:
    """The runs of :func:`scan`.

    Raises
    ------
    UnsafePathError
        ``path`` is (or holds only) a link leading out of the build folder.
    NoRunHere
        ``path`` does not exist, is a link to nothing, or holds no run
        (exit code 2).
    """
    given = Path(path)
    if not given.exists() and not given.is_symlink():
        raise NoRunHere("no such file or folder", file=str(given))
    found = scan(given)
    if not found.runs:
        if found.refused:
            raise found.refused[0]
        if found.problems:
            raise VerifyError(found.problems[0].errors[0], file=found.problems[0].shown)
        raise NoRunHere("no archived run (BagIt bag or roll-up) here",
                        file=relative_to_root(given))
    return found.runs


def verify(path: str | Path) -> list[BagReport]:
    """Verify every run found at ``path`` (see :func:`scan`), and report each
    link that leads to nothing or out of the build folder as a failure.

    Raises :class:`NoRunHere` (exit code 2) when ``path`` is missing or
    holds neither.
    """
    given = Path(path)
    if not given.exists() and not given.is_symlink():
        raise NoRunHere("no such file or folder", file=str(given))
    found = scan(given)
    if not found.runs and not found.problems:
        raise NoRunHere("no archived run (BagIt bag or roll-up) here",
                        file=relative_to_root(given))
    return [verify_run(run) for run in found.runs] + found.problems
