"""The alerts the trade record's rules raise (ACTION_EXPIRED, HEDGE_LEG_FAILED, TRADING_HALTED,
MARGIN_LOW), in the transaction of the change that causes them, through the alerts part's one
call `hedge.store.alerts.raise_alert(unit, draft)`; and the alerts a settlement resolves."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from hedge.domain import alerts as rules
from hedge.domain.alerts import AlertDraft
from hedge.domain.models import Alert, Position
from hedge.domain.rows import from_mapping
from hedge.store.alerts import raise_alert
from hedge.store.tables import alerts
from hedge.store.unit import Unit

log = logging.getLogger(__name__)


def record_alert(unit: Unit, alert: AlertDraft) -> Alert:
    """Raise `alert` inside `unit` (it commits or rolls back with the change), and log it."""
    log.warning("alert %s for user %s: %s", alert.kind.value, alert.user_id, alert.message)
    return raise_alert(unit, alert)


def record_alert_once(unit: Unit, alert: AlertDraft) -> Alert | None:
    """Raise `alert` unless the same condition is already open (a note that would otherwise be
    raised again on every order, such as a margin that cannot be checked)."""
    query = select(alerts.c.id).where(
        alerts.c.user_id == alert.user_id,
        alerts.c.kind == alert.kind.value,
        alerts.c.resolved_at.is_(None),
        _same(alerts.c.account_id, alert.account_id),
        _same(alerts.c.position_id, alert.position_id),
        _same(alerts.c.action_id, alert.action_id),
    )
    if unit.conn.execute(query.limit(1)).first() is not None:
        return None
    return record_alert(unit, alert)


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


def resolve_for_position(unit: Unit, position: Position, by: str, note: str) -> list[Alert]:
    """A person settled `position`: the open alerts about it that asked for a person are
    resolved, as that person's."""
    query = select(alerts).where(
        alerts.c.position_id == position.id,
        alerts.c.resolved_at.is_(None),
        alerts.c.requires_action.is_(True),
    )
    if unit.postgres:
        query = query.with_for_update()
    found = [from_mapping(Alert, row) for row in unit.conn.execute(query).mappings()]
    checked = rules.checked_note(note[:500])
    return [unit.update(a, rules.resolved(a, by, checked, unit.now)) for a in found]
