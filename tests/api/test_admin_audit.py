"""Every admin change is in the audit log (who, when, what, from which address), one test per kind
not covered in test_access.py (users, rotation, account settings, trigger links are there): the
kill switch (setTradingState), settlements, a hedge plan's links across users, and an ADMIN's
writes to another user's trades. A user's own trades and a refused change write no entry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.api.conftest import UPDATE_ACTION, UPDATE_POSITION, World, error_code
from tests.api.test_record import PLAN, SET_STATE, SETTLE

pytestmark = pytest.mark.asyncio(loop_scope="module")

AUDIT = """query($entityId: ID) { auditLog(entityId: $entityId) {
  actorId address action entity entityId detail } }"""
CREATE = """mutation($input: CreateActionInput!) { createAction(input: $input) { action { id } } }"""


async def _entries(world: World, entity_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await world.api.admin.execute(AUDIT, {"entityId": entity_id}))["auditLog"]
    for entry in found:
        entry["detail"] = json.loads(entry["detail"])
    return found


async def test_kill_switch_halt_and_resume_are_recorded_with_state_reason_and_address(world: World) -> None:
    account = world.alice.account_id
    halt = {"scope": "ACCOUNT", "targetId": account, "state": "HALTED", "reason": "broker outage"}
    await world.api.admin.execute(SET_STATE, {"input": halt})
    await world.api.admin.execute(SET_STATE, {"input": {**halt, "state": "ACTIVE", "reason": "back"}})

    entries = await _entries(world, f"ACCOUNT:{account}")

    assert [(e["action"], e["entity"], e["detail"]) for e in entries] == [
        ("setTradingState", "TradingControl", {"state": "ACTIVE", "reason": "back"}),
        ("setTradingState", "TradingControl", {"state": "HALTED", "reason": "broker outage"}),
    ]  # newest first
    assert {(e["actorId"], e["address"]) for e in entries} == {(world.admin.id, "127.0.0.1")}


async def test_kill_switch_refused_for_a_client_writes_no_entry(world: World) -> None:
    halt = {"scope": "USER", "targetId": world.bob.id, "state": "HALTED", "reason": "not mine to say"}

    assert error_code(await world.bob.client.raw(SET_STATE, {"input": halt})) == "FORBIDDEN"

    assert await _entries(world, f"USER:{world.bob.id}") == []


async def test_settlement_is_recorded_with_status_and_reason(world: World) -> None:
    _, position_id = await world.api.entry(world.alice)
    await world.api.move_position(world.alice.client, position_id, "OPENING")
    settle = {"id": position_id, "status": "CANCELED", "reason": "the terminal has no such order"}

    await world.api.admin.execute(SETTLE, {"input": settle})

    entry = (await _entries(world, position_id))[0]
    assert (entry["action"], entry["actorId"]) == ("settlePosition", world.admin.id)
    assert entry["detail"] == {"status": "CANCELED", "reason": "the terminal has no such order"}


async def test_hedge_plan_with_a_leg_on_another_users_account_is_recorded_as_a_link(world: World) -> None:
    plan = {
        "entry": {"type": "ENTRY", "accountId": world.alice.account_id, "symbol": "USDJPY", "side": "BUY",
                  "volume": 0.1},
        "hedges": [{"accountId": world.bob.account_id, "symbol": "USDJPY", "side": "SELL", "volume": 0.1}],
    }  # fmt: skip

    made = (await world.api.admin.execute(PLAN, {"input": plan}))["createHedgePlan"]

    entry = (await _entries(world, made["entryPosition"]["id"]))[0]
    assert (entry["action"], entry["actorId"]) == ("createHedgePlan", world.admin.id)
    assert entry["detail"] == {"otherUsersActionIds": [made["hedgeActions"][0]["id"]]}


async def test_hedge_plan_within_one_users_accounts_is_no_admin_change(world: World) -> None:
    second = await world.api.new_account(world.alice.id)
    plan = {
        "entry": {"type": "ENTRY", "accountId": world.alice.account_id, "symbol": "USDJPY", "side": "BUY",
                  "volume": 0.1},
        "hedges": [{"accountId": second, "symbol": "USDJPY", "side": "SELL", "volume": 0.1}],
    }  # fmt: skip

    made = (await world.alice.client.execute(PLAN, {"input": plan}))["createHedgePlan"]

    assert await _entries(world, made["entryPosition"]["id"]) == []


async def test_admin_writes_to_another_users_trades_are_recorded_with_the_owner(world: World) -> None:
    alice = world.alice
    await world.api.admin.execute(UPDATE_POSITION, {"input": {"id": alice.position_id, "memo": "checked"}})
    await world.api.admin.execute(UPDATE_ACTION, {"input": {"id": alice.action_id, "status": "CANCELED"}})
    made = await world.api.admin.execute(
        CREATE, {"input": {"type": "ENTRY", "accountId": alice.account_id, "symbol": "USDJPY", "side": "BUY",
                           "volume": 0.1}}
    )  # fmt: skip

    position_entry = (await _entries(world, alice.position_id))[0]
    action_entry = (await _entries(world, alice.action_id))[0]
    created = (await _entries(world, made["createAction"]["action"]["id"]))[0]
    assert (position_entry["action"], position_entry["detail"]) == (
        "updatePosition", {"userId": alice.id, "memo": "checked"}
    )  # fmt: skip
    assert (action_entry["action"], action_entry["detail"]) == (
        "updateAction", {"userId": alice.id, "status": "CANCELED"}
    )  # fmt: skip
    assert (created["action"], created["detail"]) == (
        "createAction", {"userId": alice.id, "type": "ENTRY", "accountId": alice.account_id}
    )  # fmt: skip
    assert {e["actorId"] for e in (position_entry, action_entry, created)} == {world.admin.id}


async def test_a_users_own_trades_and_the_admins_own_write_no_entry(world: World) -> None:
    await world.bob.client.execute(UPDATE_POSITION, {"input": {"id": world.bob.position_id, "memo": "mine"}})
    await world.api.move_position(world.bob.client, world.bob.position_id, "OPENING")
    await world.api.admin.execute(UPDATE_POSITION, {"input": {"id": world.admin.position_id, "memo": "own"}})

    assert await _entries(world, world.bob.position_id) == []
    assert await _entries(world, world.bob.action_id) == []
    assert await _entries(world, world.admin.position_id) == []
