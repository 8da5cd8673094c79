"""An account's symbol map (broker names like USDJPY.m -> USDJPY): set, read, replaced, checked."""

from __future__ import annotations

import pytest
from tests.api.conftest import World

from hedge.client.graphql import GraphQLClientError

pytestmark = pytest.mark.asyncio(loop_scope="module")

CREATE = """mutation($u: ID!, $n: String!, $m: [SymbolMappingInput!]) {
  createAccount(input: {userId: $u, brokerType: MT4, accountNumber: $n, serverName: "Suffix-Broker",
                        displayName: "suffixed", symbolMap: $m}) {
    id version symbolMap { brokerSymbol symbol } } }"""
UPDATE = """mutation($id: ID!, $m: [SymbolMappingInput!]) {
  updateAccount(input: {id: $id, symbolMap: $m}) { version symbolMap { brokerSymbol symbol } } }"""


async def test_account_keeps_its_symbol_map_and_an_update_replaces_it(world: World) -> None:
    alice = world.alice
    made = (
        await alice.client.execute(
            CREATE, {"u": alice.id, "n": "sm-1", "m": [{"brokerSymbol": "USDJPY.m", "symbol": "USDJPY"}]}
        )
    )["createAccount"]
    assert made["symbolMap"] == [{"brokerSymbol": "USDJPY.m", "symbol": "USDJPY"}]
    mapping = [
        {"brokerSymbol": "#XAUUSD", "symbol": "XAUUSD"},
        {"brokerSymbol": "EURUSDm", "symbol": "EURUSD"},
    ]
    updated = (await alice.client.execute(UPDATE, {"id": made["id"], "m": mapping}))["updateAccount"]
    assert updated["version"] == made["version"] + 1
    assert updated["symbolMap"] == sorted(mapping, key=lambda m: m["brokerSymbol"])


async def test_bad_symbol_map_is_validation_and_writes_nothing(world: World) -> None:
    alice, api = world.alice, world.api
    head = api.feed_head()
    with pytest.raises(GraphQLClientError) as refused:
        await alice.client.execute(
            CREATE, {"u": alice.id, "n": "sm-2", "m": [{"brokerSymbol": "GOLD", "symbol": "gold!"}]}
        )
    assert refused.value.code == "VALIDATION"
    assert "symbolMap[0].symbol" in refused.value.message
    assert api.feed_head() == head
