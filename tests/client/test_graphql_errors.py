"""The GraphQL client's answers that are not GraphQL: a 5xx, a proxy's HTML page, a JSON body that
is no object: ServerAnswerError (a link error), never a JSONDecodeError or a KeyError."""

from __future__ import annotations

import json

import httpx
import pytest

from hedge.client.graphql import GraphQLClient, GraphQLClientError, ServerAnswerError


def _client(status: int, body: bytes, content_type: str = "application/json") -> GraphQLClient:
    client = GraphQLClient("http://proxy.invalid", "t")
    transport = httpx.MockTransport(
        lambda request: httpx.Response(status, content=body, headers={"Content-Type": content_type})
    )
    client._http = httpx.AsyncClient(base_url="http://proxy.invalid", transport=transport)
    return client


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (502, b"<html><title>502 Bad Gateway</title></html>", "text/html"),
        (200, b"<html>captive portal</html>", "text/html"),
        (503, json.dumps({"errors": [{"message": "overloaded"}]}).encode(), "application/json"),
        (200, b"[1, 2]", "application/json"),
        (200, json.dumps({"data": None}).encode(), "application/json"),
    ],
    ids=["502-html", "200-html", "503-json", "json-array", "no-data"],
)
async def test_execute_answer_that_is_not_graphql_raises_server_answer_error(
    status: int, body: bytes, content_type: str
) -> None:
    async with _client(status, body, content_type) as client:
        with pytest.raises(ServerAnswerError) as raised:
            await client.execute("query { me { id } }")
    assert raised.value.status == status
    assert "is not a GraphQL response" in str(raised.value)


async def test_execute_graphql_errors_stay_graphql_client_errors_with_their_code() -> None:
    body = json.dumps({"data": None, "errors": [{"message": "no", "extensions": {"code": "FORBIDDEN"}}]})
    async with _client(200, body.encode()) as client:
        with pytest.raises(GraphQLClientError) as raised:
            await client.execute("query { me { id } }")
    assert raised.value.code == "FORBIDDEN"
