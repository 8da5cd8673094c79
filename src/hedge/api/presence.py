"""pcStatus: a user is ONLINE while one of its CLIENT WebSocket connections is open here, and
OFFLINE a grace period after the last one closed (so a quick reconnect does not flap)."""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from hedge.domain.enums import PCStatus
from hedge.store.repository import Store

log = logging.getLogger(__name__)


class Presence:
    def __init__(self, store: Store, grace_s: float) -> None:
        self._store = store
        self._grace_s = grace_s
        self._open: dict[str, int] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}

    async def connected(self, user_id: str) -> None:
        self._open[user_id] = self._open.get(user_id, 0) + 1
        pending = self._pending.pop(user_id, None)
        if pending is not None:
            pending.cancel()
        if self._open[user_id] == 1:
            await self._set(user_id, PCStatus.ONLINE)

    def disconnected(self, user_id: str) -> None:
        remaining = self._open.get(user_id, 0) - 1
        if remaining > 0:
            self._open[user_id] = remaining
            return
        self._open.pop(user_id, None)
        self._pending[user_id] = asyncio.get_running_loop().create_task(self._offline_later(user_id))

    async def _offline_later(self, user_id: str) -> None:
        await asyncio.sleep(self._grace_s)
        self._pending.pop(user_id, None)
        if self._open.get(user_id, 0) == 0:
            await self._set(user_id, PCStatus.OFFLINE)

    async def _set(self, user_id: str, status: PCStatus) -> None:
        try:
            await run_in_threadpool(self._store.set_pc_status, user_id, status)
        except Exception:
            log.exception("could not record pcStatus %s for user %s", status, user_id)

    async def close(self) -> None:
        for task in self._pending.values():
            task.cancel()
