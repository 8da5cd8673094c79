"""The prepared mutations over graphql-transport-ws (hedge.api.ws_prepared) against Strawberry's
own handling: the same messages, good and bad, sent over a WebSocket to a server with them and to
one without (HEDGE_FAST_MUTATIONS=0) get the same answers, ids and server times aside."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, cast

import pytest

from hedge.agent import documents as doc
from hedge.agent.link import resumable
from hedge.api.fastpath import FastMutations
from hedge.api.sub_prepared import PreparedSubscriptions
from hedge.client.graphql import GraphQLClient, SubscriptionConnection

from .conftest import (
    ADMIN_TOKEN,
    CREATE_ACCOUNT,
    CREATE_ENTRY,
    CREATE_USER,
    UPDATE_POSITION,
    settings_for,
    start_api,
)
from .test_fastpath import MEMO, MILLIS, NAMED, TIME, Run


async def answer(conn: SubscriptionConnection, query: str, variables: Any, **payload: Any) -> list[str]:
    """The messages one operation gets, up to its `complete` or `error`, as JSON text."""
    op_id = conn.new_id()
    asked = {"query": query, "variables": variables, **payload}
    await conn.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": asked}))
    got: list[str] = []
    while True:
        reply = await conn.next_message()
        assert reply.get("id") == op_id, reply
        got.append(json.dumps(reply, sort_keys=True))
        if reply["type"] in ("complete", "error"):
            return got


async def ws_scenario(run: Run, url: str) -> list[list[str]]:
    people = []
    for n in (1, 2):
        made = (
            await run.data(ADMIN_TOKEN, CREATE_USER, {"email": f"socket{n}@example.com", "role": "CLIENT"})
        )["createUser"]
        user, token = run.name(made["user"]["id"], f"<user{n}>"), made["token"]
        account = (await run.data(ADMIN_TOKEN, CREATE_ACCOUNT, {"userId": user, "number": f"80{n}"}))[
            "createAccount"
        ]["id"]
        run.name(account, f"<account{n}>")
        entry = (await run.data(token, CREATE_ENTRY, {"accountId": account}))["createAction"]
        run.name(entry["action"]["id"], f"<action{n}>")
        people.append((token, run.name(entry["position"]["id"], f"<position{n}>"), entry["action"]["id"]))
    (alice, position, action), (_, other, _) = people
    asks: list[tuple[str, Any, dict[str, Any]]] = [
        (MEMO, {"id": position, "m": "over the socket"}, {}),
        (doc.UPDATE_POSITION, {"input": {"id": position, "memo": "agent"}}, {}),
        (doc.UPDATE_POSITION, {"input": {"id": position, "memo": "x", "expectedVersion": 1}}, {}),
        (MEMO, {"id": "no-such-position", "m": "x"}, {}),
        (MEMO, {"id": other, "m": "not yours"}, {}),
        (MEMO, {"id": position, "m": 5}, {}),  # a variable of the wrong type: Strawberry's answer
        (MEMO, {"m": "no id"}, {}),
        (doc.UPDATE_POSITION, {"input": {"id": position, "status": "CLOSED"}}, {}),
        (NAMED, {"id": position}, {"operationName": "Named"}),
        (doc.TRIGGER_ACTIONS, {"input": {"positionId": other, "reason": "TRAIL"}}, {}),
        (doc.UPDATE_ACTION, {"input": {"id": action, "status": "BOGUS"}}, {}),
        (doc.UPDATE_ACTION, {"input": {"id": action, "retryCount": 2}}, {}),
    ]
    out: list[list[str]] = []
    async with GraphQLClient(url, alice) as client, client.connection() as conn:
        for query, variables, extra in asks:
            out.append([_named(run, text) for text in await answer(conn, query, variables, **extra)])
    await run.http.aclose()
    return out


async def answers(tmp_path: Path, name: str, fast: int) -> list[list[str]]:
    settings = settings_for(f"sqlite:///{tmp_path / name}.db", fast_mutations=fast, mutation_burst=1000)
    runs = cast(AsyncGenerator[Any, None], start_api(settings))
    api = await runs.__anext__()
    try:
        return await ws_scenario(Run(api.url), api.url)
    finally:
        await runs.aclose()


@pytest.mark.asyncio(loop_scope="function")
async def test_prepared_mutations_over_the_socket_answer_as_strawberry_does_good_and_bad(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    original = FastMutations.run

    async def counted(self: FastMutations, plan: Any, argument: Any, context: Any) -> dict[str, Any]:
        if context.socket is not None:
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
    texts = " ".join(" ".join(messages) for messages in ordinary)
    for code in ("CONFLICT", "NOT_FOUND", "FORBIDDEN", "VALIDATION", "INVALID_TRANSITION"):
        assert f'"code": "{code}"' in texts, code
    assert prepared >= 8  # most operations did take the prepared path
    assert all(json.loads(messages[-1])["type"] in ("complete", "error") for messages in ordinary)


def _named(run: Run, text: str) -> str:
    for real, symbolic in run.names.items():
        text = text.replace(real, symbolic)
    return MILLIS.sub("-<ms>", TIME.sub('"<time>"', text))


RENAME_ACCOUNT = "mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { id } }"
SUBSCRIPTION_DOCS = {
    "position": doc.SUBSCRIPTIONS["Position"][1],
    "resumed": resumable(doc.SUBSCRIPTIONS["Position"][1]),
    "account": doc.SUBSCRIPTIONS["Account"][0],
    "lean": "subscription ($u: ID) { onUpdatePosition(userId: $u) { id memo } }",
    "typename": "subscription { onUpdatePosition { __typename id memo } }",  # not planned
}


async def subscription_scenario(run: Run, url: str) -> list[list[str]]:
    people, accounts = await _people(run, "subs")
    (alice, position, _), (_, other, _) = people
    alice_id = next(real for real, name in run.names.items() if name == "<user1>")
    bob_id = next(real for real, name in run.names.items() if name == "<user2>")
    cursor = (await run.data(alice, "query { feedCursor }", {}))["feedCursor"]
    await run.data(alice, UPDATE_POSITION, {"input": {"id": position, "memo": "before subscribing"}})
    out: list[list[str]] = []
    async with GraphQLClient(url, alice) as client, client.connection() as conn:
        refused = [
            (SUBSCRIPTION_DOCS["lean"], {"u": bob_id}),  # another user's rows: FORBIDDEN
            (SUBSCRIPTION_DOCS["resumed"], {"after": "not a cursor"}),
            (SUBSCRIPTION_DOCS["resumed"], {"after": "9" * 18}),  # ahead of the feed: in the stream
            (SUBSCRIPTION_DOCS["lean"], {"u": 5}),  # does not coerce
        ]
        for query, variables in refused:
            out.append([_named(run, text) for text in await answer(conn, query, variables)])
        ops = {}
        for name, query in SUBSCRIPTION_DOCS.items():
            variables = {"after": cursor} if name == "resumed" else {"u": alice_id} if name == "lean" else {}
            ops[name] = await conn.start(query, variables)
        await run.data(alice, UPDATE_POSITION, {"input": {"id": position, "memo": "live"}})
        await run.data(ADMIN_TOKEN, UPDATE_POSITION, {"input": {"id": other, "memo": "not alice's"}})
        await run.data(ADMIN_TOKEN, RENAME_ACCOUNT, {"input": {"id": accounts[0], "displayName": "renamed"}})
        expected = {"position": 1, "resumed": 2, "account": 1, "lean": 1, "typename": 1}
        got: dict[str, list[str]] = {name: [] for name in ops}
        by_id = {op_id: name for name, op_id in ops.items()}
        while any(len(got[name]) < count for name, count in expected.items()):
            message = await conn.next_message()
            got[by_id[message["id"]]].append(_named(run, json.dumps(message, sort_keys=True)))
        out += [got[name] for name in SUBSCRIPTION_DOCS]
    assert alice_id != bob_id
    await run.http.aclose()
    return out


async def _people(run: Run, prefix: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    people, accounts = [], []
    for n in (1, 2):
        made = (
            await run.data(ADMIN_TOKEN, CREATE_USER, {"email": f"{prefix}{n}@example.com", "role": "CLIENT"})
        )["createUser"]
        user, token = run.name(made["user"]["id"], f"<user{n}>"), made["token"]
        account = (await run.data(ADMIN_TOKEN, CREATE_ACCOUNT, {"userId": user, "number": f"70{n}"}))[
            "createAccount"
        ]["id"]
        accounts.append(run.name(account, f"<account{n}>"))
        entry = (await run.data(token, CREATE_ENTRY, {"accountId": account}))["createAction"]
        run.name(entry["action"]["id"], f"<action{n}>")
        people.append((token, run.name(entry["position"]["id"], f"<position{n}>"), entry["action"]["id"]))
    return people, accounts


@pytest.mark.asyncio(loop_scope="function")
async def test_prepared_subscriptions_stream_as_strawberry_does_events_and_refusals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    original = PreparedSubscriptions.event

    def counted(self: PreparedSubscriptions, plan: Any, value: Any) -> dict[str, Any]:
        events.append(plan.key)
        return original(self, plan, value)

    monkeypatch.setattr(PreparedSubscriptions, "event", counted)

    async def streamed(name: str, fast: int) -> list[list[str]]:
        settings = settings_for(f"sqlite:///{tmp_path / name}.db", fast_mutations=fast, mutation_burst=1000)
        runs = cast(AsyncGenerator[Any, None], start_api(settings))
        api = await runs.__anext__()
        try:
            return await subscription_scenario(Run(api.url), api.url)
        finally:
            await runs.aclose()

    fast = await streamed("fast", 1)
    prepared = len(events)
    ordinary = await streamed("ordinary", 0)
    assert len(events) == prepared  # the second server prepared none
    for index, (mine, theirs) in enumerate(zip(fast, ordinary, strict=True)):
        assert mine == theirs, index
    assert prepared == 5  # position, resumed (2: the replayed change and the live one), account, lean
    refusals = " ".join(" ".join(messages) for messages in ordinary[:4])
    assert '"code": "FORBIDDEN"' in refusals and '"code": "VALIDATION"' in refusals
    assert '"memo": "live"' in " ".join(ordinary[4]) and "renamed" in " ".join(ordinary[6])
