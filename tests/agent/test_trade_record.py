"""The agent's side of the trade record (issue 9): deadlines, priceTime, what the terminal reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from tests.agent.core_intents import position_updates
from tests.agent.core_rows import ACCOUNT, T0, action, connect_and_sync, core, position

from hedge.agent.intents import TriggerActions, UpdateAccount, UpdateAction
from hedge.domain.clock import ManualClock
from hedge.domain.enums import ActionType, PositionStatus
from hedge.ea.protocol_messages import Price, SymbolInfo, Symbols

P = PositionStatus


def test_action_past_its_deadline_is_not_taken_up() -> None:
    agent = core()
    agent.clock = ManualClock(T0)
    connect_and_sync(agent)
    agent.apply_row(position())
    agent.apply_row(replace(action(), expires_at=T0 - timedelta(seconds=1)))
    assert position_updates(agent.decide(1.0)) == []


def test_action_before_its_deadline_is_taken_up() -> None:
    agent = core()
    agent.clock = ManualClock(T0)
    connect_and_sync(agent)
    agent.apply_row(position())
    agent.apply_row(replace(action(), expires_at=T0 + timedelta(seconds=30)))
    assert position_updates(agent.decide(1.0)) == [{"status": "OPENING"}]


def test_close_action_past_its_deadline_does_not_move_the_position() -> None:
    agent = core()
    agent.clock = ManualClock(T0)
    connect_and_sync(agent)
    agent.apply_row(position(P.OPEN, version=3, entry_price=Decimal("150"), mt_ticket="7"))
    agent.apply_row(replace(action(type_=ActionType.CLOSE), expires_at=T0 - timedelta(seconds=1)))
    assert position_updates(agent.decide(1.0)) == []


def test_trail_trigger_carries_the_time_of_the_price_that_met_it() -> None:
    agent = core()
    agent.apply_row(
        position(P.OPEN, version=3, entry_price=Decimal("150"), mt_ticket="7", trail_width=Decimal(5))
    )
    fired = agent.on_price(
        ACCOUNT, Price("USDJPY", Decimal("150.060"), Decimal("150.070"), 1_790_000_000_123)
    )
    assert fired == [TriggerActions("pos-A", fired[0].reason, Decimal("150.060"), 1_790_000_000_123)]  # type: ignore[union-attr]


def test_symbols_and_margin_mode_go_to_the_server_with_canonical_names_until_recorded() -> None:
    agent = core()
    agent.ea_connected(ACCOUNT, 0.0, margin_mode="HEDGING")
    info = SymbolInfo("USDJPY.m", 3, Decimal("0.001"), Decimal(100000), Decimal("0.01"), Decimal("0.01"),
                      Decimal(50), Decimal("1000"), Decimal("0.67"))  # fmt: skip
    agent.apply_row(replace(agent.state.accounts[ACCOUNT], symbol_map={"USDJPY.m": "USDJPY"}, version=2))
    agent.on_symbols(ACCOUNT, Symbols((info,)))
    changes = next(i.changes for i in agent.decide(0.1) if isinstance(i, UpdateAccount))
    assert changes["marginMode"] == "HEDGING"
    assert changes["symbolSpecs"] == [
        {"symbol": "USDJPY", "digits": 3, "point": 0.001, "contractSize": 100000.0, "volumeMin": 0.01,
         "volumeStep": 0.01, "volumeMax": 50.0, "marginPerLot": 1000.0, "tickValue": 0.67}
    ]  # fmt: skip
    agent.account_recorded(ACCOUNT, changes)
    assert [i for i in agent.decide(0.2) if isinstance(i, UpdateAccount)] == []


def test_opening_refused_by_a_pre_trade_check_cancels_and_fails_the_entry_saying_why() -> None:
    agent = core()
    connect_and_sync(agent)
    agent.apply_row(position())
    agent.apply_row(action())
    assert position_updates(agent.decide(1.0)) == [{"status": "OPENING"}]
    agent.opening_refused("pos-A", "volume needs 5000.00 USD of margin", 1.1)
    intents = agent.decide(1.2)
    assert {"status": "CANCELED"} in position_updates(intents)
    failed = [i.changes for i in intents if isinstance(i, UpdateAction)]
    assert "5000.00 USD of margin" in str(failed[0]["errorMessage"])
