"""Limits and bad input: every refusal carries a code, nothing is written, the server stays up."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.types import Receive, Scope, Send
from tests.api.conftest import UPDATE_POSITION, Api, World, build_world, error_code, settings_for, start_api

from hedge.api.app import LimitsMiddleware

pytestmark = pytest.mark.asyncio(loop_scope="module")

LIMITS = {"max_query_tokens": 300, "max_aliases": 5, "max_body_bytes": 200_000}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def limited(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    url = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'hedge.db'}"
    async for api in start_api(settings_for(url, **LIMITS)):
        yield await build_world(api)


async def _still_serves(api: Api) -> None:
    assert (await api.admin.execute("{ me { role } }"))["me"]["role"] == "ADMIN"


async def _post(api: Api, content: bytes | str, token: str | None = None, **headers: str) -> httpx.Response:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=api.url) as http:
        return await http.post(
            "/graphql", content=content, headers={"content-type": "application/json", **auth, **headers}
        )


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic abc", "Bearer"])
async def test_http_request_without_valid_token_unauthenticated(
    limited: World, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with httpx.AsyncClient(base_url=limited.api.url, headers=headers) as http:
        response = await http.post("/graphql", json={"query": "{ me { id } }"})

    assert error_code(response.json()) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b'{"query": 5}',
        b"{}",
        b'[{"query": "{ me { id } }"}]',
        b'{"query": "{ me { id }"}',
        b'{"query": "{ noSuchField }"}',
        b'{"query": "query($x: Int!) { getPosition(id: $x) { id } }", "variables": {"x": 1}}',
        b'{"query": "mutation { updatePosition(input: {id: \\"x\\", memo: 5}) { id } }"}',
        b'{"query": "{ me { id } }", "variables": "not an object"}',
    ],
)
async def test_malformed_request_coded_error_server_stays_up(limited: World, body: bytes) -> None:
    api = limited.api
    before = api.feed_head()

    response = await _post(api, body, limited.admin.token)

    assert response.headers["content-type"].startswith("application/json")
    assert error_code(response.json()) == "VALIDATION", response.text
    assert api.feed_head() == before
    await _still_serves(api)


async def test_wrong_variable_type_validation_nothing_written(limited: World) -> None:
    api, alice = limited.api, limited.alice
    before = api.feed_head()

    body = await alice.client.raw(
        "mutation($i: CreateActionInput!) { createAction(input: $i) { action { id } } }",
        {
            "i": {
                "type": "ENTRY",
                "accountId": alice.account_id,
                "symbol": "USDJPY",
                "side": "UP",
                "volume": "x",
            }
        },
    )

    assert error_code(body) == "VALIDATION"
    assert api.feed_head() == before


async def test_query_deeper_than_limit_validation_nothing_written(tmp_path: Path) -> None:
    async for api in start_api(settings_for(f"sqlite:///{tmp_path / 'h.db'}", max_query_depth=1)):
        me = (await api.admin.execute("{ me { id } }"))["me"]  # depth 1
        before = api.feed_head()

        body = await api.admin.raw(  # depth 2: action { id }
            'mutation($a: ID!) { createAction(input: {type: ENTRY, accountId: $a, symbol: "USDJPY", '
            "side: BUY, volume: 0.1}) { action { id } } }",
            {"a": await api.new_account(me["id"])},
        )

        assert error_code(body) == "VALIDATION"
        assert "depth" in body["errors"][0]["message"]
        assert api.feed_head() == before + 1  # only the account made above


async def test_query_with_more_aliases_than_limit_validation(limited: World) -> None:
    five = " ".join(f"a{i}: me {{ id }}" for i in range(5))

    within = await limited.admin.client.raw("{ " + five + " }")
    refused = await limited.admin.client.raw("{ " + five + " extra: me { id } }")

    assert not within.get("errors")
    assert error_code(refused) == "VALIDATION"
    assert "aliases" in refused["errors"][0]["message"]


async def test_query_over_token_limit_validation(limited: World) -> None:
    query = "{ me { " + " ".join(["id"] * 400) + " } }"

    body = await limited.admin.client.raw(query)

    assert error_code(body) == "VALIDATION"
    assert "token" in body["errors"][0]["message"].lower()


@pytest.mark.parametrize("chunked", [False, True])
async def test_body_over_size_limit_413_json_error_nothing_written(limited: World, chunked: bool) -> None:
    api = limited.api
    payload = json.dumps(
        {
            "query": UPDATE_POSITION,
            "variables": {"input": {"id": limited.alice.position_id, "memo": "m" * 10_000_000}},
        }
    ).encode()
    before = api.feed_head()

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 65536):
            yield payload[start : start + 65536]

    headers = {"content-type": "application/json", "Authorization": f"Bearer {limited.alice.token}"}
    async with httpx.AsyncClient(base_url=api.url) as http:
        response = await http.post("/graphql", content=pieces() if chunked else payload, headers=headers)

    assert response.status_code == 413
    assert error_code(response.json()) == "VALIDATION"
    assert api.feed_head() == before
    await _still_serves(api)


async def test_hundred_thousand_trigger_action_ids_refused_nothing_written(tmp_path: Path) -> None:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(100_000)]
    settings = settings_for(f"sqlite:///{tmp_path / 'h.db'}", max_body_bytes=20_000_000)
    async for api in start_api(settings):
        world = await build_world(api)
        before = api.feed_head()

        body = await world.alice.client.raw(
            UPDATE_POSITION, {"input": {"id": world.alice.position_id, "triggerActionIds": ids}}
        )
        memo = await world.alice.client.raw(
            UPDATE_POSITION, {"input": {"id": world.alice.position_id, "memo": "m" * 10_000_000}}
        )

        assert error_code(body) == "VALIDATION"
        assert "triggerActionIds" in body["errors"][0]["message"]
        assert error_code(memo) == "VALIDATION"
        assert api.feed_head() == before
        await _still_serves(api)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (UPDATE_POSITION, {"input": {"id": "no-such-position", "memo": "x"}}),
        ('mutation { updateAction(input: {id: "no-such", status: CANCELED}) { id } }', {}),
        ('mutation { updateAccount(input: {id: "no-such", displayName: "x"}) { id } }', {}),
        (
            'mutation { triggerActions(input: {positionId: "no-such", reason: MANUAL}) { actions { id } } }',
            {},
        ),
        (
            'mutation { createAccount(input: {userId: "no-such", brokerType: MT4, accountNumber: "1", '
            'serverName: "s", displayName: "d"}) { id } }',
            {},
        ),
    ],
)
async def test_unknown_id_not_found_nothing_written(
    limited: World, query: str, variables: dict[str, Any]
) -> None:
    api = limited.api
    before = api.feed_head()

    body = await limited.admin.client.raw(query, variables)

    assert error_code(body) == "NOT_FOUND", body
    assert api.feed_head() == before


async def test_unknown_trigger_action_id_not_found_nothing_written(limited: World) -> None:
    api = limited.api
    before = api.feed_head()

    body = await limited.alice.client.raw(
        UPDATE_POSITION, {"input": {"id": limited.alice.position_id, "triggerActionIds": ["no-such-action"]}}
    )

    assert error_code(body) == "NOT_FOUND"
    assert api.feed_head() == before


async def test_mutations_over_rate_limit_rate_limited_per_token(tmp_path: Path) -> None:
    burst = 8  # enough for the ADMIN to build the world below
    settings = settings_for(f"sqlite:///{tmp_path / 'h.db'}", mutation_rate_per_s=0.01, mutation_burst=burst)
    async for api in start_api(settings):
        world = await build_world(api)  # alice spent one mutation on her ENTRY action
        memo = {"input": {"id": world.alice.position_id, "memo": "x"}}
        results = [await world.alice.client.raw(UPDATE_POSITION, memo) for _ in range(burst)]
        before = api.feed_head()

        refused = await world.alice.client.raw(UPDATE_POSITION, memo)

        assert [error_code(r) for r in results] == [None] * (burst - 1) + ["RATE_LIMITED"]
        assert error_code(refused) == "RATE_LIMITED"
        assert api.feed_head() == before
        assert not (await world.alice.client.raw("{ me { id } }")).get("errors"), "queries are not limited"
        other = await world.bob.client.raw(
            UPDATE_POSITION, {"input": {"id": world.bob.position_id, "memo": "y"}}
        )
        assert not other.get("errors"), "another token has its own bucket"


async def test_request_over_time_limit_504_json_error() -> None:
    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(5)

    app = LimitsMiddleware(slow_app, max_body_bytes=1000, timeout_s=0.05)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/graphql", json={"query": "{ me { id } }"})

    assert response.status_code == 504
    assert error_code(response.json()) == "TIMEOUT"
