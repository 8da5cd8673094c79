"""What the GraphQL client sends: its fixed documents are encoded once, and every request and
message is the JSON it was before (the document and the variables), text that is not ASCII,
numbers and nulls included; HTTP bodies are byte for byte httpx's own `json=` encoding."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from httpx._content import encode_json

from hedge.client import graphql
from hedge.client.graphql import GraphQLClient, SubscriptionConnection

DOCUMENT = "mutation($input: UpdatePositionInput!) { updatePosition(input: $input) { id memo } }"
VARIABLES: dict[str, Any] = {"input": {"id": "p-1", "memo": 'Zürich "quoted" \\ €', "n": 1.5, "x": None}}


class _Socket:
    """A WebSocket that keeps what is sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, text: str) -> None:
        self.sent.append(text)


def _recording_client() -> tuple[GraphQLClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {"ok": True}})

    client = GraphQLClient("http://server.invalid", "t")
    client._http = httpx.AsyncClient(base_url="http://server.invalid", transport=httpx.MockTransport(answer))
    return client, seen


@pytest.mark.parametrize("variables", [VARIABLES, None, {}], ids=["values", "none", "empty"])
async def test_execute_body_is_httpx_json_encoding_of_query_and_variables(
    variables: dict[str, Any] | None,
) -> None:
    client, seen = _recording_client()
    async with client:
        await client.execute(DOCUMENT, variables)
        await client.raw(DOCUMENT, variables)
    expected_headers, stream = encode_json({"query": DOCUMENT, "variables": variables or {}})
    for request in seen:
        assert request.content == b"".join(stream)
        assert request.headers["content-type"] == expected_headers["Content-Type"]
        assert request.headers["content-length"] == expected_headers["Content-Length"]


async def test_execute_with_nan_variable_raises_value_error_before_sending_as_httpx_does() -> None:
    client, seen = _recording_client()
    async with client:
        with pytest.raises(ValueError):
            await client.execute(DOCUMENT, {"input": {"n": float("nan")}})
    assert seen == []


async def test_start_and_stop_send_the_graphql_transport_ws_messages_as_json() -> None:
    socket = _Socket()
    conn = SubscriptionConnection(socket)  # type: ignore[arg-type]
    op_id = await conn.start(DOCUMENT, VARIABLES)
    await conn.start(DOCUMENT, None, "own-id")
    await conn.stop(op_id)
    assert [json.loads(text) for text in socket.sent] == [
        {"id": op_id, "type": "subscribe", "payload": {"query": DOCUMENT, "variables": VARIABLES}},
        {"id": "own-id", "type": "subscribe", "payload": {"query": DOCUMENT, "variables": {}}},
        {"id": op_id, "type": "complete"},
    ]


async def test_a_document_sent_again_is_not_encoded_again() -> None:
    graphql._document.cache_clear()
    conn = SubscriptionConnection(_Socket())  # type: ignore[arg-type]
    for memo in ("a", "b", "c"):
        await conn.start(DOCUMENT, {"input": {"id": "p-1", "memo": memo}})
    info = graphql._document.cache_info()
    assert (info.misses, info.hits) == (1, 2)
