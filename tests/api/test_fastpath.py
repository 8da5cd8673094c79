"""The prepared mutations (hedge.api.fastpath) against Strawberry: the same requests, good and
bad, sent to a server with them and to one without (HEDGE_FAST_MUTATIONS=0) get the same status,
media type and body, ids and server times aside."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.agent import documents as doc
from hedge.api.fastpath import FastMutations

from .prepared import MEMO, NAMED, Run, count_prepared, error_codes, fast_and_ordinary, two_people

ALIASED = 'mutation($id: ID!) { u: updatePosition(input: {id: $id, memo: "a"}) { v: version memo m2: memo } }'
TYPENAME = 'mutation($id: ID!) { updatePosition(input: {id: $id, memo: "t"}) { __typename id } }'


async def scenario(run: Run) -> list[tuple[int, str, str]]:
    first, second = await two_people(run, "fast", "90")
    alice, position, action = first.token, first.position, first.action
    bob, other_position = second.token, second.position
    opened = {"id": position, "status": "OPEN", "entryPrice": 150.05, "mtTicket": "T1"}
    opened["entryTime"] = "2026-01-05T09:00:00.000Z"
    json_accept = {"accept": "application/graphql-response+json"}
    return [
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


async def test_prepared_mutations_answer_as_strawberry_does_good_and_bad_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = count_prepared(monkeypatch)
    ordinary = await fast_and_ordinary(tmp_path, scenario, ran)
    assert sorted(set(ran)) == ["triggerActions", "updateAction", "updatePosition"]
    # the scenario does reach successes and each kind of error it means to try
    tried = {"CONFLICT", "NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED", "VALIDATION", "INVALID_TRANSITION"}
    assert error_codes(body for _, _, body in ordinary) >= tried
    assert {status for status, _, _ in ordinary} == {200, 400}
    assert len(ran) >= 15  # most requests did take the prepared path


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
