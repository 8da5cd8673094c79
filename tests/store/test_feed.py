"""The change feed: one event per committed change, in commit order, woken without polling."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from hedge.domain.clock import ManualClock
from hedge.domain.models import Position
from hedge.domain.rows import from_mapping
from hedge.store.feed import ChangeEvent, FeedGap, FeedSignal
from hedge.store.repository import Store

from .conftest import World, seed, wait_until


def test_feed_every_change_appends_event_with_its_image_and_increasing_seq(world: World) -> None:
    store = world.store
    head = store.signal.head
    _, position = world.entry()
    updated = store.update_position(world.client, position.id, {"memo": "first"})
    updated = store.update_position(world.client, position.id, {"memo": "second"})
    events = [e for e in store.read_changes(head) if e.entity == "Position"]
    assert [(e.op, e.version) for e in events] == [("INSERT", 1), ("UPDATE", 2), ("UPDATE", 3)]
    assert all(e.entity_id == position.id and e.user_id == world.client.user_id for e in events)
    assert from_mapping(Position, events[-1].image) == updated == store.get_position(position.id)
    seqs = [e.seq for e in store.read_changes(0)]
    assert seqs == sorted(set(seqs)) and store.signal.head == seqs[-1]


def test_feed_rejected_write_appends_no_event(world: World) -> None:
    store = world.store
    _, position = world.entry()
    head = store.signal.head
    with pytest.raises(Exception, match="cannot move from PENDING to CLOSED"):
        store.update_position(world.client, position.id, {"status": "CLOSED", "exit_price": "1"})
    assert store.read_changes(head) == []


def _woken_by_an_entry(waiting: Store, cursor: int, world: World) -> float:
    """Seconds from an entry committed through `world` until `waiting.wait_changes(cursor)`, already
    blocked in another thread, returns with it."""
    result: list[tuple[float, list[ChangeEvent]]] = []

    def wait() -> None:
        events = waiting.wait_changes(cursor, 10)
        result.append((time.monotonic(), events))

    thread = threading.Thread(target=wait)
    thread.start()
    wait_until(lambda: waiting.signal.waiters == 1)
    _, position = world.entry()
    committed = time.monotonic()
    thread.join(timeout=5)
    ((woke, events),) = result
    assert position.id in {e.entity_id for e in events}
    return woke - committed


def test_wait_changes_wakes_on_commit_from_another_thread_well_before_timeout(world: World) -> None:
    store = world.store
    assert _woken_by_an_entry(store, store.signal.head, world) < 0.5


def test_feed_signal_reader_with_moving_cursor_is_woken_only_by_commits_it_has_not_taken_in() -> None:
    signal = FeedSignal()
    applied = [0]  # the reader's cursor, moved by someone else (the broker's commit hook)
    checks_by_reader: list[int] = []
    result: list[bool] = []

    def cursor() -> int:
        if threading.current_thread() is reader:
            checks_by_reader.append(applied[0])
        return applied[0]

    reader = threading.Thread(target=lambda: result.append(signal.wait_beyond(cursor, 10)))
    reader.start()
    wait_until(lambda: signal.waiters == 1)
    applied[0] = 1
    signal.advance(1)  # taken in before it was announced: no wake-up
    signal.advance(2)  # not taken in: the reader wakes and sees it
    reader.join(timeout=5)
    assert result == [True] and signal.waiters == 0
    assert checks_by_reader == [0, 1]  # its first look, then the one wake-up for seq 2


def test_wait_changes_without_commit_returns_empty_after_timeout(world: World) -> None:
    started = time.monotonic()
    assert world.store.wait_changes(world.store.signal.head, timeout_s=0.2) == []
    assert time.monotonic() - started >= 0.2


@pytest.mark.postgres
def test_wait_changes_wakes_on_commit_of_a_second_store_via_listen_notify(postgres_url: str) -> None:
    first = Store(postgres_url)
    second = Store(postgres_url)  # its own engine and connections: another process as far as PG knows
    try:
        world = seed(second)
        cursor = first.read_changes(0)[-1].seq
        wait_until(lambda: first.signal.head == cursor)  # the seed's own notifications have arrived
        assert _woken_by_an_entry(first, cursor, world) < 1.0
    finally:
        first.close()
        second.close()


def test_feed_concurrent_writers_reader_sees_commit_order_without_gaps(world: World) -> None:
    store = world.store
    positions = [world.entry()[1] for _ in range(6)]
    start = store.signal.head
    writes_per_thread = 25
    barrier = threading.Barrier(len(positions) + 1)
    done = threading.Event()
    seen: list[ChangeEvent] = []
    errors: list[BaseException] = []

    def write(position_id: str) -> None:
        barrier.wait()
        try:
            for i in range(writes_per_thread):
                world.store.update_position(world.client, position_id, {"memo": f"m{i}"})
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        cursor = start
        while not (done.is_set() and store.signal.head == cursor):
            for event in store.wait_changes(cursor, timeout_s=0.05):
                seen.append(event)
                cursor = event.seq

    writers = [threading.Thread(target=write, args=(p.id,)) for p in positions]
    reader = threading.Thread(target=read)
    for thread in [*writers, reader]:
        thread.start()
    barrier.wait()
    for thread in writers:
        thread.join(timeout=60)
    done.set()
    reader.join(timeout=30)
    assert errors == []
    final = store.read_changes(start, limit=10_000)
    assert len(final) == len(positions) * writes_per_thread
    # the reader saw exactly what is there, in the same order: it never skipped a row that
    # became visible only after a later one
    assert [e.seq for e in seen] == [e.seq for e in final]
    for position in positions:
        versions = [e.version for e in seen if e.entity_id == position.id]
        assert versions == list(range(2, 2 + writes_per_thread))


def test_prune_changes_drops_events_older_than_retention(clocked_store: Store, clock: ManualClock) -> None:
    world = seed(clocked_store)
    store = world.store
    _, position = world.entry()
    old_head = store.signal.head
    clock.advance(timedelta(hours=25).total_seconds())
    store.update_position(world.client, position.id, {"memo": "fresh"})
    pruned = store.prune_changes()
    kept = store.read_changes(old_head)
    assert pruned == old_head and [e.entity_id for e in kept] == [position.id]
    assert store.prune_changes() == 0


def test_read_changes_cursor_older_than_oldest_kept_raises_feed_gap(
    clocked_store: Store, clock: ManualClock
) -> None:
    world = seed(clocked_store)
    store = world.store
    cursor = store.signal.head - 1  # has not seen the last seed event
    clock.advance(timedelta(hours=25).total_seconds())
    world.entry()
    store.prune_changes()
    with pytest.raises(FeedGap) as gap:
        store.read_changes(cursor)
    assert gap.value.cursor == cursor and gap.value.oldest > cursor + 1
    with pytest.raises(FeedGap):
        store.wait_changes(cursor, timeout_s=0.1)


def test_prune_changes_keeps_newest_event_so_an_old_cursor_still_sees_the_gap(
    clocked_store: Store, clock: ManualClock
) -> None:
    world = seed(clocked_store)
    store = world.store
    head = store.signal.head
    clock.advance(timedelta(days=3).total_seconds())
    store.prune_changes()
    assert [e.seq for e in store.read_changes(head - 1)] == [head]
    with pytest.raises(FeedGap):
        store.read_changes(1)
