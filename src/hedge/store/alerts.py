"""Alerts inside a write transaction: raise (de-duplicated per open condition), resolve, escalate.

These take a `Unit`, so a server rule raises or resolves an alert atomically with the change that
causes it (for example a user going OFFLINE with OPEN positions). Two raisers of the same
condition are serialised: on SQLite by the write lock every transaction takes, on PostgreSQL by a
transaction-scoped advisory lock on the condition, taken before the open alert is looked up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, or_, select, text

from hedge.domain import alerts as rules
from hedge.domain.alerts import AlertDraft, ConditionKey
from hedge.domain.enums import AlertKind, AlertSeverity
from hedge.domain.errors import NotFound
from hedge.domain.models import Alert, User
from hedge.domain.rows import from_mapping
from hedge.store.tables import alerts
from hedge.store.unit import Unit

# the first key of PostgreSQL's two-key advisory lock: this module's locks, apart from others
_ALERT_LOCK_CLASS = 7_264_113
_LOCK = text("SELECT pg_advisory_xact_lock(:lock_class, :lock_key)")
ESCALATE_BATCH = 500


def raise_alert(unit: Unit, draft: AlertDraft) -> Alert:
    """A new open alert, or the open alert of the same condition raised once more."""
    draft = rules.checked(draft)
    if unit.get(User, draft.user_id, lock=False) is None:
        raise NotFound("User", draft.user_id)
    _lock_condition(unit, draft.key)
    found = _open_of(unit, draft.key)
    if not found:
        alert = rules.new_alert(draft, unit.now)
        unit.insert(alert)
        return alert
    return unit.update(found[0], rules.raised_again(found[0], draft, unit.now))


def resolve_alerts(
    unit: Unit,
    *,
    user_id: str,
    kind: AlertKind,
    account_id: str | None = None,
    position_id: str | None = None,
    action_id: str | None = None,
    note: str | None = None,
) -> list[Alert]:
    """The system resolves the open alerts of one condition (it went away): resolvedBy stays None."""
    key = rules.condition_key(user_id, kind, account_id, position_id, action_id)
    _lock_condition(unit, key)
    checked = rules.checked_note(note)
    return [unit.update(a, rules.resolved(a, None, checked, unit.now)) for a in _open_of(unit, key)]


def escalate_due_in(unit: Unit, now: datetime, after: timedelta) -> list[Alert]:
    """Every open, unacknowledged alert whose escalation is due rises one step (oldest first)."""
    query = (
        select(alerts)
        .where(
            alerts.c.resolved_at.is_(None),
            alerts.c.acknowledged_at.is_(None),
            func.coalesce(alerts.c.escalated_at, alerts.c.created_at) <= now - after,
            # a CRITICAL alert is escalated once (it cannot rise further)
            or_(alerts.c.severity != AlertSeverity.CRITICAL.value, alerts.c.escalated_at.is_(None)),
        )
        .order_by(alerts.c.created_at, alerts.c.id)
        .limit(ESCALATE_BATCH)
    )
    if unit.postgres:
        query = query.with_for_update(skip_locked=True)  # a raiser holding one: next round
    due = [from_mapping(Alert, row) for row in unit.conn.execute(query).mappings()]
    return [unit.update(a, rules.escalated(a, now)) for a in due if rules.escalation_due(a, now, after)]


def _equal_or_null(column: Any, value: str | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value  # type: ignore[no-any-return]


def _open_of(unit: Unit, key: ConditionKey) -> list[Alert]:
    user_id, kind, account_id, position_id, action_id = key
    query = (
        select(alerts)
        .where(
            alerts.c.user_id == user_id,
            alerts.c.kind == kind,
            _equal_or_null(alerts.c.account_id, account_id),
            _equal_or_null(alerts.c.position_id, position_id),
            _equal_or_null(alerts.c.action_id, action_id),
            alerts.c.resolved_at.is_(None),
        )
        .order_by(alerts.c.created_at, alerts.c.id)
    )
    if unit.postgres:
        query = query.with_for_update()
    return [from_mapping(Alert, row) for row in unit.conn.execute(query).mappings()]


def _lock_condition(unit: Unit, key: ConditionKey) -> None:
    if unit.postgres:
        unit.conn.execute(_LOCK, {"lock_class": _ALERT_LOCK_CLASS, "lock_key": _key_hash(key)})


def _key_hash(key: ConditionKey) -> int:
    """A signed 32-bit number for the condition (a collision only serialises two raisers)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def list_in(conn: Connection, user_id: str | None, open_only: bool | None) -> Sequence[Alert]:
    """Alerts oldest first, of one user or all; `open_only` True/False/None = open/resolved/all."""
    query = select(alerts).order_by(alerts.c.created_at, alerts.c.id)
    if user_id is not None:
        query = query.where(alerts.c.user_id == user_id)
    if open_only is True:
        query = query.where(alerts.c.resolved_at.is_(None))
    elif open_only is False:
        query = query.where(alerts.c.resolved_at.is_not(None))
    return [from_mapping(Alert, row) for row in conn.execute(query).mappings()]
