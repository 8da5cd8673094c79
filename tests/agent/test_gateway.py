"""The agent's EA port: liveness (it pings; a silent EA is dropped) and the handshake, on real sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hedge.agent.gateway import CLOSE_DEAD, EAGateway
from hedge.domain.enums import BrokerType, ConnectionStatus
from hedge.domain.ids import AccountId, UserId
from hedge.domain.models import Account
from hedge.ea.protocol import Message

T0 = datetime(2026, 11, 25, tzinfo=UTC)
ACCOUNT = Account(
    id=AccountId("acc-1"), user_id=UserId("u1"), broker_type=BrokerType.MT5, account_number="1001",
    server_name="Demo", display_name="main", currency="USD", connection_status=ConnectionStatus.DISCONNECTED,
    created_at=T0, updated_at=T0,
)  # fmt: skip
AUTH = {"type": "AUTH", "token": "ea-secret", "accountNumber": "1001", "serverName": "Demo"}


class Handler:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.disconnected = asyncio.Event()

    async def find_account(self, account_number: str, server_name: str) -> Account | str:
        return ACCOUNT if (account_number, server_name) == ("1001", "Demo") else "not an account of this user"

    def on_connect(self, account: Account) -> None:
        self.events.append("connect")

    def on_disconnect(self, account: Account) -> None:
        self.events.append("disconnect")
        self.disconnected.set()

    def on_message(self, account: Account, msg: Message) -> None:
        self.events.append(msg.TYPE)

    def health(self) -> dict[str, object]:
        return {"serverConnected": True, "accounts": []}


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[tuple[EAGateway, Handler, int]]:
    handler = Handler()
    made = EAGateway(handler, "ea-secret", ping_interval_s=0.1, dead_after_s=0.35)
    port = await made.start("127.0.0.1", 0)
    yield made, handler, port
    await made.close()


@asynccontextmanager
async def authed(port: int) -> AsyncIterator[tuple[ClientConnection, object]]:
    """An EA's socket on the agent's port: its AUTH sent, the agent's answer read."""
    async with connect(f"ws://127.0.0.1:{port}/") as ws:
        await ws.send(json.dumps(AUTH))
        yield ws, json.loads(await ws.recv())


async def test_agent_pings_and_an_ea_that_answers_stays_connected(
    gateway: tuple[EAGateway, Handler, int],
) -> None:
    _, handler, port = gateway
    async with authed(port) as (ws, answer):
        assert answer == {"type": "AUTH_OK", "accountId": "acc-1"}
        pings = 0
        async with asyncio.timeout(2):
            while pings < 6:  # 0.6 s: well past the 0.35 s silence limit, answering every PING
                frame = json.loads(await ws.recv())
                if frame["type"] == "PING":
                    pings += 1
                    await ws.send(json.dumps({"type": "PONG", "id": frame["id"]}))
    assert handler.events[0] == "connect"


async def test_silent_ea_is_dropped_after_the_liveness_window(
    gateway: tuple[EAGateway, Handler, int],
) -> None:
    _, handler, port = gateway
    async with authed(port) as (ws, _):
        try:
            async with asyncio.timeout(3):
                while True:
                    await ws.recv()  # read the PINGs, never answer
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == CLOSE_DEAD
    await asyncio.wait_for(handler.disconnected.wait(), 2)  # and the agent was told


async def test_ea_ping_is_answered_with_pong_of_the_same_id(gateway: tuple[EAGateway, Handler, int]) -> None:
    _, _, port = gateway
    async with authed(port) as (ws, _):
        await ws.send(json.dumps({"type": "PING", "id": 77}))
        async with asyncio.timeout(2):
            while (frame := json.loads(await ws.recv()))["type"] != "PONG":
                pass
    assert frame == {"type": "PONG", "id": 77}
