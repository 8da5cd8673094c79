"""The change broker's order when its two paths race: an own commit announced by the commit hook
before the other process's commit ahead of it has been handed over by the tail thread is held,
then delivered right after it, once (the hook moved the cursor past it, so no feed read will)."""

from __future__ import annotations

from typing import Any

from hedge.api.broker import ChangeBroker
from hedge.api.cache import EntityCache
from hedge.api.metrics import Metrics
from hedge.store.repository import Store


async def _queued(sub: Any) -> list[tuple[int, Any]]:
    got = []
    while not sub.queue.empty():
        got.append(sub.queue.get_nowait())
    return got


async def test_own_commit_announced_before_the_one_ahead_of_it_is_held_then_delivered_after_it(
    sqlite_url: str,
) -> None:
    store = Store(sqlite_url)
    metrics = Metrics()
    made = ChangeBroker(store, EntityCache(store, metrics), metrics)  # not started: driven by hand
    try:
        start = made.delivered
        foreign, _ = store.create_user("elsewhere@b.io", "Elsewhere", "CLIENT")
        own, _ = store.create_user("here@b.io", "Here", "CLIENT")
        events = [e for e in store.read_changes(start) if e.entity == "User"]
        ahead = [e for e in store.read_changes(start) if e.seq <= events[0].seq]
        behind = [e for e in store.read_changes(start) if e.seq > events[0].seq]
        assert [e.entity_id for e in events] == [foreign.id, own.id]
        async with made.subscribe("User", "INSERT", None) as sub:
            made._deliver_if_next(behind)  # the hook's callback first: not next in line, held
            assert await _queued(sub) == []
            made._dispatch(ahead)  # then the tail thread's, for the commit ahead of it
            delivered = await _queued(sub)
            made._dispatch([*ahead, *behind])  # a repeat (a re-read) delivers nothing more
            made._deliver_if_next(behind)
            assert await _queued(sub) == []
        assert [value.id for _, value in delivered] == [foreign.id, own.id]
        assert made.delivered == behind[-1].seq
    finally:
        store.close()
