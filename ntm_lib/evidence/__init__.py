"""Reading and checking the evidence of archived runs: verify, show, trace."""
from .show import EvidenceLookupError, Run, describe, latest_run, open_run, trace
from .verify import BagReport, VerifyError, find_runs, scan, verify, verify_bag, verify_run

__all__ = [
    "BagReport", "EvidenceLookupError", "Run", "VerifyError", "describe", "find_runs",
    "latest_run", "open_run", "scan", "trace", "verify", "verify_bag", "verify_run",
]
