"""Builders of new rows: users, accounts, an ENTRY action with its PENDING position, CLOSE actions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hedge.domain.creation import EntryRequest, new_account, new_close, new_entry, new_user
from hedge.domain.enums import ActionStatus, ActionType, ConnectionStatus, PositionStatus, Side, TrailMode
from hedge.domain.errors import ValidationError
from hedge.domain.ids import AccountId, UserId
from hedge.domain.symbols import SymbolCatalog

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
U, ACC = UserId("u1"), AccountId("a1")


def test_new_entry_makes_pending_action_pointing_at_its_pending_position() -> None:
    action, position = new_entry(U, ACC, EntryRequest("usdjpy", "SELL", 0.3, "12.5"), SymbolCatalog(), NOW)
    assert action.type is ActionType.ENTRY and action.status is ActionStatus.PENDING
    assert action.position_id == position.id and position.status is PositionStatus.PENDING
    assert position.symbol == "USDJPY" and position.side is Side.SELL and position.volume == Decimal("0.3")
    assert position.trail_width == Decimal("12.5") and position.trail_mode is TrailMode.FROM_ENTRY
    assert (action.version, position.version) == (1, 1) and str(action.id) != str(position.id)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (EntryRequest(None, "BUY", 1), "symbol"),
        (EntryRequest("USDJPY", None, 1), "side"),
        (EntryRequest("USDJPY", "BUY", None), "volume"),
        (EntryRequest("USDJPY", "HOLD", 1), "side"),
        (EntryRequest("USDJPY", "BUY", 1, trail_mode="LATER"), "trailMode"),
        (EntryRequest("USDJPY", "BUY", "0.015"), "volume"),
        (EntryRequest("USDJPY", "BUY", 1000), "volume"),
        (EntryRequest("USD JPY", "BUY", 1), "symbol"),
        (EntryRequest(["USDJPY"], "BUY", 1), "symbol"),
        (EntryRequest("USDJPY", "BUY", [1]), "volume"),
    ],
)
def test_new_entry_bad_request_names_the_field(request_: EntryRequest, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        new_entry(U, ACC, request_, SymbolCatalog(), NOW)
    assert refused.value.field == field


def test_new_entry_uses_the_catalogs_volume_limits() -> None:
    catalog = SymbolCatalog()
    spec = replace(catalog.spec("XAUUSD"), volume_max=Decimal("5"))
    with pytest.raises(ValidationError, match="must be <= 5 for XAUUSD"):
        new_entry(U, ACC, EntryRequest("XAUUSD", "BUY", 6), SymbolCatalog({"XAUUSD": spec}), NOW)


def test_new_close_needs_a_position_of_the_same_user_and_account() -> None:
    _, position = new_entry(U, ACC, EntryRequest("EURUSD", "BUY", 1), SymbolCatalog(), NOW)
    close = new_close(U, ACC, position, NOW)
    assert close.type is ActionType.CLOSE and close.position_id == position.id
    with pytest.raises(ValidationError, match="positionId"):
        new_close(UserId("u2"), ACC, position, NOW)
    with pytest.raises(ValidationError, match="positionId"):
        new_close(U, AccountId("a2"), position, NOW)


def test_new_user_and_account_defaults() -> None:
    user = new_user(" a@example.com ", "Alice", "CLIENT", NOW)
    assert user.email == "a@example.com" and user.is_active and user.version == 1
    account = new_account(U, "MT4", " 123 ", "Srv", "main", None, None, NOW)
    assert account.account_number == "123" and account.currency == "USD"
    assert account.connection_status is ConnectionStatus.DISCONNECTED and account.leverage is None


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("MT6", "1", "S", "d", None, None), "brokerType"),
        (("MT5", "1" * 65, "S", "d", None, None), "accountNumber"),
        (("MT5", "", "S", "d", None, None), "accountNumber"),
        (("MT5", "1", "S", "d", "US1", None), "currency"),
        (("MT5", "1", "S", "d", None, 0), "leverage"),
        (("MT5", "1", "S", "d", None, True), "leverage"),
        (("MT5", "1", "S" * 257, "d", None, None), "serverName"),
    ],
)
def test_new_account_bad_field_is_named(
    args: tuple[object, object, object, object, object, object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        new_account(U, *args, NOW)
    assert refused.value.field == field
