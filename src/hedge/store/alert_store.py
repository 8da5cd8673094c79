"""The Store's alert methods (a mixin of `Store`): read, raise, acknowledge, resolve, escalate.

Who may act on an alert is checked here, in the transaction that writes it: a CLIENT on its own
alerts only, ADMIN on all.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from hedge.domain import alerts as rules
from hedge.domain.alerts import AlertDraft
from hedge.domain.authz import Actor, check_owner, owner_for_create
from hedge.domain.errors import Forbidden, NotFound, ValidationError
from hedge.domain.models import Account, Action, Alert, Position
from hedge.domain.rows import from_mapping
from hedge.store import alerts as alert_rows
from hedge.store.unit import Unit, select_by_id


class AlertStore:
    engine: Engine

    def _unit(self) -> AbstractContextManager[Unit]:  # pragma: no cover - Store defines it
        raise NotImplementedError

    def get_alert(self, alert_id: str) -> Alert | None:
        with self.engine.connect() as conn:
            row = conn.execute(select_by_id(Alert), {"by_id": alert_id}).mappings().first()
        return None if row is None else from_mapping(Alert, row)

    def list_alerts(self, user_id: str | None = None, open_only: bool | None = None) -> list[Alert]:
        with self.engine.connect() as conn:
            return list(alert_rows.list_in(conn, user_id, open_only))

    def raise_alert(self, draft: AlertDraft, actor: Actor | None = None) -> Alert:
        """Raise (or raise again) for the draft's user: a CLIENT only for itself."""
        if actor is not None:
            owner_for_create(actor, draft.user_id)
        with self._unit() as unit:
            if actor is not None:
                _check_references(unit, actor, draft)
            return alert_rows.raise_alert(unit, draft)

    def acknowledge_alert(self, actor: Actor, alert_id: str, note: Any = None) -> Alert:
        checked = rules.checked_note(note)
        with self._unit() as unit:
            alert = _owned(actor, unit.require(Alert, alert_id))
            return unit.update(alert, rules.acknowledged(alert, actor.user_id, checked, unit.now))

    def resolve_alert(self, actor: Actor, alert_id: str, note: Any = None, automatic: bool = False) -> Alert:
        """A person settles it (resolvedBy = the caller), or, `automatic`, it went away by itself."""
        checked = rules.checked_note(note)
        with self._unit() as unit:
            alert = _owned(actor, unit.require(Alert, alert_id))
            by = None if automatic else actor.user_id
            return unit.update(alert, rules.resolved(alert, by, checked, unit.now))

    def escalate_due(self, now: datetime, after_s: float) -> list[Alert]:
        """Open, unacknowledged alerts older than `after_s` rise one severity step (escalatedAt)."""
        if after_s <= 0:
            raise ValidationError("after_s", f"must be > 0, was {after_s}")
        with self._unit() as unit:
            return alert_rows.escalate_due_in(unit, now, timedelta(seconds=after_s))


def _owned(actor: Actor, alert: Alert) -> Alert:
    check_owner(actor, alert.user_id, "Alert", alert.id)
    return alert


def _check_references(unit: Unit, actor: Actor, draft: AlertDraft) -> None:
    """The account, position and action an alert names, when they exist, are its user's.

    A position may be unknown to the server (a terminal's orphan names one), so a missing position
    or action is accepted; a missing account is not.
    """
    if draft.account_id is not None and unit.get(Account, draft.account_id, lock=False) is None:
        raise NotFound("Account", draft.account_id)
    named: list[tuple[type[Any], str | None]] = [
        (Account, draft.account_id),
        (Position, draft.position_id),
        (Action, draft.action_id),
    ]
    for cls, entity_id in named:
        row = None if entity_id is None else unit.get(cls, entity_id, lock=False)
        if row is None or row.user_id == draft.user_id:
            continue
        if not actor.is_admin:
            raise Forbidden(f"{cls.__name__} {entity_id!r} belongs to another user")
        raise ValidationError(
            {Account: "accountId", Position: "positionId", Action: "actionId"}[cls],
            f"must name a row of user {draft.user_id!r}, {entity_id!r} belongs to another user",
        )
