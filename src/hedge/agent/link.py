"""The agent's link to the server: its user's subscriptions over one WebSocket, a full reload
after every (re)connect (so nothing that happened while away is missed), and mutations over the
same WebSocket (HTTP while it is down).
Reconnects with exponential backoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from hedge.agent import documents as doc
from hedge.agent.state import Row
from hedge.agent.wire import from_gql
from hedge.client.graphql import GraphQLClient, GraphQLClientError, SubscriptionConnection
from hedge.domain.models import Account, Action, Position

log = logging.getLogger(__name__)


def _position(data: dict[str, Any]) -> Row:
    return from_gql(Position, data)


def _action(data: dict[str, Any]) -> Row:
    return from_gql(Action, data)


def _account(data: dict[str, Any]) -> Row:
    return from_gql(Account, data)


PARSERS: dict[str, Callable[[dict[str, Any]], Row]] = {
    "onCreatePosition": _position,
    "onUpdatePosition": _position,
    "onCreateAction": _action,
    "onUpdateAction": _action,
    "onUpdateAccount": _account,
}
LINK_ERRORS = (
    OSError,
    ConnectionError,
    ConnectionClosed,
    InvalidHandshake,
    httpx.HTTPError,
    GraphQLClientError,
    TimeoutError,
)


class ServerLink:
    def __init__(
        self,
        client: GraphQLClient,
        on_rows: Callable[[list[Row]], None],
        on_state: Callable[[bool], None],
        reconnect_max_s: float = 5.0,
    ) -> None:
        self.client = client
        self._on_rows = on_rows
        self._on_state = on_state
        self._reconnect_max_s = reconnect_max_s
        self.connected = False
        self.user_id: str | None = None
        self._conn: SubscriptionConnection | None = None
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._mutation_timeout_s = 10.0

    async def run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._session()
                backoff = 0.1
            except InvalidStatus as exc:
                log.warning("server refused the link (%s); retrying in %.1f s", exc, backoff)
            except GraphQLClientError as exc:
                if exc.code == "UNAUTHENTICATED" or "connection_ack" in exc.message:
                    log.error(
                        "server refused the agent's token: %s; retrying in %.1f s", exc.message, backoff
                    )
                else:
                    log.warning("server link error: %s; reconnecting in %.1f s", exc, backoff)
            except LINK_ERRORS as exc:
                log.warning(
                    "server link lost (%s); reconnecting in %.1f s", exc or type(exc).__name__, backoff
                )
            finally:
                if self.connected:
                    self.connected = False
                    self._on_state(False)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._reconnect_max_s)

    async def _session(self) -> None:
        async with self.client.connection() as conn:
            subscriptions: set[str] = set()
            for queries in doc.SUBSCRIPTIONS.values():
                for query in queries:
                    subscriptions.add(await conn.start(query))
            # subscribed first, then a full load: a change between the two arrives at least once
            await self.reload()
            self._conn = conn
            self.connected = True
            self._on_state(True)
            log.info("server link up (user %s)", self.user_id)
            try:
                await self._read(conn, subscriptions)
            finally:
                self._conn = None
                for reply in self._replies.values():
                    if not reply.done():
                        reply.set_exception(ConnectionError("server link lost before the answer came"))
                self._replies.clear()

    async def _read(self, conn: SubscriptionConnection, subscriptions: set[str]) -> None:
        while True:
            message = await conn.next_message()
            kind, op_id = message.get("type"), message.get("id", "")
            reply = self._replies.pop(op_id, None)
            if reply is not None:  # the answer to a mutation sent over this connection
                if reply.done():
                    continue
                if kind == "next":
                    reply.set_result(message.get("payload") or {})
                elif kind == "error":
                    reply.set_exception(GraphQLClientError(message.get("payload") or []))
                else:
                    reply.set_exception(GraphQLClientError([{"message": f"no answer to operation {op_id}"}]))
            elif kind == "next" and op_id in subscriptions:
                payload = message.get("payload") or {}
                if payload.get("errors"):
                    log.error("subscription error: %s", payload["errors"])
                    continue
                for name, data in (payload.get("data") or {}).items():
                    self._on_rows([PARSERS[name](data)])
            elif kind in ("error", "complete") and op_id in subscriptions:
                log.error("subscription %s ended by the server: %s", op_id, message)
                return

    async def reload(self) -> None:
        me = await self.client.execute(doc.ME)
        self.user_id = me["me"]["id"]
        data = await self.client.execute(doc.LOAD, {"userId": None})
        rows: list[Row] = [from_gql(Account, a) for a in data["listAccounts"]]
        rows += [from_gql(Position, p) for p in data["listPositions"]]
        rows += [from_gql(Action, a) for a in data["listActions"]]
        self._on_rows(rows)

    async def mutate(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run a mutation over the link's WebSocket when it is up (no HTTP round trip), else HTTP."""
        conn = self._conn
        if conn is None:
            return await self.client.execute(document, variables)
        op_id = conn.new_id()
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[op_id] = reply  # before sending: the answer may come before `start` returns
        try:
            await conn.start(document, variables, op_id)
            payload = await asyncio.wait_for(reply, self._mutation_timeout_s)
        finally:
            self._replies.pop(op_id, None)
        if payload.get("errors"):
            raise GraphQLClientError(payload["errors"])
        data: dict[str, Any] = payload["data"]
        return data
