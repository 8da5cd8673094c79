"""What the agent's core asks its shell to do (hedge.agent.intents): each server intent names the
one row it works on, so the shell sends one mutation per row at a time; EA commands name none."""

from __future__ import annotations

from decimal import Decimal

from hedge.agent.intents import (
    RaiseAlert,
    ResolveAlert,
    SendToEA,
    TriggerActions,
    UpdateAccount,
    UpdateAction,
    UpdatePosition,
    busy_key,
)
from hedge.domain.enums import TriggerReason
from hedge.ea.protocol import Sync


def test_busy_key_of_each_row_intent_names_its_entity_and_id() -> None:
    assert busy_key(UpdatePosition("p1", {"status": "OPENING"}, "why")) == "Position:p1"
    assert busy_key(UpdateAction("a1", {"status": "EXECUTED"}, "why")) == "Action:a1"
    assert busy_key(UpdateAccount("acc-1", {"balance": 1})) == "Account:acc-1"
    assert busy_key(TriggerActions("p1", TriggerReason.TRAIL, Decimal("150.2"))) == "Trigger:p1"


def test_busy_key_of_a_trigger_differs_from_an_update_of_the_same_position() -> None:
    update = busy_key(UpdatePosition("p1", {}, "why"))
    assert busy_key(TriggerActions("p1", TriggerReason.TRAIL, None)) != update


def test_raise_and_resolve_of_one_condition_share_a_key_and_other_conditions_do_not() -> None:
    key = ("EA_UNREACHABLE", "acc-1", None)
    raised = busy_key(RaiseAlert(key, "WARNING", "away"))
    assert raised == busy_key(ResolveAlert(key, "al-1")) == "Alert:EA_UNREACHABLE|acc-1|"
    assert busy_key(RaiseAlert(("EA_UNREACHABLE", "acc-2", None), "WARNING", "away")) != raised
    assert busy_key(RaiseAlert(("OUTCOME_UNKNOWN", "acc-1", "p1"), "CRITICAL", "?")) != raised


def test_commands_to_an_ea_hold_no_row() -> None:
    assert busy_key(SendToEA("acc-1", Sync("c1"))) is None


def test_raise_alert_kind_is_the_first_part_of_its_key() -> None:
    assert RaiseAlert(("MARGIN_LOW", "acc-1", None), "WARNING", "low").kind == "MARGIN_LOW"


def test_trigger_actions_equality_ignores_the_correlation_id() -> None:
    first = TriggerActions("p1", TriggerReason.TRAIL, Decimal("150.2"), 1, "trg-a")
    assert first == TriggerActions("p1", TriggerReason.TRAIL, Decimal("150.2"), 1, "trg-b")
