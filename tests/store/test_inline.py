"""Inline writes (hedge.store.inline): a short write runs in the caller's thread when the writer
is free, and gives up with nothing written when it would have to wait."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hedge.domain.errors import Conflict
from hedge.domain.models import Position
from hedge.store.checkpoint import restarts_wal
from hedge.store.inline import WriterBusy, is_short_write
from hedge.store.repository import Store

from .conftest import World, row_counts, seed


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'hedge.db'}")
    assert opened.checkpointer is not None
    opened.checkpointer.stop()  # checkpoints run when a test makes one, not every second
    yield opened
    opened.close()


@pytest.fixture
def inline_world(sqlite_store: Store) -> World:
    return seed(sqlite_store)


def _opening(world: World) -> tuple[Position, dict[str, str]]:
    _, position = world.entry()
    return position, {"status": "OPENING"}


def test_run_inline_with_the_writer_free_commits_in_the_calling_thread(inline_world: World) -> None:
    store = inline_world.store
    position, changes = _opening(inline_world)
    threads: list[int] = []
    store.add_commit_hook(lambda _events: threads.append(threading.get_ident()))

    moved = store.run_inline(store.update_position, inline_world.agent(position), position.id, changes)

    assert moved.status.value == "OPENING"
    assert store.get_position(position.id) == moved
    assert threads == [threading.get_ident()]


def test_run_inline_while_another_thread_holds_the_writer_raises_writer_busy_and_writes_nothing(
    inline_world: World,
) -> None:
    store = inline_world.store
    position, changes = _opening(inline_world)
    before = row_counts(store)
    held, release = threading.Event(), threading.Event()

    def hold_writer() -> None:
        with store.transaction():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_writer)
    holder.start()
    held.wait(10)
    try:
        with pytest.raises(WriterBusy):
            store.run_inline(store.update_position, inline_world.agent(position), position.id, changes)
    finally:
        release.set()
        holder.join(10)

    assert row_counts(store) == before
    assert store.get_position(position.id) == position


def test_run_inline_while_another_connection_locks_the_file_raises_writer_busy_at_once(
    inline_world: World, tmp_path: Path
) -> None:
    store = inline_world.store
    position, changes = _opening(inline_world)
    other = sqlite3.connect(tmp_path / "hedge.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer of the file (a job, another process)
    try:
        with pytest.raises(WriterBusy):
            store.run_inline(store.update_position, inline_world.agent(position), position.id, changes)
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert store.get_position(position.id) == position
    # the connection waits again as before: the same call in a thread commits
    assert store.update_position(inline_world.agent(position), position.id, changes).status.value == "OPENING"


def test_run_inline_refused_write_raises_the_domain_error_and_leaves_the_writer_free(
    inline_world: World,
) -> None:
    store = inline_world.store
    position, changes = _opening(inline_world)

    with pytest.raises(Conflict):
        store.run_inline(store.update_position, inline_world.agent(position), position.id, changes, 99)

    moved = store.run_inline(store.update_position, inline_world.agent(position), position.id, changes)
    assert moved.status.value == "OPENING"


def test_run_inline_on_postgres_raises_writer_busy_before_running(postgres_url: str) -> None:
    store = Store(postgres_url)
    try:
        world = seed(store)
        position, changes = _opening(world)
        with pytest.raises(WriterBusy):
            store.run_inline(store.update_position, world.agent(position), position.id, changes)
        assert store.get_position(position.id) == position
    finally:
        store.close()


def test_hedge_path_writes_are_marked_short_and_reads_are_not(sqlite_store: Store) -> None:
    for write in (
        sqlite_store.update_position,
        sqlite_store.update_action,
        sqlite_store.trigger_actions,
        sqlite_store.create_action,
        sqlite_store.update_account,
    ):
        assert is_short_write(write), write.__name__
    assert not is_short_write(sqlite_store.list_positions)
    assert not is_short_write(sqlite_store.get_position)


def test_a_checkpoint_that_copied_every_frame_back_means_the_next_write_starts_the_wal_over() -> None:
    assert restarts_wal(busy=0, log_frames=12, checkpointed=12)
    assert not restarts_wal(busy=0, log_frames=12, checkpointed=5)  # readers held some back
    assert not restarts_wal(busy=1, log_frames=12, checkpointed=12)
    assert not restarts_wal(busy=0, log_frames=0, checkpointed=0)  # nothing written since


def test_the_write_that_starts_the_wal_over_is_left_to_a_worker_thread_with_nothing_written(
    inline_world: World,
) -> None:
    store = inline_world.store
    assert store.checkpointer is not None
    position, changes = _opening(inline_world)
    store.checkpointer.checkpoint()  # the WAL copied back whole: the next write syncs a new header
    assert store.checkpointer.wal_restart_due
    before = row_counts(store)

    with pytest.raises(WriterBusy):
        store.run_inline(store.update_position, inline_world.agent(position), position.id, changes)
    assert row_counts(store) == before

    # the same call where it waits (a worker thread) starts the WAL over; the next runs inline again
    assert store.update_position(inline_world.agent(position), position.id, changes).status.value == "OPENING"
    assert not store.checkpointer.wal_restart_due
    other, _ = _opening(inline_world)
    threads: list[int] = []
    store.add_commit_hook(lambda _events: threads.append(threading.get_ident()))
    moved = store.run_inline(store.update_position, inline_world.agent(other), other.id, changes)
    assert moved.status.value == "OPENING"
    assert threads == [threading.get_ident()]
