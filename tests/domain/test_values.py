"""Checked conversions: decimals from their text, prices, texts, enums and UTC times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from hedge.domain import values as v
from hedge.domain.enums import Side
from hedge.domain.errors import ValidationError

D = Decimal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(150.05, D("150.05")), (0.1, D("0.1")), (3, D("3")), ("150.050", D("150.050")), (D("1.5"), D("1.5")),
     (" 2.5 ", D("2.5"))],
)  # fmt: skip
def test_to_decimal_takes_the_shortest_decimal_text(raw: object, expected: Decimal) -> None:
    result = v.to_decimal(raw, "x")
    assert result == expected and str(result) == str(expected)


@pytest.mark.parametrize(
    "raw", [True, False, None, [1], {"a": 1}, "abc", "", float("nan"), float("inf"), "NaN", "-Infinity",
            D("NaN")],
    ids=repr,
)  # fmt: skip
def test_to_decimal_refuses_non_numbers_and_non_finite(raw: object) -> None:
    with pytest.raises(ValidationError) as refused:
        v.to_decimal(raw, "volume")
    assert refused.value.field == "volume" and refused.value.message.startswith("volume must be")


@pytest.mark.parametrize("raw", [0, -1, "-0.0001", float("nan"), float("-inf")], ids=repr)
def test_price_refuses_non_positive_or_non_finite(raw: object) -> None:
    with pytest.raises(ValidationError, match="entryPrice must be"):
        v.price(raw, "entryPrice")


def test_price_and_positive_keep_the_value() -> None:
    assert v.price(150.123, "p") == D("150.123") and v.positive("0.01", "volume") == D("0.01")
    with pytest.raises(ValidationError, match="volume must be > 0, was -1"):
        v.positive(-1, "volume")


def test_trail_width_range() -> None:
    assert v.trail_width(0) == 0 and v.trail_width("100000") == D("100000")
    for bad in (-1, "100000.1"):
        with pytest.raises(ValidationError) as refused:
            v.trail_width(bad)
        assert refused.value.field == "trailWidth"


def test_text_bounds() -> None:
    assert v.text("a" * 256, "name") == "a" * 256
    with pytest.raises(ValidationError, match="name must be at most 256 characters, was 257"):
        v.text("a" * 257, "name")
    with pytest.raises(ValidationError, match="must not be empty"):
        v.text("  ", "name")
    with pytest.raises(ValidationError, match="must be a string, was int"):
        v.text(5, "name")
    assert v.text("", "memo", allow_empty=True) == ""


@pytest.mark.parametrize("raw", ["plain", "@example.com", "a@b", "a b@example.com", 7])
def test_email_refuses_non_addresses(raw: object) -> None:
    with pytest.raises(ValidationError):
        v.email(raw)


def test_enum_value_accepts_names_and_members_and_lists_the_allowed_ones() -> None:
    assert (
        v.enum_value(Side, "BUY", "side") is Side.BUY and v.enum_value(Side, Side.SELL, "side") is Side.SELL
    )
    with pytest.raises(ValidationError, match="side must be one of BUY, SELL, was 'buy'"):
        v.enum_value(Side, "buy", "side")
    with pytest.raises(ValidationError):
        v.enum_value(Side, None, "side")


def test_iso_ms_and_parse_iso_round_trip_in_utc() -> None:
    moment = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)
    assert v.iso_ms(moment) == "2026-11-25T12:00:00.123Z"
    tokyo = moment.astimezone(timezone(timedelta(hours=9)))
    assert v.iso_ms(tokyo) == "2026-11-25T12:00:00.123Z"
    assert v.parse_iso("2026-11-25T12:00:00.123Z", "t") == moment.replace(microsecond=123000)
    assert v.parse_iso("2026-11-25T12:00:00", "t").tzinfo is not None
    with pytest.raises(ValidationError, match="entryTime must be ISO-8601"):
        v.parse_iso("yesterday", "entryTime")
    with pytest.raises(ValidationError, match="must be a date-time"):
        v.parse_iso(12, "entryTime")


def test_utc_from_ms() -> None:
    assert v.utc_from_ms(1_764_072_000_123) == datetime(2025, 11, 25, 12, 0, 0, 123000, tzinfo=UTC)


def test_minted_ids_fit_a_metatrader_order_comment_whole() -> None:
    from hedge.domain.ids import ID_LENGTH, MT_COMMENT_MAX, new_id
    from hedge.ea.protocol import comment_for

    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == ID_LENGTH for i in ids)
    assert all(len(comment_for(i)) <= MT_COMMENT_MAX for i in ids)


def test_minted_ids_never_start_with_a_dash_so_a_command_line_takes_them_as_values() -> None:
    from hedge.domain.ids import new_id

    firsts = {new_id()[0] for _ in range(10_000)}  # without the rule, "-" leads one draw in 64
    assert "-" not in firsts
    assert len(firsts) > 50  # the other 63 characters still lead
