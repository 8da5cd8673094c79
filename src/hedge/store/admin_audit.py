"""The audit log's entries for an ADMIN's changes to other users' trades, and for links across
users made by a hedge plan (the users, accounts, trading controls and settlements are recorded
where they are written). Called inside the change's transaction (hedge.store.audit.record)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hedge.domain.authz import Actor
from hedge.domain.models import Action, Position
from hedge.store import audit
from hedge.store.unit import Unit


def json_ready(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changed fields as JSON-ready values (Decimals, enums and times as strings)."""
    return {
        k: v if v is None or isinstance(v, bool | int | str | list) else str(v) for k, v in changes.items()
    }


def for_other_user(
    unit: Unit, actor: Actor | None, operation: str, row: Position | Action, changes: Mapping[str, Any]
) -> None:
    """An ADMIN wrote another user's position or action (its owner's own writes are its own)."""
    if actor is None or not actor.is_admin or row.user_id == actor.user_id:
        return
    entity = "Position" if isinstance(row, Position) else "Action"
    audit.record(unit, operation, entity, row.id, {"userId": row.user_id, **json_ready(changes)})


def hedge_plan_links(unit: Unit, entry: Position, hedges: Sequence[Action]) -> None:
    """A plan whose hedge legs are other users' actions: a link across users."""
    foreign = sorted(a.id for a in hedges if a.user_id != entry.user_id)
    if foreign:
        audit.record(unit, "createHedgePlan", "Position", entry.id, {"otherUsersActionIds": foreign})
