"""Account snapshot history: each account's figures, downsampled as they arrive.

Two series per account: one point per 30 s, kept a day, and one per 5 min, kept 90 days. Each
point is the latest report inside its bucket (a later report in the same bucket replaces it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from hedge.store.feed import ChangeEvent
from hedge.store.job_tables import account_snapshots as snaps

FIGURES = ("balance", "credit", "equity", "margin", "margin_level")
# (bucket width, how long its points are kept)
SERIES: tuple[tuple[int, timedelta], ...] = ((30, timedelta(days=1)), (300, timedelta(days=90)))


@dataclass(frozen=True, slots=True)
class Snapshot:
    account_id: str
    user_id: str
    at: datetime  # the start of the bucket
    resolution_s: int
    balance: Decimal | None
    credit: Decimal | None
    equity: Decimal | None
    margin: Decimal | None
    margin_level: Decimal | None


def bucket(moment: datetime, width_s: int) -> datetime:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % width_s, UTC)


@functools.cache
def _upsert(dialect_name: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE (latest report wins), built once per dialect."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(snaps)
    return statement.on_conflict_do_update(
        index_elements=["account_id", "resolution_s", "bucket_at"],
        set_={name: statement.excluded[name] for name in ("at", *FIGURES)},
        where=statement.excluded.at >= snaps.c.at,
    )


def record(conn: Connection, events: list[ChangeEvent]) -> int:
    """Add the figures of the Account changes among `events` to the history; returns how many."""
    latest: dict[tuple[str, int, datetime], dict[str, Any]] = {}
    for event in events:
        if event.entity != "Account" or (
            event.image.get("equity") is None and event.image.get("balance") is None
        ):
            continue
        figures = {name: _decimal(event.image.get(name)) for name in FIGURES}
        for width, _kept in SERIES:
            key = (event.entity_id, width, bucket(event.committed_at, width))
            latest[key] = {
                "account_id": event.entity_id,
                "resolution_s": width,
                "bucket_at": key[2],
                "user_id": event.user_id,
                "at": event.committed_at,
                **figures,
            }
    if latest:  # one statement for the whole batch (each key once: the latest report of its bucket)
        conn.execute(_upsert(conn.dialect.name), list(latest.values()))
    return len(latest)


def prune(conn: Connection, now: datetime) -> int:
    expired = or_(
        *(and_(snaps.c.resolution_s == width, snaps.c.bucket_at < now - kept) for width, kept in SERIES)
    )
    return int(conn.execute(delete(snaps).where(expired)).rowcount)


def history(engine: Engine, account_id: str, since: datetime, now: datetime) -> list[Snapshot]:
    """The account's points since `since`: 5-minute points up to a day ago, then 30 s points."""
    fine_from = max(since, now - SERIES[0][1])
    query = (
        select(snaps)
        .where(
            snaps.c.account_id == account_id,
            or_(
                and_(snaps.c.resolution_s == 30, snaps.c.bucket_at >= fine_from),
                and_(snaps.c.resolution_s == 300, snaps.c.bucket_at >= since, snaps.c.bucket_at < fine_from),
            ),
        )
        .order_by(snaps.c.bucket_at)
    )
    with engine.connect() as conn:
        return [
            Snapshot(
                r["account_id"],
                r["user_id"],
                r["bucket_at"],
                r["resolution_s"],
                *(r[name] for name in FIGURES),
            )
            for r in conn.execute(query).mappings()
        ]


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))
