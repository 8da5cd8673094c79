"""Correlation ids on the server: triggerActions keeps the caller's id on each action it moves and
logs it; the server makes one for a trigger without one, a stop-out and a manual execute; a bad
id is refused and nothing is written."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from tests.api.conftest import UPDATE_ACTION, UPDATE_POSITION, World, error_code

from hedge.logs import JsonLines

pytestmark = pytest.mark.asyncio(loop_scope="module")

TRIGGER_WITH_ID = """mutation($positionId: ID!, $cid: String) {
  triggerActions(input: {positionId: $positionId, reason: TRAIL, price: 150.05, correlationId: $cid}) {
    actions { id status correlationId } } }"""
ACTION = "query($id: ID!) { getAction(id: $id) { id status correlationId } }"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonLines())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def about(self, correlation_id: str) -> list[str]:
        return [line["message"] for line in self.lines if line.get("correlationId") == correlation_id]


@pytest.fixture
def server_log() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("hedge.api.trace")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def _linked_and_open(world: World) -> None:
    """alice's position triggers bob's ENTRY action, and is OPEN."""
    await world.admin.client.execute(
        UPDATE_POSITION, {"input": {"id": world.alice.position_id, "triggerActionIds": [world.bob.action_id]}}
    )
    await world.api.move_position(world.alice.client, world.alice.position_id, "OPENING", "OPEN")


async def test_trigger_with_correlation_id_kept_on_the_moved_action_and_logged(
    world: World, server_log: Lines
) -> None:
    await _linked_and_open(world)
    cid = f"trg-{world.alice.position_id}-1790000000123"

    body = await world.alice.client.execute(
        TRIGGER_WITH_ID, {"positionId": world.alice.position_id, "cid": cid}
    )

    assert body["triggerActions"]["actions"] == [
        {"id": world.bob.action_id, "status": "EXECUTING", "correlationId": cid}
    ]
    seen_by_bob = (await world.bob.client.execute(ACTION, {"id": world.bob.action_id}))["getAction"]
    assert seen_by_bob["correlationId"] == cid
    said = server_log.about(cid)
    assert any(m.startswith(f"triggerActions for position {world.alice.position_id}") for m in said)
    assert any(m.startswith(f"action {world.bob.action_id} ") and "PENDING -> EXECUTING" in m for m in said)


async def test_trigger_without_correlation_id_gets_one_from_the_server(
    world: World, server_log: Lines
) -> None:
    await _linked_and_open(world)

    body = await world.alice.client.execute(TRIGGER_WITH_ID, {"positionId": world.alice.position_id})

    cid = body["triggerActions"]["actions"][0]["correlationId"]
    assert cid.startswith(f"trg-{world.alice.position_id}-")
    assert server_log.about(cid)


@pytest.mark.parametrize("bad", ["", "has space", "line\nbreak", "x" * 129, "ü-not-ascii"])
async def test_trigger_with_bad_correlation_id_refused_nothing_written(world: World, bad: str) -> None:
    await _linked_and_open(world)
    before = world.api.feed_head()

    body = await world.alice.client.raw(TRIGGER_WITH_ID, {"positionId": world.alice.position_id, "cid": bad})

    assert error_code(body) == "VALIDATION" and "correlationId" in body["errors"][0]["message"]
    assert world.api.feed_head() == before


async def test_manual_execute_gets_a_server_made_id_and_its_later_moves_are_logged(
    world: World, server_log: Lines
) -> None:
    alice = world.alice
    made = await alice.client.execute(
        UPDATE_ACTION, {"input": {"id": alice.action_id, "status": "EXECUTING"}}
    )
    assert made["updateAction"]["status"] == "EXECUTING"

    cid = (await alice.client.execute(ACTION, {"id": alice.action_id}))["getAction"]["correlationId"]

    assert cid.startswith(f"man-{alice.action_id}-")
    assert any(
        m.startswith(f"action {alice.action_id} ") and "now EXECUTING" in m for m in server_log.about(cid)
    )
    await alice.client.execute(UPDATE_ACTION, {"input": {"id": alice.action_id, "status": "FAILED"}})
    again = (await alice.client.execute(ACTION, {"id": alice.action_id}))["getAction"]
    assert again["correlationId"] == cid  # the id stays with the action
    assert any("now FAILED" in m for m in server_log.about(cid))


async def test_stop_out_chain_gets_a_server_made_id_logged_with_the_stop(
    world: World, server_log: Lines
) -> None:
    await _linked_and_open(world)

    await world.api.move_position(world.alice.client, world.alice.position_id, "STOPPED")

    cid = (await world.bob.client.execute(ACTION, {"id": world.bob.action_id}))["getAction"]["correlationId"]
    assert cid.startswith(f"stp-{world.alice.position_id}-")
    said = server_log.about(cid)
    assert said and said[0].startswith(f"position {world.alice.position_id} stopped out")
