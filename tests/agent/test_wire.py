"""GraphQL JSON to the agent's domain values and back (hedge.agent.wire): floats become exact
Decimals through their shortest text, camelCase becomes snake_case, times go out as the contract's
ISO text with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from hedge.agent.wire import from_gql, gql_value, snake
from hedge.domain.enums import PositionStatus, Side
from hedge.domain.models import Account, Position

POSITION = {
    "id": "pos-1", "userId": "u", "accountId": "a", "symbol": "USDJPY", "side": "SELL", "volume": 0.1,
    "status": "CLOSED", "trailWidth": 12.5, "trailMode": "FROM_ENTRY", "entryPrice": 150.013,
    "exitPrice": 150.1, "realizedPL": -5.87, "mtTicket": "880001", "version": 4,
    "createdAt": "2026-01-05T09:00:00.000Z", "updatedAt": "2026-01-05T09:00:01.250Z",
}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "snake_name"),
    [("entryPrice", "entry_price"), ("realizedPL", "realized_pl"), ("id", "id"),
     ("retriedAsPositionId", "retried_as_position_id")],
)  # fmt: skip
def test_snake_turns_graphql_names_into_field_names(name: str, snake_name: str) -> None:
    assert snake(name) == snake_name


def test_from_gql_gives_exact_decimals_for_json_floats() -> None:
    position = from_gql(Position, POSITION)
    assert position.entry_price == Decimal("150.013") and position.exit_price == Decimal("150.1")
    assert position.volume == Decimal("0.1") and position.trail_width == Decimal("12.5")
    assert position.realized_pl == Decimal("-5.87")  # realizedPL is not realized_p_l


def test_from_gql_converts_enums_and_times() -> None:
    position = from_gql(Position, POSITION)
    assert (position.status, position.side, position.version) == (PositionStatus.CLOSED, Side.SELL, 4)
    assert position.updated_at == datetime(2026, 1, 5, 9, 0, 1, 250_000, tzinfo=UTC)


def test_from_gql_turns_the_symbol_map_list_into_a_mapping() -> None:
    account = from_gql(Account, {
        "id": "a", "userId": "u", "brokerType": "MT5", "accountNumber": "7", "serverName": "S",
        "displayName": "main", "currency": "USD", "connectionStatus": "CONNECTED", "version": 1,
        "createdAt": "2026-01-05T09:00:00.000Z", "updatedAt": "2026-01-05T09:00:00.000Z",
        "symbolMap": [{"brokerSymbol": "USDJPY.r", "symbol": "USDJPY"},
                      {"brokerSymbol": "GOLD", "symbol": "XAUUSD"}],
    })  # fmt: skip
    assert account.symbol_map == {"USDJPY.r": "USDJPY", "GOLD": "XAUUSD"}


def test_gql_value_sends_decimals_as_floats_and_leaves_other_values_alone() -> None:
    assert gql_value(Decimal("150.013")) == 150.013 and isinstance(gql_value(Decimal("1")), float)
    assert [gql_value(v) for v in ("OPEN", 3, None, True)] == ["OPEN", 3, None, True]


def test_gql_value_sends_times_as_utc_iso_text_with_milliseconds() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert gql_value(datetime(2026, 1, 5, 18, 0, 0, 123_456, tzinfo=tokyo)) == "2026-01-05T09:00:00.123Z"
