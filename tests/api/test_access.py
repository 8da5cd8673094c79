"""Credentials an operator manages: hs_ tokens, rotateToken, updateUser (deactivation), onUpdateUser,
the audit log, and HEDGE_ADMIN_TOKEN as a bootstrap only.

A rotated or deactivated token is refused at once on HTTP, and an open subscription socket of it
is closed with 4403. A refused change leaves the store untouched (the change feed does not move).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.api.conftest import UPDATE_POSITION, Api, World, error_code, settings_for
from tests.api.sockets import close_code_within
from tests.api.test_subscriptions import next_for, until_subscribed

from hedge.client.graphql import GraphQLClient, TokenRefused

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROTATE = "mutation($id: ID!) { rotateToken(userId: $id) { user { id } token } }"
UPDATE_USER = "mutation($input: UpdateUserInput!) { updateUser(input: $input) { id name email isActive } }"
ME = "{ me { id isActive } }"
AUDIT = """query($entityId: ID) { auditLog(entityId: $entityId) {
  id at actorId address action entity entityId detail } }"""
CLOSED_WITHIN_S = 1.0


async def test_created_user_token_begins_with_hs_and_is_long(world: World) -> None:
    assert world.alice.token.startswith("hs_") and len(world.alice.token) >= 40


async def test_bearer_shorter_than_24_characters_is_refused_without_lookup(world: World) -> None:
    body = await world.api.client("short-token").raw(ME)
    assert error_code(body) == "UNAUTHENTICATED"


async def test_rotate_token_old_refused_new_accepted(world: World) -> None:
    alice = world.alice
    rotated = (await alice.client.execute(ROTATE, {"id": alice.id}))["rotateToken"]

    assert rotated["token"].startswith("hs_") and rotated["token"] != alice.token
    assert error_code(await alice.client.raw(ME)) == "UNAUTHENTICATED"
    assert (await world.api.client(rotated["token"]).execute(ME))["me"]["id"] == alice.id


async def test_rotate_token_of_another_user_by_client_is_forbidden_and_changes_nothing(world: World) -> None:
    head = world.api.feed_head()
    body = await world.bob.client.raw(ROTATE, {"id": world.alice.id})
    assert error_code(body) == "FORBIDDEN"
    assert world.api.feed_head() == head
    assert (await world.alice.client.execute(ME))["me"]["id"] == world.alice.id


async def test_rotate_token_of_unknown_user_is_not_found(world: World) -> None:
    assert error_code(await world.api.admin.raw(ROTATE, {"id": "no-such-user"})) == "NOT_FOUND"


async def test_rotate_token_closes_open_socket_of_old_token_with_4403(world: World) -> None:
    async with world.alice.client.connection() as conn:
        await conn.start("subscription { onUpdatePosition { id } }")
        await world.api.admin.execute(ROTATE, {"id": world.alice.id})
        assert await close_code_within(conn, CLOSED_WITHIN_S) == 4403


async def test_deactivated_user_refused_on_http_and_socket_closed_with_4403(world: World) -> None:
    alice = world.alice
    async with alice.client.connection() as conn:
        await conn.start("subscription { onUpdatePosition { id } }")
        made = await world.api.admin.execute(UPDATE_USER, {"input": {"id": alice.id, "isActive": False}})

        assert made["updateUser"]["isActive"] is False
        assert await close_code_within(conn, CLOSED_WITHIN_S) == 4403
    assert error_code(await alice.client.raw(ME)) == "UNAUTHENTICATED"
    with pytest.raises(TokenRefused, match="4403"):  # the client's name for a close with 4403
        async with alice.client.connection():
            pass
    # others go on as before, on HTTP and on their sockets
    assert (await world.bob.client.execute(ME))["me"]["isActive"] is True


async def test_reactivated_user_token_works_again(world: World) -> None:
    alice = world.alice
    await world.api.admin.execute(UPDATE_USER, {"input": {"id": alice.id, "isActive": False}})
    await world.api.admin.execute(UPDATE_USER, {"input": {"id": alice.id, "isActive": True}})
    assert (await alice.client.execute(ME))["me"]["isActive"] is True


async def test_deactivating_another_users_socket_is_left_open(world: World) -> None:
    async with world.bob.client.connection() as conn:
        await conn.start("subscription { onUpdatePosition { id } }")
        await world.api.admin.execute(UPDATE_USER, {"input": {"id": world.alice.id, "isActive": False}})
        assert await close_code_within(conn, 0.5) is None


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"isActive": False}, "FORBIDDEN"),  # a CLIENT may not deactivate, not even itself
        ({"name": ""}, "VALIDATION"),
        ({"email": "not-an-email"}, "VALIDATION"),
        ({"name": "x" * 10_000}, "VALIDATION"),
    ],
)
async def test_update_user_bad_input_by_client_is_refused_and_changes_nothing(
    world: World, changes: dict[str, Any], code: str
) -> None:
    head = world.api.feed_head()
    body = await world.alice.client.raw(UPDATE_USER, {"input": {"id": world.alice.id, **changes}})
    assert error_code(body) == code
    assert world.alice.id not in world.api.written_since(head)  # her row is as it was


async def test_update_user_own_name_by_client_is_allowed(world: World) -> None:
    body = await world.alice.client.execute(UPDATE_USER, {"input": {"id": world.alice.id, "name": "Alice"}})
    assert body["updateUser"]["name"] == "Alice"


async def test_update_user_of_another_user_by_client_is_forbidden(world: World) -> None:
    head = world.api.feed_head()
    body = await world.bob.client.raw(UPDATE_USER, {"input": {"id": world.alice.id, "name": "Mallory"}})
    assert error_code(body) == "FORBIDDEN" and world.api.feed_head() == head


async def test_update_user_email_of_another_user_is_refused(world: World) -> None:
    bob_email = (await world.bob.client.execute("{ me { email } }"))["me"]["email"]
    body = await world.api.admin.raw(UPDATE_USER, {"input": {"id": world.alice.id, "email": bob_email}})
    assert error_code(body) == "VALIDATION"


async def test_deactivating_the_last_active_admin_is_refused(world: World) -> None:
    head = world.api.feed_head()
    body = await world.api.admin.raw(UPDATE_USER, {"input": {"id": world.admin.id, "isActive": False}})
    assert error_code(body) == "VALIDATION" and "last active ADMIN" in body["errors"][0]["message"]
    assert world.api.feed_head() == head


async def test_update_user_with_no_change_is_a_no_op(world: World) -> None:
    head = world.api.feed_head()
    body = await world.api.admin.execute(UPDATE_USER, {"input": {"id": world.alice.id, "isActive": True}})
    assert body["updateUser"]["isActive"] is True and world.api.feed_head() == head


async def test_on_update_user_admin_sees_every_users_is_active_change(world: World) -> None:
    async with world.api.admin.connection() as conn:
        before = await _open_subscriptions(world.api)
        op_id = await conn.start("subscription { onUpdateUser { id isActive } }")
        await until_subscribed(world.api, before + 1)
        await world.api.admin.execute(UPDATE_USER, {"input": {"id": world.bob.id, "isActive": False}})
        got = (await next_for(conn, op_id))["payload"]["data"]["onUpdateUser"]
    assert got == {"id": world.bob.id, "isActive": False}


async def test_on_update_user_client_sees_own_pc_status_and_not_others(world: World) -> None:
    async with world.alice.client.connection() as conn:
        before = await _open_subscriptions(world.api)
        op_id = await conn.start("subscription { onUpdateUser { id pcStatus } }")
        await until_subscribed(world.api, before + 1)
        await world.api.admin.execute(UPDATE_USER, {"input": {"id": world.bob.id, "name": "B"}})
        await world.api.admin.execute(UPDATE_USER, {"input": {"id": world.alice.id, "name": "A"}})
        got = (await next_for(conn, op_id))["payload"]["data"]["onUpdateUser"]
    assert got["id"] == world.alice.id


async def test_on_update_user_of_another_user_by_client_is_forbidden(world: World) -> None:
    async with world.alice.client.connection() as conn:
        op_id = await conn.start(
            "subscription($u: ID) { onUpdateUser(userId: $u) { id } }", {"u": world.bob.id}
        )
        message = await next_for(conn, op_id)
    assert message["type"] == "error" or error_code(message["payload"]) == "FORBIDDEN"


async def _open_subscriptions(api: Api) -> int:
    from tests.api.test_subscriptions import subscriptions_open

    return int(await subscriptions_open(api))


# ------------------------------------------------------------------ the audit log


async def test_audit_log_records_admin_changes_with_who_what_and_address(world: World) -> None:
    alice = world.alice
    await world.api.admin.execute(UPDATE_USER, {"input": {"id": alice.id, "name": "Audited"}})
    rotated = (await world.api.admin.execute(ROTATE, {"id": alice.id}))["rotateToken"]["token"]

    entries = (await world.api.admin.execute(AUDIT, {"entityId": alice.id}))["auditLog"]

    actions = [e["action"] for e in entries]
    assert actions[:3] == ["rotateToken", "updateUser", "createUser"]  # newest first
    update = entries[1]
    assert update["actorId"] == world.admin.id and update["address"] == "127.0.0.1"
    assert json.loads(update["detail"]) == {"name": ["Test User", "Audited"]}
    assert rotated not in json.dumps(entries) and alice.token not in json.dumps(entries)


async def test_audit_log_records_account_settings_but_not_balance_reports(world: World) -> None:
    bob = world.bob
    rename = 'mutation($id: ID!) { updateAccount(input: {id: $id, displayName: "renamed"}) { id } }'
    balance = "mutation($id: ID!) { updateAccount(input: {id: $id, balance: 1000}) { id } }"
    await bob.client.execute(balance, {"id": bob.account_id})
    await bob.client.execute(rename, {"id": bob.account_id})

    entries = (await world.api.admin.execute(AUDIT, {"entityId": bob.account_id}))["auditLog"]

    assert [e["action"] for e in entries] == ["updateAccount", "createAccount"]
    assert entries[0]["actorId"] == bob.id and json.loads(entries[0]["detail"]) == {"display_name": "renamed"}


async def test_audit_log_records_a_link_to_another_users_action(world: World) -> None:
    admin, bob = world.admin, world.bob
    await world.api.admin.execute(
        UPDATE_POSITION, {"input": {"id": admin.position_id, "triggerActionIds": [bob.action_id]}}
    )
    entries = (await world.api.admin.execute(AUDIT, {"entityId": admin.position_id}))["auditLog"]
    assert entries[0]["action"] == "linkTriggerActions"
    assert json.loads(entries[0]["detail"]) == {"otherUsersActionIds": [bob.action_id]}


async def test_audit_log_by_client_is_forbidden(world: World) -> None:
    assert error_code(await world.alice.client.raw(AUDIT)) == "FORBIDDEN"


async def test_audit_log_pages_back_with_before(world: World) -> None:
    newest = (await world.api.admin.execute("{ auditLog(limit: 2) { id } }"))["auditLog"]
    older = (await world.api.admin.execute("query($b: ID) { auditLog(limit: 2, before: $b) { id } }",
                                           {"b": newest[-1]["id"]}))["auditLog"]  # fmt: skip
    assert len(newest) == 2 and all(int(e["id"]) < int(newest[-1]["id"]) for e in older)
    bad = await world.api.admin.raw('{ auditLog(before: "x") { id } }')
    assert error_code(bad) == "VALIDATION"


# ------------------------------------------------------------------ HEDGE_ADMIN_TOKEN


async def test_admin_token_of_24_characters_chosen_by_operator_is_accepted_as_is(sqlite_url: str) -> None:
    from tests.api.conftest import start_api

    chosen = "x" * 24
    async for api in start_api(settings_for(sqlite_url, admin_token=chosen)):
        assert (await GraphQLClient(api.url, chosen).execute(ME))["me"]["isActive"] is True
