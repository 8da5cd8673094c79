"""Which trigger the agent's intents belong to (hedge.agent.tracing), and the id agent 1 makes
when its trail fires."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from tests.agent.core_rows import ACCOUNT, T0, action, core, position

from hedge.agent.intents import SendToEA, TriggerActions, UpdateAction, UpdatePosition
from hedge.agent.state import LocalState
from hedge.agent.tracing import correlation_of, position_correlation
from hedge.domain.enums import ActionStatus, ActionType, PositionStatus, Side, TriggerReason
from hedge.ea.protocol import Open, Sync
from hedge.ea.protocol_messages import Price


def test_trail_firing_makes_one_id_from_position_and_price_time() -> None:
    agent = core()
    opened = position(PositionStatus.OPEN, version=3, entry_price=Decimal("150.000"), mt_ticket="7",
                      trail_width=Decimal("10"))  # fmt: skip
    agent.apply_row(opened)

    fired = agent.on_price(
        ACCOUNT, Price("USDJPY", Decimal("150.100"), Decimal("150.110"), 1_790_000_000_123)
    )

    assert len(fired) == 1 and isinstance(fired[0], TriggerActions)
    assert fired[0].correlation_id == "trg-pos-A-1790000000123"
    again = [i for i in agent.decide(1.0) if isinstance(i, TriggerActions)]
    assert [i.correlation_id for i in again] == ["trg-pos-A-1790000000123"]  # a retry keeps its id


def _state(*actions: object) -> LocalState:
    state = LocalState()
    for made in actions:
        state.apply(made)  # type: ignore[arg-type]
    return state


def test_correlation_of_follows_the_executing_action_of_the_position() -> None:
    done = replace(action(ActionStatus.EXECUTED, ActionType.ENTRY), correlation_id="trg-old-1",
                   updated_at=T0 + timedelta(seconds=5))  # fmt: skip
    working = replace(action(ActionStatus.EXECUTING, ActionType.CLOSE), correlation_id="trg-new-2")
    state = _state(done, working)
    open_ = Open("c1", "pos-A", "USDJPY", Side.BUY, Decimal("0.1"), "hedge:pos-A")

    assert correlation_of(state, UpdatePosition("pos-A", {"status": "CLOSING"}, "")) == "trg-new-2"
    assert correlation_of(state, SendToEA(ACCOUNT, open_)) == "trg-new-2"
    assert correlation_of(state, UpdateAction(done.id, {"status": "EXECUTED"}, "")) == "trg-old-1"
    trigger = TriggerActions("pos-B", TriggerReason.TRAIL, None, correlation_id="trg-pos-B-3")
    assert correlation_of(state, trigger) == "trg-pos-B-3"


def test_correlation_of_is_none_without_a_correlated_action() -> None:
    state = _state(action(ActionStatus.EXECUTING, ActionType.ENTRY))
    assert position_correlation(state, "pos-A") is None
    assert correlation_of(state, UpdateAction("unknown", {"status": "FAILED"}, "")) is None
    assert correlation_of(state, SendToEA(ACCOUNT, Sync("c2"))) is None
