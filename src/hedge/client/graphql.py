"""A small GraphQL client for our own API: HTTP POST for queries and mutations, and
graphql-transport-ws for subscriptions. Used by the agent, the demo, the tests and benchmarks."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

SUBPROTOCOL = "graphql-transport-ws"


class GraphQLClientError(Exception):
    """The server answered with errors; `code` is the first error's extensions.code."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        first = errors[0] if errors else {}
        self.errors = errors
        self.code: str = (first.get("extensions") or {}).get("code", "UNKNOWN")
        self.message: str = first.get("message", "unknown error")
        super().__init__(f"{self.code}: {self.message}")


class GraphQLClient:
    def __init__(self, base_url: str, token: str | None, *, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout_s)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> GraphQLClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole JSON response (data and errors), whatever the HTTP status."""
        response = await self._http.post("/graphql", json={"query": query, "variables": variables or {}})
        body: dict[str, Any] = response.json()
        return body

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a successful response; GraphQLClientError when it carries errors."""
        body = await self.raw(query, variables)
        if body.get("errors"):
            raise GraphQLClientError(body["errors"])
        data: dict[str, Any] = body["data"]
        return data

    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/graphql"

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[SubscriptionConnection]:
        """One graphql-transport-ws connection, initialised with this client's token."""
        async with connect(
            self.ws_url(),
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            max_size=2**22,
            compression=None,  # small frames on a LAN: compressing costs more than it saves
        ) as ws:
            payload = {"authorization": f"Bearer {self.token}"} if self.token else {}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            reply = json.loads(await ws.recv())
            if reply.get("type") != "connection_ack":
                raise GraphQLClientError([{"message": f"no connection_ack: {reply}"}])
            yield SubscriptionConnection(ws)


class SubscriptionConnection:
    """Subscriptions multiplexed over one WebSocket; `next_message` reads the raw protocol."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        return str(next(self._ids))

    async def start(
        self, query: str, variables: dict[str, Any] | None = None, op_id: str | None = None
    ) -> str:
        """Send a `subscribe` (a subscription, or a query or mutation answered by one `next`)."""
        op_id = op_id or self.new_id()
        message = {
            "id": op_id,
            "type": "subscribe",
            "payload": {"query": query, "variables": variables or {}},
        }
        await self.ws.send(json.dumps(message))
        return op_id

    async def stop(self, op_id: str) -> None:
        await self.ws.send(json.dumps({"id": op_id, "type": "complete"}))

    async def next_message(self) -> dict[str, Any]:
        """The next message that is not a ping (pings are answered)."""
        while True:
            message: dict[str, Any] = json.loads(await self.ws.recv())
            if message.get("type") == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            if message.get("type") == "pong":
                continue
            return message
