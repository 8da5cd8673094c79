"""Fails actions past their deadline (`Store.expire_actions`) and alerts hedge legs left alone
(`Store.check_unpaired_legs`), on a timer in the server process.

Every server process runs it; each expiry is its own transaction that re-reads the action, so
several processes sweeping the same database fail an action once. A failed sweep is logged and
the loop goes on (the next one retries); the jobs scheduler may call `expire_actions` instead.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from hedge.store.repository import Store

log = logging.getLogger(__name__)


LEG_CHECK_EVERY = 5  # sweeps between two looks for hedge legs left alone (a heavier read)


async def expire_forever(store: Store, interval_s: float) -> None:
    sweeps = 0
    while True:
        try:
            expired = await run_in_threadpool(store.expire_actions)
            for action in expired:
                log.warning("action %s failed at its deadline: %s", action.id, action.error_message,
                            extra={"correlation_id": action.correlation_id})  # fmt: skip
            if sweeps % LEG_CHECK_EVERY == 0:
                for leg in await run_in_threadpool(store.check_unpaired_legs):
                    log.warning("hedge leg %s is alone: HEDGE_LEG_FAILED raised", leg)
        except Exception:
            log.exception("the deadline sweep failed; will try again in %.1f s", interval_s)
        sweeps += 1
        await asyncio.sleep(interval_s)
