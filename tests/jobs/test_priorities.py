"""§6-2's priorities, the untimed short version of bench/priorities.py: a status change sent after
account figures are queued is written and delivered before them (the coalescer keeps figures
back; status changes take their own direct path)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.conftest import Api

from hedge.client.graphql import SubscriptionConnection

PUSH = "mutation($i: UpdateAccountInput!) { updateAccount(input: $i) { id version } }"
MOVE = "mutation($i: UpdatePositionInput!) { updatePosition(input: $i) { id version status } }"
EVENTS = (
    "subscription { onUpdatePosition { id status memo } }",
    "subscription { onUpdateAccount { id equity } }",
)


async def _next_event(conn: SubscriptionConnection) -> dict[str, Any]:
    while True:
        message = await asyncio.wait_for(conn.next_message(), 10)
        data = (message.get("payload") or {}).get("data") or {}
        if data:
            return dict(data)


async def test_status_change_sent_after_queued_figures_is_delivered_before_them(api: Api) -> None:
    owner = await api.trader()
    accounts = [owner.account_id, *[await api.new_account(owner.id) for _ in range(3)]]
    async with owner.client.connection() as conn:
        for subscription in EVENTS:
            await conn.start(subscription)
        # both subscriptions are live once an event of each has come (nothing is queued yet)
        await owner.client.execute(MOVE, {"i": {"id": owner.position_id, "memo": "warm-up"}})
        await owner.client.execute(PUSH, {"i": {"id": owner.account_id, "equity": 1}})
        warm = [await _next_event(conn), await _next_event(conn)]
        assert {next(iter(e)) for e in warm} == {"onUpdatePosition", "onUpdateAccount"}

        pushes = [
            asyncio.create_task(owner.client.execute(PUSH, {"i": {"id": a, "equity": 2000 + i}}))
            for i, a in enumerate(accounts)
        ]
        await asyncio.sleep(0.1)  # the reports have reached the coalescer, which waits 0.25 s
        moved = await owner.client.execute(MOVE, {"i": {"id": owner.position_id, "status": "OPENING"}})
        events = [await _next_event(conn) for _ in range(1 + len(accounts))]
        answered = await asyncio.gather(*pushes)

    assert moved["updatePosition"]["status"] == "OPENING"
    opening = {"id": owner.position_id, "status": "OPENING", "memo": "warm-up"}
    assert events[0] == {"onUpdatePosition": opening}
    assert sorted(e["onUpdateAccount"]["id"] for e in events[1:]) == sorted(accounts)
    assert all(a["updateAccount"]["version"] >= 2 for a in answered)  # every report was written
