"""The agent's mutations (hedge.agent.mutations) against a real server on a free port: each intent
sends its document over the agent's link and hands back the server's rows as domain values."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from hedge.agent import documents as doc
from hedge.agent import intents
from hedge.agent.core import AgentCore
from hedge.agent.link import ServerLink
from hedge.agent.mutations import send_mutation
from hedge.agent.state import Row
from hedge.api.runner import serve
from hedge.client.graphql import GraphQLClient, GraphQLClientError
from hedge.config import AgentSettings, ServerSettings
from hedge.domain.enums import ActionStatus, PositionStatus, TriggerReason
from hedge.domain.models import Account, Action, Position

ADMIN = "admin-token-long-enough-24"
CREATE_USER = """mutation { createUser(input: {email: "m@x.io", name: "M", role: CLIENT}) {
  user { id } token } }"""
CREATE_ACCOUNT = """mutation ($u: ID!) { createAccount(input: {userId: $u, brokerType: MT5,
  accountNumber: "7", serverName: "S", displayName: "main"}) { id } }"""
TRIGGERED = "query ($id: ID!) { getPosition(id: $id) { trailTriggeredAt triggerReason } }"
CREATE_ENTRY = """mutation ($a: ID!) { createAction(input: {type: ENTRY, accountId: $a,
  symbol: "USDJPY", side: BUY, volume: 0.1}) { action { id } position { id } } }"""


@dataclass
class Desk:
    link: ServerLink
    core: AgentCore
    admin: GraphQLClient
    account_id: str
    action_id: str
    position_id: str


async def _seed(admin: GraphQLClient) -> tuple[str, str, dict[str, dict[str, str]]]:
    """A CLIENT user with one account and a PENDING entry: (token, account id, createAction)."""
    made = (await admin.execute(CREATE_USER))["createUser"]
    account_id = (await admin.execute(CREATE_ACCOUNT, {"u": made["user"]["id"]}))["createAccount"]["id"]
    return made["token"], account_id, (await admin.execute(CREATE_ENTRY, {"a": account_id}))["createAction"]


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """A server with one user, an account and a PENDING entry; the user's agent link is up."""
    database_url = f"sqlite:///{tmp_path / 'h.db'}"
    async with (
        serve(ServerSettings.from_env({}, database_url=database_url, port=0, admin_token=ADMIN)) as url,
        GraphQLClient(url, ADMIN) as admin,
    ):
        token, account_id, entry = await _seed(admin)
        async with GraphQLClient(url, token) as client:
            up = asyncio.Event()
            link = ServerLink(client, lambda rows: None, lambda state: up.set() if state else None)
            running = asyncio.create_task(link.run())
            try:
                await asyncio.wait_for(up.wait(), 10)
                core = AgentCore(AgentSettings(token="t", ea_token="e", state_dir=str(tmp_path)))
                yield Desk(link, core, admin, account_id, entry["action"]["id"], entry["position"]["id"])
            finally:
                running.cancel()


async def _send(desk: Desk, intent: intents.Intent) -> list[Row]:
    return await send_mutation(desk.link, desk.core, intent)


async def _open(desk: Desk) -> None:
    await _send(desk, intents.UpdatePosition(desk.position_id, {"status": "OPENING"}, "test"))
    facts = {"status": "OPEN", "entryPrice": Decimal("150.013"), "mtTicket": "880001"}
    await _send(desk, intents.UpdatePosition(desk.position_id, facts, "filled"))


async def test_update_position_answers_the_servers_row_as_a_position(desk: Desk) -> None:
    (row,) = await _send(desk, intents.UpdatePosition(desk.position_id, {"status": "OPENING"}, "opening"))
    assert isinstance(row, Position)
    assert (row.id, row.status, row.version) == (desk.position_id, PositionStatus.OPENING, 2)


async def test_update_position_sends_decimals_and_reads_them_back_exactly(desk: Desk) -> None:
    await _open(desk)
    (row,) = await _send(
        desk, intents.UpdatePosition(desk.position_id, {"trailWidth": Decimal("12.5")}, "plan")
    )
    assert isinstance(row, Position)
    assert (row.entry_price, row.trail_width, row.mt_ticket) == (
        Decimal("150.013"),
        Decimal("12.5"),
        "880001",
    )


async def test_update_action_answers_the_servers_row_as_an_action(desk: Desk) -> None:
    (row,) = await _send(desk, intents.UpdateAction(desk.action_id, {"status": "EXECUTING"}, "go"))
    assert isinstance(row, Action) and (row.id, row.status) == (desk.action_id, ActionStatus.EXECUTING)


async def test_update_account_answers_the_servers_row_as_an_account(desk: Desk) -> None:
    (row,) = await _send(desk, intents.UpdateAccount(desk.account_id, {"balance": Decimal("10000.25")}))
    assert isinstance(row, Account) and row.balance == Decimal("10000.25")


async def test_a_refused_mutation_raises_with_the_servers_code_and_answers_no_row(desk: Desk) -> None:
    with pytest.raises(GraphQLClientError) as refused:
        await _send(desk, intents.UpdatePosition(desk.position_id, {"status": "CLOSED"}, "wrong"))
    assert refused.value.code == "INVALID_TRANSITION"
    position = await desk.link.query(doc.GET_POSITION, {"id": desk.position_id})
    assert position["getPosition"]["status"] == "PENDING"


async def test_trigger_actions_records_the_eas_price_time_and_answers_no_row(desk: Desk) -> None:
    await _open(desk)
    at_ms = 1_790_000_000_123
    intent = intents.TriggerActions(
        desk.position_id, TriggerReason.TRAIL, Decimal("150.2"), at_ms, "trg-test-1"
    )
    assert await _send(desk, intent) == []
    position = (await desk.link.query(TRIGGERED, {"id": desk.position_id}))["getPosition"]
    triggered = datetime.fromisoformat(position["trailTriggeredAt"].replace("Z", "+00:00"))
    assert triggered == datetime.fromtimestamp(at_ms / 1000, UTC)
    assert position["triggerReason"] == "TRAIL"


async def test_raised_alert_id_goes_to_the_core_and_its_resolve_closes_it_on_the_server(desk: Desk) -> None:
    key = ("EA_UNREACHABLE", desk.account_id, None)
    assert await _send(desk, intents.RaiseAlert(key, "WARNING", "the EA is away")) == []
    (listed,) = (await desk.admin.execute(doc.OPEN_ALERTS))["listAlerts"]
    assert (listed["kind"], listed["accountId"]) == ("EA_UNREACHABLE", desk.account_id)
    # the core holds no such condition any more, so the id the server gave is the one it resolves
    (resolve,) = desk.core.alerts.update([])
    assert resolve == intents.ResolveAlert(key, listed["id"])

    assert await _send(desk, resolve) == []
    assert (await desk.admin.execute(doc.OPEN_ALERTS))["listAlerts"] == []
    assert desk.core.alerts.update([]) == []  # recorded: not asked again
