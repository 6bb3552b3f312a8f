"""Vietnamese formats (Babel) and name matching."""
import datetime as dt

import pytest

from ntm_lib.text import (
    format_count_of, format_date, format_date_long, format_million_vnd, format_number,
    format_percent, format_place_date, format_points, join_vi,
)
from ntm_lib.textnorm import match_key, nfc


def test_numbers_and_percent():
    assert format_percent(6 / 19 * 100) == "31,58%"
    assert format_percent(100) == "100%"
    assert format_number(1234.5) == "1.234,5"
    assert format_number(1234567) == "1.234.567"
    assert format_points(10) == "10 điểm phần trăm"
    assert format_points(5.67) == "5,67 điểm phần trăm"


def test_money():
    assert format_million_vnd(10) == "10 triệu đồng"
    assert format_million_vnd(0.5) == "0,5 triệu đồng"


def test_dates():
    assert format_date(dt.date(2023, 2, 9)) == "09/02/2023"
    assert format_date_long(dt.date(2023, 2, 9)) == "ngày 09 tháng 02 năm 2023"
    assert format_place_date("Lào Cai", 5, 12, 2023) == "Lào Cai, ngày 05 tháng 12 năm 2023"
    draft = format_place_date("Lào Cai", None, 12, 2023)
    assert draft.startswith("Lào Cai, ngày ") and draft.endswith("tháng 12 năm 2023")
    with pytest.raises(ValueError):
        format_place_date("Lào Cai", 31, 2, 2023)


def test_counts_and_lists():
    assert format_count_of(13, 19) == "13/19"
    assert format_count_of(6, 19) == "06/19"
    assert join_vi(["Thu nhập", "Môi trường và an toàn thực phẩm"]) == "Thu nhập và Môi trường và an toàn thực phẩm"
    assert join_vi(["A", "B", "C"]) == "A, B và C"


def test_nan_refused():
    with pytest.raises(ValueError):
        format_number(float("nan"))


def test_match_key_tone_placement_and_nfd():
    assert match_key("Thuỷ lợi") == match_key("Thủy lợi")
    assert match_key("Văn hoá") == match_key("Văn hóa")
    decomposed = "Nậm Mòn".encode("utf-8").decode("utf-8")
    import unicodedata
    assert match_key(unicodedata.normalize("NFD", "Nậm Mòn")) == match_key(decomposed)
    assert match_key("Hoàng Thu Phố") == "hoàng thu phố"  # unchanged where both styles agree
    assert nfc(unicodedata.normalize("NFD", "Bắc Hà")) == "Bắc Hà"
