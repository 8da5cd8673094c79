"""The agent's link to the server: its user's subscriptions over one WebSocket, a full reload
after every (re)connect (so nothing that happened while away is missed), and mutations over HTTP.
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
from hedge.api.client import GraphQLClient, GraphQLClientError
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
LINK_ERRORS = (OSError, ConnectionClosed, InvalidHandshake, httpx.HTTPError, GraphQLClientError, TimeoutError)


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
            ops: dict[str, str] = {}
            for queries in doc.SUBSCRIPTIONS.values():
                for query in queries:
                    ops[await conn.start(query)] = query
            # subscribed first, then a full load: a change between the two arrives at least once
            await self.reload()
            self.connected = True
            self._on_state(True)
            log.info("server link up (user %s)", self.user_id)
            while True:
                message = await conn.next_message()
                kind = message.get("type")
                if kind == "next":
                    payload = message.get("payload") or {}
                    if payload.get("errors"):
                        log.error("subscription error: %s", payload["errors"])
                        continue
                    for name, data in (payload.get("data") or {}).items():
                        self._on_rows([PARSERS[name](data)])
                elif kind in ("error", "complete"):
                    log.error("subscription %s ended by the server: %s", message.get("id"), message)
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
        return await self.client.execute(document, variables)
