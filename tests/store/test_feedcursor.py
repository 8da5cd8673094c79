"""Following the change feed from a cursor kept in the store (hedge.store.feedcursor), on both
engines: each event handled once across runs, in batches, the cursor moved in the handler's own
transaction, and a cursor older than the retained feed resumed at the oldest kept event."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Connection, delete, select
from tests.store.conftest import World

from hedge.store.feed import ChangeEvent, head_seq
from hedge.store.feedcursor import follow
from hedge.store.jobs import read_cursor
from hedge.store.tables import changes


class Seen:
    """A handler that keeps the seq of each event it was given, batch by batch."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.fail = fail

    def __call__(self, conn: Connection, events: list[ChangeEvent]) -> None:
        self.batches.append([event.seq for event in events])
        if self.fail:
            raise RuntimeError("the handler failed")

    @property
    def seqs(self) -> list[int]:
        return [seq for batch in self.batches for seq in batch]


def _cursor(world: World, name: str) -> int | None:
    with world.store.engine.connect() as conn:
        return read_cursor(conn, name)


def test_follow_hands_every_event_once_and_a_second_run_only_the_new_ones(world: World) -> None:
    engine, seen = world.store.engine, Seen()
    first = follow(engine, "t", seen)
    assert seen.seqs == list(range(1, head_seq(engine) + 1))  # the seed's events, in order
    world.entry()
    second = follow(engine, "t", seen)
    assert second == head_seq(engine) - first > 0
    assert seen.seqs == list(range(1, head_seq(engine) + 1))  # nothing twice
    assert follow(engine, "t", seen) == 0 and _cursor(world, "t") == head_seq(engine)


def test_follow_from_the_head_skips_what_came_before_its_first_run(world: World) -> None:
    engine, seen = world.store.engine, Seen()
    assert follow(engine, "late", seen, start_at_head=True) == 0 and seen.batches == []
    before = head_seq(engine)
    world.entry()
    follow(engine, "late", seen, start_at_head=True)
    assert seen.seqs and min(seen.seqs) == before + 1


def test_follow_hands_events_in_batches_of_at_most_batch(world: World) -> None:
    engine, seen = world.store.engine, Seen()
    total = follow(engine, "small", seen, batch=2)
    assert total == head_seq(engine) and all(len(b) <= 2 for b in seen.batches)
    assert len(seen.batches) == (total + 1) // 2


def test_a_failing_handler_leaves_the_cursor_where_it_was(world: World) -> None:
    engine = world.store.engine
    follow(engine, "t", Seen())
    kept = _cursor(world, "t")
    assert kept is not None
    world.entry()
    with pytest.raises(RuntimeError, match="the handler failed"):
        follow(engine, "t", Seen(fail=True))
    assert _cursor(world, "t") == kept
    retried = Seen()
    follow(engine, "t", retried)
    assert retried.seqs and min(retried.seqs) == kept + 1  # handed again: nothing was lost


def test_a_cursor_older_than_the_kept_feed_resumes_at_the_oldest_event_and_says_so(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    engine = world.store.engine
    follow(engine, "slow", Seen())
    kept = _cursor(world, "slow")
    assert kept is not None
    for _ in range(3):
        world.entry()
    with world.store.engine.begin() as conn:  # retention pruned what the follower had not read yet
        conn.execute(delete(changes).where(changes.c.seq <= kept + 2))
        oldest = conn.execute(select(changes.c.seq).order_by(changes.c.seq).limit(1)).scalar_one()
    seen = Seen()
    with caplog.at_level(logging.WARNING, logger="hedge.store.feedcursor"):
        follow(engine, "slow", seen)
    assert seen.seqs[0] == oldest and seen.seqs[-1] == head_seq(engine)
    assert f"slow: feed events {kept + 1}..{oldest - 1} were pruned before it read them" in caplog.text
