"""The trade record through the GraphQL API, as a new user would try it (issue 9's findings)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.conftest import UPDATE_POSITION, World, error_code
from tests.api.test_subscriptions import next_for, until_subscribed

pytestmark = pytest.mark.asyncio(loop_scope="module")

CREATE = """mutation($input: CreateActionInput!) {
  createAction(input: $input) { action { id userId clientRequestId } position { id userId } } }"""
HISTORY = "query($id: ID!) { positionHistory(id: $id) { version status memo } }"
CHANGES = """query($p: ID, $a: ID) { changes(positionId: $p, actionId: $a) {
  entity id version by source fields reason } }"""
SET_STATE = """mutation($input: SetTradingStateInput!) {
  setTradingState(input: $input) { scope targetId state reason updatedBy } }"""
SETTLE = """mutation($input: SettlePositionInput!) {
  settlePosition(input: $input) { id status mtTicket entryPrice } }"""
PLAN = """mutation($input: CreateHedgePlanInput!) { createHedgePlan(input: $input) {
  entryAction { id } entryPosition { id triggerActionIds trailWidth }
  hedgeActions { id userId triggerPositionId maxSlippagePips } hedgePositions { id userId status } } }"""
EXPOSURE = """{ exposure { overall { symbol netLots longLots shortLots }
  byUser { userId lines { symbol netLots } } byHedge { headPositionId positionIds } unpairedLegs { id } } }"""


async def _closed(world: World) -> str:
    _, position_id = await world.api.entry(world.alice)
    await world.api.move_position(world.alice.client, position_id, "OPENING", "OPEN", "CLOSING", "CLOSED")
    return position_id


@pytest.mark.parametrize(
    "changes",
    [{"realizedPL": 1000000, "exitPrice": 200}, {"entryPrice": 1, "mtTicket": "999"}, {"status": "OPEN"}],
)
async def test_closed_position_rewritten_by_its_client_is_refused_and_unchanged(
    world: World, changes: dict[str, Any]
) -> None:
    position_id = await _closed(world)
    before = world.api.feed_head()
    body = await world.alice.client.raw(UPDATE_POSITION, {"input": {"id": position_id, **changes}})
    assert error_code(body) == "INVALID_TRANSITION"
    assert world.api.feed_head() == before
    memo = await world.alice.client.raw(UPDATE_POSITION, {"input": {"id": position_id, "memo": "reviewed"}})
    assert memo["data"]["updatePosition"]["memo"] == "reviewed"


async def test_stopped_needs_the_exit_price_and_is_the_agents_word(world: World) -> None:
    _, position_id = await world.api.entry(world.alice)
    await world.api.move_position(world.alice.client, position_id, "OPENING", "OPEN")
    bare = await world.alice.client.raw(UPDATE_POSITION, {"input": {"id": position_id, "status": "STOPPED"}})
    assert error_code(bare) == "VALIDATION" and "exitPrice" in bare["errors"][0]["message"]
    by_admin = await world.api.admin.raw(
        UPDATE_POSITION, {"input": {"id": position_id, "status": "STOPPED", "exitPrice": 149}}
    )
    assert error_code(by_admin) == "FORBIDDEN"


@pytest.mark.parametrize("symbol", ["BTCUSD", "US30", "ZZZZZZ"])
async def test_create_action_unknown_symbol_is_validation_never_a_guessed_pip(
    world: World, symbol: str
) -> None:
    body = await world.alice.client.raw(
        CREATE, {"input": {"type": "ENTRY", "accountId": world.alice.account_id, "symbol": symbol,
                           "side": "BUY", "volume": 0.1, "trailWidth": 3}},
    )  # fmt: skip
    assert error_code(body) == "VALIDATION" and "has no spec" in body["errors"][0]["message"]


async def test_create_action_by_admin_without_user_id_takes_the_accounts_owner(world: World) -> None:
    made = await world.api.admin.execute(
        CREATE, {"input": {"type": "ENTRY", "accountId": world.bob.account_id, "symbol": "EURUSD",
                           "side": "SELL", "volume": 0.1}},
    )  # fmt: skip
    assert made["createAction"]["action"]["userId"] == world.bob.id


async def test_create_action_retried_with_the_same_client_request_id_creates_nothing(world: World) -> None:
    request = {"type": "ENTRY", "accountId": world.alice.account_id, "symbol": "EURUSD", "side": "BUY",
               "volume": 0.1, "clientRequestId": "retry-after-timeout"}  # fmt: skip
    first = (await world.alice.client.execute(CREATE, {"input": request}))["createAction"]
    before = world.api.feed_head()
    again = (await world.alice.client.execute(CREATE, {"input": request}))["createAction"]
    assert again == first and first["action"]["clientRequestId"] == "retry-after-timeout"
    assert world.api.feed_head() == before


async def test_position_history_and_changes_say_who_made_each_version(world: World) -> None:
    _, position_id = await world.api.entry(world.alice)
    await world.api.admin.execute(UPDATE_POSITION, {"input": {"id": position_id, "memo": "by a person"}})
    await world.api.move_position(world.alice.client, position_id, "OPENING")
    versions = (await world.alice.client.execute(HISTORY, {"id": position_id}))["positionHistory"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "PENDING"), (2, "PENDING"), (3, "OPENING")]
    made = (await world.alice.client.execute(CHANGES, {"p": position_id, "a": None}))["changes"]
    assert [(c["version"], c["source"], c["by"], c["fields"]) for c in made[1:]] == [
        (2, "USER", world.admin.id, ["memo"]),
        (3, "AGENT", world.alice.id, ["status"]),
    ]
    foreign = await world.bob.client.raw(CHANGES, {"p": position_id, "a": None})
    assert error_code(foreign) == "FORBIDDEN"


async def test_set_trading_state_by_a_client_is_forbidden_and_a_halt_reaches_its_subscribers(
    world: World,
) -> None:
    halt = {"scope": "USER", "targetId": world.alice.id, "state": "HALTED", "reason": "margin call"}
    refused = await world.alice.client.raw(SET_STATE, {"input": halt})
    assert error_code(refused) == "FORBIDDEN"
    async with world.alice.client.connection() as conn:
        op_id = await conn.start(
            "subscription { onUpdateTradingControl { scope targetId state reason } }", {}
        )
        await until_subscribed(world.api, 1)
        made = (await world.api.admin.execute(SET_STATE, {"input": halt}))["setTradingState"]
        seen = (await next_for(conn, op_id))["payload"]["data"]["onUpdateTradingControl"]
    assert made["updatedBy"] == world.admin.id
    assert seen == {"scope": "USER", "targetId": world.alice.id, "state": "HALTED", "reason": "margin call"}
    _, position_id = await world.api.entry(world.alice)
    body = await world.alice.client.raw(UPDATE_POSITION, {"input": {"id": position_id, "status": "OPENING"}})
    assert error_code(body) == "INVALID_TRANSITION" and "margin call" in body["errors"][0]["message"]
    controls = (await world.bob.client.execute("{ tradingControls { scope targetId } }"))["tradingControls"]
    assert {"scope": "USER", "targetId": world.alice.id} not in controls
    resume = {**halt, "state": "ACTIVE", "reason": "paid"}
    await world.api.admin.execute(SET_STATE, {"input": resume})


async def test_settle_position_is_admin_only(world: World) -> None:
    _, position_id = await world.api.entry(world.alice)
    await world.api.move_position(world.alice.client, position_id, "OPENING")
    settle = {
        "id": position_id,
        "status": "OPEN",
        "mtTicket": "42",
        "entryPrice": 150.25,
        "reason": "statement",
    }
    assert error_code(await world.alice.client.raw(SETTLE, {"input": settle})) == "FORBIDDEN"
    settled = (await world.api.admin.execute(SETTLE, {"input": settle}))["settlePosition"]
    assert (settled["status"], settled["mtTicket"], settled["entryPrice"]) == ("OPEN", "42", 150.25)


async def test_create_hedge_plan_in_one_call_links_everything_and_is_idempotent(world: World) -> None:
    plan = {
        "entry": {"type": "ENTRY", "accountId": world.alice.account_id, "symbol": "USDJPY", "side": "BUY",
                  "volume": 0.1, "trailWidth": 3},
        "hedges": [{"accountId": world.bob.account_id, "symbol": "USDJPY", "side": "SELL", "volume": 0.1,
                    "maxSlippagePips": 2}],
        "clientRequestId": "plan-a",
    }  # fmt: skip
    foreign = await world.alice.client.raw(PLAN, {"input": plan})
    assert error_code(foreign) == "FORBIDDEN"  # a leg on another user's account needs ADMIN
    made = (await world.api.admin.execute(PLAN, {"input": plan}))["createHedgePlan"]
    leg = made["hedgeActions"][0]
    assert made["entryPosition"]["triggerActionIds"] == [leg["id"]]
    assert (leg["userId"], leg["triggerPositionId"], leg["maxSlippagePips"]) == (
        world.bob.id, made["entryPosition"]["id"], 2.0
    )  # fmt: skip
    before = world.api.feed_head()
    assert (await world.api.admin.execute(PLAN, {"input": plan}))["createHedgePlan"] == made
    # the replay writes no position or action (a background job, e.g. the presence sweep of an
    # earlier test's connection, may write an account row meanwhile: once, the whole-feed check flaked)
    assert {"Position", "Action"}.isdisjoint(world.api.kinds_written_since(before))


async def test_exposure_for_a_client_counts_only_its_own(world: World) -> None:
    _, position_id = await world.api.entry(world.bob)
    await world.api.move_position(world.bob.client, position_id, "OPENING", "OPEN")
    mine = (await world.bob.client.execute(EXPOSURE))["exposure"]
    assert [u["userId"] for u in mine["byUser"]] == [world.bob.id]
    assert {"symbol": "USDJPY", "netLots": 0.1, "longLots": 0.1, "shortLots": 0.0} in mine["overall"]


async def test_symbol_specs_reported_by_the_terminal_are_served_and_used(world: World) -> None:
    spec = {"symbol": "US30", "digits": 1, "point": 0.1, "contractSize": 1, "volumeMin": 0.1,
            "volumeStep": 0.1, "volumeMax": 10, "marginPerLot": 250}  # fmt: skip
    update = """mutation($input: UpdateAccountInput!) {
      updateAccount(input: $input) { symbolSpecs { symbol source } } }"""
    by_admin = await world.api.admin.raw(
        update, {"input": {"id": world.alice.account_id, "symbolSpecs": [spec]}}
    )
    assert error_code(by_admin) == "FORBIDDEN"
    reported = await world.alice.client.execute(
        update, {"input": {"id": world.alice.account_id, "symbolSpecs": [spec]}}
    )
    assert reported["updateAccount"]["symbolSpecs"] == [{"symbol": "US30", "source": "TERMINAL"}]
    listed = await world.alice.client.execute(
        "query($a: ID) { symbolSpecs(accountId: $a) { symbol pipSize source marginPerLot } }",
        {"a": world.alice.account_id},
    )
    assert listed["symbolSpecs"][0] == {
        "symbol": "US30",
        "pipSize": 0.1,
        "source": "TERMINAL",
        "marginPerLot": 250.0,
    }
    made = await world.alice.client.raw(
        CREATE, {"input": {"type": "ENTRY", "accountId": world.alice.account_id, "symbol": "US30",
                           "side": "BUY", "volume": 0.5}},
    )  # fmt: skip
    assert not made.get("errors"), made


async def test_trigger_time_is_the_price_time_not_the_servers(world: World) -> None:
    _, position_id = await world.api.entry(world.alice)
    await world.api.move_position(world.alice.client, position_id, "OPENING", "OPEN")
    body = await world.alice.client.execute(
        """mutation($p: ID!) { triggerActions(input: {positionId: $p, reason: TRAIL, price: 150.1,
           priceTime: "2026-01-05T21:57:05.000Z"}) { position { trailTriggeredAt triggerPrice } } }""",
        {"p": position_id},
    )
    assert body["triggerActions"]["position"] == {
        "trailTriggeredAt": "2026-01-05T21:57:05.000Z",
        "triggerPrice": 150.1,
    }
