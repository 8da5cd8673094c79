"""Subscriptions over graphql-transport-ws, fed by the change feed and filtered by userId."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from tests.api.conftest import UPDATE_ACTION, UPDATE_POSITION, Api, Person, World
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hedge.client.graphql import SUBPROTOCOL, GraphQLClient, SubscriptionConnection

pytestmark = pytest.mark.asyncio(loop_scope="module")

WAIT_S = 5.0


async def subscriptions_open(api: Api) -> float:
    async with httpx.AsyncClient(base_url=api.url) as http:
        text = (await http.get("/metrics")).text
    found = re.search(r"^hedge_subscriptions_open (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def until_subscribed(api: Api, count: int) -> None:
    """The server offers no 'subscribed' message; its gauge says when the feed reaches the stream."""
    async with asyncio.timeout(WAIT_S):
        while await subscriptions_open(api) < count:  # noqa: ASYNC110 - no event reaches the client
            await asyncio.sleep(0.01)


async def next_for(conn: SubscriptionConnection, op_id: str) -> dict[str, Any]:
    async with asyncio.timeout(WAIT_S):
        while True:
            message = await conn.next_message()
            if message.get("id") == op_id:
                return message


# subscription field -> (selection, a change of owner's rows that it reports)
async def _new_entry(w: World, owner: Person) -> None:
    await w.api.entry(owner)


async def _memo(w: World, owner: Person) -> None:
    await w.api.admin.execute(UPDATE_POSITION, {"input": {"id": owner.position_id, "memo": "changed"}})


async def _cancel_action(w: World, owner: Person) -> None:
    await w.api.admin.execute(UPDATE_ACTION, {"input": {"id": owner.action_id, "status": "CANCELED"}})


async def _rename_account(w: World, owner: Person) -> None:
    query = 'mutation($id: ID!) { updateAccount(input: {id: $id, displayName: "renamed"}) { id } }'
    await w.api.admin.execute(query, {"id": owner.account_id})


CHANGES: dict[str, Callable[[World, Person], Awaitable[None]]] = {
    "onCreatePosition": _new_entry,
    "onUpdatePosition": _memo,
    "onCreateAction": _new_entry,
    "onUpdateAction": _cancel_action,
    "onUpdateAccount": _rename_account,
}


def subscription(field: str) -> str:
    return f"subscription($u: ID) {{ {field}(userId: $u) {{ id userId version }} }}"


@pytest.mark.parametrize("token", ["wrong-token", None])
async def test_connection_init_with_bad_token_closes_4403(shared_api: Api, token: str | None) -> None:
    url = shared_api.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[SUBPROTOCOL]) as ws:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), WAIT_S)

    assert ws.close_code == 4403


@pytest.mark.parametrize("field", list(CHANGES))
@pytest.mark.parametrize("role", ["ADMIN", "CLIENT"])
async def test_subscription_to_own_rows_or_as_admin_delivers_the_change(
    world: World, field: str, role: str
) -> None:
    caller = world.admin if role == "ADMIN" else world.alice
    async with caller.client.connection() as conn:
        op_id = await conn.start(subscription(field), {"u": world.alice.id})
        await until_subscribed(world.api, 1)

        await CHANGES[field](world, world.alice)

        message = await next_for(conn, op_id)
    assert message["type"] == "next", message
    assert message["payload"]["data"][field]["userId"] == world.alice.id


@pytest.mark.parametrize("field", list(CHANGES))
async def test_subscription_to_other_users_rows_by_client_forbidden_never_data(
    world: World, field: str
) -> None:
    alice, bob = world.alice, world.bob
    async with alice.client.connection() as conn:
        refused = await conn.start(subscription(field), {"u": bob.id})
        first = await next_for(conn, refused)
        sentinel = await conn.start(subscription(field), {"u": None})
        await until_subscribed(world.api, 1)

        await CHANGES[field](world, bob)
        await CHANGES[field](world, alice)
        seen = [first]
        while True:
            message = await next_for_any(conn)
            seen.append(message)
            if message.get("id") == sentinel:
                break

    errors = first.get("payload") if first["type"] == "error" else first["payload"].get("errors")
    assert errors and errors[0]["extensions"]["code"] == "FORBIDDEN", first
    for message in seen:
        if message.get("id") == refused and message["type"] == "next":
            assert not message["payload"].get("data"), f"data reached a forbidden subscriber: {message}"
    assert seen[-1]["payload"]["data"][field]["userId"] == alice.id


async def next_for_any(conn: SubscriptionConnection) -> dict[str, Any]:
    async with asyncio.timeout(WAIT_S):
        return await conn.next_message()


async def _null_user_updates(world: World, subscriber: Person, count: int) -> list[dict[str, Any]]:
    """The first `count` positions `subscriber` is sent with `userId: null` while Bob's and then
    Alice's position change."""
    async with subscriber.client.connection() as conn:
        op_id = await conn.start(subscription("onUpdatePosition"), {"u": None})
        await until_subscribed(world.api, 1)

        await _memo(world, world.bob)
        await _memo(world, world.alice)

        return [(await next_for(conn, op_id))["payload"]["data"]["onUpdatePosition"] for _ in range(count)]


async def test_client_subscription_with_null_user_id_sees_only_own_rows(world: World) -> None:
    (only,) = await _null_user_updates(world, world.alice, 1)
    assert only["id"] == world.alice.position_id


async def test_admin_subscription_with_null_user_id_sees_every_user(world: World) -> None:
    got = await _null_user_updates(world, world.admin, 2)
    assert [row["userId"] for row in got] == [world.bob.id, world.alice.id]


async def test_updates_of_one_user_arrive_in_commit_order(world: World) -> None:
    alice = world.alice
    async with alice.client.connection() as conn:
        op_id = await conn.start(subscription("onUpdatePosition"), {"u": None})
        await until_subscribed(world.api, 1)

        writes = [
            alice.client.execute(UPDATE_POSITION, {"input": {"id": alice.position_id, "memo": str(i)}})
            for i in range(20)
        ]
        await asyncio.gather(*writes)

        versions = [
            (await next_for(conn, op_id))["payload"]["data"]["onUpdatePosition"]["version"] for _ in range(20)
        ]
        # delivered once each: the change made next is the very next message (no repeat in between)
        await alice.client.execute(UPDATE_POSITION, {"input": {"id": alice.position_id, "memo": "last"}})
        versions.append((await next_for(conn, op_id))["payload"]["data"]["onUpdatePosition"]["version"])
    assert versions == list(range(2, 23))


async def test_trigger_side_effect_reaches_other_users_subscriber(world: World) -> None:
    api, alice, bob = world.api, world.alice, world.bob
    await api.admin.execute(
        UPDATE_POSITION, {"input": {"id": alice.position_id, "triggerActionIds": [bob.action_id]}}
    )
    await api.move_position(api.admin, alice.position_id, "OPENING", "OPEN")
    async with bob.client.connection() as conn:
        op_id = await conn.start(
            "subscription { onUpdateAction { id status triggerPositionId version } }", {}
        )
        await until_subscribed(api, 1)

        await alice.client.execute(
            "mutation($p: ID!) { triggerActions(input: {positionId: $p, reason: TRAIL}) { actions { id } } }",
            {"p": alice.position_id},
        )

        moved = (await next_for(conn, op_id))["payload"]["data"]["onUpdateAction"]
    assert (moved["id"], moved["status"], moved["triggerPositionId"]) == (
        bob.action_id,
        "EXECUTING",
        alice.position_id,
    )


async def test_malformed_subscribe_frame_errors_and_connection_serves_on(world: World) -> None:
    client: GraphQLClient = world.alice.client
    async with client.connection() as conn:
        bad = await conn.start("subscription { onUpdatePosition(userId: 5) { id } ")
        answer = await next_for(conn, bad)
        good = await conn.start(subscription("onUpdatePosition"), {"u": None})
        await until_subscribed(world.api, 1)
        await _memo(world, world.alice)

        message = await next_for(conn, good)
    assert answer["type"] == "error"
    assert all(e["extensions"]["code"] == "VALIDATION" for e in answer["payload"])
    assert message["payload"]["data"]["onUpdatePosition"]["id"] == world.alice.position_id
