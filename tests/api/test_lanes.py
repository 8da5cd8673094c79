"""Account-figure pushes go behind every other request: telling them apart, and the waiting."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest

from hedge.api.coalesce import FigureCoalescer
from hedge.api.lanes import Lanes, is_figures_push
from hedge.domain.authz import Actor
from hedge.domain.enums import UserRole
from hedge.store.repository import Store

AGENT_PUSH = "mutation ($input: UpdateAccountInput!) { updateAccount(input: $input) { id version } }"


def body(query: str, variables: object = None) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


@pytest.mark.parametrize(
    ("request_body", "push"),
    [
        (body(AGENT_PUSH, {"input": {"id": "a1", "equity": 1.5, "marginLevel": 900}}), True),
        (body('mutation { updateAccount(input: {id: "a1", balance: 5, credit: 0}) { id } }'), True),
        (body(AGENT_PUSH, {"input": {"id": "a1", "equity": 1, "connectionStatus": "CONNECTED"}}), False),
        (body(AGENT_PUSH, {"input": {"id": "a1", "equity": 1, "expectedVersion": 3}}), False),
        (body(AGENT_PUSH, {}), False),  # the variable is missing: the resolver will say so, up front
        (body('mutation { updatePosition(input: {id: "p1", status: OPEN}) { id } }'), False),
        (body('{ account(id: "a1") { id } }'), False),
        (body(AGENT_PUSH + " query Other { me { id } }", {"input": {"id": "a1"}}), False),
        (body("mutation { updateAccount(input: {id: "), False),  # does not parse
        (b"not json", False),
        (b'["a list"]', False),
        (json.dumps({"query": 5}).encode(), False),
    ],
)
def test_is_figures_push_only_for_an_update_account_with_figures_alone(
    request_body: bytes, push: bool
) -> None:
    assert is_figures_push(request_body) is push


async def test_push_waits_while_a_foreground_request_is_under_way_and_goes_once_it_ends() -> None:
    lanes = Lanes(yield_s=30)
    with lanes.foreground():
        push = asyncio.create_task(lanes.background_turn())
        await asyncio.sleep(0.05)
        waited = not push.done()
    await asyncio.wait_for(push, 5)

    assert waited and lanes.deferred == 1


async def test_push_goes_after_yield_s_even_if_the_foreground_never_ends() -> None:
    lanes = Lanes(yield_s=0.05)
    with lanes.foreground():
        await asyncio.wait_for(lanes.background_turn(), 5)  # delayed, not starved
        assert lanes.foreground_busy


async def test_push_with_no_foreground_request_goes_at_once() -> None:
    lanes = Lanes(yield_s=30)
    await asyncio.wait_for(lanes.background_turn(), 1)
    assert lanes.deferred == 0


async def test_figures_are_written_only_once_the_foreground_is_clear(store: Store) -> None:
    user, _ = store.create_user("c@example.com", "C", "CLIENT")
    account = store.create_account(user.id, "MT5", "1001", "Demo", "d").id
    lanes = Lanes()
    figures = FigureCoalescer(store, pause_s=0.0, lanes=lanes, yield_s=30)
    try:
        with lanes.foreground():
            report = asyncio.create_task(
                figures.submit(account, {"equity": Decimal("5")}, Actor(user.id, UserRole.CLIENT))
            )
            await asyncio.sleep(0.2)
            written_meanwhile = figures.batches
        written = await asyncio.wait_for(report, 10)
    finally:
        await figures.stop()

    assert written_meanwhile == 0 and figures.batches == 1 and written.equity == Decimal("5")


def test_is_figures_push_of_a_body_nested_too_deeply_is_false_not_an_error() -> None:
    assert is_figures_push(b'{"query": "mutation { updateAccount }", "x": ' + b"[" * 100_000 + b"}") is False
