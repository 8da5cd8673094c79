"""Feed cursor resume on a real server over real WebSockets: `feedCursor`, `after:` replays then
goes live with no gap and no duplicate, RESYNC_REQUIRED when the feed no longer holds the changes,
and bad cursors refused with a code."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine, delete, select
from tests.api.conftest import UPDATE_POSITION, Api, World, build_world, settings_for, start_api
from tests.api.test_subscriptions import next_for, until_subscribed

from hedge.api import broker as broker_module
from hedge.api.broker import ChangeBroker, ResyncRequired
from hedge.api.cache import EntityCache
from hedge.api.metrics import Metrics
from hedge.client.graphql import SubscriptionConnection
from hedge.domain.authz import Actor
from hedge.domain.enums import UserRole
from hedge.domain.ids import UserId
from hedge.store.feed import head_seq
from hedge.store.repository import Store
from hedge.store.tables import changes

CURSOR = "{ feedCursor }"
ON_UPDATE = "subscription($a: String) { onUpdatePosition(after: $a) { id version } }"
RECONNECTS = 100
WRITE_RATE_PER_S = 500  # in all, from WRITERS processes of their own
WRITERS = 1  # one process: SQLite writers would only queue on its lock


@pytest_asyncio.fixture
async def resume_api(store_url: str) -> AsyncIterator[Api]:
    async for started in start_api(settings_for(store_url)):
        yield started


def actor_of(world: World) -> Actor:
    return Actor(UserId(world.admin.id), UserRole.ADMIN)


async def cursor_of(world: World) -> str:
    return str((await world.alice.client.execute(CURSOR))["feedCursor"])


def updates_after(engine: Engine, user_id: str, after: int, upto: int | None = None) -> list[tuple[str, int]]:
    """(positionId, version) of the user's position updates after `after`, in feed order."""
    query = (
        select(changes.c.entity_id, changes.c.version)
        .where(
            changes.c.seq > after,
            changes.c.entity == "Position",
            changes.c.op == "UPDATE",
            changes.c.user_id == user_id,
        )
        .order_by(changes.c.seq)
    )
    if upto is not None:
        query = query.where(changes.c.seq <= upto)
    with engine.connect() as conn:
        return [(str(r.entity_id), int(r.version)) for r in conn.execute(query)]


async def memo(world: World, position_id: str, text: str) -> None:
    await world.api.admin.execute(UPDATE_POSITION, {"input": {"id": position_id, "memo": text}})


async def next_payload(conn: SubscriptionConnection, op_id: str) -> dict[str, Any]:
    message = await next_for(conn, op_id)
    assert message["type"] == "next" and not message["payload"].get("errors"), message
    got: dict[str, Any] = message["payload"]["data"]["onUpdatePosition"]
    return got


async def start_writer(api: Api, world: World, positions: list[str]) -> asyncio.subprocess.Process:
    writer = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("feed_writer.py")),
        api.settings.database_url, world.admin.id, str(WRITE_RATE_PER_S / WRITERS), *positions,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert writer.stdout is not None
    assert (await asyncio.wait_for(writer.stdout.readline(), 30)).strip() == b"ready"
    return writer


async def stop_writer(writer: asyncio.subprocess.Process) -> dict[str, Any]:
    assert writer.stdin is not None and writer.stdout is not None
    writer.stdin.close()
    stats: dict[str, Any] = json.loads((await asyncio.wait_for(writer.stdout.readline(), 30)).decode())
    await writer.wait()
    return stats


async def test_feed_cursor_is_the_head_of_the_feed(resume_api: Api) -> None:
    world = await build_world(resume_api)
    assert await cursor_of(world) == str(resume_api.feed_head())


async def test_feed_cursor_without_token_is_unauthenticated(resume_api: Api) -> None:
    body = await resume_api.client(None).raw(CURSOR)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_after_replays_missed_changes_then_live_ones_once_each(resume_api: Api) -> None:
    world = await build_world(resume_api)
    alice, bob = world.alice, world.bob
    cursor = await cursor_of(world)
    await memo(world, alice.position_id, "missed 1")
    await memo(world, bob.position_id, "not alice's")
    await memo(world, alice.position_id, "missed 2")
    async with alice.client.connection() as conn:
        op_id = await conn.start(ON_UPDATE, {"a": cursor})
        replayed = [await next_payload(conn, op_id) for _ in range(2)]
        await memo(world, alice.position_id, "live")
        live = await next_payload(conn, op_id)
        await memo(world, alice.position_id, "live again")  # nothing repeated in between
        after = await next_payload(conn, op_id)
    assert [p["version"] for p in [*replayed, live, after]] == [2, 3, 4, 5]
    assert {p["id"] for p in replayed} == {alice.position_id}


async def _refusal_code(world: World, cursor: str) -> str:
    """The error code of Alice's subscription started with `after: cursor` (it must be refused)."""
    async with world.alice.client.connection() as conn:
        op_id = await conn.start(ON_UPDATE, {"a": cursor})
        message = await next_for(conn, op_id)
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    assert errors, message
    code: str = errors[0]["extensions"]["code"]
    return code


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "", "9" * 30, "１２"])
async def test_after_with_a_malformed_cursor_is_a_validation_error(resume_api: Api, cursor: str) -> None:
    assert await _refusal_code(await build_world(resume_api), cursor) == "VALIDATION"


async def test_after_a_cursor_ahead_of_the_feed_is_a_validation_error(resume_api: Api) -> None:
    world = await build_world(resume_api)
    assert await _refusal_code(world, str(resume_api.feed_head() + 1000)) == "VALIDATION"


async def test_after_a_pruned_cursor_gives_resync_required_then_completes(resume_api: Api) -> None:
    world = await build_world(resume_api)
    cursor = await cursor_of(world)
    for i in range(3):
        await memo(world, world.alice.position_id, f"later {i}")
    with resume_api.engine.begin() as conn:  # retention pruned the changes just after the cursor
        conn.execute(delete(changes).where(changes.c.seq <= int(cursor) + 1))
    async with world.alice.client.connection() as conn:
        op_id = await conn.start(ON_UPDATE, {"a": cursor})
        first = await next_for(conn, op_id)
        second = await next_for(conn, op_id)
    errors = first["payload"] if first["type"] == "error" else first["payload"].get("errors")
    assert errors and errors[0]["extensions"]["code"] == "RESYNC_REQUIRED", first
    assert not (first["payload"].get("data") or {}).get("onUpdatePosition")
    assert second["type"] == "complete"


async def test_after_on_every_subscription_field_is_accepted(resume_api: Api) -> None:
    world = await build_world(resume_api)
    cursor = await cursor_of(world)
    await world.api.entry(world.alice)  # a new action and position: both onCreate fields see it
    fields = ["onCreatePosition", "onCreateAction", "onUpdateAccount", "onCreateAlert", "onUpdateAlert"]
    async with world.alice.client.connection() as conn:
        ids = {
            f: await conn.start(f"subscription($a: String) {{ {f}(after: $a) {{ id }} }}", {"a": cursor})
            for f in fields
        }
        fields_by_id = {op_id: field for field, op_id in ids.items()}
        seen: dict[str, dict[str, Any]] = {}
        async with asyncio.timeout(10):
            while len(seen) < 2:  # the entry's action and position, in whichever order they come
                message = await conn.next_message()
                seen[fields_by_id[message["id"]]] = message
    assert set(seen) == {"onCreatePosition", "onCreateAction"}
    for field, message in seen.items():
        assert message["type"] == "next" and message["payload"]["data"][field]["id"], message


async def test_a_hundred_reconnects_under_steady_writes_lose_repeat_and_reorder_nothing(
    resume_api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    world = await build_world(resume_api)
    alice, bob = world.alice, world.bob
    positions = [alice.position_id, bob.position_id, (await resume_api.entry(bob))[1]]
    for _ in range(2):
        positions.append((await resume_api.entry(alice))[1])
    writers = [await start_writer(resume_api, world, positions[i::WRITERS]) for i in range(WRITERS)]
    rng = random.Random(8)
    runs: list[tuple[int, list[tuple[str, int]]]] = []  # (after, what that connection received)
    after = int(await cursor_of(world))
    try:
        for _ in range(RECONNECTS):
            received: list[tuple[str, int]] = []
            async with alice.client.connection() as conn:
                op_id = await conn.start(ON_UPDATE, {"a": str(after)})
                cursor = int(await cursor_of(world))  # where the next connection resumes
                owed = len(updates_after(resume_api.engine, alice.id, after, upto=cursor))
                wanted = owed + rng.randint(0, 20)  # then cut the connection at a random point
                while len(received) < wanted:
                    payload = await next_payload(conn, op_id)
                    received.append((payload["id"], payload["version"]))
                # the link is cut, as a network fault would (a polite close waits for the server's
                # close frame, which comes only after its close timeout while events are flowing)
                conn.ws.transport.abort()
            runs.append((after, received))
            after = cursor
    finally:
        stats = [await stop_writer(writer) for writer in writers]

    lost = repeated = misordered = foreign = delivered = 0
    for start, received in runs:
        feed = updates_after(resume_api.engine, alice.id, start)
        index = {change: i for i, change in enumerate(feed)}
        delivered += len(received)
        lost += len(set(feed[: len(received)]) - set(received))
        repeated += len(received) - len(set(received))
        foreign += sum(1 for change in received if change not in index)
        order = [index[change] for change in received if change in index]
        misordered += sum(1 for before, now in itertools.pairwise(order) if now <= before)
        assert received == feed[: len(received)]
    commits = sum(s["commits"] for s in stats)
    rate = commits / max(s["seconds"] for s in stats)
    with capsys.disabled():
        print(
            json.dumps({
                "reconnects": len(runs), "commits": commits, "commits_per_s": round(rate),
                "delivered": delivered, "lost": lost, "repeated": repeated, "misordered": misordered,
                "foreign": foreign,
            })
        )  # fmt: skip
    assert len(runs) == RECONNECTS and commits > 0
    assert (lost, repeated, misordered, foreign) == (0, 0, 0, 0)


async def test_a_subscriber_that_overflows_gets_resync_required(
    resume_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build_world(resume_api)
    monkeypatch.setattr(broker_module, "MAX_QUEUED", 2)
    other_process = Store(resume_api.settings.database_url, migrate=False)
    try:
        async with world.alice.client.connection() as conn:
            op_id = await conn.start(ON_UPDATE, {"a": None})
            await until_subscribed(resume_api, 1)
            # another process's commits reach this server in one feed read: one burst of changes
            for i in range(20):
                other_process.update_position(actor_of(world), world.alice.position_id, {"memo": str(i)})
            messages = [await next_for(conn, op_id)]
            while messages[-1]["type"] == "next" and not messages[-1]["payload"].get("errors"):
                messages.append(await next_for(conn, op_id))
            closing = await next_for(conn, op_id)
    finally:
        other_process.close()
    errors = messages[-1]["payload"].get("errors") or messages[-1]["payload"]
    assert errors[0]["extensions"]["code"] == "RESYNC_REQUIRED", messages[-1]
    assert len(messages) <= 3 and closing["type"] == "complete"


async def test_the_fan_out_losing_its_place_in_the_feed_tells_every_subscriber_to_resync(
    sqlite_url: str,
) -> None:
    store = Store(sqlite_url)
    writer = Store(sqlite_url)  # another process: its commits reach the broker only through the feed
    metrics = Metrics()
    broker = ChangeBroker(store, EntityCache(store, metrics), metrics)
    try:
        store.create_user("a@b.io", "A", "CLIENT")  # the broker starts after this change
        writer.create_user("b@b.io", "B", "CLIENT")
        writer.create_user("c@b.io", "C", "CLIENT")
        with writer.engine.begin() as conn:  # pruned before the broker read them
            conn.execute(delete(changes).where(changes.c.seq < head_seq(writer.engine)))
        broker.start()
        async with broker.subscribe("User", "INSERT", None) as sub:
            with pytest.raises(ResyncRequired):
                await asyncio.wait_for(broker.next_value(sub), 5)
    finally:
        broker.stop()
        writer.close()
        store.close()


async def test_a_replay_over_many_feed_pages_keeps_order_and_skips_other_users(
    resume_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build_world(resume_api)
    monkeypatch.setattr(broker_module, "REPLAY_PAGE", 3)  # the replay reads the feed 3 events at a time
    cursor = await cursor_of(world)
    for i in range(10):
        await memo(world, world.alice.position_id, f"a{i}")
        await memo(world, world.bob.position_id, f"b{i}")
    async with world.alice.client.connection() as conn:
        op_id = await conn.start(ON_UPDATE, {"a": cursor})
        replayed = [await next_payload(conn, op_id) for _ in range(10)]
        await memo(world, world.alice.position_id, "live")
        live = await next_payload(conn, op_id)
    assert [p["version"] for p in [*replayed, live]] == list(range(2, 13))
    assert {p["id"] for p in replayed} == {world.alice.position_id}
