"""Mutations: the contract's state machines, side effects in one transaction, and error codes."""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.conftest import (
    GET_ACTION,
    GET_POSITION,
    TRIGGER,
    UPDATE_ACTION,
    UPDATE_POSITION,
    Api,
    World,
    error_code,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The contract's tables, written out here as the specification the server is held to.
POSITION_MOVES = {
    "PENDING": {"OPENING", "CANCELED"},
    "OPENING": {"OPEN", "CANCELED"},
    "OPEN": {"CLOSING", "STOPPED"},
    "CLOSING": {"CLOSED", "OPEN"},
    "CLOSED": set(),
    "STOPPED": set(),
    "CANCELED": set(),
}
POSITION_PATHS = {  # how to reach each status from PENDING
    "PENDING": [],
    "OPENING": ["OPENING"],
    "OPEN": ["OPENING", "OPEN"],
    "CLOSING": ["OPENING", "OPEN", "CLOSING"],
    "CLOSED": ["OPENING", "OPEN", "CLOSING", "CLOSED"],
    "STOPPED": ["OPENING", "OPEN", "STOPPED"],
    "CANCELED": ["CANCELED"],
}
ACTION_MOVES = {
    "PENDING": {"EXECUTING", "CANCELED"},
    "EXECUTING": {"EXECUTED", "FAILED"},
    "FAILED": {"PENDING"},
    "EXECUTED": set(),
    "CANCELED": set(),
}
ACTION_PATHS = {
    "PENDING": [],
    "EXECUTING": ["EXECUTING"],
    "FAILED": ["EXECUTING", "FAILED"],
    "EXECUTED": ["EXECUTING", "EXECUTED"],
    "CANCELED": ["CANCELED"],
}
FILL: dict[str, dict[str, Any]] = {
    "OPEN": {"entryPrice": 150.0, "mtTicket": "7"},
    "CLOSED": {"exitPrice": 150.2},
    "STOPPED": {"exitPrice": 149.0},
}


def _others(moves: dict[str, set[str]], start: str) -> list[str]:
    """Every state of the table but `start`: the moves tried from it."""
    return [target for target in moves if target != start]


def _moved_or_refused(
    api: Api, body: dict[str, Any], field: str, move: tuple[str, str], allowed: set[str], feed_before: int
) -> None:
    """An allowed move answers the row in its new status; any other is INVALID_TRANSITION and
    writes nothing to the change feed."""
    if move[1] in allowed:
        assert body["data"][field]["status"] == move[1], (move, body)
    else:
        assert error_code(body) == "INVALID_TRANSITION", (move, body)
        assert api.feed_head() == feed_before


@pytest.mark.parametrize("start", list(POSITION_MOVES))
async def test_position_status_change_allowed_only_along_the_contract_table(world: World, start: str) -> None:
    api, alice = world.api, world.alice
    for target in _others(POSITION_MOVES, start):
        _, position_id = await api.entry(alice)
        await api.move_position(alice.client, position_id, *POSITION_PATHS[start])
        before = api.feed_head()

        # broker facts come only with the move that produces them: CLOSING -> OPEN (a failed
        # close) carries none (issue 9's who-writes-what)
        fill = {} if (start, target) == ("CLOSING", "OPEN") else FILL.get(target, {})
        data = {"id": position_id, "status": target, **fill}
        body = await alice.client.raw(UPDATE_POSITION, {"input": data})

        _moved_or_refused(api, body, "updatePosition", (start, target), POSITION_MOVES[start], before)


@pytest.mark.parametrize("start", list(ACTION_MOVES))
async def test_action_status_change_allowed_only_along_the_contract_table(world: World, start: str) -> None:
    api, alice = world.api, world.alice
    for target in _others(ACTION_MOVES, start):
        action_id, _ = await api.entry(alice)
        for step in ACTION_PATHS[start]:
            await alice.client.execute(UPDATE_ACTION, {"input": {"id": action_id, "status": step}})
        before = api.feed_head()

        body = await alice.client.raw(UPDATE_ACTION, {"input": {"id": action_id, "status": target}})

        _moved_or_refused(api, body, "updateAction", (start, target), ACTION_MOVES[start], before)


async def test_create_entry_action_creates_pending_position_in_same_change(world: World) -> None:
    alice = world.alice
    action = (await alice.client.execute(GET_ACTION, {"id": alice.action_id}))["getAction"]
    listed = await alice.client.execute(
        "query($p: ID) { listActions(positionId: $p) { id type positionId status } }",
        {"p": alice.position_id},
    )
    position = (await alice.client.execute(GET_POSITION, {"id": alice.position_id}))["getPosition"]

    assert action["status"] == "PENDING"
    assert position["status"] == "PENDING"
    assert listed["listActions"] == [
        {"id": alice.action_id, "type": "ENTRY", "positionId": alice.position_id, "status": "PENDING"}
    ]


@pytest.mark.parametrize("status", ["PENDING", "OPENING", "CANCELED"])
async def test_trigger_before_open_invalid_transition_nothing_written(world: World, status: str) -> None:
    api, alice = world.api, world.alice
    await api.move_position(alice.client, alice.position_id, *POSITION_PATHS[status])
    before = api.feed_head()

    body = await alice.client.raw(TRIGGER, {"positionId": alice.position_id})

    assert error_code(body) == "INVALID_TRANSITION"
    assert api.feed_head() == before


@pytest.mark.parametrize("status", ["OPEN", "CLOSING", "CLOSED", "STOPPED"])
async def test_trigger_once_open_or_later_stamps_and_starts_actions(world: World, status: str) -> None:
    api, alice = world.api, world.alice
    other_action, _ = await api.entry(alice)
    await alice.client.execute(
        UPDATE_POSITION, {"input": {"id": alice.position_id, "triggerActionIds": [other_action]}}
    )
    path = POSITION_PATHS[status]
    await api.move_position(alice.client, alice.position_id, *path)

    body = await alice.client.execute(TRIGGER, {"positionId": alice.position_id})

    payload = body["triggerActions"]
    assert payload["position"]["trailTriggeredAt"] is not None
    if status == "STOPPED":  # the stop already fired them, exactly like triggerActions(STOP_OUT)
        assert payload["actions"] == []
    else:
        assert [a["id"] for a in payload["actions"]] == [other_action]
    moved = (await alice.client.execute(GET_ACTION, {"id": other_action}))["getAction"]
    assert moved["status"] == "EXECUTING"


async def test_stop_out_fires_trigger_actions_in_the_same_change(world: World) -> None:
    api, alice, bob = world.api, world.alice, world.bob
    await world.admin.client.execute(
        UPDATE_POSITION, {"input": {"id": alice.position_id, "triggerActionIds": [bob.action_id]}}
    )
    await api.move_position(alice.client, alice.position_id, "OPENING", "OPEN")

    stopped = await api.move_position(alice.client, alice.position_id, "STOPPED")

    assert stopped["trailTriggeredAt"] is not None
    action = (await bob.client.execute(GET_ACTION, {"id": bob.action_id}))["getAction"]
    assert (action["status"], action["triggerPositionId"]) == ("EXECUTING", alice.position_id)


async def test_update_with_stale_expected_version_conflict_nothing_written(world: World) -> None:
    api, alice = world.api, world.alice
    await alice.client.execute(UPDATE_POSITION, {"input": {"id": alice.position_id, "memo": "v2"}})
    before = api.feed_head()

    body = await alice.client.raw(
        UPDATE_POSITION, {"input": {"id": alice.position_id, "memo": "lost", "expectedVersion": 1}}
    )

    assert error_code(body) == "CONFLICT"
    assert "version 2" in body["errors"][0]["message"]
    assert api.feed_head() == before


async def test_version_increases_by_one_on_every_change(world: World) -> None:
    alice = world.alice
    versions = []
    for memo in ("a", "b", "c"):
        body = await alice.client.execute(UPDATE_POSITION, {"input": {"id": alice.position_id, "memo": memo}})
        versions.append(body["updatePosition"]["version"])

    assert versions == [2, 3, 4]


async def test_open_without_fill_fields_validation_names_the_field(world: World) -> None:
    api, alice = world.api, world.alice
    await api.move_position(alice.client, alice.position_id, "OPENING")

    body = await alice.client.raw(UPDATE_POSITION, {"input": {"id": alice.position_id, "status": "OPEN"}})

    assert error_code(body) == "VALIDATION"
    assert "entryPrice" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("input_", "code"),
    [
        ({"volume": -1}, "VALIDATION"),
        ({"volume": 0}, "VALIDATION"),
        ({"symbol": ""}, "VALIDATION"),
        ({"trailWidth": -5}, "VALIDATION"),
        ({"accountId": "no-such-account"}, "NOT_FOUND"),
        ({"positionId": "p-1"}, "NOT_FOUND"),
    ],
)
async def test_create_entry_with_bad_input_coded_error_nothing_written(
    world: World, input_: dict[str, object], code: str
) -> None:
    api, alice = world.api, world.alice
    base = {"type": "ENTRY", "accountId": alice.account_id, "symbol": "USDJPY", "side": "BUY", "volume": 0.1}
    before = api.feed_head()

    body = await alice.client.raw(
        "mutation($i: CreateActionInput!) { createAction(input: $i) { action { id } } }",
        {"i": {**base, **input_}},
    )

    assert error_code(body) == code, body
    assert api.feed_head() == before
