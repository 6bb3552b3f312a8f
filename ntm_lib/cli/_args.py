"""Argument types shared by the sub-commands."""
from __future__ import annotations

import argparse


def year_type(text: str) -> int:
    """A four-digit year between 2000 and 2100, for ``--year``."""
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a year such as 2023, found {text!r}") from None
    if not 2000 <= year <= 2100:
        raise argparse.ArgumentTypeError(f"expected a year such as 2023, found {text!r}")
    return year
