"""The agents' figure pushes (updateAccount) on the prepared path (hedge.api.fastpath) answer as
Strawberry does, good and bad; an updateAccount giving a nested input (symbolMap, symbolSpecs) is
left to Strawberry, before anything ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.agent import documents as doc
from hedge.api.fastpath import FastMutations

from .prepared import Run, count_prepared, error_codes, fast_and_ordinary, two_people

PUSH = "mutation($i: UpdateAccountInput!) { updateAccount(input: $i) { id version equity marginLevel } }"


async def scenario(run: Run) -> list[tuple[int, str, str]]:
    first, second = await two_people(run, "figures", "80", entry=False)
    alice, account, bob = first.token, first.account, second.token
    figures = {
        "id": account,
        "balance": 10000,
        "credit": 0,
        "equity": 10050.5,
        "margin": 120,
        "marginLevel": 8375,
    }
    return [
        await run.post(alice, PUSH, {"i": figures}),
        await run.post(alice, doc.UPDATE_ACCOUNT, {"input": {**figures, "equity": 10051}}),
        await run.post(alice, PUSH, {"i": {"id": account, "margin": -1}}),  # VALIDATION
        await run.post(bob, PUSH, {"i": {"id": account, "equity": 1}}),  # FORBIDDEN
        await run.post(alice, PUSH, {"i": {"id": "no-such-account", "equity": 1}}),  # NOT_FOUND
        await run.post(None, PUSH, {"i": {"id": account, "equity": 1}}),  # UNAUTHENTICATED
        await run.post(alice, PUSH, {"i": {"id": account, "equity": "lots"}}),  # does not coerce
        await run.post(alice, PUSH, {"i": {"id": account, "equity": 1, "expectedVersion": 1}}),  # CONFLICT
        await run.post(alice, PUSH, {"i": {"id": account, "displayName": "renamed", "leverage": 500}}),
        await run.post(
            alice, PUSH, {"i": {"id": account, "symbolMap": [{"from": "USDJPY", "to": "USDJPY.m"}]}}
        ),
    ]


async def test_figure_pushes_on_the_prepared_path_answer_as_strawberry_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = count_prepared(monkeypatch)
    ordinary = await fast_and_ordinary(tmp_path, scenario, ran)
    tried = {"CONFLICT", "NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED", "VALIDATION"}
    assert error_codes(body for _, _, body in ordinary) >= tried
    assert set(ran) == {"updateAccount"}
    assert len(ran) == 8  # all but the value that does not coerce and the nested symbolMap


def test_update_account_plan_leaves_a_nested_input_to_strawberry() -> None:
    from hedge.api.schema import build_schema

    schema = build_schema()
    fast = FastMutations(schema, schema.max_tokens, schema.limit_rules, None)
    plan = fast.plan(PUSH)
    assert plan is not None and plan.nested == {"symbolMap", "symbolSpecs"}
    assert fast.prepare(plan, {"i": {"id": "a", "equity": 1}}) is not None
    assert fast.prepare(plan, {"i": {"id": "a", "symbolMap": [{"from": "A", "to": "B"}]}}) is None
    assert fast.prepare(plan, {"i": {"id": "a", "symbolMap": None}}) is not None
