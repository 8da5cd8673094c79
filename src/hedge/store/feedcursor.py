"""Follow the change feed from a cursor kept in the store, handling each batch exactly once.

The handler writes in the same transaction that moves the cursor, so a crash either keeps both
or neither. A cursor older than the feed's retention resumes at the oldest kept event (the
events in between are gone; the follower logs how many).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection, Engine

from hedge.store.feed import ChangeEvent, FeedGap, head_seq, read_events
from hedge.store.jobs import read_cursor, write_cursor, writing

log = logging.getLogger(__name__)

Handler = Callable[[Connection, list[ChangeEvent]], None]


def follow(
    engine: Engine, name: str, handle: Handler, *, start_at_head: bool = False, batch: int = 1000
) -> int:
    """Hand every event after the cursor `name` to `handle`; returns how many were handled."""
    with engine.connect() as conn:
        cursor = read_cursor(conn, name)
    if cursor is None:
        cursor = head_seq(engine) if start_at_head else 0
        with writing(engine) as conn:
            write_cursor(conn, name, cursor)
    handled = 0
    while True:
        try:
            events = read_events(engine, cursor, batch)
        except FeedGap as gap:
            log.warning(
                "%s: feed events %d..%d were pruned before it read them", name, cursor + 1, gap.oldest - 1
            )
            cursor = gap.oldest - 1
            continue
        if not events:
            return handled
        with writing(engine) as conn:
            handle(conn, events)
            write_cursor(conn, name, events[-1].seq)
        cursor = events[-1].seq
        handled += len(events)
        if len(events) < batch:
            return handled
