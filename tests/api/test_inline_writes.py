"""HEDGE_INLINE_WRITES=1: the hedge path's short writes commit on the event loop when the writer
is free, and in a worker thread when it is not; either way the answer and the subscribers see the
committed change, and a write the server refuses is refused the same."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest_asyncio
from tests.api.conftest import UPDATE_POSITION, Api, error_code, settings_for, start_api
from tests.api.test_subscriptions import next_for, until_subscribed

ON_POSITION = "subscription($u: ID) { onUpdatePosition(userId: $u) { id userId status version } }"


@pytest_asyncio.fixture
async def inline_api(sqlite_url: str) -> AsyncIterator[Api]:
    async for started in start_api(settings_for(sqlite_url, inline_writes=1)):
        yield started


async def test_inline_write_answers_and_reaches_the_owners_subscription(inline_api: Api) -> None:
    alice = await inline_api.trader()
    async with alice.client.connection() as conn:
        op_id = await conn.start(ON_POSITION, {"u": alice.id})
        await until_subscribed(inline_api, 1)

        moved = await inline_api.move_position(alice.client, alice.position_id, "OPENING")

        message = await next_for(conn, op_id)
    assert moved["status"] == "OPENING"
    assert message["payload"]["data"]["onUpdatePosition"] == {
        "id": alice.position_id,
        "userId": alice.id,
        "status": "OPENING",
        "version": moved["version"],
    }


async def test_inline_write_while_another_writer_locks_the_file_waits_in_a_thread_and_commits(
    inline_api: Api, sqlite_url: str
) -> None:
    alice = await inline_api.trader()
    head = inline_api.feed_head()
    path = sqlite_url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another writer of the file holds its lock
    try:
        write = asyncio.ensure_future(inline_api.move_position(alice.client, alice.position_id, "OPENING"))
        # the write cannot commit while the lock is held; the loop stays free meanwhile (this
        # wait runs on it), as the write waits in a worker thread, not here
        done, _ = await asyncio.wait({write}, timeout=0.3)
        assert not done
    finally:
        other.execute("ROLLBACK")
        other.close()
    moved = await asyncio.wait_for(write, 30)
    assert moved["status"] == "OPENING"
    assert alice.position_id in inline_api.written_since(head)


async def test_inline_write_of_another_users_position_is_refused_as_without(inline_api: Api) -> None:
    alice, bob = await inline_api.trader(), await inline_api.trader()
    head = inline_api.feed_head()
    refused = await bob.client.raw(UPDATE_POSITION, {"input": {"id": alice.position_id, "status": "OPENING"}})
    assert error_code(refused) == "FORBIDDEN", refused
    assert alice.position_id not in inline_api.written_since(head)
