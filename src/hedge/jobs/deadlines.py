"""Fails actions past their deadline (`Store.expire_actions`), on a timer in the server process.

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


async def expire_forever(store: Store, interval_s: float) -> None:
    while True:
        try:
            expired = await run_in_threadpool(store.expire_actions)
            for action in expired:
                log.warning("action %s failed at its deadline: %s", action.id, action.error_message)
        except Exception:
            log.exception("the deadline sweep failed; will try again in %.1f s", interval_s)
        await asyncio.sleep(interval_s)
