"""The change broker delivers each committed change once, in feed order, from either path:
the commit hook of this process, or the feed read (other processes' commits)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, cast

import pytest
import pytest_asyncio

from hedge.api.broker import ChangeBroker
from hedge.api.cache import EntityCache
from hedge.api.metrics import Metrics
from hedge.domain.creation import EntryRequest
from hedge.store.feed import ChangeEvent
from hedge.store.repository import Store

from .broker_reads import count_feed_reads


@pytest_asyncio.fixture
async def broker(sqlite_url: str) -> AsyncIterator[tuple[ChangeBroker, Store]]:
    store = Store(sqlite_url)
    metrics = Metrics()
    made = ChangeBroker(store, EntityCache(store, metrics), metrics)
    made.start()
    yield made, store
    made.stop()
    store.close()


def _plan_entry(store: Store) -> str:
    user, _ = store.create_user("a@b.io", "A", "CLIENT")
    account = store.create_account(user.id, "MT5", "1", "S", "main")
    store.create_action(user.id, account.id, "ENTRY", entry=EntryRequest("USDJPY", "BUY", "0.1"))
    return user.id


async def _drain(queue: asyncio.Queue[Any]) -> list[object]:
    got: list[object] = []
    while True:
        try:
            got.append(await asyncio.wait_for(queue.get(), 0.3))
        except TimeoutError:
            return got


async def test_commit_is_delivered_once_though_both_paths_see_it(broker: tuple[ChangeBroker, Store]) -> None:
    made, store = broker
    async with made.subscribe("Position", "INSERT", None) as sub:
        _plan_entry(store)
        delivered = await _drain(sub.queue)
    assert len(delivered) == 1


async def test_events_after_a_gap_wait_for_the_missing_one(broker: tuple[ChangeBroker, Store]) -> None:
    made, store = broker
    made.stop()  # only the paths driven by hand below
    user_id = _plan_entry(store)
    events = store.read_changes(made.delivered)
    positions = [e for e in events if e.entity == "Position"]
    assert positions, "the entry made a position"
    first = made.delivered + 1
    later = [replace(e, seq=e.seq + 100) for e in positions]  # as if seq first..+99 were elsewhere
    async with made.subscribe("Position", "INSERT", user_id) as sub:
        made._deliver_if_next(later)  # not next in line: held back
        assert sub.queue.empty()
        made._dispatch([*events, *later])  # the feed read delivers everything, in order
        made._dispatch(events)  # a repeat delivers nothing
        delivered = await _drain(sub.queue)
    assert events[0].seq == first
    assert len(delivered) == 2


async def test_own_commits_are_announced_by_the_hook_and_not_read_back(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(sqlite_url)
    reads = count_feed_reads(store, monkeypatch)
    metrics = Metrics()
    made = ChangeBroker(store, EntityCache(store, metrics), metrics)
    made.start()
    try:
        async with made.subscribe("User", "INSERT", None) as sub:
            for n in range(5):
                await asyncio.to_thread(store.create_user, f"own{n}@b.io", "Own", "CLIENT")
            delivered = cast(list[tuple[int, Any]], await _drain(sub.queue))
        assert [seq for seq, _ in delivered] == sorted(seq for seq, _ in delivered)
        assert len(delivered) == 5
        assert made.cursor == store.signal.head
        assert reads == []  # the tail thread read none of them back
    finally:
        made.stop()
        store.close()


async def test_own_commits_whose_notify_comes_before_the_hook_are_not_read_back(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(sqlite_url)
    reads = count_feed_reads(store, monkeypatch)

    def notify_first(events: list[ChangeEvent]) -> None:
        # what PostgreSQL's NOTIFY does: the listener advances the signal as soon as the commit
        # is made, before this process's commit hook has applied it, and the tail may run
        store.signal.advance(events[-1].seq)
        time.sleep(0.05)

    store.add_commit_hook(notify_first)  # ahead of the broker's own hook
    metrics = Metrics()
    made = ChangeBroker(store, EntityCache(store, metrics), metrics)
    made.start()
    try:
        async with made.subscribe("User", "INSERT", None) as sub:
            for n in range(3):
                await asyncio.to_thread(store.create_user, f"early{n}@b.io", "Early", "CLIENT")
            delivered = cast(list[tuple[int, Any]], await _drain(sub.queue))
        assert len(delivered) == 3
        assert [seq for seq, _ in delivered] == sorted(seq for seq, _ in delivered)
        assert made.cursor == store.signal.head
        assert reads == []  # claimed before the commit: the tail thread did not wake to read them
    finally:
        made.stop()
        store.close()


async def test_own_commit_after_another_processes_waits_for_it_and_both_arrive_in_order(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hedge.api.broker.IDLE_WAIT_S", 30.0)  # only the gap makes the tail read
    store, other = Store(sqlite_url), Store(sqlite_url)  # `other`: a second process's store
    metrics = Metrics()
    made = ChangeBroker(store, EntityCache(store, metrics), metrics)
    made.start()
    try:
        async with made.subscribe("User", "INSERT", None) as sub:
            foreign, _ = await asyncio.to_thread(other.create_user, "elsewhere@b.io", "Elsewhere", "CLIENT")
            own, _ = await asyncio.to_thread(store.create_user, "here@b.io", "Here", "CLIENT")
            delivered = cast(list[tuple[int, Any]], await _drain(sub.queue))
        assert [value.id for _, value in delivered] == [foreign.id, own.id]
        assert made.cursor == store.signal.head
    finally:
        made.stop()
        other.close()
        store.close()


async def test_event_reaches_its_users_and_every_user_subscriptions_only(
    broker: tuple[ChangeBroker, Store],
) -> None:
    made, store = broker
    made.stop()  # delivered by hand below
    first = _plan_entry(store)
    second, _ = store.create_user("c@d.io", "C", "CLIENT")
    events = [e for e in store.read_changes(made.delivered) if e.entity == "Position"]
    async with (
        made.subscribe("Position", "INSERT", first) as mine,
        made.subscribe("Position", "INSERT", second.id) as theirs,
        made.subscribe("Position", "INSERT", None) as admin,
        made.subscribe("Position", "UPDATE", first) as updates,
    ):
        made._dispatch(events)
        got = [await _drain(s.queue) for s in (mine, theirs, admin, updates)]
    assert [len(g) for g in got] == [1, 0, 1, 0]


async def test_subscription_that_ended_leaves_no_entry_behind(broker: tuple[ChangeBroker, Store]) -> None:
    made, _ = broker
    async with made.subscribe("Position", "INSERT", "u-1"), made.subscribe("Position", "INSERT", "u-1"):
        pass
    async with made.subscribe("Position", "INSERT", "u-2"):
        assert set(made._subs[("Position", "INSERT")]) == {"u-2"}
    assert made._subs[("Position", "INSERT")] == {}


async def test_commit_on_the_loops_thread_is_queued_before_the_write_returns(
    broker: tuple[ChangeBroker, Store],
) -> None:
    made, store = broker
    # the setup inline too: a commit queued for the loop before it would hold this one back
    user, _ = store.run_inline(store.create_user, "a@b.io", "A", "CLIENT")
    account = store.run_inline(store.create_account, user.id, "MT5", "1", "S", "main")
    async with made.subscribe("Position", "INSERT", None) as sub:
        entry = EntryRequest("USDJPY", "BUY", "0.1")
        _, position = store.run_inline(store.create_action, user.id, account.id, "ENTRY", entry=entry)

        queued = sub.queue.qsize()
        delivered = await _drain(sub.queue)
    assert queued == 1
    assert [value.id for _, value in cast(list[tuple[int, Any]], delivered)] == [position.id]
