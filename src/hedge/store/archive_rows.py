"""The archive's store side: which rows may go, the batch records, and the final delete.

A position may be archived when it is final (CLOSED, STOPPED, CANCELED), unchanged for the
archive age, and every action of it is final and as old. Its actions go with it, and so does the
row history (hedge.store.history) of both: every version of each row leaves with the row, in the
transaction that deletes it, and only if nothing changed since the file was read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, or_, select, update

from hedge.domain.models import Action, Position
from hedge.domain.rows import from_mapping
from hedge.domain.transitions import FINAL_ACTION_STATES, FINAL_POSITION_STATES
from hedge.store.job_tables import archive_batches as batches
from hedge.store.jobs import writing
from hedge.store.tables import actions, positions, row_history

PLANNED, WRITTEN, VERIFIED, DELETED, ABANDONED = "PLANNED", "WRITTEN", "VERIFIED", "DELETED", "ABANDONED"


@dataclass(frozen=True, slots=True)
class Batch:
    id: str
    cutoff: datetime
    state: str
    location: str  # the object's key in the archive store
    position_ids: tuple[str, ...]
    action_ids: tuple[str, ...]


def candidates(engine: Engine, cutoff: datetime, limit: int) -> tuple[list[Position], list[Action]]:
    """Up to `limit` archivable positions (oldest first) with all their actions."""
    final_positions = [s.value for s in FINAL_POSITION_STATES]
    final_actions = [s.value for s in FINAL_ACTION_STATES]
    blocking = select(actions.c.position_id).where(
        (actions.c.status.not_in(final_actions)) | (actions.c.updated_at >= cutoff)
    )
    query = (
        select(positions)
        .where(
            positions.c.status.in_(final_positions),
            positions.c.updated_at < cutoff,
            positions.c.id.not_in(blocking),
        )
        .order_by(positions.c.updated_at, positions.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        found = [from_mapping(Position, r) for r in conn.execute(query).mappings()]
        ids = [p.id for p in found]
        rows = conn.execute(
            select(actions).where(actions.c.position_id.in_(ids)).order_by(actions.c.id)
        ).mappings()
        return found, [from_mapping(Action, r) for r in rows]


@dataclass(frozen=True, slots=True)
class BatchRows:
    """What a batch holds in the hot tables: its positions, their actions, and the history rows
    of both (each a mapping of the row_history columns, in `seq` order)."""

    positions: list[Position]
    actions: list[Action]
    history: list[dict[str, Any]]

    def complete_for(self, batch: Batch) -> bool:
        return len(self.positions) == len(batch.position_ids) and len(self.actions) == len(batch.action_ids)


def rows_of(engine: Engine, batch: Batch) -> BatchRows:
    with engine.connect() as conn:
        return _read(conn, batch)


def _read(conn: Connection, batch: Batch, *, lock: bool = False) -> BatchRows:
    def query(table: Any) -> Any:
        ids = batch.position_ids if table is positions else batch.action_ids
        chosen = select(table).where(table.c.id.in_(ids)).order_by(table.c.id)
        return chosen.with_for_update() if lock else chosen  # PostgreSQL: writers wait for the delete

    ps = [from_mapping(Position, r) for r in conn.execute(query(positions)).mappings()]
    acts = [from_mapping(Action, r) for r in conn.execute(query(actions)).mappings()]
    history = conn.execute(select(row_history).where(_history_of(batch)).order_by(row_history.c.seq))
    return BatchRows(ps, acts, [dict(r) for r in history.mappings()])


def _history_of(batch: Batch) -> Any:
    return or_(
        and_(row_history.c.entity == "Position", row_history.c.entity_id.in_(batch.position_ids)),
        and_(row_history.c.entity == "Action", row_history.c.entity_id.in_(batch.action_ids)),
    )


def plan(engine: Engine, batch: Batch, now: datetime) -> None:
    with writing(engine) as conn:
        conn.execute(
            insert(batches).values(
                id=batch.id, cutoff=batch.cutoff, state=PLANNED, location=batch.location,
                position_ids=list(batch.position_ids), action_ids=list(batch.action_ids),
                rows=len(batch.position_ids) + len(batch.action_ids), created_at=now, updated_at=now,
            )
        )  # fmt: skip


def move(engine: Engine, batch_id: str, state: str, now: datetime) -> None:
    with writing(engine) as conn:
        conn.execute(update(batches).where(batches.c.id == batch_id).values(state=state, updated_at=now))


def delete_rows(engine: Engine, batch: Batch, verified: BatchRows, now: datetime) -> int | None:
    """Delete the batch's rows and their history from the hot tables and mark it DELETED, in one
    transaction, if they are still exactly the `verified` rows (the ones read back from the file);
    otherwise delete nothing and return None (the caller verifies the batch again)."""
    with writing(engine) as conn:
        if _read(conn, batch, lock=True) != verified:
            return None
        gone = conn.execute(delete(row_history).where(_history_of(batch))).rowcount
        gone += conn.execute(delete(actions).where(actions.c.id.in_(batch.action_ids))).rowcount
        gone += conn.execute(delete(positions).where(positions.c.id.in_(batch.position_ids))).rowcount
        conn.execute(update(batches).where(batches.c.id == batch.id).values(state=DELETED, updated_at=now))
    return int(gone)


def unfinished(engine: Engine) -> list[Batch]:
    query = select(batches).where(batches.c.state.in_((PLANNED, WRITTEN, VERIFIED))).order_by(batches.c.id)
    with engine.connect() as conn:
        return [_batch(r) for r in conn.execute(query).mappings()]


def all_batches(engine: Engine) -> list[Batch]:
    with engine.connect() as conn:
        return [_batch(r) for r in conn.execute(select(batches).order_by(batches.c.id)).mappings()]


def _batch(row: Any) -> Batch:
    return Batch(row["id"], row["cutoff"], row["state"], row["location"], tuple(row["position_ids"]),
                 tuple(row["action_ids"]))  # fmt: skip
