"""Escalates alerts left open and unacknowledged (HEDGE_ALERT_ESCALATE_S), on a timer in the server.

The work is one store call (`Store.escalate_due`), so a scheduler can take it over as it is.
Every server process may run it: the store escalates each due alert once per period whichever
process gets there first (rows are locked while escalated).
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from hedge.store.repository import Store

log = logging.getLogger(__name__)


def escalation_interval_s(after_s: float) -> float:
    """Look ten times per escalation period, at most every minute and at least every second."""
    return min(max(after_s / 10, 1.0), 60.0)


async def escalate_once(store: Store, after_s: float) -> int:
    escalated = await run_in_threadpool(store.escalate_due, store.now(), after_s)
    for alert in escalated:
        log.warning(
            "alert %s (%s, user %s) open and unacknowledged for %.0f s: escalated to %s",
            alert.id, alert.kind, alert.user_id, after_s, alert.severity,
        )  # fmt: skip
    return len(escalated)


async def escalate_forever(store: Store, after_s: float) -> None:
    """Supervised: a failed round is logged and the next one comes after the usual interval."""
    interval_s = escalation_interval_s(after_s)
    while True:
        try:
            await escalate_once(store, after_s)
        except Exception:
            log.exception("escalating alerts failed; will try again in %.0f s", interval_s)
        await asyncio.sleep(interval_s)
