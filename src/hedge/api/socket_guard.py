"""Open WebSockets by user, closed with 4403 as soon as their token stops being valid.

A deactivation or a token rotation is a User change in the change feed, which reaches every
server process (LISTEN/NOTIFY on PostgreSQL, the feed tail on SQLite, well within 1 s); this
guard then checks each open socket of that user again and closes the refused ones. A socket is
held by the hash of the token it stands on: the agent's bearer token, or for the console's
cookie session the token hash the cookie is signed with; both end when the token is rotated.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket

from hedge.api.broker import ChangeBroker, SubscriberTooSlow
from hedge.store.repository import Store
from hedge.store.sessions import user_with_token_hash

log = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
CHECK_ATTEMPTS = 4
RETRY_S = 0.5


@dataclass(eq=False)
class GuardedSocket:
    user_id: str
    token_hash: str
    websocket: WebSocket
    closed: bool = field(default=False)
    # the console's sockets authenticate with a session cookie, not a token: checked by this
    check: Callable[[], Awaitable[bool]] | None = None


class SocketGuard:
    def __init__(self, store: Store, broker: ChangeBroker) -> None:
        self._store = store
        self._broker = broker
        self._open: dict[str, set[GuardedSocket]] = {}

    def opened(
        self,
        user_id: str,
        token_hash: str,
        websocket: WebSocket,
        check: Callable[[], Awaitable[bool]] | None = None,
    ) -> GuardedSocket:
        guarded = GuardedSocket(user_id, token_hash, websocket, check=check)
        self._open.setdefault(user_id, set()).add(guarded)
        return guarded

    def closed(self, guarded: GuardedSocket) -> None:
        held = self._open.get(guarded.user_id)
        if held is not None:
            held.discard(guarded)
            if not held:
                del self._open[guarded.user_id]

    async def valid(self, guarded: GuardedSocket) -> bool:
        """Whether the socket's token is still its user's and the user active (a store read).

        Asked right after a socket registers, too: a change committed between its authentication
        (perhaps from the cache) and its registration here is not missed."""
        if guarded.check is not None:
            return await guarded.check()
        found = await run_in_threadpool(user_with_token_hash, self._store, guarded.user_id)
        return found is not None and found[0].is_active and hmac.compare_digest(found[1], guarded.token_hash)

    async def still_valid(self, guarded: GuardedSocket) -> bool:
        """Check one open socket; close its socket with 4403 when its token is refused."""
        if await self.valid(guarded):
            return True
        await self._close(guarded)
        return False

    async def watch_forever(self) -> None:
        while True:
            try:
                async with self._broker.watch("User", "UPDATE") as sub:
                    while True:
                        user = await self._broker.next_value(sub)
                        await self._check_user(str(user.id))
            except SubscriberTooSlow:
                log.warning("socket guard fell behind the change feed; checking every open socket")
                for user_id in list(self._open):
                    await self._check_user(user_id)

    async def _check_user(self, user_id: str) -> None:
        """Check the user's open sockets; if the store cannot say (it is down), retry a few times,
        then close them: a revoked token must not stay open for want of an answer."""
        for attempt in range(CHECK_ATTEMPTS):
            try:
                for guarded in list(self._open.get(user_id, ())):
                    await self.still_valid(guarded)
                return
            except Exception:  # a store error: retried below, then the sockets are closed
                log.exception(
                    "socket guard could not check the sockets of user %s (attempt %d)", user_id, attempt + 1
                )
                await asyncio.sleep(RETRY_S * (attempt + 1))
        for guarded in list(self._open.get(user_id, ())):
            await self._close(guarded)

    async def _close(self, guarded: GuardedSocket) -> None:
        if guarded.closed:
            return
        guarded.closed = True
        log.info(
            "closing a WebSocket of user %s: its token was revoked or the user deactivated", guarded.user_id
        )
        # the socket may be closing by itself at the same moment
        with contextlib.suppress(RuntimeError, OSError):
            await guarded.websocket.close(code=CLOSE_FORBIDDEN, reason="token revoked or user deactivated")
