"""A small GraphQL client for our own API: HTTP POST for queries and mutations, and
graphql-transport-ws for subscriptions. Used by the agent, the demo, the tests and benchmarks.

Errors: `GraphQLClientError` (the server answered with GraphQL errors), `ServerAnswerError` (an
answer that is not our server's: a 5xx, a proxy's HTML page, a frame that is not JSON; the link is
unusable for now, try again later), `TokenRefused` (the server refused the token: close 4403 on
the WebSocket, or UNAUTHENTICATED; trying again will not help).
"""

from __future__ import annotations

import functools
import itertools
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

SUBPROTOCOL = "graphql-transport-ws"
CLOSE_FORBIDDEN = 4403  # graphql-transport-ws: connection_init refused (a wrong or revoked token)


class GraphQLClientError(Exception):
    """The server answered with errors; `code` is the first error's extensions.code."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        first = errors[0] if errors else {}
        self.errors = errors
        self.code: str = (first.get("extensions") or {}).get("code", "UNKNOWN")
        self.message: str = first.get("message", "unknown error")
        super().__init__(f"{self.code}: {self.message}")


class ServerAnswerError(Exception):
    """An answer that is not a GraphQL response: a 5xx, a non-JSON body (a proxy's 502 page)."""

    def __init__(self, status: int | None, body: str) -> None:
        self.status = status
        self.body = body[:200]
        where = f"HTTP {status}" if status is not None else "a WebSocket frame"
        super().__init__(f"the server's answer ({where}) is not a GraphQL response: {self.body!r}")


class TokenRefused(Exception):
    """The server refused the token (close 4403 or UNAUTHENTICATED): wrong, revoked or deactivated."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"the server refused the token: {detail}")


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificate verification on (hostname included), with `ca_file`'s CAs when it is given."""
    return ssl.create_default_context(cafile=ca_file or None)


class GraphQLClient:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout_s: float = 10.0,
        ca_file: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # https:// and wss:// always verify the certificate: the system's CAs, or those of ca_file
        self._ssl = tls_context(ca_file) if ca_file else None
        verify: ssl.SSLContext | bool = self._ssl if self._ssl is not None else True
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=timeout_s, verify=verify
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> GraphQLClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole JSON response (data and errors), whatever the HTTP status.

        ServerAnswerError when the body is not a JSON object (a proxy's error page)."""
        response = await self._post(query, variables)
        return _json_object(response)

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a successful response; GraphQLClientError when it carries errors,
        ServerAnswerError on a 5xx or an answer without data."""
        response = await self._post(query, variables)
        body = _json_object(response)
        if response.status_code >= 500:
            raise ServerAnswerError(response.status_code, response.text)
        if body.get("errors"):
            raise GraphQLClientError(body["errors"])
        if not isinstance(body.get("data"), dict):
            raise ServerAnswerError(response.status_code, response.text)
        data: dict[str, Any] = body["data"]
        return data

    async def _post(self, query: str, variables: dict[str, Any] | None) -> httpx.Response:
        body = f'{{"query":{_document(query)},"variables":{_http_json(variables or {})}}}'
        return await self._http.post("/graphql", content=body.encode(), headers=_JSON_BODY)

    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/graphql"

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[SubscriptionConnection]:
        """One graphql-transport-ws connection, initialised with this client's token.

        TokenRefused when the server closes it with 4403 (during connection_init or later)."""
        async with connect(
            self.ws_url(),
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            max_size=2**22,
            compression=None,  # small frames on a LAN: compressing costs more than it saves
            ssl=self._ssl if self.base_url.startswith("https://") else None,
        ) as ws:
            try:
                payload = {"authorization": f"Bearer {self.token}"} if self.token else {}
                await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
                reply = _frame(await ws.recv())
                if reply.get("type") != "connection_ack":
                    raise GraphQLClientError([{"message": f"no connection_ack: {reply}"}])
                yield SubscriptionConnection(ws)
            except ConnectionClosed as closed:
                if closed.rcvd is not None and closed.rcvd.code == CLOSE_FORBIDDEN:
                    raise TokenRefused(f"WebSocket closed with 4403 {closed.rcvd.reason}".strip()) from None
                raise


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
        payload = f'{{"query":{_document(query)},"variables":{_json(variables or {})}}}'
        await self.ws.send(f'{{"id":{_json(op_id)},"type":"subscribe","payload":{payload}}}')
        return op_id

    async def stop(self, op_id: str) -> None:
        await self.ws.send(f'{{"id":{_json(op_id)},"type":"complete"}}')

    async def next_message(self) -> dict[str, Any]:
        """The next message that is not a ping (pings are answered)."""
        while True:
            message = _frame(await self.ws.recv())
            if message.get("type") == "ping":
                await self.ws.send(_PONG)
                continue
            if message.get("type") == "pong":
                continue
            return message


_json = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps's, compact
# httpx's `json=` encoding (no NaN: a ValueError before anything is sent, as httpx raises)
_http_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_JSON_BODY = {"content-type": "application/json"}
_PONG = _json({"type": "pong"})


@functools.lru_cache(maxsize=256)
def _document(query: str) -> str:
    """A document as JSON text, encoded once: the agents send a handful of fixed documents
    (their mutations and subscriptions) over and over, and only the variables change."""
    return _json(query)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:  # not JSON at all: a proxy's page, a truncated answer
        raise ServerAnswerError(response.status_code, response.text) from None
    if not isinstance(body, dict):
        raise ServerAnswerError(response.status_code, response.text)
    return body


def _frame(raw: str | bytes) -> dict[str, Any]:
    try:
        message = json.loads(raw)
    except ValueError:
        text = raw if isinstance(raw, str) else raw.decode(errors="replace")
        raise ServerAnswerError(None, text) from None
    if not isinstance(message, dict):
        raise ServerAnswerError(None, str(raw)[:200])
    return message
