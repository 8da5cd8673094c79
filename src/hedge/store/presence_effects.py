"""What follows in the same transaction when a user's pcStatus changes (its agent came or went).

OFFLINE: the user's accounts become DISCONNECTED (nobody serves their EAs now), and, when the user
holds positions that are or may be live at the broker (OPEN, OPENING, CLOSING), an AGENT_OFFLINE
alert is raised: nothing watches them (no trail, no hedges) until the agent returns.
ONLINE: the AGENT_OFFLINE alert resolves itself; the agent reports its accounts' connection itself.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from hedge.domain.alerts import AlertDraft
from hedge.domain.enums import AlertKind, AlertSeverity, ConnectionStatus, PCStatus, PositionStatus
from hedge.domain.models import Account, User
from hedge.store.alerts import raise_alert, resolve_alerts
from hedge.store.tables import accounts, positions
from hedge.store.unit import Unit

LIVE_AT_BROKER = (PositionStatus.OPEN, PositionStatus.OPENING, PositionStatus.CLOSING)
MAX_LISTED = 50  # relatedPositionIds kept in the alert (the message gives the full count)


def set_pc_status(unit: Unit, user: User, status: PCStatus) -> User:
    """Move the user to `status` with what follows from it; unchanged when it already is."""
    if user.pc_status is status:
        return user
    moved = unit.update(user, replace(user, pc_status=status, version=user.version + 1, updated_at=unit.now))
    if status is PCStatus.OFFLINE:
        _went_offline(unit, moved)
    else:
        resolve_alerts(unit, user_id=moved.id, kind=AlertKind.AGENT_OFFLINE, note="the agent is back online")
    return moved


def _went_offline(unit: Unit, user: User) -> None:
    account_ids = list(
        unit.conn.execute(select(accounts.c.id).where(accounts.c.user_id == user.id)).scalars()
    )
    for account in unit.get_many(Account, account_ids).values():
        if account.connection_status is not ConnectionStatus.DISCONNECTED:
            unit.update(
                account,
                replace(
                    account,
                    connection_status=ConnectionStatus.DISCONNECTED,
                    version=account.version + 1,
                    updated_at=unit.now,
                ),
            )
    live = list(
        unit.conn.execute(
            select(positions.c.id)
            .where(positions.c.user_id == user.id, positions.c.status.in_([s.value for s in LIVE_AT_BROKER]))
            .order_by(positions.c.created_at, positions.c.id)
        ).scalars()
    )
    if live:
        raise_alert(
            unit,
            AlertDraft(
                user_id=user.id,
                kind=AlertKind.AGENT_OFFLINE,
                severity=AlertSeverity.WARNING,
                message=(
                    f"the agent of {user.name} ({user.email}) went offline while {len(live)} position(s) "
                    "are open or in flight at the broker; nothing watches them (no trail, no hedges) "
                    "until it reconnects: start the agent, or watch these positions at the terminal"
                ),
                related_position_ids=tuple(live[:MAX_LISTED]),
            ),
        )
