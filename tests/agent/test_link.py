"""The agent's server link: subscriptions and a reload on connect, mutations over its WebSocket."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hedge.agent import documents as doc
from hedge.agent.link import ResyncRequired, ServerLink, _raise_for, resumable
from hedge.agent.state import Row
from hedge.api.runner import serve
from hedge.client.graphql import GraphQLClient, GraphQLClientError, TokenRefused
from hedge.config import ServerSettings
from hedge.domain.enums import PositionStatus
from hedge.domain.models import Position

CREATE_USER = """mutation { createUser(input: {email: "t@x.io", name: "T", role: CLIENT}) {
  user { id } token } }"""
CREATE_ACCOUNT = """mutation ($u: ID!) { createAccount(input: {userId: $u, brokerType: MT5,
  accountNumber: "7", serverName: "S", displayName: "main"}) { id } }"""
CREATE_ENTRY = """mutation ($a: ID!) { createAction(input: {type: ENTRY, accountId: $a,
  symbol: "USDJPY", side: BUY, volume: 0.1}) { position { id } } }"""


async def test_link_loads_rows_then_mutates_over_its_websocket_with_coded_errors(tmp_path: Path) -> None:
    url_db = f"sqlite:///{tmp_path / 'h.db'}"
    settings = ServerSettings.from_env(
        {}, database_url=url_db, port=0, admin_token="admin-token-long-enough-24"
    )
    async with serve(settings) as url, GraphQLClient(url, "admin-token-long-enough-24") as admin:
        made = (await admin.execute(CREATE_USER))["createUser"]
        account = (await admin.execute(CREATE_ACCOUNT, {"u": made["user"]["id"]}))["createAccount"]["id"]
        async with GraphQLClient(url, made["token"]) as client:
            entry = await client.execute(CREATE_ENTRY, {"a": account})
            position_id = entry["createAction"]["position"]["id"]
            rows: list[Row] = []
            up, opening_seen = asyncio.Event(), asyncio.Event()

            def on_rows(batch: list[Row]) -> None:
                rows.extend(batch)
                if any(isinstance(r, Position) and r.status is PositionStatus.OPENING for r in batch):
                    opening_seen.set()

            link = ServerLink(client, on_rows, lambda state: up.set() if state else None)
            running = asyncio.create_task(link.run())
            try:
                await asyncio.wait_for(up.wait(), 10)
                assert any(isinstance(r, Position) and r.id == position_id for r in rows)  # the reload
                moved = await link.mutate(
                    doc.UPDATE_POSITION, {"input": {"id": position_id, "status": "OPENING"}}
                )
                assert moved["updatePosition"]["status"] == "OPENING"
                with pytest.raises(GraphQLClientError) as refused:
                    await link.mutate(doc.UPDATE_POSITION, {"input": {"id": position_id, "status": "CLOSED"}})
                assert refused.value.code == "INVALID_TRANSITION"
                await asyncio.wait_for(opening_seen.wait(), 5)  # and its subscription reported the move
            finally:
                running.cancel()


def test_resumable_adds_the_after_argument_to_each_subscription_document() -> None:
    for queries in doc.SUBSCRIPTIONS.values():
        for query in queries:
            resumed = resumable(query)
            assert resumed.startswith("subscription ($after: String) { on")
            assert "(after: $after) {" in resumed
            assert resumed.count("$after") == 2  # declared once, passed once
    with pytest.raises(ValueError, match="not a one-field subscription"):
        resumable("query { me { id } }")


def test_link_error_codes_resync_required_and_unauthenticated_have_their_own_exceptions() -> None:
    with pytest.raises(ResyncRequired, match="feed gap"):
        _raise_for([{"message": "feed gap", "extensions": {"code": "RESYNC_REQUIRED"}}])
    with pytest.raises(TokenRefused):
        _raise_for([{"message": "a valid token is required", "extensions": {"code": "UNAUTHENTICATED"}}])
    _raise_for([{"message": "no", "extensions": {"code": "FORBIDDEN"}}])  # others: the caller's to handle
    _raise_for([])
