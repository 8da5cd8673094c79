"""The LATE_TRIGGER rule alone: when a trigger's actions start more than their deadline after the
price that met it, one WARNING per owner concerned, naming the trigger and the legs it opens."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from tests.agent.core_rows import T0, USER, action, position

from hedge.domain.enums import AlertKind, AlertSeverity, PositionStatus, TriggerReason
from hedge.domain.ids import PositionId, UserId
from hedge.domain.late_trigger import late_trigger_drafts

DEADLINE = timedelta(seconds=30)
TRIGGER = position(
    PositionStatus.OPEN,
    trail_triggered_at=T0,
    trigger_reason=TriggerReason.TRAIL,
    trigger_price=Decimal("150.2"),
)
LEG = replace(action(), user_id=UserId("u2"), position_id=PositionId("pos-B"))


def test_a_trigger_started_within_its_deadline_is_not_late() -> None:
    assert late_trigger_drafts(TRIGGER, [LEG], T0 + DEADLINE, DEADLINE) == []


def test_a_trigger_that_started_nothing_raises_nothing() -> None:
    assert late_trigger_drafts(TRIGGER, [], T0 + timedelta(hours=1), DEADLINE) == []


def test_a_trigger_with_no_trigger_time_raises_nothing() -> None:
    assert late_trigger_drafts(position(PositionStatus.OPEN), [LEG], T0 + timedelta(hours=1), DEADLINE) == []


def test_a_late_trigger_tells_each_owner_once_naming_the_trigger_and_its_legs() -> None:
    own_leg = replace(action(), position_id=PositionId("pos-C"))  # the trigger's owner owns one leg too
    drafts = late_trigger_drafts(TRIGGER, [LEG, own_leg], T0 + DEADLINE + timedelta(seconds=1), DEADLINE)
    assert [d.user_id for d in drafts] == sorted([USER, "u2"])
    for draft in drafts:
        assert draft.kind is AlertKind.LATE_TRIGGER and draft.severity is AlertSeverity.WARNING
        assert draft.position_id == "pos-A" and draft.related_position_ids == ("pos-A", "pos-B", "pos-C")
        assert "TRAIL of position pos-A" in draft.message and "at 150.2" in draft.message
        assert "31 s later" in draft.message and "pos-B, pos-C" in draft.message
    assert {d.user_id: d.account_id for d in drafts} == {USER: TRIGGER.account_id, "u2": None}
