"""A trigger decided and not yet recorded by the server survives a restart of the agent
(hedge.agent.saved_trigger, AgentCore.saved_state/restore): it is asked again with the same
price, price time and correlation id, its trail is not watched again, and it goes once the
server's row says the position fired. An unreadable saved trigger is skipped with a warning."""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from tests.agent.core_rows import ACCOUNT, T0, core, open_row

from hedge.agent.core import AgentCore
from hedge.agent.intents import Intent, TriggerActions
from hedge.agent.saved_trigger import from_image, image
from hedge.domain.enums import TrailMode, TriggerReason
from hedge.domain.models import Position
from hedge.ea.protocol_messages import Price

TRAILING = open_row(trail_width=Decimal(10), trail_mode=TrailMode.TRAILING_STOP)  # entry 150, 10 pips


def _price(bid: str, time_ms: int) -> Price:
    return Price("USDJPY", Decimal(bid), Decimal(bid) + Decimal("0.010"), time_ms)


def _fired_after_a_climb(agent: AgentCore, row: Position = TRAILING) -> TriggerActions:
    """The TRAILING_STOP climbs to 150.500, then falls 10 pips: it fires at 150.400."""
    agent.apply_row(row)
    assert agent.on_price(ACCOUNT, _price("150.500", 1_000)) == []
    fired = agent.on_price(ACCOUNT, _price("150.400", 2_000))
    assert len(fired) == 1 and isinstance(fired[0], TriggerActions)
    return fired[0]


def _triggers(intents: list[Intent]) -> list[TriggerActions]:
    return [i for i in intents if isinstance(i, TriggerActions)]


def test_fired_trigger_saved_is_restored_with_the_same_price_time_and_correlation_id() -> None:
    before = core()
    fired = _fired_after_a_climb(before)

    after = core()
    after.restore(before.saved_state())

    restored = after.triggers["pos-A"]
    assert restored == fired  # reason, price 150.400 and the EA's time of that price
    assert (restored.price, restored.price_time_ms) == (Decimal("150.400"), 2_000)
    assert restored.correlation_id == fired.correlation_id == "trg-pos-A-2000"


def test_saved_state_names_the_fired_trigger_and_no_trail_best_for_it() -> None:
    agent = core()
    _fired_after_a_climb(agent)
    saved = agent.saved_state()
    assert saved["fired"] == {
        "pos-A": {"reason": "TRAIL", "price": "150.400", "timeMs": 2_000, "correlationId": "trg-pos-A-2000"}
    }
    assert saved["trailBest"] == {}


def test_restored_trigger_is_asked_again_and_its_trail_is_not_watched_from_the_entry() -> None:
    before = core()
    fired = _fired_after_a_climb(before)
    after = core()
    after.restore(before.saved_state())

    assert after.apply_row(TRAILING) == []  # the server has not recorded it: the row is as it was
    assert "pos-A" not in after.book
    assert after.on_price(ACCOUNT, _price("150.500", 3_000)) == []  # no new best, no second fire
    assert after.on_price(ACCOUNT, _price("149.800", 4_000)) == []  # 20 pips below the entry: still none
    asked = _triggers(after.decide(1.0)) + _triggers(after.decide(2.0))
    assert asked == [fired, fired] and {t.correlation_id for t in asked} == {fired.correlation_id}


def test_restored_trigger_goes_once_the_servers_row_says_the_position_fired() -> None:
    before = core()
    _fired_after_a_climb(before)
    after = core()
    after.restore(before.saved_state())

    after.apply_row(replace(TRAILING, version=4, trail_triggered_at=T0))

    assert after.triggers == {} and _triggers(after.decide(1.0)) == []
    assert "pos-A" not in after.book


def test_core_tells_each_trigger_once_as_it_decides_it() -> None:
    told: list[tuple[TriggerActions, bool]] = []
    agent = core()
    agent.on_fired = lambda intent: told.append((intent, intent.position_id in agent.triggers))

    fired = _fired_after_a_climb(agent)
    agent.decide(1.0)
    agent.decide(2.0)

    assert told == [(fired, True)]
    assert told[0][0].correlation_id == fired.correlation_id


@pytest.mark.parametrize(
    "intent",
    [
        TriggerActions("pos-A", TriggerReason.TRAIL, Decimal("150.400"), 2_000, correlation_id="trg-2000"),
        TriggerActions("pos-A", TriggerReason.TRAIL, Decimal("150.400"), None, correlation_id=None),
        TriggerActions("pos-A", TriggerReason.MANUAL, None, None, correlation_id="c"),
    ],
)
def test_trigger_image_reads_back_as_the_same_trigger(intent: TriggerActions) -> None:
    again = from_image("pos-A", image(intent))
    assert again == intent and again.correlation_id == intent.correlation_id


GOOD = {"reason": "TRAIL", "price": "150.4", "timeMs": 2_000, "correlationId": "trg-pos-B-2000"}


@pytest.mark.parametrize(
    "item",
    [
        "a string",
        [1, 2],
        {"reason": "TRAIL", "price": "150.4", "timeMs": 1},  # no correlationId
        {**GOOD, "reason": "SOMETIMES"},
        {**GOOD, "price": "abc"},
        {**GOOD, "price": "NaN"},
        {**GOOD, "price": "-1"},
        {**GOOD, "price": 150.4},  # a float would not be the price decided
        {**GOOD, "timeMs": "2000"},
        {**GOOD, "timeMs": True},
        {**GOOD, "correlationId": 7},
    ],
)
def test_unreadable_saved_trigger_is_skipped_with_a_warning_and_the_rest_kept(
    item: Any, caplog: pytest.LogCaptureFixture
) -> None:
    agent = core()
    with caplog.at_level(logging.WARNING, logger="hedge.agent.core"):
        agent.restore({"fired": {"pos-A": item, "pos-B": GOOD}, "trailBest": {"pos-C": "150.2"}})

    assert list(agent.triggers) == ["pos-B"]
    assert agent.triggers["pos-B"].correlation_id == "trg-pos-B-2000"
    assert agent.saved_bests == {"pos-C": Decimal("150.2")}
    assert "ignoring an unreadable saved trigger of position pos-A" in caplog.text
