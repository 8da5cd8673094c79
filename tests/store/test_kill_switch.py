"""The kill switch on both engines: GLOBAL / USER / ACCOUNT controls, the most restrictive wins;
HALTED and REDUCING for each kind of move; every change recorded and alerted."""

from __future__ import annotations

import logging

import pytest
from tests.store.record_helpers import agent, alerts_logged, entry, fired_hedge, hedge, open_, record_world

from hedge.domain.clock import ManualClock
from hedge.domain.enums import ActionStatus, ChangeSource, PositionStatus, TradingState
from hedge.domain.errors import Forbidden, InvalidTransition, NotFound, ValidationError


def test_set_trading_state_needs_admin_and_a_reason(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        with pytest.raises(Forbidden):
            world.store.set_trading_state(world.client, "GLOBAL", None, "HALTED", "panic")
        with pytest.raises(ValidationError, match="reason must not be empty"):
            world.store.set_trading_state(world.admin, "GLOBAL", None, "HALTED", "  ")
        with pytest.raises(ValidationError, match="targetId is required for USER"):
            world.store.set_trading_state(world.admin, "USER", None, "HALTED", "x")
        with pytest.raises(ValidationError, match="targetId must be omitted for GLOBAL"):
            world.store.set_trading_state(world.admin, "GLOBAL", "x", "HALTED", "x")
        with pytest.raises(NotFound):
            world.store.set_trading_state(world.admin, "ACCOUNT", "no-such", "HALTED", "x")
        assert world.store.trading_controls(world.admin) == []


def test_set_trading_state_is_recorded_with_who_when_why_and_alerted(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        with caplog.at_level(logging.WARNING, logger="hedge.store.record_alerts"):
            made = world.store.set_trading_state(
                world.admin, "USER", world.client.user_id, "HALTED", "broker outage"
            )
        assert (made.state, made.reason, made.updated_by, made.updated_at) == (
            TradingState.HALTED, "broker outage", world.admin.user_id, clock.now()
        )  # fmt: skip
        assert alerts_logged(caplog.records) == [("TRADING_HALTED", world.client.user_id)]
        clock.advance(5)
        again = world.store.set_trading_state(
            world.admin, "USER", world.client.user_id, "ACTIVE", "outage over"
        )
        assert again.version == 2
        with world.store.engine.connect() as conn:
            from sqlalchemy import select

            from hedge.store.tables import row_history

            rows = conn.execute(
                select(row_history.c.source, row_history.c.by_user, row_history.c.reason)
                .where(row_history.c.entity == "TradingControl")
                .order_by(row_history.c.seq)
            ).all()
        assert [tuple(r) for r in rows] == [
            (ChangeSource.USER.value, world.admin.user_id, "broker outage"),
            (ChangeSource.USER.value, world.admin.user_id, "outage over"),
        ]


@pytest.mark.parametrize("scope", ["GLOBAL", "USER", "ACCOUNT"])
def test_halted_refuses_open_and_close_naming_the_control(store_url: str, scope: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        _, pending = entry(world, world.account_id)
        _, other = entry(world, world.account_id)
        opened = open_(world, other)
        target = {"GLOBAL": None, "USER": world.client.user_id, "ACCOUNT": world.account_id}[scope]
        world.store.set_trading_state(world.admin, scope, target, "HALTED", "emergency stop")
        with pytest.raises(InvalidTransition, match=f"trading is HALTED by the {scope}.*emergency stop"):
            world.store.update_position(world.admin, pending.id, {"status": "OPENING"})
        with pytest.raises(InvalidTransition, match="closes included"):
            world.store.update_position(agent(opened.user_id), opened.id, {"status": "CLOSING"})
        # cancels and the terminal's word still go through
        assert (
            world.store.update_position(world.admin, pending.id, {"status": "CANCELED"}).status
            is PositionStatus.CANCELED
        )


def test_halted_account_leaves_the_users_other_account_trading(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        world.store.set_trading_state(
            world.admin, "ACCOUNT", world.account_id, "HALTED", "this terminal only"
        )
        _, elsewhere = entry(world, world.second_account_id)
        assert (
            world.store.update_position(world.client, elsewhere.id, {"status": "OPENING"}).status
            is PositionStatus.OPENING
        )


def test_effective_state_is_the_most_restrictive(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        world.store.set_trading_state(world.admin, "GLOBAL", None, "REDUCING", "quiet market")
        world.store.set_trading_state(world.admin, "ACCOUNT", world.account_id, "ACTIVE", "allowed")
        _, position = entry(world, world.account_id)
        with pytest.raises(InvalidTransition, match="REDUCING by the GLOBAL control"):
            world.store.update_position(world.client, position.id, {"status": "OPENING"})


def test_reducing_refuses_a_new_entry_but_passes_closes_and_a_pairing_hedge_leg(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        head, leg_action, leg = hedge(world)
        _, fresh = entry(world, world.account_id)
        world.store.set_trading_state(world.admin, "GLOBAL", None, "REDUCING", "reduce only")
        with pytest.raises(InvalidTransition, match="would not reduce exposure"):
            world.store.update_position(world.client, fresh.id, {"status": "OPENING"})
        world.store.trigger_actions(head.id, "TRAIL", "150.2")
        # the leg SELLs what the OPEN head BUYs: it reduces the linked accounts' net exposure
        assert (
            world.store.update_position(agent(leg.user_id), leg.id, {"status": "OPENING"}).status
            is PositionStatus.OPENING
        )
        assert (
            world.store.update_position(world.client, head.id, {"status": "CLOSING"}).status
            is PositionStatus.CLOSING
        )
        assert world.store.get_action(leg_action.id).status is ActionStatus.EXECUTING  # type: ignore[union-attr]


def test_halted_triggered_leg_fails_its_action_with_an_alert(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with record_world(store_url, ManualClock()) as world:
        _, leg_action, leg = fired_hedge(world)
        world.store.set_trading_state(world.admin, "GLOBAL", None, "HALTED", "stop everything")
        with (
            caplog.at_level(logging.WARNING, logger="hedge.store.record_alerts"),
            pytest.raises(InvalidTransition, match="HALTED"),
        ):
            world.store.update_position(agent(leg.user_id), leg.id, {"status": "OPENING"})
        failed = world.store.get_action(leg_action.id)
        assert failed is not None and failed.status is ActionStatus.FAILED
        assert failed.error_message is not None and "HALTED" in failed.error_message
        assert world.store.get_position(leg.id).status is PositionStatus.CANCELED  # type: ignore[union-attr]
        kinds = set(alerts_logged(caplog.records))
        assert {k for k in kinds if k[0] == "HEDGE_LEG_FAILED"} == {
            ("HEDGE_LEG_FAILED", world.client.user_id),
            ("HEDGE_LEG_FAILED", world.other.user_id),
        }


def test_trading_controls_a_client_sees_global_its_user_and_its_accounts(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        world.store.set_trading_state(world.admin, "GLOBAL", None, "ACTIVE", "on")
        world.store.set_trading_state(world.admin, "USER", world.client.user_id, "REDUCING", "a")
        world.store.set_trading_state(world.admin, "ACCOUNT", world.account_id, "HALTED", "b")
        world.store.set_trading_state(world.admin, "ACCOUNT", world.other_account_id, "HALTED", "c")
        seen = {c.id for c in world.store.trading_controls(world.client)}
        assert seen == {"GLOBAL:", f"USER:{world.client.user_id}", f"ACCOUNT:{world.account_id}"}
        assert len(world.store.trading_controls(world.admin)) == 4


MOVES = {  # a kind of move -> (state to start from, the change, who makes it)
    "open a new entry": (PositionStatus.PENDING, {"status": "OPENING"}, "client"),
    "close": (PositionStatus.OPEN, {"status": "CLOSING"}, "client"),
    "cancel": (PositionStatus.PENDING, {"status": "CANCELED"}, "client"),
    "report a fill": (
        PositionStatus.OPENING,
        {"status": "OPEN", "entry_price": "150", "mt_ticket": "9"},
        "agent",
    ),
    "report a stop": (
        PositionStatus.OPEN,
        {"status": "STOPPED", "exit_price": "149", "exit_reason": "STOP_LOSS"},
        "agent",
    ),
    "report a close": (PositionStatus.CLOSING, {"status": "CLOSED", "exit_price": "150.2"}, "agent"),
}
ALLOWED = {  # the contract: REDUCING lets through closes and what reduces exposure; HALTED no order at all
    "REDUCING": {"close", "cancel", "report a fill", "report a stop", "report a close"},
    "HALTED": {"cancel", "report a fill", "report a stop", "report a close"},
}


@pytest.mark.parametrize("state", ["REDUCING", "HALTED"])
@pytest.mark.parametrize("move", list(MOVES))
def test_each_kind_of_move_under_reducing_and_halted(store_url: str, state: str, move: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        start, change, who = MOVES[move]
        _, position = entry(world, world.account_id)
        fill = {"status": "OPEN", "entry_price": "150", "mt_ticket": "1"}
        walk = {
            PositionStatus.OPENING: [{"status": "OPENING"}],
            PositionStatus.OPEN: [{"status": "OPENING"}, fill],
            PositionStatus.CLOSING: [{"status": "OPENING"}, fill, {"status": "CLOSING"}],
        }.get(start, [])
        for step in walk:
            position = world.store.update_position(agent(position.user_id), position.id, step)
        world.store.set_trading_state(world.admin, "ACCOUNT", world.account_id, state, "test")
        actor = world.client if who == "client" else agent(position.user_id)
        if move in ALLOWED[state]:
            world.store.update_position(actor, position.id, change)
        else:
            head = world.store.signal.head
            with pytest.raises(InvalidTransition, match=f"trading is {state}"):
                world.store.update_position(actor, position.id, change)
            assert world.store.signal.head == head


def test_retries_racing_with_one_client_request_id_create_one_action(store_url: str) -> None:
    import threading

    from hedge.domain.creation import EntryRequest

    with record_world(store_url, ManualClock()) as world:
        barrier = threading.Barrier(4)
        results: list[str] = []

        def create() -> None:
            barrier.wait()
            action, _ = world.store.create_action(
                world.client.user_id, world.account_id, "ENTRY", entry=EntryRequest("EURUSD", "BUY", "0.1"),
                actor=world.client, client_request_id="same",
            )  # fmt: skip
            results.append(action.id)

        threads = [threading.Thread(target=create) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) == 4 and len(set(results)) == 1
        assert len(world.store.list_actions(world.client.user_id)) == 1
