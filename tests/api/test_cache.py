"""The read-through cache: Redis as the shared level, and life going on when Redis dies."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from tests.api.conftest import GET_POSITION, UPDATE_POSITION, build_world, settings_for, start_api

from hedge.localservices import RedisServer, ServiceUnavailable, start_redis
from hedge.store.feed import ChangeEvent

pytestmark = pytest.mark.redis


async def test_reads_fill_redis_and_see_every_write(tmp_path: Path, redis_server: RedisServer) -> None:
    url = redis_server.url
    async for api in start_api(settings_for(f"sqlite:///{tmp_path / 'h.db'}", redis_url=url)):
        world = await build_world(api)
        alice = world.alice
        for i in range(20):
            written = await alice.client.execute(
                UPDATE_POSITION, {"input": {"id": alice.position_id, "memo": f"m{i}"}}
            )
            read = (await alice.client.execute(GET_POSITION, {"id": alice.position_id}))["getPosition"]
            assert (read["version"], read["memo"]) == (written["updatePosition"]["version"], f"m{i}")

        cached = redis.Redis.from_url(url).get(f"hedge:v1:Position:{alice.position_id}")
        assert cached is not None and b'"version": 21' in cached


async def test_redis_dies_while_serving_reads_and_writes_go_on_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        dedicated = start_redis()
    except ServiceUnavailable as exc:
        pytest.skip(str(exc))
    try:
        settings = settings_for(f"sqlite:///{tmp_path / 'h.db'}", redis_url=dedicated.url)
        async for api in start_api(settings):
            world = await build_world(api)
            alice = world.alice
            await alice.client.execute(GET_POSITION, {"id": alice.position_id})
            health = (await alice.client._http.get("/healthz")).json()
            assert health["redis"] is True

            dedicated.stop()
            with caplog.at_level(logging.WARNING, logger="hedge.api.cache"):
                for i in range(5):
                    written = await alice.client.execute(
                        UPDATE_POSITION, {"input": {"id": alice.position_id, "memo": f"after {i}"}}
                    )
                    read = await alice.client.raw(GET_POSITION, {"id": alice.position_id})
                    assert not read.get("errors"), read
                    assert read["data"]["getPosition"]["version"] == written["updatePosition"]["version"]
                accounts = await alice.client.raw("{ listAccounts { id } }")

            assert not accounts.get("errors")
            assert any("Redis unavailable" in r.getMessage() for r in caplog.records)
            assert (await alice.client._http.get("/healthz")).status_code == 200
    finally:
        dedicated.stop()


async def test_a_write_refreshes_redis_in_the_committing_thread_not_on_the_event_loop(
    tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hedge.api.cache import EntityCache

    loop_calls: list[str] = []
    original = EntityCache._redis_call

    def recording(self: EntityCache, call: object) -> object:
        if threading.current_thread() is threading.main_thread():
            loop_calls.append("redis")
        return original(self, call)  # type: ignore[arg-type]

    url = redis_server.url
    async for api in start_api(settings_for(f"sqlite:///{tmp_path / 'h.db'}", redis_url=url)):
        world = await build_world(api)
        alice = world.alice
        monkeypatch.setattr(EntityCache, "_redis_call", recording)
        key = f"hedge:v1:Position:{alice.position_id}"
        change = {"input": {"id": alice.position_id, "memo": "w"}}
        written = await alice.client.execute(UPDATE_POSITION, change)
        version = written["updatePosition"]["version"]
        assert loop_calls == []  # the mutation itself waited on no Redis round trip
        cached = redis.Redis.from_url(url).get(key)  # refreshed before the mutation answered
        assert cached is not None and f'"version": {version}'.encode() in cached


def _event(entity: str, entity_id: str, version: int) -> ChangeEvent:
    image = {"id": entity_id, "version": version}
    return ChangeEvent(version, entity, "UPDATE", entity_id, "u1", version, image, datetime.now(UTC))


def _cached_version(client: redis.Redis, key: str) -> int | None:
    raw = client.get(key)
    return None if raw is None else int(json.loads(cast(bytes, raw))["version"])


def test_a_commits_redis_refreshes_go_in_one_round_trip_and_never_put_an_older_row_back(
    tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hedge.api.cache import PREFIX, EntityCache
    from hedge.api.metrics import Metrics
    from hedge.store.repository import Store

    sends: list[int] = []
    original: Any = redis.connection.AbstractConnection.send_packed_command

    def counting(self: Any, command: Any, check_health: bool = True) -> None:
        sends.append(1)
        original(self, command, check_health)

    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    cache = EntityCache(store, Metrics(), redis_server.url)
    shared = redis.Redis.from_url(redis_server.url)
    try:
        cache.invalidate_many([_event("Position", "p1", 1)])  # the script known to Redis
        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
        cache.invalidate_many([_event("Position", "p1", 3), _event("Action", "a1", 2)])
        assert len(sends) == 1  # both refreshes, one round trip (no SCRIPT EXISTS before them)
        assert _cached_version(shared, PREFIX + "Position:p1") == 3
        assert _cached_version(shared, PREFIX + "Action:a1") == 2
        cache.invalidate_many([_event("Position", "p1", 2)])  # late: an older version
        assert _cached_version(shared, PREFIX + "Position:p1") == 3

        shared.script_flush()  # Redis restarted, its scripts gone: refreshed one by one instead
        cache.invalidate_many([_event("Position", "p1", 4), _event("Action", "a1", 3)])
        assert _cached_version(shared, PREFIX + "Position:p1") == 4
        assert _cached_version(shared, PREFIX + "Action:a1") == 3
        assert cache.redis_up
    finally:
        shared.close()
        cache.close()
        store.close()
