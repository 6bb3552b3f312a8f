"""Turning figures into Vietnamese text: numbers, money, dates, lists."""
from .vn import (
    format_count_of,
    format_date,
    format_date_long,
    format_million_vnd,
    format_number,
    format_percent,
    format_quarter,
    format_points,
    format_place_date,
    join_vi,
)

__all__ = [
    "format_count_of",
    "format_date",
    "format_date_long",
    "format_million_vnd",
    "format_number",
    "format_percent",
    "format_quarter",
    "format_points",
    "format_place_date",
    "join_vi",
]
