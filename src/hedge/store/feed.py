"""The change feed (the seed's DynamoDB Streams): every committed change, in commit order.

Writers append events inside their own transaction (store.repository). Readers ask for the
events after a cursor and wait for more without a sleep loop: an in-process wake-up after each
local commit, and on PostgreSQL a LISTEN connection that hears every process's commits.
"""

from __future__ import annotations

import logging
import select as io_select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine, func, select

from hedge.domain.errors import DomainError
from hedge.store.engine import is_postgres
from hedge.store.tables import changes

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "hedge_changes"
# Serialises feed appends on PostgreSQL so that sequence order is commit order.
FEED_LOCK_KEY = 7_264_113_001


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One committed change of one row: its new image after the change."""

    seq: int
    entity: str  # User | Account | Position | Action
    op: str  # INSERT | UPDATE
    entity_id: str
    user_id: str
    version: int
    image: dict[str, Any]
    committed_at: datetime


class FeedGap(DomainError):
    """The reader's cursor is older than the retained feed: it must reload full state."""

    code = "FEED_GAP"

    def __init__(self, cursor: int, oldest: int) -> None:
        super().__init__(f"change feed cursor {cursor} is older than the oldest kept event {oldest}")
        self.cursor = cursor
        self.oldest = oldest


class FeedSignal:
    """The newest sequence number this process knows of, and a wake-up for waiting readers.

    A reader may wait with a cursor it keeps moving itself (a callable): a commit whose events
    that reader already took in (the broker's commit hook applies its own process's commits
    before the signal advances) then wakes nobody, instead of waking the reader to find nothing
    new: one thread switch less per commit."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._head = 0
        self._cursors: list[Callable[[], int]] = []  # one per blocked reader

    @property
    def head(self) -> int:
        return self._head

    @property
    def waiters(self) -> int:
        """How many readers are blocked in `wait_beyond` right now (for tests and metrics)."""
        return len(self._cursors)

    def advance(self, seq: int) -> None:
        with self._condition:
            if seq > self._head:
                self._head = seq
                if any(cursor() < seq for cursor in self._cursors):
                    self._condition.notify_all()

    def wake(self) -> None:
        """Wake every blocked reader to read its cursor again (a stopping reader's cursor says so)."""
        with self._condition:
            self._condition.notify_all()

    def wait_beyond(self, cursor: int | Callable[[], int], timeout_s: float) -> bool:
        """Wait until something after `cursor` is known, or the timeout; True if it is.

        `cursor` is a number, or a callable read again on every wake-up and commit."""
        current = cursor if callable(cursor) else (lambda: cursor)
        with self._condition:
            self._cursors.append(current)
            try:
                return self._condition.wait_for(lambda: self._head > current(), timeout=timeout_s)
            finally:
                self._cursors.remove(current)


def read_events(
    engine: Engine, after_seq: int, limit: int = 1000, *, strict: bool = False
) -> list[ChangeEvent]:
    """The committed events after `after_seq`, oldest first; FeedGap if some were pruned.

    `strict`: a cursor of 0 (taken from an empty feed) is checked too, as a client's resume
    cursor must be; the server's own tail starts from 0 on a pruned feed without complaint.
    """
    with engine.connect() as conn:
        rows = conn.execute(
            select(changes).where(changes.c.seq > after_seq).order_by(changes.c.seq).limit(limit)
        ).all()
        if (after_seq > 0 or strict) and (not rows or rows[0].seq != after_seq + 1):
            oldest = conn.execute(select(func.min(changes.c.seq))).scalar()
            if oldest is not None and oldest > after_seq + 1:
                raise FeedGap(after_seq, oldest)
    return [
        ChangeEvent(r.seq, r.entity, r.op, r.entity_id, r.user_id, r.version, r.image, r.committed_at)
        for r in rows
    ]


def head_seq(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(changes.c.seq), 0))).scalar_one())


class PgListener:
    """A thread holding `LISTEN hedge_changes` that advances the FeedSignal on every commit."""

    def __init__(self, dsn: str, signal: FeedSignal, on_error: Callable[[Exception], None] | None = None):
        self._dsn = dsn
        self._signal = signal
        self._stop = threading.Event()
        self._on_error = on_error
        self._thread = threading.Thread(target=self._run, name="pg-feed-listener", daemon=True)
        # stop() writes a byte here so the listener leaves its select() at once
        self._wake_read, self._wake_write = socket.socketpair()
        self.ready = threading.Event()

    def start(self) -> None:
        self._thread.start()
        self.ready.wait(10)

    def stop(self) -> None:
        self._stop.set()
        self._wake_write.send(b"x")
        self._thread.join(timeout=5)
        self._wake_read.close()
        self._wake_write.close()

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    # a commit may have happened before LISTEN: catch up on the head first
                    head = conn.execute(f"SELECT coalesce(max(seq), 0) FROM {changes.name}").fetchone()
                    self._signal.advance(int(head[0]) if head else 0)
                    self.ready.set()
                    backoff = 0.1
                    while not self._stop.is_set():
                        wake = self._wake_read.fileno()
                        readable, _, _ = io_select.select([conn.fileno(), wake], [], [], 30.0)
                        if wake in readable:
                            break
                        # the socket has data: take the notifications it holds without waiting
                        for notify in conn.notifies(timeout=0):
                            self._signal.advance(int(notify.payload))
                        if not readable:  # a quiet half minute: prove the connection still works
                            conn.execute("SELECT 1")
            except (psycopg.Error, ValueError) as exc:
                log.warning("change-feed listener lost its connection (%s); reconnecting", exc)
                if self._on_error is not None:
                    self._on_error(exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)


def listener_dsn(engine: Engine) -> str | None:
    """A libpq connection string for the engine's database, or None when it is not PostgreSQL."""
    if not is_postgres(engine):
        return None
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)
