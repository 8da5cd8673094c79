"""Pre-trade checks at the move to OPENING, on both engines: the account's symbol volume limits,
HEDGE_LIMITS at, below and above their bounds, and free margin (known and unknown)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from tests.store.record_helpers import agent, alerts_logged, entry, fired_hedge, open_, record_world

from hedge.domain.clock import ManualClock
from hedge.domain.enums import ActionStatus, PositionStatus
from hedge.domain.errors import ValidationError

US30 = {"symbol": "US30", "digits": 1, "point": "0.1", "contract_size": "1", "volume_min": "0.1",
        "volume_step": "0.1", "volume_max": "5", "margin_per_lot": "100"}  # fmt: skip


def _opening(world: Any, position_id: str, user_id: str) -> PositionStatus:
    return world.store.update_position(agent(user_id), position_id, {"status": "OPENING"}).status  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("limit", "volumes", "refused_at"),
    [
        ({"maxOpenPositions": 2}, ["0.1", "0.1", "0.1"], 2),  # below, at, above
        ({"maxOpenLotsPerSymbol": "0.3"}, ["0.1", "0.2", "0.01"], 2),
        ({"maxTotalLots": "1"}, ["0.5", "0.5", "0.01"], 2),
    ],
)
def test_limits_allow_up_to_the_bound_and_refuse_past_it(
    store_url: str, limit: dict[str, Any], volumes: list[str], refused_at: int
) -> None:
    with record_world(store_url, ManualClock(), limits=limit) as world:
        for index, volume in enumerate(volumes):
            _, position = entry(world, world.account_id, volume=volume)
            if index < refused_at:
                assert _opening(world, position.id, position.user_id) is PositionStatus.OPENING
            else:
                with pytest.raises(ValidationError, match="HEDGE_LIMITS"):
                    _opening(world, position.id, position.user_id)
                assert world.store.get_position(position.id).status is PositionStatus.PENDING  # type: ignore[union-attr]


def test_limits_per_account_override_the_default_and_count_only_that_account(store_url: str) -> None:
    limits = {"maxOpenPositions": 5, "accounts": {"1001": {"maxOpenPositions": 0}}}
    with record_world(store_url, ManualClock(), limits=limits) as world:
        _, here = entry(world, world.account_id)
        with pytest.raises(ValidationError, match="over its limit of 0"):
            _opening(world, here.id, here.user_id)
        _, there = entry(world, world.second_account_id)
        assert _opening(world, there.id, there.user_id) is PositionStatus.OPENING


def test_closed_positions_do_not_count_against_the_limits(store_url: str) -> None:
    with record_world(store_url, ManualClock(), limits={"maxOpenPositions": 1}) as world:
        _, first = entry(world, world.account_id)
        first = open_(world, first)
        world.store.update_position(world.client, first.id, {"status": "CLOSING"})
        world.store.update_position(world.client, first.id, {"status": "CLOSED", "exit_price": "150.1"})
        _, second = entry(world, world.account_id)
        assert _opening(world, second.id, second.user_id) is PositionStatus.OPENING


@pytest.mark.parametrize(("volume", "refused"), [("0.9", False), ("1", False), ("1.1", True)])
def test_free_margin_against_the_terminals_margin_per_lot(store_url: str, volume: str, refused: bool) -> None:
    with record_world(store_url, ManualClock()) as world:
        world.store.update_account(world.account_id, {"symbol_specs": [US30]}, actor=world.client)
        world.store.update_account(world.account_id, {"equity": "1000", "margin": "900"}, actor=world.client)
        _, position = entry(world, world.account_id, symbol="US30", volume=volume)
        if refused:
            with pytest.raises(ValidationError, match=r"needs 110\.0 USD of margin .* has 100 free"):
                _opening(world, position.id, position.user_id)
        else:
            assert _opening(world, position.id, position.user_id) is PositionStatus.OPENING


def test_margin_unknown_is_said_in_the_log_and_an_alert_and_not_guessed(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with record_world(store_url, ManualClock()) as world:
        _, position = entry(world, world.account_id, volume="50")
        with caplog.at_level(logging.INFO):
            assert _opening(world, position.id, position.user_id) is PositionStatus.OPENING
        said = [r.getMessage() for r in caplog.records]
        assert any(
            "free margin not checked for 50 lots of USDJPY: unknown the account's equity" in m for m in said
        )
        assert any(m.startswith("alert MARGIN_LOW") for m in said)


def test_volume_outside_the_terminals_spec_reported_after_creation_is_refused_at_opening(
    store_url: str,
) -> None:
    with record_world(store_url, ManualClock()) as world:
        world.store.update_account(world.account_id, {"symbol_specs": [US30]}, actor=world.client)
        _, position = entry(world, world.account_id, symbol="US30", volume="3")
        world.store.update_account(
            world.account_id, {"symbol_specs": [{**US30, "volume_max": "2"}]}, actor=world.client
        )
        with pytest.raises(ValidationError, match="volume must be <= 2 for US30, was 3"):
            _opening(world, position.id, position.user_id)


def test_refused_triggered_entry_fails_its_action_and_raises_hedge_leg_failed(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with record_world(
        store_url, ManualClock(), limits={"accounts": {"2001": {"maxTotalLots": "0.05"}}}
    ) as world:
        _, leg_action, leg = fired_hedge(world)
        with (
            caplog.at_level(logging.WARNING, logger="hedge.store.record_alerts"),
            pytest.raises(ValidationError, match="maxTotalLots"),
        ):
            _opening(world, leg.id, leg.user_id)
        failed = world.store.get_action(leg_action.id)
        assert (
            failed is not None
            and failed.status is ActionStatus.FAILED
            and "maxTotalLots" in str(failed.error_message)
        )
        assert world.store.get_position(leg.id).status is PositionStatus.CANCELED  # type: ignore[union-attr]
        legs = {user for kind, user in alerts_logged(caplog.records) if kind == "HEDGE_LEG_FAILED"}
        assert legs == {world.client.user_id, world.other.user_id}


def test_refused_manual_open_is_validation_and_changes_nothing(store_url: str) -> None:
    with record_world(store_url, ManualClock(), limits={"maxOpenPositions": 0}) as world:
        action, position = entry(world, world.account_id)
        head = world.store.signal.head
        with pytest.raises(ValidationError):
            world.store.update_position(world.admin, position.id, {"status": "OPENING"})
        assert world.store.signal.head == head
        assert world.store.get_action(action.id).status is ActionStatus.PENDING  # type: ignore[union-attr]
