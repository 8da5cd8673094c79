"""The 30 s batch (§7): account figures from the change feed into the downsampled history.

The agents push each account's figures (balance, credit, equity, margin) every 30 s; this job
reads those changes from the feed, from its own cursor, so the history costs the write path
nothing and misses no report while the server is up (or down for less than the feed's retention).
"""

from __future__ import annotations

from sqlalchemy import Connection

from hedge.domain.clock import Clock
from hedge.jobs.scheduler import Job
from hedge.store import snapshots
from hedge.store.feed import ChangeEvent
from hedge.store.feedcursor import follow
from hedge.store.jobs import writing
from hedge.store.repository import Store

CURSOR = "account-history"


def record_history(store: Store, clock: Clock) -> str:
    recorded = 0

    def handle(conn: Connection, events: list[ChangeEvent]) -> None:
        nonlocal recorded
        recorded += snapshots.record(conn, events)

    seen = follow(store.engine, CURSOR, handle)
    with writing(store.engine) as conn:
        pruned = snapshots.prune(conn, clock.now())
    return f"{seen} feed events read, {recorded} points written, {pruned} expired points removed"


def account_history_job(store: Store, interval_s: float) -> Job:
    return Job("account-history", lambda: record_history(store, store.clock), interval_s)
