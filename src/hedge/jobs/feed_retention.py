"""Prunes the change feed to its retention (default 24 h), on a timer in the server process.

Every server process runs it; the delete is idempotent, so several processes pruning the same
database only repeat a cheap statement.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from hedge.store.repository import Store

log = logging.getLogger(__name__)


def prune_interval_s(retention_s: float) -> float:
    """Prune 24 times per retention period, at most hourly and at least every second."""
    return min(max(retention_s / 24, 1.0), 3600.0)


async def prune_forever(store: Store, interval_s: float) -> None:
    while True:
        try:
            removed = await run_in_threadpool(store.prune_changes)
            if removed:
                log.info("pruned %d change-feed events older than %s", removed, store.retention)
        except Exception:
            log.exception("pruning the change feed failed; will try again in %.0f s", interval_s)
        await asyncio.sleep(interval_s)
