"""The agent's link to the server: its user's subscriptions over one WebSocket, resumed from a
feed cursor on every (re)connect so no commit is missed, and mutations over the same WebSocket
(HTTP while it is down).

A (re)connect: take `feedCursor`, subscribe with `after: cursor` (the server replays every change
after it, then the live ones), then reload the rows (versions settle the overlap). RESYNC_REQUIRED
(cursor too old, feed gap, overflow) ends the session and the next one starts at once. Reconnects
back off exponentially (websockets' reconnect delays) up to `reconnect_max_s`. A refused token
(close 4403, UNAUTHENTICATED) ends the link with TokenRefused: trying again cannot help.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from websockets.client import backoff
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from hedge import hops
from hedge.agent import documents as doc
from hedge.agent.controls import ON_UPDATE_TRADING_CONTROL, TRADING_CONTROLS
from hedge.agent.state import Row
from hedge.agent.wire import from_gql
from hedge.client.graphql import (
    GraphQLClient,
    GraphQLClientError,
    ServerAnswerError,
    SubscriptionConnection,
    TokenRefused,
)
from hedge.domain.models import Account, Action, Position

log = logging.getLogger(__name__)

FEED_CURSOR = "query { feedCursor }"
RESYNC_REQUIRED = "RESYNC_REQUIRED"
UNAUTHENTICATED = "UNAUTHENTICATED"
CONTROL_EVENT = "onUpdateTradingControl"


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
    ServerAnswerError,
    TimeoutError,
)
_FIELD = re.compile(r"^subscription \{ (on\w+) \{")


def resumable(query: str) -> str:
    """`subscription { onX { ... } }` as `subscription ($after: String) { onX(after: $after) { ... } }`."""
    resumed, count = _FIELD.subn(r"subscription ($after: String) { \1(after: $after) {", query.strip())
    if count != 1:
        raise ValueError(f"not a one-field subscription document: {query[:60]!r}")
    return resumed


class ResyncRequired(Exception):
    """The server cannot resume the feed from the cursor: read everything again."""


class ServerLink:
    def __init__(
        self,
        client: GraphQLClient,
        on_rows: Callable[[list[Row]], None],
        on_state: Callable[[bool], None],
        reconnect_max_s: float = 5.0,
        on_controls: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.client = client
        self._on_rows = on_rows
        self._on_state = on_state
        self._on_controls = on_controls
        self.controls_supported = on_controls is not None  # False once the server showed it has none
        self._reconnect_max_s = reconnect_max_s
        self.connected = False
        self.user_id: str | None = None
        self.resumes = True  # False once the server showed it has no feed cursor (older server)
        self.sessions = 0  # how many sessions came up (a reconnect counts)
        self._conn: SubscriptionConnection | None = None
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._mutation_timeout_s = 10.0

    async def run(self) -> None:
        delays = self._delays()
        while True:
            try:
                await self._session()
            except TokenRefused:
                raise
            except ResyncRequired as exc:
                log.warning("the server asked for a resync (%s); reading everything again", exc)
                delays = self._delays()
                continue
            except InvalidStatus as exc:
                log.warning("server refused the link (%s)", exc)
            except LINK_ERRORS as exc:
                log.warning("server link lost (%s)", exc or type(exc).__name__)
            finally:
                if self.connected:
                    self.connected = False
                    self._on_state(False)
                    delays = self._delays()  # the session was up: start the backoff again
            delay = next(delays)
            log.info("reconnecting to the server in %.2f s", delay)
            await asyncio.sleep(delay)

    def _delays(self) -> Iterator[float]:
        top = max(0.1, self._reconnect_max_s)
        return backoff(initial_delay=0.1, min_delay=min(0.1, top), max_delay=top, factor=2.0)

    async def _session(self) -> None:
        async with self.client.connection() as conn:
            cursor = await self._feed_cursor()
            subscriptions: set[str] = set()
            for queries in doc.SUBSCRIPTIONS.values():
                for query in queries:
                    if cursor is None:
                        subscriptions.add(await conn.start(query))
                    else:
                        subscriptions.add(await conn.start(resumable(query), {"after": cursor}))
            controls = await self._controls(conn)
            # The subscriptions replay every change after `cursor`, the reload reads rows at or
            # after it: between the two nothing is missed (versions settle what both deliver).
            await self.reload()
            self._conn = conn
            self.connected = True
            self.sessions += 1
            self._on_state(True)
            log.info("server link up (user %s, %s)", self.user_id, "resumed from the feed cursor"
                     if cursor is not None else "subscribed, then reloaded")  # fmt: skip
            try:
                await self._read(conn, subscriptions | controls)
            finally:
                self._conn = None
                for reply in self._replies.values():
                    if not reply.done():
                        reply.set_exception(ConnectionError("server link lost before the answer came"))
                self._replies.clear()

    async def _controls(self, conn: SubscriptionConnection) -> set[str]:
        """Subscribe to the trading controls, then read them all (a change between the two comes
        twice; its updatedAt settles it), before any row: no order is judged on an old state."""
        if self._on_controls is None:
            return set()
        if not self.controls_supported:
            self._on_controls([])  # a server without controls: none to apply, but it is heard
            return set()
        op_id = await conn.start(ON_UPDATE_TRADING_CONTROL)
        try:
            data = await self.query(TRADING_CONTROLS)
        except GraphQLClientError as exc:
            if "tradingControls" not in exc.message:
                raise
            log.warning("the server has no trading controls (%s); the agent applies only its own "
                        "offline rule", exc.message)  # fmt: skip
            self.controls_supported = False
            raise ResyncRequired("reconnecting without the trading controls") from None
        self._on_controls(data["tradingControls"])
        return {op_id}

    async def _feed_cursor(self) -> str | None:
        if not self.resumes:
            return None
        try:
            data = await self.query(FEED_CURSOR)
        except GraphQLClientError as exc:
            if "feedCursor" not in exc.message:
                raise
            log.warning("the server has no feed cursor (%s); subscribing, then reloading", exc.message)
            self.resumes = False
            return None
        cursor: str = data["feedCursor"]
        return cursor

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
                    reply.set_exception(GraphQLClientError(_errors(message.get("payload"))))
                else:
                    reply.set_exception(GraphQLClientError([{"message": f"no answer to operation {op_id}"}]))
            elif kind == "next" and op_id in subscriptions:
                payload = message.get("payload") or {}
                if payload.get("errors"):
                    _raise_for(payload["errors"])
                    log.error("subscription error: %s", payload["errors"])
                    continue
                for name, data in (payload.get("data") or {}).items():
                    if name == CONTROL_EVENT and self._on_controls is not None:
                        self._on_controls([data])
                        continue
                    if hops.ON:
                        hops.stamp("a2.rx", data.get("id"))
                    self._on_rows([PARSERS[name](data)])
            elif kind in ("error", "complete") and op_id in subscriptions:
                if kind == "error":
                    _raise_for(_errors(message.get("payload")))
                log.error("subscription %s ended by the server: %s", op_id, message)
                return

    async def reload(self) -> None:
        me = await self.query(doc.ME)
        self.user_id = me["me"]["id"]
        data = await self.query(doc.LOAD, {"userId": None})
        rows: list[Row] = [from_gql(Account, a) for a in data["listAccounts"]]
        rows += [from_gql(Position, p) for p in data["listPositions"]]
        rows += [from_gql(Action, a) for a in data["listActions"]]
        self._on_rows(rows)

    async def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A query over HTTP; a refused token is TokenRefused."""
        try:
            return await self.client.execute(document, variables)
        except GraphQLClientError as exc:
            _raise_for(exc.errors)
            raise

    async def mutate(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run a mutation over the link's WebSocket when it is up (no HTTP round trip), else HTTP."""
        conn = self._conn
        if conn is None:
            return await self.query(document, variables)
        op_id = conn.new_id()
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[op_id] = reply  # before sending: the answer may come before `start` returns
        try:
            await conn.start(document, variables, op_id)
            payload = await asyncio.wait_for(reply, self._mutation_timeout_s)
        finally:
            self._replies.pop(op_id, None)
        if payload.get("errors"):
            _raise_for(payload["errors"])
            raise GraphQLClientError(payload["errors"])
        data: dict[str, Any] = payload["data"]
        return data


def _errors(payload: object) -> list[dict[str, Any]]:
    if isinstance(payload, list):
        return [e for e in payload if isinstance(e, dict)]
    if isinstance(payload, dict):
        return [payload]
    return []


def _raise_for(errors: list[dict[str, Any]]) -> None:
    """TokenRefused or ResyncRequired when an error says so."""
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        if code == UNAUTHENTICATED:
            raise TokenRefused(str(error.get("message", "UNAUTHENTICATED")))
        if code == RESYNC_REQUIRED:
            raise ResyncRequired(str(error.get("message", RESYNC_REQUIRED)))
