"""A change is executed once per subscription document, however many subscribers sent it."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tests.api.conftest import UPDATE_POSITION, World
from tests.api.test_subscriptions import next_for, subscriptions_open, until_subscribed

from hedge.api.sub_prepared import PreparedSubscriptions

pytestmark = pytest.mark.asyncio(loop_scope="module")

LEAN = "subscription { onUpdatePosition { id version } }"
RICH = "subscription { onUpdatePosition { id version memo status userId } }"
UNPREPARED = "subscription { onUpdatePosition { __typename id version } }"


async def test_same_document_subscribers_share_one_execution_and_others_get_their_own_fields(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, api = world.alice, world.api
    executed: list[str] = []
    original = StrawberryGraphQLCoreExecutionContext.execute_operation

    def counting(self: Any, serially: bool | None = None) -> Any:
        if self.operation.operation.value == "subscription":
            executed.append(self.operation.loc.source.body if self.operation.loc else "?")
        return original(self, serially)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_operation", counting)
    # the prepared subscriptions (api/sub_prepared.py) complete these documents without
    # Strawberry's executor: a completion of theirs counts as an execution too
    prepared_event = PreparedSubscriptions.event

    def counting_prepared(self: PreparedSubscriptions, plan: Any, value: Any) -> Any:
        if (id(value), id(plan)) not in self._results:
            executed.append(plan.operation.loc.source.body if plan.operation.loc else "?")
        return prepared_event(self, plan, value)

    monkeypatch.setattr(PreparedSubscriptions, "event", counting_prepared)
    before = int(await subscriptions_open(api))
    async with (
        alice.client.connection() as one,
        alice.client.connection() as two,
        alice.client.connection() as three,
        alice.client.connection() as rich,
    ):
        ops = [await conn.start(LEAN) for conn in (one, two, three)]
        rich_op = await rich.start(RICH)
        await until_subscribed(api, before + 4)
        await alice.client.execute(UPDATE_POSITION, {"input": {"id": alice.position_id, "memo": "shared"}})
        lean_rows = [
            (await next_for(conn, op))["payload"]["data"]["onUpdatePosition"]
            for conn, op in zip((one, two, three), ops, strict=True)
        ]
        rich_row = (await next_for(rich, rich_op))["payload"]["data"]["onUpdatePosition"]
    assert lean_rows[0] == lean_rows[1] == lean_rows[2]
    assert set(lean_rows[0]) == {"id", "version"}
    assert rich_row["memo"] == "shared" and rich_row["version"] == lean_rows[0]["version"]
    assert sorted(executed) == sorted([LEAN, RICH])  # once per document, not once per subscriber


async def test_subscription_events_each_keep_their_own_memo_so_a_long_subscription_does_not_grow(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, api = world.alice, world.api
    memos: list[dict[Any, Any]] = []
    original = StrawberryGraphQLCoreExecutionContext.execute_operation

    def recording(self: Any, serially: bool | None = None) -> Any:
        if self.operation.operation.value == "subscription":
            memos.append(self._relevant_sub_fields)
        return original(self, serially)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_operation", recording)
    before = int(await subscriptions_open(api))
    async with alice.client.connection() as conn:
        op = await conn.start(UNPREPARED)  # Strawberry's executor runs it (api/sub_prepared.py)
        await until_subscribed(api, before + 1)
        for n in range(5):
            memo = f"event {n}"
            await alice.client.execute(UPDATE_POSITION, {"input": {"id": alice.position_id, "memo": memo}})
            await next_for(conn, op)
    assert len(memos) == 5
    assert len({id(m) for m in memos}) == 5  # not one memo shared by every event of the subscription
    assert max(len(m) for m in memos) == len(memos[0]) <= 1
