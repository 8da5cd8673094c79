"""The alert rules: draft checks, the state table, re-raising, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hedge.domain import alerts as rules
from hedge.domain.alerts import ALERT_TABLE, AlertDraft, AlertState, AlertTrigger
from hedge.domain.enums import AlertKind, AlertSeverity
from hedge.domain.errors import InvalidTransition, ValidationError
from hedge.domain.models import Alert

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
AFTER = timedelta(seconds=900)


def draft(**changes: Any) -> AlertDraft:
    fields: dict[str, Any] = {
        "user_id": "u1",
        "kind": AlertKind.OUTCOME_UNKNOWN,
        "severity": AlertSeverity.WARNING,
        "message": "OPEN sent, no answer",
        "position_id": "p1",
        **changes,
    }
    return AlertDraft(**fields)


def fresh(**changes: Any) -> Alert:
    return rules.new_alert(draft(**changes), T0)


def test_new_alert_from_draft_is_open_with_count_one() -> None:
    alert = fresh()
    assert rules.state_of(alert) is AlertState.OPEN
    assert (alert.count, alert.version, alert.created_at, alert.last_seen_at) == (1, 1, T0, T0)
    assert alert.position_id == "p1" and alert.account_id is None


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("kind", "NOT_A_KIND", "kind"),
        ("severity", "LOUD", "severity"),
        ("message", "   ", "message"),
        ("message", "x" * 2001, "message"),
        ("message", 42, "message"),
        ("user_id", "", "userId"),
        ("account_id", "a" * 300, "accountId"),
        ("related_position_ids", ["p"] * 51, "relatedPositionIds"),
        ("requires_action", "yes", "requiresAction"),
    ],
)
def test_checked_draft_with_bad_field_names_the_field(field: str, value: Any, named: str) -> None:
    given: dict[str, Any] = {"user_id": "u1", "kind": "GHOST_POSITION", "severity": "INFO", "message": "m"}
    given[field] = value
    with pytest.raises(ValidationError) as raised:
        rules.checked_draft(**given)
    assert raised.value.field == named


def test_checked_draft_with_text_enums_gives_enum_members_and_drops_repeated_related_ids() -> None:
    checked = rules.checked_draft(
        user_id="u1", kind="GHOST_POSITION", severity="CRITICAL", message=" gone ",
        related_position_ids=["p2", "p3", "p2"],
    )  # fmt: skip
    assert checked.kind is AlertKind.GHOST_POSITION and checked.severity is AlertSeverity.CRITICAL
    assert checked.message == "gone" and checked.related_position_ids == ("p2", "p3")


def test_raised_again_counts_and_keeps_the_higher_severity() -> None:
    first = fresh(severity=AlertSeverity.CRITICAL)
    later = T0 + timedelta(seconds=5)
    again = rules.raised_again(first, draft(severity=AlertSeverity.INFO, message="still no answer"), later)
    assert (again.count, again.version, again.last_seen_at) == (2, 2, later)
    assert again.severity is AlertSeverity.CRITICAL  # never lowered
    assert again.message == "still no answer" and again.created_at == T0


def test_raised_again_with_higher_severity_raises_it() -> None:
    again = rules.raised_again(fresh(severity=AlertSeverity.INFO), draft(severity=AlertSeverity.CRITICAL), T0)
    assert again.severity is AlertSeverity.CRITICAL


def test_raised_again_requires_action_once_asked_and_merges_related_ids() -> None:
    first = fresh(requires_action=True, related_position_ids=("p2",))
    again = rules.raised_again(first, draft(requires_action=False, related_position_ids=("p3", "p2")), T0)
    assert again.requires_action is True and again.related_position_ids == ("p2", "p3")


def test_acknowledged_records_who_when_and_note() -> None:
    done = rules.acknowledged(fresh(), "admin", "looking", T0 + AFTER)
    assert (done.acknowledged_by, done.acknowledged_at, done.note) == ("admin", T0 + AFTER, "looking")
    assert rules.state_of(done) is AlertState.ACKNOWLEDGED and done.version == 2


def test_resolved_by_system_leaves_resolved_by_empty() -> None:
    done = rules.resolved(fresh(), None, None, T0)
    assert done.resolved_at == T0 and done.resolved_by is None
    assert rules.state_of(done) is AlertState.RESOLVED


def test_resolved_without_note_keeps_the_acknowledge_note() -> None:
    done = rules.resolved(rules.acknowledged(fresh(), "a", "seen", T0), "a", None, T0)
    assert done.note == "seen" and done.resolved_by == "a"


@pytest.mark.parametrize(
    ("alert", "trigger"),
    [
        (rules.resolved(fresh(), None, None, T0), AlertTrigger.RESOLVE),
        (rules.resolved(fresh(), None, None, T0), AlertTrigger.ACKNOWLEDGE),
        (rules.resolved(fresh(), None, None, T0), AlertTrigger.RAISE_AGAIN),
        (rules.acknowledged(fresh(), "a", None, T0), AlertTrigger.ACKNOWLEDGE),
        (rules.acknowledged(fresh(), "a", None, T0), AlertTrigger.ESCALATE),
    ],
)
def test_moves_not_in_the_table_raise_invalid_transition(alert: Alert, trigger: AlertTrigger) -> None:
    moves = {
        AlertTrigger.RESOLVE: lambda: rules.resolved(alert, None, None, T0),
        AlertTrigger.ACKNOWLEDGE: lambda: rules.acknowledged(alert, "a", None, T0),
        AlertTrigger.RAISE_AGAIN: lambda: rules.raised_again(alert, draft(), T0),
        AlertTrigger.ESCALATE: lambda: rules.escalated(alert, T0),
    }
    with pytest.raises(InvalidTransition) as raised:
        moves[trigger]()
    assert raised.value.entity == "Alert" and raised.value.to_state == trigger.value


def test_resolved_is_the_only_final_state() -> None:
    sources = {state for state, _ in ALERT_TABLE}
    assert set(AlertState) - sources == {AlertState.RESOLVED}


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        (AlertSeverity.INFO, AlertSeverity.WARNING),
        (AlertSeverity.WARNING, AlertSeverity.CRITICAL),
        (AlertSeverity.CRITICAL, AlertSeverity.CRITICAL),
    ],
)
def test_escalated_rises_one_step_and_stamps_the_time(
    severity: AlertSeverity, expected: AlertSeverity
) -> None:
    done = rules.escalated(fresh(severity=severity), T0 + AFTER)
    assert done.severity is expected and done.escalated_at == T0 + AFTER and done.version == 2


def test_escalation_due_only_after_the_period_since_raised_or_last_escalated() -> None:
    alert = fresh(severity=AlertSeverity.INFO)
    assert not rules.escalation_due(alert, T0 + AFTER - timedelta(seconds=1), AFTER)
    assert rules.escalation_due(alert, T0 + AFTER, AFTER)
    once = rules.escalated(alert, T0 + AFTER)
    assert not rules.escalation_due(once, T0 + AFTER + timedelta(seconds=1), AFTER)
    assert rules.escalation_due(once, T0 + 2 * AFTER, AFTER)


def test_escalation_of_critical_happens_once() -> None:
    once = rules.escalated(fresh(severity=AlertSeverity.CRITICAL), T0 + AFTER)
    assert not rules.escalation_due(once, T0 + 10 * AFTER, AFTER)


def test_escalation_never_due_for_acknowledged_or_resolved() -> None:
    late = T0 + 10 * AFTER
    assert not rules.escalation_due(rules.acknowledged(fresh(), "a", None, T0), late, AFTER)
    assert not rules.escalation_due(rules.resolved(fresh(), None, None, T0), late, AFTER)
