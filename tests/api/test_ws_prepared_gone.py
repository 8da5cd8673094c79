"""A client that leaves before the answer to its operation is sent (an agent restarting, a link
cut, the server shutting down): the prepared WebSocket path ends the operation with one INFO line
instead of Strawberry's ERROR and traceback, and sends nothing more on the closed socket."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import pytest
from starlette.websockets import WebSocket, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.base import BaseView
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation

from hedge.api.ws_prepared import PreparedTransportWS


class _View:
    """What PreparedTransportWS reads of its view: no prepared paths, Strawberry's JSON encoding."""

    fast = None
    subscriptions = None
    encode_json = BaseView.encode_json


async def closed_socket() -> tuple[ASGIWebSocketAdapter, list[dict[str, Any]]]:
    """A Starlette WebSocket over in-memory ASGI messages, accepted and then closed by the server."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    ws = WebSocket(
        {"type": "websocket", "path": "/graphql", "headers": [], "query_string": b""}, receive, send
    )
    await ws.accept()
    await ws.close()
    assert ws.application_state is WebSocketState.DISCONNECTED
    return ASGIWebSocketAdapter(_View(), ws, ws), sent  # type: ignore[arg-type]


def handler_on(socket: ASGIWebSocketAdapter) -> PreparedTransportWS:
    handler = PreparedTransportWS.__new__(PreparedTransportWS)
    handler.view, handler.websocket, handler.operations = _View(), socket, {}  # type: ignore[assignment]
    return handler


async def test_an_answer_to_a_closed_socket_raises_disconnected_and_sends_nothing() -> None:
    socket, sent = await closed_socket()
    before = list(sent)
    handler = handler_on(socket)
    with pytest.raises(WebSocketDisconnected):
        await handler._text('{"type":"complete","id":"1"}', {"type": "complete", "id": "1"})
    assert sent == before


async def test_an_operation_whose_client_left_ends_with_one_info_line_and_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    socket, _ = await closed_socket()
    handler = handler_on(socket)
    operation = Operation(handler, "op-1", "mutation { x }", None, None)
    handler.operations["op-1"] = operation

    async def answered_too_late(_: Any) -> bool:
        raise WebSocketDisconnected

    handler._mutation = answered_too_late  # type: ignore[method-assign,assignment]
    with caplog.at_level(logging.INFO):
        await handler.run_operation(operation)
    assert "op-1" not in handler.operations and operation.completed
    assert [r.levelname for r in caplog.records] == ["INFO"]
    assert "client left before the answer was sent" in caplog.records[0].getMessage()
