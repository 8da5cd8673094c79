"""Hedge legs: a position and the positions its trigger actions open are legs of one hedge.
When a leg fails, every leg's owner is alerted (HEDGE_LEG_FAILED) with all legs named."""

from __future__ import annotations

from sqlalchemy import select

from hedge.domain.alerts import AlertDraft
from hedge.domain.enums import ActionType, AlertKind, AlertSeverity
from hedge.domain.models import Action, Position
from hedge.domain.rows import from_mapping
from hedge.store.record_alerts import record_alert, record_alert_once
from hedge.store.tables import actions, alerts
from hedge.store.unit import Unit


def hedge_head(unit: Unit, position: Position) -> Position | None:
    """The position whose trigger opens `position` (None when `position` is not a hedge leg)."""
    query = select(actions.c.trigger_position_id).where(
        actions.c.position_id == position.id,
        actions.c.type == ActionType.ENTRY.value,
        actions.c.trigger_position_id.is_not(None),
    )
    head_id = unit.conn.execute(query).scalar()
    return None if head_id is None else unit.get(Position, head_id, lock=False)


def hedge_legs(unit: Unit, position: Position) -> list[Position]:
    """Every leg of the hedge `position` belongs to (the head first); [position] when alone."""
    head = hedge_head(unit, position) or position
    if not head.trigger_action_ids:
        return [position]
    listed = _unlocked(unit, head)
    leg_ids = [a.position_id for a in listed.values() if a.type is ActionType.ENTRY]
    legs = [head]
    for leg_id in sorted(set(leg_ids)):
        leg = position if leg_id == position.id else unit.get(Position, leg_id, lock=False)
        if leg is not None:
            legs.append(leg)
    return legs if len(legs) > 1 else [position]


def _unlocked(unit: Unit, head: Position) -> dict[str, Action]:
    query = select(actions).where(actions.c.id.in_(list(head.trigger_action_ids)))
    return {row["id"]: from_mapping(Action, row) for row in unit.conn.execute(query).mappings()}


def leg_failed(
    unit: Unit,
    legs: list[Position],
    failed: Position,
    why: str,
    action_id: str | None = None,
    once: bool = False,
) -> bool:
    """HEDGE_LEG_FAILED for each leg's owner, naming all legs; with `once`, only where that
    condition is not open already. Whether any alert was raised."""
    related = tuple(leg.id for leg in legs)
    raised = False
    for owner in sorted({leg.user_id for leg in legs}):
        made = (record_alert_once if once else record_alert)(
            unit,
            AlertDraft(
                user_id=owner,
                kind=AlertKind.HEDGE_LEG_FAILED,
                severity=AlertSeverity.CRITICAL,
                message=f"hedge leg {failed.id} ({failed.side.value} {failed.volume} {failed.symbol} on"
                f" account {failed.account_id}) {why}; the hedge is not whole: check the other legs"
                f" ({', '.join(leg.id for leg in legs if leg.id != failed.id) or 'none'})",
                account_id=failed.account_id if failed.user_id == owner else None,
                position_id=failed.id,
                action_id=action_id,
                related_position_ids=related,
                requires_action=True,
            ),
        )
        raised = raised or made is not None
    return raised


def leg_failure_open(unit: Unit, leg_ids: list[str]) -> bool:
    """Whether a HEDGE_LEG_FAILED naming one of `leg_ids` as the failed leg is still open (its
    failure was alerted when it happened: a leg left alone because of it is not news)."""
    query = select(alerts.c.id).where(
        alerts.c.kind == "HEDGE_LEG_FAILED",
        alerts.c.resolved_at.is_(None),
        alerts.c.position_id.in_(leg_ids),
    )
    return unit.conn.execute(query.limit(1)).first() is not None
