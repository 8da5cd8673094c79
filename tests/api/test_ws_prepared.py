"""The prepared mutations over graphql-transport-ws (hedge.api.ws_prepared) against Strawberry's
own handling: the same messages, good and bad, sent over a WebSocket to a server with them and to
one without (HEDGE_FAST_MUTATIONS=0) get the same answers, ids and server times aside."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hedge.agent import documents as doc
from hedge.agent.link import resumable
from hedge.api.sub_prepared import Event, PreparedSubscriptions
from hedge.client.graphql import GraphQLClient, SubscriptionConnection

from .conftest import ADMIN_TOKEN, UPDATE_POSITION
from .prepared import MEMO, NAMED, Run, count_prepared, error_codes, fast_and_ordinary, two_people


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


async def ws_scenario(run: Run) -> list[list[str]]:
    first, second = await two_people(run, "socket", "80")
    alice, position, action, other = first.token, first.position, first.action, second.position
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
    async with GraphQLClient(run.url, alice) as client, client.connection() as conn:
        for query, variables, extra in asks:
            out.append([run.named(text) for text in await answer(conn, query, variables, **extra)])
    return out


async def test_prepared_mutations_over_the_socket_answer_as_strawberry_does_good_and_bad(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = count_prepared(monkeypatch, socket_only=True)
    ordinary = await fast_and_ordinary(tmp_path, ws_scenario, ran)
    assert sorted(set(ran)) == ["triggerActions", "updateAction", "updatePosition"]
    tried = {"CONFLICT", "NOT_FOUND", "FORBIDDEN", "VALIDATION", "INVALID_TRANSITION"}
    assert error_codes(" ".join(messages) for messages in ordinary) >= tried
    assert len(ran) >= 8  # most operations did take the prepared path
    assert all(json.loads(messages[-1])["type"] in ("complete", "error") for messages in ordinary)


RENAME_ACCOUNT = "mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { id } }"
SUBSCRIPTION_DOCS = {
    "position": doc.SUBSCRIPTIONS["Position"][1],
    "resumed": resumable(doc.SUBSCRIPTIONS["Position"][1]),
    "account": doc.SUBSCRIPTIONS["Account"][0],
    "lean": "subscription ($u: ID) { onUpdatePosition(userId: $u) { id memo } }",
    "typename": "subscription { onUpdatePosition { __typename id memo } }",  # not planned
}


async def subscription_scenario(run: Run) -> list[list[str]]:
    first, second = await two_people(run, "subs", "70")
    alice, position, other = first.token, first.position, second.position
    alice_id, bob_id = first.user, second.user
    cursor = (await run.data(alice, "query { feedCursor }", {}))["feedCursor"]
    await run.data(alice, UPDATE_POSITION, {"input": {"id": position, "memo": "before subscribing"}})
    out: list[list[str]] = []
    async with GraphQLClient(run.url, alice) as client, client.connection() as conn:
        refused = [
            (SUBSCRIPTION_DOCS["lean"], {"u": bob_id}),  # another user's rows: FORBIDDEN
            (SUBSCRIPTION_DOCS["resumed"], {"after": "not a cursor"}),
            (SUBSCRIPTION_DOCS["resumed"], {"after": "9" * 18}),  # ahead of the feed: in the stream
            (SUBSCRIPTION_DOCS["lean"], {"u": 5}),  # does not coerce
        ]
        for query, variables in refused:
            out.append([run.named(text) for text in await answer(conn, query, variables)])
        ops = {}
        for name, query in SUBSCRIPTION_DOCS.items():
            variables = {"after": cursor} if name == "resumed" else {"u": alice_id} if name == "lean" else {}
            ops[name] = await conn.start(query, variables)
        await run.data(alice, UPDATE_POSITION, {"input": {"id": position, "memo": "live"}})
        await run.data(ADMIN_TOKEN, UPDATE_POSITION, {"input": {"id": other, "memo": "not alice's"}})
        await run.data(
            ADMIN_TOKEN, RENAME_ACCOUNT, {"input": {"id": first.account, "displayName": "renamed"}}
        )
        expected = {"position": 1, "resumed": 2, "account": 1, "lean": 1, "typename": 1}
        got: dict[str, list[str]] = {name: [] for name in ops}
        by_id = {op_id: name for name, op_id in ops.items()}
        while any(len(got[name]) < count for name, count in expected.items()):
            message = await conn.next_message()
            got[by_id[message["id"]]].append(run.named(json.dumps(message, sort_keys=True)))
        out += [got[name] for name in SUBSCRIPTION_DOCS]
    assert alice_id != bob_id
    return out


async def test_prepared_subscriptions_stream_as_strawberry_does_events_and_refusals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    original = PreparedSubscriptions.event

    def counted(self: PreparedSubscriptions, plan: Any, value: Any) -> Event:
        events.append(plan.key)
        return original(self, plan, value)

    monkeypatch.setattr(PreparedSubscriptions, "event", counted)
    ordinary = await fast_and_ordinary(tmp_path, subscription_scenario, events)
    assert len(events) == 5  # position, resumed (2: the replayed change and the live one), account, lean
    refusals = " ".join(" ".join(messages) for messages in ordinary[:4])
    assert '"code": "FORBIDDEN"' in refusals and '"code": "VALIDATION"' in refusals
    assert '"memo": "live"' in " ".join(ordinary[4]) and "renamed" in " ".join(ordinary[6])
