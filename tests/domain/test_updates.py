"""Pure updates: field checks, state moves, what a status needs, triggering, version + 1 per change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from hedge.domain.creation import EntryRequest, new_account, new_entry
from hedge.domain.enums import ActionStatus, ConnectionStatus, ExitReason, PositionStatus, TriggerReason
from hedge.domain.errors import InvalidTransition, ValidationError
from hedge.domain.ids import AccountId, UserId
from hedge.domain.models import Action, Position
from hedge.domain.symbols import SymbolCatalog
from hedge.domain.updates import (
    MAX_TRIGGER_ACTIONS,
    apply_account_update,
    apply_action_update,
    apply_position_update,
    default_exit_reason,
    start_action,
    trigger_position,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=5)


def _entry() -> tuple[Action, Position]:
    return new_entry(UserId("u"), AccountId("a"), EntryRequest("USDJPY", "BUY", 1), SymbolCatalog(), NOW)


def _at(status: PositionStatus) -> Position:
    return replace(_entry()[1], status=status)


def test_position_update_bumps_version_and_time_once() -> None:
    position = _entry()[1]
    updated = apply_position_update(position, {"memo": "note", "trail_width": 15}, LATER)
    assert (updated.memo, updated.trail_width, updated.version, updated.updated_at) == (
        "note", Decimal("15"), 2, LATER
    )  # fmt: skip


def test_position_update_changing_nothing_returns_the_same_value() -> None:
    position = _entry()[1]
    assert apply_position_update(position, {"memo": None, "trail_mode": "FROM_ENTRY"}, LATER) is position


def test_position_update_to_current_status_is_invalid_transition() -> None:
    with pytest.raises(InvalidTransition, match="from PENDING to PENDING"):
        apply_position_update(_entry()[1], {"status": "PENDING"}, LATER)


def test_position_update_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="volume is not a field that can be updated on Position"):
        apply_position_update(_entry()[1], {"volume": 2}, LATER)


def test_position_open_needs_entry_price_and_ticket() -> None:
    opening = _at(PositionStatus.OPENING)
    with pytest.raises(ValidationError, match="entryPrice is required"):
        apply_position_update(opening, {"status": "OPEN", "mt_ticket": "1"}, LATER)
    with pytest.raises(ValidationError, match="mtTicket is required"):
        apply_position_update(opening, {"status": "OPEN", "entry_price": "150"}, LATER)
    opened = apply_position_update(
        opening, {"status": "OPEN", "entry_price": 150.05, "mt_ticket": "1"}, LATER
    )
    assert opened.status is PositionStatus.OPEN and opened.entry_price == Decimal("150.05")


def test_position_closed_needs_exit_price() -> None:
    closing = _at(PositionStatus.CLOSING)
    with pytest.raises(ValidationError, match="exitPrice is required"):
        apply_position_update(closing, {"status": "CLOSED"}, LATER)
    closed = apply_position_update(closing, {"status": "CLOSED", "exit_price": "151"}, LATER)
    assert closed.status is PositionStatus.CLOSED


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trigger_action_ids": "a1"}, "triggerActionIds"),
        ({"trigger_action_ids": ["a1", "a1"]}, "triggerActionIds"),
        ({"trigger_action_ids": [f"a{i}" for i in range(MAX_TRIGGER_ACTIONS + 1)]}, "triggerActionIds"),
        ({"trigger_action_ids": [1]}, "triggerActionIds"),
        ({"trail_mode": None}, "trailMode"),
        ({"entry_time": "soon"}, "entryTime"),
        ({"mt_ticket": "9" * 65}, "mtTicket"),
        ({"realized_pl": float("inf")}, "realizedPL"),
        ({"memo": "m" * 2001}, "memo"),
    ],
)
def test_position_update_bad_field_is_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        apply_position_update(_entry()[1], changes, LATER)
    assert refused.value.field == field


def test_default_exit_reason_of_stopped_is_stop_out() -> None:
    stopped = _at(PositionStatus.STOPPED)
    assert default_exit_reason(stopped).exit_reason is ExitReason.STOP_OUT
    assert default_exit_reason(_at(PositionStatus.CLOSED)).exit_reason is None


@pytest.mark.parametrize("status", list(PositionStatus), ids=str)
def test_trigger_position_accepted_only_open_or_later(status: PositionStatus) -> None:
    position = _at(status)
    if status in (PositionStatus.PENDING, PositionStatus.OPENING, PositionStatus.CANCELED):
        with pytest.raises(InvalidTransition, match=f"from {status.value} to TRIGGER"):
            trigger_position(position, TriggerReason.TRAIL, None, LATER)
        return
    fired = trigger_position(position, TriggerReason.TRAIL, Decimal("150.1"), LATER)
    assert fired is not None and fired.trail_triggered_at == LATER and fired.version == position.version + 1
    assert trigger_position(fired, TriggerReason.MANUAL, None, LATER) is None


def test_start_action_moves_only_pending() -> None:
    action = _entry()[0]
    started = start_action(action, LATER)
    assert started is not None and started.status is ActionStatus.EXECUTING and started.version == 2
    assert start_action(started, LATER) is None


def test_action_update_executed_stamps_time_and_retry_counts() -> None:
    action = apply_action_update(_entry()[0], {"status": "EXECUTING"}, NOW)
    done = apply_action_update(action, {"status": "EXECUTED"}, LATER)
    assert done.executed_at == LATER and done.version == 3
    failed = apply_action_update(action, {"status": "FAILED", "error_message": "no money"}, LATER)
    retried = apply_action_update(failed, {"status": "PENDING"}, LATER)
    assert retried.retry_count == 1 and retried.status is ActionStatus.PENDING


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"status": "EXECUTED"}, InvalidTransition),
        ({"status": "PENDING"}, InvalidTransition),
        ({"status": "NOPE"}, ValidationError),
        ({"retry_count": -1}, ValidationError),
        ({"retry_count": True}, ValidationError),
        ({"error_message": "e" * 2001}, ValidationError),
        ({"type": "CLOSE"}, ValidationError),
    ],
)
def test_action_update_bad_change_is_refused(changes: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        apply_action_update(_entry()[0], changes, LATER)


def test_account_update_snapshot_stamps_last_synced_and_checks_values() -> None:
    account = new_account(UserId("u"), "MT5", "1", "S", "d", "JPY", 25, NOW)
    updated = apply_account_update(account, {"balance": 1000.5, "connection_status": "CONNECTED"}, LATER)
    assert updated.balance == Decimal("1000.5") and updated.last_synced_at == LATER
    assert updated.connection_status is ConnectionStatus.CONNECTED and updated.version == 2
    for changes in ({"margin": -1}, {"leverage": 0}, {"display_name": ""}, {"currency": "EUR"}):
        with pytest.raises(ValidationError):
            apply_account_update(account, changes, LATER)
