"""Argument types shared by the sub-commands."""
from __future__ import annotations

import argparse
import math
from typing import Callable, TypeVar

T = TypeVar("T")


def _checked(convert: Callable[[str], T], ok: Callable[[T], bool], expected: str,
             name: str, doc: str) -> Callable[[str], T]:
    """An argparse type: ``convert`` the text, then require ``ok``; otherwise
    an error saying what was ``expected`` and what was found."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, found {text!r}")
        return value

    parse.__name__, parse.__doc__ = name, doc
    return parse


year_type = _checked(int, lambda y: 2000 <= y <= 2100, "a year such as 2023", "year_type",
                     "A four-digit year between 2000 and 2100, for ``--year``.")
positive_int = _checked(int, lambda n: n >= 1, "a whole number >= 1", "positive_int",
                        "A whole number of at least 1 (``--workers``).")
positive_seconds = _checked(float, lambda s: s > 0 and math.isfinite(s), "seconds > 0",
                            "positive_seconds", "A number of seconds above 0 (``--timeout``).")
