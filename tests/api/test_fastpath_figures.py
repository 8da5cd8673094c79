"""The agents' figure pushes (updateAccount) on the prepared path (hedge.api.fastpath) answer as
Strawberry does, good and bad; an updateAccount giving a nested input (symbolMap, symbolSpecs) is
left to Strawberry, before anything ran."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, cast

import pytest

from hedge.agent import documents as doc
from hedge.api.fastpath import FastMutations

from .conftest import ADMIN_TOKEN, CREATE_ACCOUNT, CREATE_USER, settings_for, start_api
from .test_fastpath import Run

PUSH = "mutation($i: UpdateAccountInput!) { updateAccount(input: $i) { id version equity marginLevel } }"


async def scenario(run: Run) -> list[tuple[int, str, str]]:
    people = []
    for n in (1, 2):
        made = (
            await run.data(ADMIN_TOKEN, CREATE_USER, {"email": f"figures{n}@example.com", "role": "CLIENT"})
        )["createUser"]
        user = run.name(made["user"]["id"], f"<user{n}>")
        account = (await run.data(ADMIN_TOKEN, CREATE_ACCOUNT, {"userId": user, "number": f"80{n}"}))[
            "createAccount"
        ]["id"]
        people.append((made["token"], run.name(account, f"<account{n}>")))
    (alice, account), (bob, _) = people
    figures = {
        "id": account,
        "balance": 10000,
        "credit": 0,
        "equity": 10050.5,
        "margin": 120,
        "marginLevel": 8375,
    }
    out = [
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
async def test_figure_pushes_on_the_prepared_path_answer_as_strawberry_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    original = FastMutations.run

    async def counted(self: FastMutations, plan: Any, argument: Any, context: Any) -> dict[str, Any]:
        ran.append(plan.root.name.value)
        return await original(self, plan, argument, context)

    monkeypatch.setattr(FastMutations, "run", counted)
    fast = await answers(tmp_path, "fast", 1)
    prepared = len(ran)
    ordinary = await answers(tmp_path, "ordinary", 0)
    assert len(ran) == prepared  # the second server ran none of them
    for index, (mine, theirs) in enumerate(zip(fast, ordinary, strict=True)):
        assert mine == theirs, index
    bodies = " ".join(body for _, _, body in ordinary)
    for code in ("CONFLICT", "NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED", "VALIDATION"):
        assert f'"code":"{code}"' in bodies, code
    assert set(ran) == {"updateAccount"}
    assert prepared == 8  # all but the value that does not coerce and the nested symbolMap


def test_update_account_plan_leaves_a_nested_input_to_strawberry() -> None:
    from hedge.api.schema import build_schema

    schema = build_schema()
    fast = FastMutations(schema, schema.max_tokens, schema.limit_rules, None)
    plan = fast.plan(PUSH)
    assert plan is not None and plan.nested == {"symbolMap", "symbolSpecs"}
    assert fast.prepare(plan, {"i": {"id": "a", "equity": 1}}) is not None
    assert fast.prepare(plan, {"i": {"id": "a", "symbolMap": [{"from": "A", "to": "B"}]}}) is None
    assert fast.prepare(plan, {"i": {"id": "a", "symbolMap": None}}) is not None
