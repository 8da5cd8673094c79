"""Open WebSockets by user, closed with 4403 as soon as their token stops being valid.

A deactivation or a token rotation is a User change in the change feed, which reaches every
server process (LISTEN/NOTIFY on PostgreSQL, the feed tail on SQLite, well within 1 s); this
guard then checks the token of each open socket of that user again and closes the refused ones.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket

from hedge.api.broker import ChangeBroker, SubscriberTooSlow
from hedge.store.repository import Store

log = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403


@dataclass(eq=False)
class Session:
    user_id: str
    token: str
    websocket: WebSocket
    closed: bool = field(default=False)
    # the console's sockets authenticate with a session cookie, not a token: checked by this
    check: Callable[[], Awaitable[bool]] | None = None


class SessionGuard:
    def __init__(self, store: Store, broker: ChangeBroker) -> None:
        self._store = store
        self._broker = broker
        self._open: dict[str, set[Session]] = {}

    def opened(
        self,
        user_id: str,
        token: str,
        websocket: WebSocket,
        check: Callable[[], Awaitable[bool]] | None = None,
    ) -> Session:
        session = Session(user_id, token, websocket, check=check)
        self._open.setdefault(user_id, set()).add(session)
        return session

    def closed(self, session: Session) -> None:
        sessions = self._open.get(session.user_id)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._open[session.user_id]

    async def valid(self, session: Session) -> bool:
        """Whether the session's token is still its user's and the user active (a store read).

        Asked right after a socket registers, too: a change committed between its authentication
        (perhaps from the cache) and its registration here is not missed."""
        if session.check is not None:
            return await session.check()
        user = await run_in_threadpool(self._store.user_by_token, session.token)
        return user is not None and user.id == session.user_id and user.is_active

    async def still_valid(self, session: Session) -> bool:
        """Check one open session; close its socket with 4403 when its token is refused."""
        if await self.valid(session):
            return True
        await self._close(session)
        return False

    async def watch_forever(self) -> None:
        while True:
            try:
                async with self._broker.watch("User", "UPDATE") as sub:
                    while True:
                        user = await self._broker.next_value(sub)
                        for session in list(self._open.get(str(user.id), ())):
                            await self.still_valid(session)
            except SubscriberTooSlow:
                log.warning("session guard fell behind the change feed; checking every open socket")
                for sessions in list(self._open.values()):
                    for session in list(sessions):
                        await self.still_valid(session)

    async def _close(self, session: Session) -> None:
        if session.closed:
            return
        session.closed = True
        log.info(
            "closing a WebSocket of user %s: its token was revoked or the user deactivated", session.user_id
        )
        # the socket may be closing by itself at the same moment
        with contextlib.suppress(RuntimeError, OSError):
            await session.websocket.close(code=CLOSE_FORBIDDEN, reason="token revoked or user deactivated")
