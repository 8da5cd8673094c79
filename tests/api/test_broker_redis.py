"""The change broker on PostgreSQL with Redis: a process's own commits are applied and delivered
by its commit hook (not read back from the feed), once and in order, Redis refreshed before the
store call returns; two processes committing in turn each deliver every change once, in feed
order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any, cast

import pytest
import redis

from hedge.api.broker import ChangeBroker
from hedge.api.cache import PREFIX, EntityCache
from hedge.api.metrics import Metrics
from hedge.localservices import RedisServer
from hedge.store.repository import Store

from .broker_reads import count_feed_reads

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def _drain(queue: asyncio.Queue[Any]) -> list[tuple[int, Any]]:
    got: list[tuple[int, Any]] = []
    while True:
        try:
            got.append(await asyncio.wait_for(queue.get(), 0.5))
        except TimeoutError:
            return got


@pytest.fixture
def shared(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield client
    client.close()


def _cached_version(client: redis.Redis, entity: str, entity_id: str) -> int | None:
    raw = client.get(f"{PREFIX}{entity}:{entity_id}")
    return None if raw is None else int(json.loads(cast(bytes, raw))["version"])


async def test_own_commits_with_redis_are_delivered_by_the_hook_once_in_order_and_not_read_back(
    postgres_url: str, redis_server: RedisServer, shared: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the NOTIFY of an own commit may wake the tail thread before the hook has run (it then reads
    # it back, correctly); without the listener the hook's path is seen alone
    monkeypatch.setattr("hedge.store.repository.listener_dsn", lambda engine: None)
    store = Store(postgres_url)
    reads = count_feed_reads(store, monkeypatch)
    metrics = Metrics()
    cache = EntityCache(store, metrics, redis_server.url)
    made = ChangeBroker(store, cache, metrics)
    made.start()
    try:
        async with made.subscribe("User", "INSERT", None) as sub:
            users = [
                (await asyncio.to_thread(store.create_user, f"own{n}@b.io", "Own", "CLIENT"))[0]
                for n in range(5)
            ]
            delivered = await _drain(sub.queue)
        assert [value.id for _, value in delivered] == [u.id for u in users]  # each once, in order
        assert [seq for seq, _ in delivered] == sorted({seq for seq, _ in delivered})
        assert made.cursor == store.signal.head
        assert reads == []  # the tail thread read none of them back
        assert [_cached_version(shared, "User", u.id) for u in users] == [u.version for u in users]
    finally:
        made.stop()
        cache.close()
        store.close()


async def test_two_processes_with_redis_each_deliver_every_commit_once_in_feed_order(
    postgres_url: str, redis_server: RedisServer, shared: redis.Redis
) -> None:
    stores = [Store(postgres_url), Store(postgres_url)]  # two server processes' stores
    metrics = [Metrics(), Metrics()]
    caches = [EntityCache(s, m, redis_server.url) for s, m in zip(stores, metrics, strict=True)]
    brokers = [ChangeBroker(s, c, m) for s, c, m in zip(stores, caches, metrics, strict=True)]
    for broker in brokers:
        broker.start()
    try:
        async with (
            brokers[0].subscribe("User", "INSERT", None) as one,
            brokers[1].subscribe("User", "INSERT", None) as two,
        ):
            made: list[Any] = []
            for n in range(8):  # in turn through each process, some at once
                writer = stores[n % 2]
                if n % 4 == 3:
                    pair = await asyncio.gather(
                        asyncio.to_thread(stores[0].create_user, f"a{n}@b.io", "A", "CLIENT"),
                        asyncio.to_thread(stores[1].create_user, f"b{n}@b.io", "B", "CLIENT"),
                    )
                    made.extend(user for user, _ in pair)
                else:
                    made.append((await asyncio.to_thread(writer.create_user, f"u{n}@b.io", "U", "CLIENT"))[0])
            seen = [await _drain(one.queue), await _drain(two.queue)]
        feed_order = [
            e.entity_id for e in stores[0].read_changes(0, 10_000) if e.entity == "User" and e.op == "INSERT"
        ]
        expected = [user_id for user_id in feed_order if user_id in {u.id for u in made}]
        assert len(expected) == len(made) == 10
        for delivered in seen:
            assert [value.id for _, value in delivered] == expected  # every one once, in feed order
    finally:
        for broker in brokers:
            broker.stop()
        for cache in caches:
            cache.close()
        for store in stores:
            store.close()
