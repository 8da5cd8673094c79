"""An in-test agent double: a real WebSocket server on a free loopback port that plays the agent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve

from hedge.ea.paper import PaperEA
from hedge.ea.paper_config import PaperConfig
from hedge.ea.protocol import Auth, AuthOk, Message, decode, encode

RECV_TIMEOUT_S = 3.0
M = TypeVar("M")


class AgentDouble:
    """Accepts EA connections and hands each to the test; the test plays the agent's side."""

    def __init__(self) -> None:
        self._connections: asyncio.Queue[ServerConnection] = asyncio.Queue()
        self.server: Server | None = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        self.server = await serve(self._handler, "127.0.0.1", port, compression=None)
        self.port = self.server.sockets[0].getsockname()[1] if port == 0 else port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def _handler(self, ws: ServerConnection) -> None:
        await self._connections.put(ws)
        await ws.wait_closed()

    async def connection(self, timeout_s: float = RECV_TIMEOUT_S) -> ServerConnection:
        async with asyncio.timeout(timeout_s):
            return await self._connections.get()

    async def accept(self, account_id: str = "acc-1") -> tuple[ServerConnection, Auth]:
        """The next EA connection, its AUTH answered with AUTH_OK."""
        ws = await self.connection()
        auth = await self.recv(ws)
        assert isinstance(auth, Auth), f"first frame must be AUTH, was {auth}"
        await self.send(ws, AuthOk(account_id))
        return ws, auth

    @staticmethod
    async def send(ws: ServerConnection, msg: Message | str) -> None:
        await ws.send(msg if isinstance(msg, str) else encode(msg))

    @staticmethod
    async def recv(ws: ServerConnection, timeout_s: float = RECV_TIMEOUT_S) -> Message:
        async with asyncio.timeout(timeout_s):
            frame = await ws.recv()
        return decode(frame)

    @staticmethod
    async def expect(ws: ServerConnection, cls: type[M], timeout_s: float = RECV_TIMEOUT_S) -> M:
        """The next frame of type `cls`, skipping frames of other types (PRICE, ACCOUNT, PING...)."""
        async with asyncio.timeout(timeout_s):
            while True:
                msg = decode(await ws.recv())
                if isinstance(msg, cls):
                    return msg


@pytest.fixture
async def agent() -> AsyncIterator[AgentDouble]:
    double = AgentDouble()
    await double.start()
    yield double
    await double.stop()


EAStarter = Callable[..., Awaitable[tuple[PaperEA, "asyncio.Task[None]"]]]


@pytest.fixture
async def start_ea(agent: AgentDouble) -> AsyncIterator[EAStarter]:
    """Start paper EAs against the agent double (static prices, fast reconnects); stopped at teardown."""
    started: list[tuple[PaperEA, asyncio.Task[None]]] = []

    async def start(**overrides: Any) -> tuple[PaperEA, asyncio.Task[None]]:
        settings: dict[str, Any] = {
            "account_number": "12345",
            "server_name": "Paper-Demo 1",
            "ea_token": "T",
            "agent_url": agent.url,
            "feed": "static",
            "tick_interval_ms": 20,
            "idle_ping_s": 30.0,
            "dead_after_s": 60.0,
            "reconnect_initial_delay_s": 0.05,
            "reconnect_min_delay_s": 0.05,
            "reconnect_max_delay_s": 0.2,
            "auth_retry_delay_s": 0.05,
        }
        settings.update(overrides)
        ea = PaperEA(PaperConfig(**settings))
        task = asyncio.create_task(ea.run())
        started.append((ea, task))
        return ea, task

    yield start
    for ea, task in started:
        ea.stop()
        async with asyncio.timeout(5):
            await asyncio.wait([task])
