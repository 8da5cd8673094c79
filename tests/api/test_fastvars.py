"""The planned coercion of a prepared mutation's variables (hedge.api.fastvars) against
graphql-core's own (get_variable_values + get_argument_values): the same input for every
request it takes, and every request it does not take (bad or unusual variables) left to
graphql-core, which then refuses the bad ones with its own errors."""

from __future__ import annotations

from typing import Any

import pytest

from hedge.agent import documents as doc
from hedge.api.fastpath import FastMutations, Plan
from hedge.api.schema import build_schema

MEMO = "mutation($id: ID!, $m: String) { updatePosition(input: {id: $id, memo: $m}) { id version memo } }"
CONSTANTS = (
    "mutation($p: ID!, $t: DateTime) { triggerActions(input: {positionId: $p, reason: TRAIL, "
    "price: 150.05, priceTime: $t}) { position { id } } }"
)
LISTED = "mutation($id: ID!, $ids: [ID!]) { updatePosition(input: {id: $id, triggerActionIds: $ids}) { id } }"

GOOD: list[tuple[str, dict[str, Any]]] = [
    (MEMO, {"id": "p1", "m": "a memo"}),
    (MEMO, {"id": 7, "m": None}),  # an Int is an ID; a null memo is a value
    (MEMO, {"id": "p1"}),  # $m not given: memo not written at all
    (CONSTANTS, {"p": "p1", "t": "2026-01-02T03:04:05.678Z"}),
    (CONSTANTS, {"p": "p1"}),
    (LISTED, {"id": "p1", "ids": ["a1", "a2"]}),
    (LISTED, {"id": "p1", "ids": "a1"}),  # a single value is a list of one
    (doc.UPDATE_POSITION, {"input": {"id": "p1", "status": "OPEN", "mtTicket": "42", "entryPrice": 150}}),
    (doc.UPDATE_POSITION, {"input": {"id": "p1", "exitTime": "2026-01-02T03:04:05Z", "realizedPL": -1.5}}),
    (doc.UPDATE_ACTION, {"input": {"id": "a1", "status": "EXECUTING", "expectedVersion": 3}}),
    (doc.TRIGGER_ACTIONS, {"input": {"positionId": "p1", "reason": "TRAIL", "price": 150.05}}),
]
BAD: list[tuple[str, dict[str, Any]]] = [
    (MEMO, {}),  # a required variable missing
    (MEMO, {"id": None}),
    (MEMO, {"id": True}),
    (MEMO, {"id": "p1", "m": 5}),  # a number is not a String
    (CONSTANTS, {"p": "p1", "t": "yesterday"}),
    (LISTED, {"id": "p1", "ids": [None]}),
    (doc.UPDATE_POSITION, {"input": {"id": "p1", "status": "NOT_A_STATUS"}}),
    (doc.UPDATE_POSITION, {"input": {"id": "p1", "unknownField": 1}}),
    (doc.UPDATE_POSITION, {"input": {"status": "OPEN"}}),  # id missing
    (doc.UPDATE_POSITION, {"input": "p1"}),
    (doc.UPDATE_POSITION, {}),
    (doc.UPDATE_ACTION, {"input": {"id": "a1", "expectedVersion": 2**40}}),  # beyond Int
    (doc.TRIGGER_ACTIONS, {"input": {"positionId": "p1", "reason": "TRAIL", "price": "cheap"}}),
]


@pytest.fixture(scope="module")
def fast() -> FastMutations:
    schema = build_schema()
    return FastMutations(schema, schema.max_tokens, schema.limit_rules, None)


def _plan(fast: FastMutations, text: str) -> Plan:
    plan = fast.plan(text)
    assert plan is not None and plan.coercion is not None, "the document should be planned"
    return plan


@pytest.mark.parametrize(("text", "variables"), GOOD)
def test_planned_coercion_good_variables_give_graphql_cores_input(
    fast: FastMutations, text: str, variables: dict[str, Any]
) -> None:
    plan = _plan(fast, text)
    assert plan.coercion is not None
    planned = plan.coercion.coerce(variables)
    assert planned is not None  # taken by the plan, not left to graphql-core
    assert planned == fast.coerced_input(plan, variables)


@pytest.mark.parametrize(("text", "variables"), BAD)
def test_planned_coercion_bad_variables_are_left_to_graphql_core_which_refuses_them(
    fast: FastMutations, text: str, variables: dict[str, Any]
) -> None:
    plan = _plan(fast, text)
    assert plan.coercion is not None
    assert plan.coercion.coerce(variables) is None
    assert fast.coerced_input(plan, variables) is None
    assert fast.prepare(plan, variables) is None  # Strawberry answers, with its error


def test_planned_coercion_document_with_variable_default_is_left_to_graphql_core(fast: FastMutations) -> None:
    text = 'mutation($id: ID!, $m: String = "x") { updatePosition(input: {id: $id, memo: $m}) { id } }'
    plan = fast.plan(text)
    assert plan is not None and plan.coercion is None
    argument = fast.prepare(plan, {"id": "p1"})
    assert argument is not None and argument.memo == "x"
