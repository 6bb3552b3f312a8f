"""Argument types shared by the sub-commands."""
from __future__ import annotations

import argparse
import math
import re
from typing import Callable, TypeVar

from .. import limits

T = TypeVar("T")


def _checked(convert: Callable[[str], T], ok: Callable[[T], bool], expected: str,
             name: str, doc: str) -> Callable[[str], T]:
    """An argparse type: ``convert`` the text, then require ``ok``; otherwise
    an error saying what was ``expected`` and what was found."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except (ValueError, OverflowError):
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


def _sane_seconds(s: float) -> bool:
    return math.isfinite(s) and limits.TIMEOUT_MIN_SECONDS <= s <= limits.TIMEOUT_MAX_SECONDS


positive_seconds = _checked(
    float, _sane_seconds,
    f"seconds from {limits.TIMEOUT_MIN_SECONDS} to {limits.TIMEOUT_MAX_SECONDS:,} (24 h) (limits "
    "limits.TIMEOUT_MIN_SECONDS, limits.TIMEOUT_MAX_SECONDS)", "positive_seconds",
    "A number of seconds for ``--timeout``: finite, at least "
    ":data:`ntm_lib.limits.TIMEOUT_MIN_SECONDS` (a kernel takes about a second to start, so "
    "a shorter limit could not be kept) and at most "
    ":data:`ntm_lib.limits.TIMEOUT_MAX_SECONDS`.")
synth_count = _checked(int, lambda n: 1 <= n <= 9999, "a number of communes from 1 to 9,999",
                       "synth_count", "How many synthetic communes (``ntm synth --communes``): "
                       "codes 90001-99999 leave room for 9,999.")
province_code = _checked(lambda t: t if re.fullmatch(r"[0-9]{2}", t) else None, bool,
                         "a 2-digit province code such as 10", "province_code",
                         "A 2-digit province code (``ntm synth --province``).")
seed_type = _checked(int, lambda n: abs(n) < 10**18, "a whole number (at most 18 digits)",
                     "seed_type", "A random seed (``ntm synth --seed``).")
synth_provinces = _checked(int, lambda n: 1 <= n <= 60, "a number of provinces from 1 to 60",
                           "synth_provinces", "Over how many provinces ``ntm synth "
                           "--provinces`` spreads its communes.")
