"""Alerts as pure rules: the draft a raiser hands in, its checks, the alert's state machine, and
the escalation rule. The store applies these inside the transaction that raises or settles one.

An alert is OPEN, ACKNOWLEDGED (a person has seen it) or RESOLVED (the condition went away, or a
person settled it); RESOLVED is final. One open alert stands for one condition: the same
(user, kind, account, position, action) raised again updates it (count, lastSeenAt, message).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hedge.domain.enums import AlertKind, AlertSeverity
from hedge.domain.errors import ValidationError
from hedge.domain.ids import AccountId, ActionId, PositionId, UserId, new_id
from hedge.domain.machine import apply_move
from hedge.domain.models import Alert
from hedge.domain.values import MAX_MEMO, MAX_TEXT, enum_value, text

MAX_ALERT_MESSAGE = 2000
MAX_RELATED = 50
SEVERITY_ORDER: tuple[AlertSeverity, ...] = (
    AlertSeverity.INFO,
    AlertSeverity.WARNING,
    AlertSeverity.CRITICAL,
)

ConditionKey = tuple[str, str, str | None, str | None, str | None]


class AlertState(StrEnum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"


class AlertTrigger(StrEnum):
    RAISE_AGAIN = "RAISE_AGAIN"  # the same open condition was seen again
    ACKNOWLEDGE = "ACKNOWLEDGE"  # a person has seen it
    RESOLVE = "RESOLVE"  # the condition went away, or a person settled it
    ESCALATE = "ESCALATE"  # open and unacknowledged for too long


S = AlertState
ALERT_TABLE: dict[tuple[AlertState, AlertTrigger], AlertState] = {
    (S.OPEN, AlertTrigger.RAISE_AGAIN): S.OPEN,
    (S.OPEN, AlertTrigger.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.OPEN, AlertTrigger.RESOLVE): S.RESOLVED,
    (S.OPEN, AlertTrigger.ESCALATE): S.OPEN,
    (S.ACKNOWLEDGED, AlertTrigger.RAISE_AGAIN): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, AlertTrigger.RESOLVE): S.RESOLVED,
}


def state_of(alert: Alert) -> AlertState:
    if alert.resolved_at is not None:
        return AlertState.RESOLVED
    if alert.acknowledged_at is not None:
        return AlertState.ACKNOWLEDGED
    return AlertState.OPEN


def apply_alert(state: AlertState, trigger: AlertTrigger) -> AlertState:
    """The state an Alert reaches from `state` on `trigger`; InvalidTransition otherwise."""
    return apply_move(ALERT_TABLE, "Alert", state, trigger)


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """What a raiser knows about a condition; the store turns it into a new or updated Alert."""

    user_id: str
    kind: AlertKind
    severity: AlertSeverity
    message: str
    account_id: str | None = None
    position_id: str | None = None
    action_id: str | None = None
    related_position_ids: tuple[str, ...] = ()
    requires_action: bool = False

    @property
    def key(self) -> ConditionKey:
        return condition_key(self.user_id, self.kind, self.account_id, self.position_id, self.action_id)


def condition_key(
    user_id: str, kind: AlertKind, account_id: str | None, position_id: str | None, action_id: str | None
) -> ConditionKey:
    """What makes two raises the same condition (the de-duplication key of open alerts)."""
    return (user_id, kind.value, account_id, position_id, action_id)


def _optional_id(value: Any, field: str) -> str | None:
    return None if value is None else text(value, field, max_length=MAX_TEXT)


def checked(draft: AlertDraft) -> AlertDraft:
    """`draft` with every field checked as `checked_draft` checks raw input (a raiser's draft is
    checked again where it is stored)."""
    return checked_draft(**{f.name: getattr(draft, f.name) for f in fields(draft)})


def checked_draft(
    *,
    user_id: Any,
    kind: Any,
    severity: Any,
    message: Any,
    account_id: Any = None,
    position_id: Any = None,
    action_id: Any = None,
    related_position_ids: Any = (),
    requires_action: Any = False,
) -> AlertDraft:
    """A draft from raw input, every field checked (ValidationError names the field)."""
    related = tuple(text(i, "relatedPositionIds", max_length=MAX_TEXT) for i in related_position_ids or ())
    if len(related) > MAX_RELATED:
        raise ValidationError(
            "relatedPositionIds", f"must list at most {MAX_RELATED} ids, was {len(related)}"
        )
    if not isinstance(requires_action, bool):
        raise ValidationError("requiresAction", f"must be a boolean, was {type(requires_action).__name__}")
    return AlertDraft(
        user_id=text(user_id, "userId", max_length=MAX_TEXT),
        kind=enum_value(AlertKind, kind, "kind"),
        severity=enum_value(AlertSeverity, severity, "severity"),
        message=text(message, "message", max_length=MAX_ALERT_MESSAGE).strip(),
        account_id=_optional_id(account_id, "accountId"),
        position_id=_optional_id(position_id, "positionId"),
        action_id=_optional_id(action_id, "actionId"),
        related_position_ids=tuple(dict.fromkeys(related)),
        requires_action=requires_action,
    )


def checked_note(note: Any) -> str | None:
    return None if note is None else text(note, "note", max_length=MAX_MEMO, allow_empty=True)


def new_alert(draft: AlertDraft, now: datetime) -> Alert:
    return Alert(
        id=new_id(),
        user_id=UserId(draft.user_id),
        kind=draft.kind,
        severity=draft.severity,
        message=draft.message,
        created_at=now,
        last_seen_at=now,
        account_id=None if draft.account_id is None else AccountId(draft.account_id),
        position_id=None if draft.position_id is None else PositionId(draft.position_id),
        action_id=None if draft.action_id is None else ActionId(draft.action_id),
        related_position_ids=tuple(PositionId(i) for i in draft.related_position_ids),
        requires_action=draft.requires_action,
    )


def higher(a: AlertSeverity, b: AlertSeverity) -> AlertSeverity:
    return a if SEVERITY_ORDER.index(a) >= SEVERITY_ORDER.index(b) else b


def raised_again(alert: Alert, draft: AlertDraft, now: datetime) -> Alert:
    """The open alert after its condition was raised once more: never a lower severity."""
    apply_alert(state_of(alert), AlertTrigger.RAISE_AGAIN)
    related = tuple(
        dict.fromkeys((*alert.related_position_ids, *map(PositionId, draft.related_position_ids)))
    )
    return replace(
        alert,
        count=alert.count + 1,
        last_seen_at=now,
        message=draft.message,
        severity=higher(alert.severity, draft.severity),
        requires_action=alert.requires_action or draft.requires_action,
        related_position_ids=related,
        version=alert.version + 1,
    )


def acknowledged(alert: Alert, by: str, note: str | None, now: datetime) -> Alert:
    apply_alert(state_of(alert), AlertTrigger.ACKNOWLEDGE)
    return replace(
        alert,
        acknowledged_at=now,
        acknowledged_by=UserId(by),
        note=alert.note if note is None else note,
        version=alert.version + 1,
    )


def resolved(alert: Alert, by: str | None, note: str | None, now: datetime) -> Alert:
    """Resolved by a person (`by`), or by the system when the condition went away (`by` None)."""
    apply_alert(state_of(alert), AlertTrigger.RESOLVE)
    return replace(
        alert,
        resolved_at=now,
        resolved_by=None if by is None else UserId(by),
        note=alert.note if note is None else note,
        version=alert.version + 1,
    )


def escalation_due(alert: Alert, now: datetime, after: timedelta) -> bool:
    """Open, unacknowledged, and `after` has passed since it was raised or last escalated.

    A CRITICAL alert cannot rise further: it is escalated (delivered again) once, then left.
    """
    if state_of(alert) is not AlertState.OPEN:
        return False
    if alert.severity is AlertSeverity.CRITICAL and alert.escalated_at is not None:
        return False
    since = alert.escalated_at or alert.created_at
    return now - since >= after


def escalated(alert: Alert, now: datetime) -> Alert:
    """One severity step up (CRITICAL stays CRITICAL), escalatedAt set."""
    apply_alert(state_of(alert), AlertTrigger.ESCALATE)
    step = min(SEVERITY_ORDER.index(alert.severity) + 1, len(SEVERITY_ORDER) - 1)
    return replace(alert, severity=SEVERITY_ORDER[step], escalated_at=now, version=alert.version + 1)
