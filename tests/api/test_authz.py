"""Authorization as a matrix: each role x each operation x own and foreign rows.

ADMIN reads and writes everything; a CLIENT only rows whose userId is its own. A refused write
leaves the store untouched (the change feed does not move).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.api.conftest import (
    CREATE_ACCOUNT,
    GET_ACTION,
    TRIGGER,
    UPDATE_ACTION,
    UPDATE_POSITION,
    Person,
    World,
    error_code,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

Op = Callable[[World, Person, Person], Awaitable[dict[str, Any]]]


async def _get_user(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    return await caller.client.raw("query($id: ID!) { getUser(id: $id) { id } }", {"id": owner.id})


async def _get_account(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    return await caller.client.raw("query($id: ID!) { getAccount(id: $id) { id } }", {"id": owner.account_id})


async def _list_accounts(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    return await caller.client.raw("query($u: ID) { listAccounts(userId: $u) { id } }", {"u": owner.id})


async def _get_position(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    return await caller.client.raw(
        "query($id: ID!) { getPosition(id: $id) { id } }", {"id": owner.position_id}
    )


async def _list_positions(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    return await caller.client.raw("query($u: ID) { listPositions(userId: $u) { id } }", {"u": owner.id})


async def _get_action(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    return await caller.client.raw(GET_ACTION, {"id": owner.action_id})


async def _list_actions(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    return await caller.client.raw("query($u: ID) { listActions(userId: $u) { id } }", {"u": owner.id})


async def _create_account(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    return await caller.client.raw(CREATE_ACCOUNT, {"userId": owner.id, "number": f"9{owner.id[:8]}"})


async def _update_account(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    query = 'mutation($id: ID!) { updateAccount(input: {id: $id, displayName: "renamed"}) { id } }'
    return await caller.client.raw(query, {"id": owner.account_id})


async def _create_entry(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    query = """mutation($u: ID, $a: ID!) { createAction(input: {type: ENTRY, userId: $u, accountId: $a,
        symbol: "EURUSD", side: SELL, volume: 0.2}) { action { id } } }"""
    return await caller.client.raw(query, {"u": owner.id, "a": owner.account_id})


async def _create_close(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    query = """mutation($u: ID, $a: ID!, $p: ID) { createAction(input: {type: CLOSE, userId: $u,
        accountId: $a, positionId: $p}) { action { id } } }"""
    return await caller.client.raw(query, {"u": owner.id, "a": owner.account_id, "p": owner.position_id})


async def _update_action(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    return await caller.client.raw(UPDATE_ACTION, {"input": {"id": owner.action_id, "status": "CANCELED"}})


async def _update_position(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    return await caller.client.raw(UPDATE_POSITION, {"input": {"id": owner.position_id, "memo": "note"}})


async def _trigger(w: World, caller: Person, owner: Person) -> dict[str, Any]:
    await w.api.move_position(w.api.admin, owner.position_id, "OPENING", "OPEN")
    before = w.api.feed_head()
    body = await caller.client.raw(TRIGGER, {"positionId": owner.position_id})
    body["_feed_before"] = before
    return body


OPERATIONS: dict[str, tuple[Op, bool]] = {  # name -> (call, is a write)
    "getUser": (_get_user, False),
    "getAccount": (_get_account, False),
    "listAccounts": (_list_accounts, False),
    "getPosition": (_get_position, False),
    "listPositions": (_list_positions, False),
    "getAction": (_get_action, False),
    "listActions": (_list_actions, False),
    "createAccount": (_create_account, True),
    "updateAccount": (_update_account, True),
    "createAction(ENTRY)": (_create_entry, True),
    "createAction(CLOSE)": (_create_close, True),
    "updateAction": (_update_action, True),
    "updatePosition": (_update_position, True),
    "triggerActions": (_trigger, True),
}


@pytest.mark.parametrize("rows", ["own", "foreign"])
@pytest.mark.parametrize("role", ["ADMIN", "CLIENT"])
@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_operation_by_role_and_owner_allowed_only_for_admin_or_owner(
    world: World, operation: str, role: str, rows: str
) -> None:
    caller = world.admin if role == "ADMIN" else world.alice
    owner = caller if rows == "own" else (world.alice if role == "ADMIN" else world.bob)
    call, writes = OPERATIONS[operation]
    before = world.api.feed_head()

    body = await call(world, caller, owner)

    allowed = role == "ADMIN" or rows == "own"
    if allowed:
        assert not body.get("errors"), body
        assert all(value is not None for value in body["data"].values()), body
    else:
        assert error_code(body) == "FORBIDDEN", body
        assert all(value is None for value in (body.get("data") or {}).values()), body
        if writes:
            assert world.api.feed_head() == body.get("_feed_before", before), "a refused write wrote"


@pytest.mark.parametrize("role", ["ADMIN", "CLIENT"])
async def test_create_user_by_role_admin_only(world: World, role: str) -> None:
    caller = world.admin if role == "ADMIN" else world.alice
    before = world.api.feed_head()

    body = await caller.client.raw(
        'mutation { createUser(input: {email: "new@example.com", name: "N", role: CLIENT}) { token } }'
    )

    if role == "ADMIN":
        assert body["data"]["createUser"]["token"]
    else:
        assert error_code(body) == "FORBIDDEN"
        assert world.api.feed_head() == before


async def test_list_without_user_id_client_sees_only_own_rows(world: World) -> None:
    query = "{ listUsers { id } listAccounts { userId } listPositions { userId } listActions { userId } }"

    mine = await world.alice.client.execute(query)
    everything = await world.admin.client.execute(query)

    assert [u["id"] for u in mine["listUsers"]] == [world.alice.id]
    for name in ("listAccounts", "listPositions", "listActions"):
        assert {row["userId"] for row in mine[name]} == {world.alice.id}
        assert {row["userId"] for row in everything[name]} >= {world.admin.id, world.alice.id, world.bob.id}


async def _link(w: World, caller: Person, position_id: str, action_ids: list[str]) -> dict[str, Any]:
    return await caller.client.raw(
        UPDATE_POSITION, {"input": {"id": position_id, "triggerActionIds": action_ids}}
    )


async def test_trigger_own_position_moves_other_users_action_to_executing(world: World) -> None:
    api, alice, bob = world.api, world.alice, world.bob
    linked = await _link(world, world.admin, alice.position_id, [bob.action_id])
    assert not linked.get("errors"), linked
    await api.move_position(api.admin, alice.position_id, "OPENING", "OPEN")

    body = await alice.client.execute(TRIGGER, {"positionId": alice.position_id})

    moved = body["triggerActions"]["actions"]
    assert [(a["id"], a["userId"], a["status"]) for a in moved] == [(bob.action_id, bob.id, "EXECUTING")]
    seen_by_bob = (await bob.client.execute(GET_ACTION, {"id": bob.action_id}))["getAction"]
    assert seen_by_bob["status"] == "EXECUTING"
    assert seen_by_bob["triggerPositionId"] == alice.position_id


async def test_trigger_repeated_changes_nothing_and_returns_no_actions(world: World) -> None:
    api, alice = world.api, world.alice
    await _link(world, world.admin, alice.position_id, [world.bob.action_id])
    await api.move_position(api.admin, alice.position_id, "OPENING", "OPEN")
    first = (await alice.client.execute(TRIGGER, {"positionId": alice.position_id}))["triggerActions"]
    before = api.feed_head()

    again = (await alice.client.execute(TRIGGER, {"positionId": alice.position_id}))["triggerActions"]

    assert again["actions"] == []
    assert again["position"] == first["position"]
    assert api.feed_head() == before


async def test_trigger_other_users_position_by_client_forbidden_and_nothing_moves(world: World) -> None:
    api, alice, bob = world.api, world.alice, world.bob
    await _link(world, world.admin, bob.position_id, [alice.action_id])
    await api.move_position(api.admin, bob.position_id, "OPENING", "OPEN")
    before = api.feed_head()

    body = await alice.client.raw(TRIGGER, {"positionId": bob.position_id})

    assert error_code(body) == "FORBIDDEN"
    assert api.feed_head() == before
    action = (await alice.client.execute(GET_ACTION, {"id": alice.action_id}))["getAction"]
    assert action["status"] == "PENDING"


@pytest.mark.parametrize("role", ["ADMIN", "CLIENT"])
async def test_trigger_action_ids_listing_other_users_action_admin_only(world: World, role: str) -> None:
    caller = world.admin if role == "ADMIN" else world.alice
    before = world.api.feed_head()

    body = await _link(world, caller, world.alice.position_id, [world.bob.action_id])

    if role == "ADMIN":
        assert body["data"]["updatePosition"]["triggerActionIds"] == [world.bob.action_id]
        linked = (await world.bob.client.execute(GET_ACTION, {"id": world.bob.action_id}))["getAction"]
        assert linked["triggerPositionId"] == world.alice.position_id
    else:
        assert error_code(body) == "FORBIDDEN"
        assert world.api.feed_head() == before


async def test_trigger_action_ids_listing_own_action_by_client_allowed(world: World) -> None:
    alice = world.alice
    other_action, _ = await world.api.entry(alice)

    body = await _link(world, alice, alice.position_id, [other_action])

    assert body["data"]["updatePosition"]["triggerActionIds"] == [other_action]


@pytest.mark.parametrize("action_type", ["ENTRY", "CLOSE"])
async def test_create_action_on_other_users_account_by_client_forbidden(
    world: World, action_type: str
) -> None:
    """The owner defaults to the caller; naming another user's account or position is refused."""
    bob = world.bob
    query = """mutation($t: ActionType!, $a: ID!, $p: ID, $s: String, $side: Side, $v: Float) {
        createAction(input: {type: $t, accountId: $a, positionId: $p, symbol: $s, side: $side, volume: $v})
        { action { id } } }"""
    entry = {"s": "EURUSD", "side": "BUY", "v": 0.1} if action_type == "ENTRY" else {"p": bob.position_id}
    before = world.api.feed_head()

    body = await world.alice.client.raw(query, {"t": action_type, "a": bob.account_id, **entry})

    assert error_code(body) == "FORBIDDEN", body
    assert world.api.feed_head() == before


async def test_create_close_for_other_users_position_on_own_account_by_client_forbidden(world: World) -> None:
    query = """mutation($a: ID!, $p: ID) {
        createAction(input: {type: CLOSE, accountId: $a, positionId: $p}) { action { id } } }"""
    before = world.api.feed_head()

    body = await world.alice.client.raw(query, {"a": world.alice.account_id, "p": world.bob.position_id})

    assert error_code(body) == "FORBIDDEN", body
    assert world.api.feed_head() == before
