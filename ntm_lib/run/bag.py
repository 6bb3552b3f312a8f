"""Each run is a BagIt bag (RFC 8493, the Library of Congress packaging
standard), made with the ``bagit`` package.

Layout of ``build/archive/<year>/<slug>/<run_id>/``::

    bagit.txt, bag-info.txt                  BagIt declaration and bag metadata
    manifest-sha256.txt                      SHA-256 of every payload file
    tagmanifest-sha256.txt                   SHA-256 of every tag file
    manifest.json                            tag file: parameters, environment, times
    data/commune_report.ipynb                payload: the executed notebook
    data/report.html, data/report.pdf        payload: the rendered report
    data/inputs/<path in the project>        payload: exact copies of the inputs read

Any BagIt validator (``bagit.py --validate``) checks a run; ``ntm verify``
does the same and says which file changed, was added or went missing.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from pathlib import Path
from typing import Any, Iterable

import bagit

from ..errors import NtmError
from ..paths import project_root
from ..safeio import atomic_write, sha256_bytes
from .manifest import write_manifest

PAYLOAD = "data"
INPUTS = "inputs"
MANIFEST = "manifest.json"
# bagit changes the working directory while it writes; one bag at a time.
_BAGIT_LOCK = threading.Lock()
# bagit logs a failure with its traceback (LOGGER.exception) before raising
# it; the error itself reaches the command line as one line.
logging.getLogger("bagit").addHandler(logging.NullHandler())
logging.getLogger("bagit").propagate = False


class EvidenceError(NtmError):
    """An input changed while the run used it, or a bag could not be made."""


def copy_inputs(run_dir: Path, inputs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy each input (``{"path": <relative to the project>, "sha256"}``)
    to ``run_dir/inputs/<path>``; a file outside the project (an absolute
    path) goes to ``inputs/external/<hash prefix>-<name>``.

    Raises :class:`EvidenceError` when a file's bytes no longer match the
    hash recorded when it was read (the copy would not be what the report
    was made from), or when a relative path leads out of ``inputs/``;
    :class:`~ntm_lib.errors.DiskFullError` when the disk fills up.
    """
    root = project_root()
    inputs_dir = run_dir / INPUTS
    copied = []
    for item in inputs:
        source = root / item["path"]
        relative = item["path"]
        if Path(relative).is_absolute():  # a file outside the project (e.g. --notebook)
            relative = f"external/{item['sha256'][:12]}-{Path(relative).name}"
        target = inputs_dir / relative
        if ".." in Path(relative).parts:
            raise EvidenceError("an input path leads out of the run's inputs/ folder",
                                file=item["path"])
        target.parent.mkdir(parents=True, exist_ok=True)
        data = source.read_bytes()
        digest = sha256_bytes(data)
        if digest != item["sha256"]:
            raise EvidenceError(
                "the file changed while the report was being made; run again",
                file=item["path"], expected=item["sha256"], found=digest,
            )
        # An exact copy (not redacted), never through a link: the folder is new.
        atomic_write(target, data, redact=False, within=run_dir)
        copied.append({**item, "copy": f"{PAYLOAD}/{INPUTS}/{relative}"})
    return copied


def make_run_bag(run_dir: Path, manifest: dict[str, Any], *, bagging_date: dt.date) -> None:
    """Turn ``run_dir`` (outputs and ``inputs/``) into a bag whose payload is
    all of it, then add ``manifest.json`` as a tag file.

    ``bagging_date`` is written as ``Bagging-Date`` (the run's start date,
    or ``SOURCE_DATE_EPOCH``'s, so two runs of the same day agree).
    """
    info = {
        "Source-Organization": " ".join(manifest["parameters"].get("issuing_body", [])) or "ntm",
        "External-Identifier": manifest["run_id"],
        "External-Description": (
            f"Report {manifest['year']} of commune {manifest['commune']['name']} "
            f"({manifest['commune']['code']}): executed notebook, HTML, PDF and inputs"
        ),
        "Bagging-Date": bagging_date.isoformat(),
        "Bag-Software-Agent": f"ntm-workbook, bagit.py v{bagit.VERSION}",
    }
    with _BAGIT_LOCK:
        here = os.getcwd()
        try:
            bag = bagit.make_bag(str(run_dir), bag_info=info, checksums=["sha256"])
            write_manifest(run_dir / MANIFEST, manifest)
            bag.save(manifests=False)  # adds manifest.json to the tag manifest
        finally:
            os.chdir(here)


def payload_path(run_dir: Path, name: str) -> Path:
    """Where an output (``report.html``...) of a run is: ``<run>/data/<name>``."""
    return run_dir / PAYLOAD / name
