"""The row history: every version of every position, action and trading control, with who or
what made it (a person, the owner's agent, a server rule), the fields it changed and why.

Rows are added by `Unit.flush_events` in the transaction that writes the entity, reusing the
images built for the change feed (one extra multi-row INSERT per transaction). The feed is pruned;
this table is not (it goes with its row when rows are archived).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from hedge.domain.authz import Actor
from hedge.domain.enums import ChangeSource
from hedge.domain.models import Action, Position, TradingControl
from hedge.domain.rows import from_mapping
from hedge.domain.writes import source_of
from hedge.store.feed import ChangeEvent
from hedge.store.tables import row_history

HISTORY_TYPES: frozenset[type[Any]] = frozenset({Position, Action, TradingControl})
_BOOKKEEPING = frozenset({"id", "version", "updated_at", "created_at"})
_INSERT = insert(row_history)


@dataclass(frozen=True, slots=True)
class Cause:
    """Who or what made a change: the source, the credential's user (None: the server's own
    rule with nobody behind it) and a reason in words."""

    source: ChangeSource
    by: str | None = None
    reason: str | None = None

    @classmethod
    def of(cls, actor: Actor | None, reason: str | None = None) -> Cause:
        if actor is None:
            return cls(ChangeSource.SERVER, None, reason)
        return cls(source_of(actor), actor.user_id, reason)

    def rule(self, reason: str) -> Cause:
        """A server rule's follow-on change inside this caller's transaction."""
        return Cause(ChangeSource.SERVER, self.by, reason)


SERVER_RULE = Cause(ChangeSource.SERVER)


def history_rows(
    history: Sequence[tuple[int, tuple[str, ...], Cause]], events: Sequence[ChangeEvent]
) -> list[dict[str, Any]]:
    rows = []
    for index, fields, cause in history:
        event = events[index]
        rows.append(
            {
                "entity": event.entity,
                "entity_id": event.entity_id,
                "version": event.version,
                "at": event.committed_at,
                "by_user": cause.by,
                "source": cause.source.value,
                "fields": [name for name in fields if name not in _BOOKKEEPING],
                "reason": cause.reason,
                "image": event.image,
            }
        )
    return rows


def insert_history(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(_INSERT, rows[0] if len(rows) == 1 else rows)


@dataclass(frozen=True, slots=True)
class Change:
    entity: str
    id: str
    version: int
    at: datetime
    by: str | None
    source: ChangeSource
    fields: tuple[str, ...]
    reason: str | None
    user_id: str  # whose row it is (for authorization)
    seq: int = 0  # the history's own order (commit order within one database)


def position_versions(engine: Engine, position_id: str) -> list[Position]:
    """Every version of a position, oldest first."""
    query = (
        select(row_history.c.image)
        .where(row_history.c.entity == "Position", row_history.c.entity_id == position_id)
        .order_by(row_history.c.version, row_history.c.seq)
    )
    with engine.connect() as conn:
        return [from_mapping(Position, image) for image in conn.execute(query).scalars()]


def changes_of(engine: Engine, entity_ids: Sequence[tuple[str, str]]) -> list[Change]:
    """Who or what made each version of the given (entity, id) rows, oldest first."""
    if not entity_ids:
        return []
    found: list[Change] = []
    with engine.connect() as conn:
        for entity, entity_id in entity_ids:
            query = (
                select(row_history)
                .where(row_history.c.entity == entity, row_history.c.entity_id == entity_id)
                .order_by(row_history.c.seq)
            )
            for row in conn.execute(query).mappings():
                found.append(
                    Change(
                        row["entity"],
                        row["entity_id"],
                        row["version"],
                        row["at"],
                        row["by_user"],
                        ChangeSource(row["source"]),
                        tuple(row["fields"]),
                        row["reason"],
                        str(row["image"].get("user_id", "")),
                        int(row["seq"]),
                    )
                )
    found.sort(key=lambda c: c.seq)
    return found
