"""The prepared mutations (hedge.api.fastpath) against Strawberry: the same requests, good and
bad, sent to a server with them and to one without (HEDGE_FAST_MUTATIONS=0) get the same status,
media type and body, ids and server times aside."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from hedge.agent import documents as doc
from hedge.api.fastpath import FastMutations

from .conftest import ADMIN_TOKEN, CREATE_ACCOUNT, CREATE_ENTRY, CREATE_USER, settings_for, start_api

MEMO = "mutation($id: ID!, $m: String) { updatePosition(input: {id: $id, memo: $m}) { id version memo } }"
ALIASED = 'mutation($id: ID!) { u: updatePosition(input: {id: $id, memo: "a"}) { v: version memo m2: memo } }'
TYPENAME = 'mutation($id: ID!) { updatePosition(input: {id: $id, memo: "t"}) { __typename id } }'
NAMED = 'mutation Named($id: ID!) { updatePosition(input: {id: $id, memo: "n"}) { id version } }'
TIME = re.compile(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"')
MILLIS = re.compile(r"-\d{13}\b")  # the server's clock in a correlation id it makes


class Run:
    """One server: its users and a recorder of (status, media type, body) with ids named."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.names: dict[str, str] = {}
        self.http = httpx.AsyncClient(base_url=url)

    def name(self, real: str, symbolic: str) -> str:
        self.names[real] = symbolic
        return real

    async def post(
        self, token: str | None, query: str, variables: Any = None, **extra: Any
    ) -> tuple[int, str, str]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        headers.update(extra.pop("headers", {}))
        body = {"query": query, "variables": variables, **extra}
        response = await self.http.post("/graphql", json=body, headers=headers)
        text = response.text
        for real, symbolic in self.names.items():
            text = text.replace(real, symbolic)
        return (
            response.status_code,
            response.headers.get("content-type", ""),
            MILLIS.sub("-<ms>", TIME.sub('"<time>"', text)),
        )

    async def data(self, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
        body: dict[str, Any] = response.json()
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data


async def scenario(run: Run) -> list[tuple[int, str, str]]:
    people = []
    for n in (1, 2):
        made = (
            await run.data(ADMIN_TOKEN, CREATE_USER, {"email": f"fast{n}@example.com", "role": "CLIENT"})
        )["createUser"]
        user, token = run.name(made["user"]["id"], f"<user{n}>"), made["token"]
        account = (await run.data(ADMIN_TOKEN, CREATE_ACCOUNT, {"userId": user, "number": f"90{n}"}))[
            "createAccount"
        ]["id"]
        run.name(account, f"<account{n}>")
        entry = (await run.data(token, CREATE_ENTRY, {"accountId": account}))["createAction"]
        run.name(entry["action"]["id"], f"<action{n}>")
        people.append((token, run.name(entry["position"]["id"], f"<position{n}>"), entry["action"]["id"]))
    (alice, position, action), (bob, other_position, _) = people
    opened = {"id": position, "status": "OPEN", "entryPrice": 150.05, "mtTicket": "T1"}
    opened["entryTime"] = "2026-01-05T09:00:00.000Z"
    json_accept = {"accept": "application/graphql-response+json"}
    out = [
        await run.post(alice, MEMO, {"id": position, "m": "first"}),
        await run.post(alice, doc.UPDATE_POSITION, {"input": {"id": position, "memo": "agent"}}),
        await run.post(
            alice, doc.UPDATE_POSITION, {"input": {"id": position, "memo": "x", "expectedVersion": 1}}
        ),
        await run.post(alice, MEMO, {"id": "no-such-position", "m": "x"}),
        await run.post(bob, MEMO, {"id": position, "m": "not yours"}),
        await run.post(None, MEMO, {"id": position, "m": "nobody"}),
        await run.post(alice, MEMO, {"id": position, "m": 5}),  # a variable of the wrong type
        await run.post(alice, MEMO, {"m": "no id"}),  # a required variable missing
        await run.post(alice, MEMO, ["not", "an", "object"]),
        await run.post(alice, doc.UPDATE_POSITION, {"input": {"id": position, "status": "CLOSED"}}),
        await run.post(alice, doc.UPDATE_POSITION, {"input": {"id": position, "status": "OPENING"}}),
        await run.post(alice, doc.UPDATE_POSITION, {"input": {"id": position, "status": "OPEN"}}),  # no fill
        await run.post(alice, doc.UPDATE_POSITION, {"input": opened}),
        await run.post(alice, doc.UPDATE_POSITION, {"input": {"id": position, "trailWidth": -1}}),
        await run.post(alice, doc.UPDATE_POSITION, {"input": {"id": position, "triggerActionIds": ["nope"]}}),
        await run.post(alice, ALIASED, {"id": position}),
        await run.post(alice, TYPENAME, {"id": position}),
        await run.post(alice, NAMED, {"id": position}, operationName="Named"),
        await run.post(alice, MEMO + " }", {"id": position, "m": "syntax"}),
        await run.post(alice, MEMO, {"id": "no-such-position", "m": "x"}, headers=json_accept),
        await run.post(alice, MEMO, {"id": position, "m": 5}, headers=json_accept),
        await run.post(alice, doc.UPDATE_ACTION, {"input": {"id": action, "retryCount": 2}}),
        await run.post(alice, doc.UPDATE_ACTION, {"input": {"id": action, "status": "BOGUS"}}),
        await run.post(bob, doc.UPDATE_ACTION, {"input": {"id": action, "errorMessage": "not yours"}}),
        await run.post(
            alice,
            doc.TRIGGER_ACTIONS,
            {
                "input": {
                    "positionId": position,
                    "reason": "TRAIL",
                    "price": 150.2,
                    "priceTime": opened["entryTime"],
                }
            },
        ),
        await run.post(
            alice, doc.TRIGGER_ACTIONS, {"input": {"positionId": other_position, "reason": "TRAIL"}}
        ),
        await run.post(bob, doc.UPDATE_POSITION, {"input": {"id": other_position, "memo": "bob's own"}}),
    ]
    await run.http.aclose()
    return out


async def answers(tmp_path: Path, name: str, fast: int) -> list[tuple[int, str, str]]:
    settings = settings_for(f"sqlite:///{tmp_path / name}.db", fast_mutations=fast, mutation_burst=1000)
    runs = cast(AsyncGenerator[Any, None], start_api(settings))
    api = await runs.__anext__()
    try:
        return await scenario(Run(api.url))
    finally:
        await runs.aclose()


@pytest.mark.asyncio(loop_scope="function")
async def test_prepared_mutations_answer_as_strawberry_does_good_and_bad_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    original = FastMutations.run

    async def counted(self: FastMutations, plan: Any, argument: Any, context: Any) -> dict[str, Any]:
        ran.append(plan.root.name.value)
        return await original(self, plan, argument, context)

    monkeypatch.setattr(FastMutations, "run", counted)
    fast = await answers(tmp_path, "fast", 1)
    assert sorted(set(ran)) == ["triggerActions", "updateAction", "updatePosition"]
    prepared = len(ran)
    ordinary = await answers(tmp_path, "ordinary", 0)
    assert len(ran) == prepared  # the second server ran none of them
    for index, (mine, theirs) in enumerate(zip(fast, ordinary, strict=True)):
        assert mine == theirs, index
    # the scenario does reach successes and each kind of error it means to try
    bodies = " ".join(body for _, _, body in ordinary)
    for code in ("CONFLICT", "NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED", "VALIDATION", "INVALID_TRANSITION"):
        assert f'"code":"{code}"' in bodies, code
    assert {status for status, _, _ in ordinary} == {200, 400}
    assert prepared >= 15  # most requests did take the prepared path


def test_documents_outside_the_plan_shapes_are_left_to_strawberry() -> None:
    from hedge.api.schema import build_schema

    schema = build_schema()
    fast = FastMutations(schema, schema.max_tokens, schema.limit_rules, None)
    assert fast.plan(doc.UPDATE_POSITION) is not None
    assert fast.plan(doc.TRIGGER_ACTIONS) is not None
    not_planned = [
        "query { me { id } }",
        TYPENAME,
        "mutation($id: ID!) { updatePosition(input: {id: $id}) { id }"
        " updateAction(input: {id: $id}) { id } }",
        "mutation($id: ID!) { updatePosition(input: {id: $id}) { ...F } } fragment F on Position { id }",
        "mutation($id: ID!) { updatePosition(input: {id: $id}) @skip(if: false) { id } }",
        'mutation { createAction(input: {type: CLOSE, accountId: "a", positionId: "p"}) { action { id } } }',
        "mutation($id: ID!) { updatePosition(input: {id: $id}) { nope } }",  # does not validate
        "mutation { updatePosition(",  # does not parse
        "mutation($id: ID!) { updatePosition(input: {id: $id}) { id } } query { me { id } }",
    ]
    for text in not_planned:
        assert fast.plan(text) is None, text


def test_a_schema_with_an_extension_the_plans_do_not_do_is_left_to_strawberry() -> None:
    from strawberry.extensions import SchemaExtension

    from hedge.api.fastpath import covers
    from hedge.api.schema import build_schema

    schema = build_schema()
    assert covers(schema)
    schema.extensions = (*schema.extensions, SchemaExtension)
    assert not covers(schema)
