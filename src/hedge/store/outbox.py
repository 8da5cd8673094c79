"""The alert delivery outbox: one row per (channel, raise or escalation or summary), sent once.

Rows are added in the transaction that moves the feeder's cursor (hedge.store.feedcursor), so
a restart neither loses nor repeats one; the unique (channel, dedupe_key) makes a second add of
the same delivery a no-op. A failed send is retried with exponential backoff, without end: an
alert is never dropped, and a channel that keeps failing shows as down in /metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hedge.store.job_tables import notify_outbox as outbox
from hedge.store.jobs import writing

PENDING, SENT = "PENDING", "SENT"
DOWN_AFTER_ATTEMPTS = 3  # a channel whose oldest waiting delivery failed this often is down
_SEVERITY_FIRST = case((outbox.c.severity == "CRITICAL", 0), (outbox.c.severity == "WARNING", 1), else_=2)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    channel: str
    dedupe_key: str
    event: str
    severity: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    channel: str
    pending: int
    failing_attempts: int  # the most attempts of a waiting delivery
    last_error: str | None
    sent: int

    @property
    def up(self) -> bool:
        return self.failing_attempts < DOWN_AFTER_ATTEMPTS


def enqueue(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> None:
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    values = [{**r, "state": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now} for r in rows]
    conn.execute(
        dialect.insert(outbox).on_conflict_do_nothing(index_elements=["channel", "dedupe_key"]), values
    )


def enqueue_now(engine: Engine, rows: list[dict[str, Any]], now: datetime) -> None:
    with writing(engine) as conn:
        enqueue(conn, rows, now)


def due(engine: Engine, now: datetime, limit: int = 50) -> list[Delivery]:
    """Waiting deliveries whose time has come, CRITICAL first, then oldest first."""
    query = (
        select(outbox)
        .where(outbox.c.state == PENDING, outbox.c.next_attempt_at <= now)
        .order_by(_SEVERITY_FIRST, outbox.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [
            Delivery(
                r["id"], r["channel"], r["dedupe_key"], r["event"], r["severity"], r["payload"], r["attempts"]
            )
            for r in conn.execute(query).mappings()
        ]


def next_attempt(engine: Engine) -> datetime | None:
    with engine.connect() as conn:
        return conn.execute(
            select(func.min(outbox.c.next_attempt_at)).where(outbox.c.state == PENDING)
        ).scalar()


def sent(engine: Engine, delivery_id: int, now: datetime) -> None:
    with writing(engine) as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.id == delivery_id)
            .values(state=SENT, sent_at=now, attempts=outbox.c.attempts + 1, last_error=None)
        )


def failed(
    engine: Engine, delivery: Delivery, error: str, now: datetime, max_backoff_s: float = 300.0
) -> None:
    backoff = min(2.0**delivery.attempts * 0.5, max_backoff_s)  # 0.5, 1, 2, 4 ... 300 s
    with writing(engine) as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.id == delivery.id)
            .values(
                attempts=outbox.c.attempts + 1,
                last_error=error[:1000],
                next_attempt_at=now + timedelta(seconds=backoff),
            )
        )


def health(engine: Engine) -> list[ChannelHealth]:
    waiting = (
        select(
            outbox.c.channel,
            func.count().label("pending"),
            func.max(outbox.c.attempts).label("attempts"),
        )
        .where(outbox.c.state == PENDING)
        .group_by(outbox.c.channel)
    )
    done = (
        select(outbox.c.channel, func.count().label("sent"))
        .where(outbox.c.state == SENT)
        .group_by(outbox.c.channel)
    )
    errors = (
        select(outbox.c.channel, outbox.c.last_error)
        .where(outbox.c.state == PENDING, outbox.c.last_error.is_not(None))
        .order_by(outbox.c.id.desc())
    )
    with engine.connect() as conn:
        pending = {r.channel: (int(r.pending), int(r.attempts)) for r in conn.execute(waiting)}
        sent_counts = {r.channel: int(r.sent) for r in conn.execute(done)}
        last_errors: dict[str, str] = {}
        for r in conn.execute(errors):
            last_errors.setdefault(r.channel, r.last_error)
    names = sorted(set(pending) | set(sent_counts))
    return [
        ChannelHealth(
            n, pending.get(n, (0, 0))[0], pending.get(n, (0, 0))[1], last_errors.get(n), sent_counts.get(n, 0)
        )
        for n in names
    ]


def deliveries(engine: Engine) -> list[dict[str, Any]]:
    """Every row (tests and diagnostics)."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(outbox).order_by(outbox.c.id)).mappings()]
