"""One write transaction: typed row access with version checks, and the change events it adds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, insert, select, text, update

from hedge.domain.errors import Conflict, NotFound
from hedge.domain.models import Account, Action, Position, User
from hedge.store.codec import Entity, entity_name, from_mapping, to_image, to_row
from hedge.store.feed import FEED_LOCK_KEY, NOTIFY_CHANNEL
from hedge.store.tables import accounts, actions, changes, positions, users

T = TypeVar("T", User, Account, Position, Action)

TABLES: dict[type[Any], Table] = {User: users, Account: accounts, Position: positions, Action: actions}


@dataclass
class Unit:
    """The work of one transaction. Entities read here are locked FOR UPDATE on PostgreSQL."""

    conn: Connection
    now: datetime
    postgres: bool
    events: list[tuple[Entity, str]] = field(default_factory=list)
    last_seq: int = 0

    def get(self, cls: type[T], entity_id: str, *, lock: bool = True) -> T | None:
        table = TABLES[cls]
        query = select(table).where(table.c.id == entity_id)
        if lock and self.postgres:
            query = query.with_for_update()
        row = self.conn.execute(query).mappings().first()
        return None if row is None else from_mapping(cls, row)

    def require(self, cls: type[T], entity_id: str, *, lock: bool = True) -> T:
        found = self.get(cls, entity_id, lock=lock)
        if found is None:
            raise NotFound(cls.__name__, entity_id)
        return found

    def get_many(self, cls: type[T], ids: Sequence[str]) -> dict[str, T]:
        """Rows by id, locked in id order (a fixed order, so two writers cannot deadlock)."""
        if not ids:
            return {}
        table = TABLES[cls]
        query = select(table).where(table.c.id.in_(sorted(set(ids)))).order_by(table.c.id)
        if self.postgres:
            query = query.with_for_update()
        return {row["id"]: from_mapping(cls, row) for row in self.conn.execute(query).mappings()}

    def insert(self, entity: Entity, **extra: Any) -> None:
        self.conn.execute(insert(TABLES[type(entity)]).values(**to_row(entity), **extra))
        self.events.append((entity, "INSERT"))

    def update(self, before: T, after: T) -> T:
        """Write `after` if the row is still at `before.version`; Conflict otherwise."""
        if after is before:
            return after
        table = TABLES[type(after)]
        values = to_row(after)
        del values["id"]
        result = self.conn.execute(
            update(table).where(table.c.id == before.id, table.c.version == before.version).values(**values)
        )
        if result.rowcount != 1:
            current = self.get(type(before), before.id, lock=False)
            raise Conflict(
                entity_name(before), before.id, before.version, None if current is None else current.version
            )
        self.events.append((after, "UPDATE"))
        return after

    def flush_events(self) -> None:
        """Append this transaction's changes to the feed, in the same transaction."""
        if not self.events:
            return
        if self.postgres:
            # Held until commit: sequence numbers are then taken in commit order.
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK_KEY})
        rows = [
            {
                "entity": entity_name(entity),
                "op": op,
                "entity_id": entity.id,
                "user_id": entity.id if isinstance(entity, User) else entity.user_id,
                "version": entity.version,
                "image": to_image(entity),
                "committed_at": self.now,
            }
            for entity, op in self.events
        ]
        for row in rows:
            self.last_seq = int(self.conn.execute(insert(changes).returning(changes.c.seq), row).scalar_one())
        if self.postgres:
            self.conn.execute(
                text("SELECT pg_notify(:channel, :seq)"),
                {"channel": NOTIFY_CHANNEL, "seq": str(self.last_seq)},
            )
