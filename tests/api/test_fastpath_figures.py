"""The agents' figure pushes (updateAccount) on the prepared path (hedge.api.fastpath) answer as
Strawberry does, good and bad, a nested input (symbolMap, symbolSpecs) included."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.agent import documents as doc
from hedge.api.fastpath import FastMutations

from .prepared import Run, count_prepared, error_codes, fast_and_ordinary, two_people

SPEC = {"symbol": "USDJPY", "digits": 3, "point": 0.001, "contractSize": 100000, "volumeMin": 0.01,
        "volumeStep": 0.01, "volumeMax": 100, "marginPerLot": 1000}  # fmt: skip
EURUSD = {**SPEC, "symbol": "EURUSD", "digits": 5, "point": 0.00001}
MAPPED = {"brokerSymbol": "USDJPY.m", "symbol": "USDJPY"}
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
        await run.post(alice, PUSH, {"i": {"id": account, "symbolMap": [MAPPED]}}),
        await run.post(alice, PUSH, {"i": {"id": account, "symbolMap": [{"from": "USDJPY", "to": "X"}]}}),
        await run.post(alice, PUSH, {"i": {"id": account, "symbolSpecs": [SPEC, EURUSD]}}),
        await run.post(alice, PUSH, {"i": {"id": account, "symbolSpecs": [{**SPEC, "digits": "three"}]}}),
        await run.post(alice, PUSH, {"i": {"id": account, "symbolSpecs": [{**SPEC, "volumeMin": -1}]}}),
        await run.post(alice, PUSH, {"i": {"id": account, "symbolMap": None, "symbolSpecs": []}}),
    ]


async def test_figure_pushes_on_the_prepared_path_answer_as_strawberry_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = count_prepared(monkeypatch)
    ordinary = await fast_and_ordinary(tmp_path, scenario, ran)
    tried = {"CONFLICT", "NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED", "VALIDATION"}
    assert error_codes(body for _, _, body in ordinary) >= tried
    assert set(ran) == {"updateAccount"}
    assert len(ran) == 12  # all but the values that do not coerce (a wrong type or field name)


def test_update_account_plan_builds_its_nested_inputs() -> None:
    from hedge.api.gqltypes import SymbolMappingInput
    from hedge.api.schema import build_schema

    schema = build_schema()
    fast = FastMutations(schema, schema.max_tokens, schema.limit_rules, None)
    plan = fast.plan(PUSH)
    assert plan is not None and not plan.shape.unshaped
    built = fast.prepare(plan, {"i": {"id": "a", "symbolMap": [{"brokerSymbol": "A.m", "symbol": "A"}]}})
    assert built is not None and built.symbol_map == [SymbolMappingInput(broker_symbol="A.m", symbol="A")]
    assert fast.prepare(plan, {"i": {"id": "a", "symbolMap": [{"from": "A", "to": "B"}]}}) is None
    cleared = fast.prepare(plan, {"i": {"id": "a", "symbolMap": None}})
    assert cleared is not None and cleared.symbol_map is None
