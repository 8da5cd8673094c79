"""The alerts API on a real server: raise / acknowledge / resolve, who may see and act on which
alert, coded refusals, and onCreateAlert / onUpdateAlert filtered by user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from tests.api.conftest import Api, Person, World, build_world, error_code, settings_for, start_api
from tests.api.test_subscriptions import next_for, until_subscribed

pytestmark = pytest.mark.asyncio(loop_scope="module")

FIELDS = (
    "id userId accountId positionId actionId relatedPositionIds kind severity message count requiresAction "
    "createdAt lastSeenAt acknowledgedAt acknowledgedBy resolvedAt resolvedBy note escalatedAt version"
)
RAISE = f"mutation($input: RaiseAlertInput!) {{ raiseAlert(input: $input) {{ {FIELDS} }} }}"
ACK = f"mutation($input: AcknowledgeAlertInput!) {{ acknowledgeAlert(input: $input) {{ {FIELDS} }} }}"
RESOLVE = f"mutation($input: ResolveAlertInput!) {{ resolveAlert(input: $input) {{ {FIELDS} }} }}"
LIST = f"query($u: ID, $open: Boolean) {{ listAlerts(userId: $u, open: $open) {{ {FIELDS} }} }}"
GET = f"query($id: ID!) {{ getAlert(id: $id) {{ {FIELDS} }} }}"


def alert_input(person: Person, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "OUTCOME_UNKNOWN",
        "severity": "WARNING",
        "message": "OPEN sent, no answer from the terminal",
        "accountId": person.account_id,
        "positionId": person.position_id,
        **changes,
    }


async def raise_as(person: Person, **changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await person.client.execute(RAISE, {"input": alert_input(person, **changes)}))[
        "raiseAlert"
    ]
    return result


async def test_client_raises_for_itself_by_default(world: World) -> None:
    alice = world.alice
    raised = await raise_as(alice, relatedPositionIds=[world.alice.position_id], requiresAction=True)
    assert raised["userId"] == alice.id and raised["count"] == 1 and raised["version"] == 1
    assert raised["kind"] == "OUTCOME_UNKNOWN" and raised["requiresAction"] is True
    assert raised["resolvedAt"] is None and raised["relatedPositionIds"] == [alice.position_id]


async def test_raising_the_same_open_condition_counts_instead_of_adding(world: World) -> None:
    first = await raise_as(world.alice)
    again = await raise_as(world.alice, severity="INFO", message="still no answer")
    assert again["id"] == first["id"] and again["count"] == 2 and again["severity"] == "WARNING"
    listed = (await world.alice.client.execute(LIST, {"open": True}))["listAlerts"]
    assert [a["id"] for a in listed] == [first["id"]]


async def test_client_raising_for_another_user_is_forbidden(world: World) -> None:
    head = world.api.feed_head()
    body = await world.alice.client.raw(RAISE, {"input": alert_input(world.alice, userId=world.bob.id)})
    assert error_code(body) == "FORBIDDEN"
    assert world.api.feed_head() == head


async def test_client_naming_another_users_position_is_forbidden(world: World) -> None:
    body = await world.alice.client.raw(
        RAISE, {"input": alert_input(world.alice, accountId=None, positionId=world.bob.position_id)}
    )
    assert error_code(body) == "FORBIDDEN"


async def test_admin_raises_for_any_user(world: World) -> None:
    raised = (
        await world.admin.client.execute(RAISE, {"input": alert_input(world.bob, userId=world.bob.id)})
    )["raiseAlert"]
    assert raised["userId"] == world.bob.id


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"message": "  "}, "VALIDATION"),
        ({"message": "x" * 2001}, "VALIDATION"),
        ({"kind": "NO_SUCH_KIND"}, "VALIDATION"),
        ({"severity": 3}, "VALIDATION"),
        ({"accountId": "no-such-account"}, "NOT_FOUND"),
    ],
)
async def test_raise_with_bad_input_gets_a_code_and_writes_nothing(
    world: World, changes: dict[str, Any], code: str
) -> None:
    head = world.api.feed_head()
    body = await world.alice.client.raw(RAISE, {"input": alert_input(world.alice, **changes)})
    assert error_code(body) == code, body
    assert world.api.feed_head() == head


async def test_client_sees_only_its_own_alerts_admin_sees_all(world: World) -> None:
    mine = await raise_as(world.alice)
    theirs = await raise_as(world.bob)
    alice_sees = {a["id"] for a in (await world.alice.client.execute(LIST))["listAlerts"]}
    admin_sees = {a["id"] for a in (await world.admin.client.execute(LIST))["listAlerts"]}
    assert mine["id"] in alice_sees and theirs["id"] not in alice_sees
    assert {mine["id"], theirs["id"]} <= admin_sees
    body = await world.alice.client.raw(LIST, {"u": world.bob.id})
    assert error_code(body) == "FORBIDDEN"


async def test_get_alert_of_another_user_is_forbidden_and_unknown_is_null(world: World) -> None:
    theirs = await raise_as(world.bob)
    assert error_code(await world.alice.client.raw(GET, {"id": theirs["id"]})) == "FORBIDDEN"
    assert (await world.alice.client.execute(GET, {"id": "no-such-alert"}))["getAlert"] is None
    got = (await world.bob.client.execute(GET, {"id": theirs["id"]}))["getAlert"]
    assert got == theirs


async def test_acknowledge_records_who_and_note_foreign_is_forbidden(world: World) -> None:
    raised = await raise_as(world.alice)
    refused = await world.bob.client.raw(ACK, {"input": {"id": raised["id"], "note": "mine?"}})
    assert error_code(refused) == "FORBIDDEN"
    done = (await world.alice.client.execute(ACK, {"input": {"id": raised["id"], "note": "on it"}}))[
        "acknowledgeAlert"
    ]
    assert done["acknowledgedBy"] == world.alice.id and done["note"] == "on it" and done["acknowledgedAt"]
    again = await world.admin.client.raw(ACK, {"input": {"id": raised["id"]}})
    assert error_code(again) == "INVALID_TRANSITION"


async def test_resolve_by_admin_records_who_and_twice_is_invalid(world: World) -> None:
    raised = await raise_as(world.alice)
    done = (await world.admin.client.execute(RESOLVE, {"input": {"id": raised["id"], "note": "settled"}}))[
        "resolveAlert"
    ]
    assert done["resolvedBy"] == world.admin.id and done["resolvedAt"] and done["note"] == "settled"
    body = await world.alice.client.raw(RESOLVE, {"input": {"id": raised["id"]}})
    assert error_code(body) == "INVALID_TRANSITION"
    assert "RESOLVED" in body["errors"][0]["message"]


async def test_resolve_automatic_leaves_resolved_by_null(world: World) -> None:
    raised = await raise_as(world.alice, kind="EA_UNREACHABLE")
    done = (await world.alice.client.execute(RESOLVE, {"input": {"id": raised["id"], "automatic": True}}))[
        "resolveAlert"
    ]
    assert done["resolvedBy"] is None and done["resolvedAt"]
    assert (await world.alice.client.execute(LIST, {"open": False}))["listAlerts"][-1]["id"] == raised["id"]


async def test_resolve_unknown_alert_is_not_found(world: World) -> None:
    body = await world.alice.client.raw(RESOLVE, {"input": {"id": "no-such-alert"}})
    assert error_code(body) == "NOT_FOUND"


async def test_alert_subscriptions_deliver_own_alerts_only(world: World) -> None:
    alice, bob = world.alice, world.bob
    async with alice.client.connection() as conn:
        created = await conn.start("subscription { onCreateAlert { id userId count } }")
        updated = await conn.start("subscription { onUpdateAlert { id userId count resolvedAt } }")
        await until_subscribed(world.api, 2)

        await raise_as(bob, kind="GHOST_POSITION")  # another user's: never delivered to alice
        raised = await raise_as(alice, kind="GHOST_POSITION")
        await raise_as(alice, kind="GHOST_POSITION")
        first = await next_for(conn, created)
        second = await next_for(conn, updated)
    assert first["payload"]["data"]["onCreateAlert"] == {"id": raised["id"], "userId": alice.id, "count": 1}
    assert second["payload"]["data"]["onUpdateAlert"]["count"] == 2


async def test_alert_subscription_of_another_user_is_forbidden(world: World) -> None:
    async with world.alice.client.connection() as conn:
        op_id = await conn.start(
            "subscription($u: ID) { onCreateAlert(userId: $u) { id } }", {"u": world.bob.id}
        )
        message = await next_for(conn, op_id)
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    assert errors and errors[0]["extensions"]["code"] == "FORBIDDEN"


@pytest_asyncio.fixture(loop_scope="module")
async def escalating_api(tmp_path: Path) -> AsyncIterator[Api]:
    settings = settings_for(f"sqlite:///{tmp_path / 'hedge.db'}", alert_escalate_s=1.0)
    async for started in start_api(settings):
        yield started


async def test_server_escalates_an_unacknowledged_alert_and_delivers_it_again(escalating_api: Api) -> None:
    world = await build_world(escalating_api)
    async with world.alice.client.connection() as conn:
        updated = await conn.start("subscription { onUpdateAlert { id severity escalatedAt } }")
        await until_subscribed(escalating_api, 1)
        raised = await raise_as(world.alice, severity="INFO")
        message = await next_for(conn, updated)  # the server's escalation task, within a few seconds
    got = message["payload"]["data"]["onUpdateAlert"]
    assert got["id"] == raised["id"] and got["severity"] == "WARNING" and got["escalatedAt"]
