"""The server link and the kill switch, against a real server: the trading controls are read on
every (re)connect before any row, and each change arrives over `onUpdateTradingControl`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hedge.agent.link import ServerLink
from hedge.agent.state import Row
from hedge.api.runner import serve
from hedge.client.graphql import GraphQLClient
from hedge.config import ServerSettings

ADMIN = "admin-token-long-enough-24"
CREATE_USER = """mutation { createUser(input: {email: "c@x.io", name: "C", role: CLIENT}) {
  user { id } token } }"""
CREATE_ACCOUNT = """mutation ($u: ID!) { createAccount(input: {userId: $u, brokerType: MT5,
  accountNumber: "8", serverName: "S", displayName: "main"}) { id } }"""
SET_STATE = """mutation ($t: ID, $scope: TradingScope!, $s: TradingState!) { setTradingState(input:
  {scope: $scope, targetId: $t, state: $s, reason: "test"}) { state } }"""


class Seen:
    """What the link handed over, in order: ("controls", [...]) and ("rows", n)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.changed = asyncio.Event()
        self.up = asyncio.Event()

    def controls(self, items: list[dict[str, Any]]) -> None:
        self.events.append(("controls", [(c["scope"], c["targetId"], c["state"]) for c in items]))
        self.changed.set()

    def rows(self, batch: list[Row]) -> None:
        self.events.append(("rows", len(batch)))

    def state(self, up: bool) -> None:
        if up:
            self.up.set()

    async def control(self, wanted: tuple[str, str | None, str]) -> None:
        while not any(kind == "controls" and wanted in items for kind, items in self.events):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)


async def test_link_reads_controls_before_rows_on_every_connect_and_follows_changes(tmp_path: Path) -> None:
    settings = ServerSettings.from_env({}, database_url=f"sqlite:///{tmp_path / 'h.db'}", port=0,
                                       admin_token=ADMIN)  # fmt: skip
    async with serve(settings) as url, GraphQLClient(url, ADMIN) as admin:
        made = (await admin.execute(CREATE_USER))["createUser"]
        user_id = made["user"]["id"]
        account = (await admin.execute(CREATE_ACCOUNT, {"u": user_id}))["createAccount"]["id"]
        await admin.execute(SET_STATE, {"scope": "ACCOUNT", "t": account, "s": "HALTED"})
        async with GraphQLClient(url, made["token"]) as client:
            seen = Seen()
            link = ServerLink(client, seen.rows, seen.state, 0.2, seen.controls)
            running = asyncio.create_task(link.run())
            try:
                await asyncio.wait_for(seen.up.wait(), 10)
                first_rows = next(i for i, (kind, _) in enumerate(seen.events) if kind == "rows")
                assert seen.events[0] == ("controls", [("ACCOUNT", account, "HALTED")])
                assert first_rows > 0  # no row before the state it is judged by
                await admin.execute(SET_STATE, {"scope": "USER", "t": user_id, "s": "REDUCING"})
                await seen.control(("USER", user_id, "REDUCING"))  # over the subscription
            finally:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)

            await admin.execute(SET_STATE, {"scope": "GLOBAL", "t": None, "s": "HALTED"})  # while away
            again = Seen()
            link = ServerLink(client, again.rows, again.state, 0.2, again.controls)
            running = asyncio.create_task(link.run())
            try:
                await asyncio.wait_for(again.up.wait(), 10)
                kind, items = again.events[0]
                assert kind == "controls"
                assert set(items) == {("GLOBAL", None, "HALTED"), ("USER", user_id, "REDUCING"),
                                      ("ACCOUNT", account, "HALTED")}  # fmt: skip
            finally:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
            await admin.execute(SET_STATE, {"scope": "GLOBAL", "t": None, "s": "ACTIVE"})


async def test_link_without_a_controls_callback_subscribes_to_none() -> None:
    link = ServerLink(GraphQLClient("http://127.0.0.1:9", "t"), lambda rows: None, lambda up: None)
    assert link.controls_supported is False
    await link.client.close()
