"""pcStatus: a user is ONLINE while one of its CLIENT WebSocket connections is open on any server
process, and OFFLINE a grace period after the last one closed (so a quick reconnect does not flap).

Each process records the users it holds in the store (hedge.store.presence) and refreshes those
rows on a heartbeat; a process that dies stops refreshing, its rows expire, and the sweep of any
other process (or its own next start) takes those users OFFLINE.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from starlette.concurrency import run_in_threadpool

from hedge.store.repository import Store

log = logging.getLogger(__name__)


class Presence:
    def __init__(self, store: Store, grace_s: float, ttl_s: float = 15.0) -> None:
        self._store = store
        self._grace_s = grace_s
        self._ttl = timedelta(seconds=ttl_s)
        self.process_id = secrets.token_hex(8)
        self._open: dict[str, int] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}

    async def connected(self, user_id: str) -> None:
        self._open[user_id] = self._open.get(user_id, 0) + 1
        pending = self._pending.pop(user_id, None)
        if pending is not None:
            pending.cancel()
        if self._open[user_id] == 1:
            await self._record("join", self._store.presence_join, user_id, self.process_id, 1, self._ttl)

    def disconnected(self, user_id: str) -> None:
        remaining = self._open.get(user_id, 0) - 1
        if remaining > 0:
            self._open[user_id] = remaining
            return
        self._open.pop(user_id, None)
        self._pending[user_id] = asyncio.get_running_loop().create_task(self._leave_later(user_id))

    async def _leave_later(self, user_id: str) -> None:
        await asyncio.sleep(self._grace_s)
        self._pending.pop(user_id, None)
        if self._open.get(user_id, 0) == 0:
            await self._record("leave", self._store.presence_leave, user_id, self.process_id)

    async def heartbeat_forever(self) -> None:
        """Refresh this process's rows and sweep users left ONLINE by a gone process."""
        period = self._ttl.total_seconds() / 3
        while True:
            held = dict(self._open)
            await self._record("refresh", self._store.presence_refresh, self.process_id, held, self._ttl)
            await self._record("sweep", self._store.presence_sweep)
            await asyncio.sleep(period)

    async def _record(self, what: str, call: Callable[..., object], *args: object) -> None:
        try:
            await run_in_threadpool(call, *args)
        except Exception:
            log.exception("could not record presence (%s %s)", what, args[:1])

    async def close(self) -> None:
        """Shutting down: the users this process held leave now (unless held elsewhere)."""
        for task in self._pending.values():
            task.cancel()
        for user_id in [*self._open, *self._pending]:
            await self._record("leave", self._store.presence_leave, user_id, self.process_id)
        self._open.clear()
