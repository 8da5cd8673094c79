"""Per-request (or per-WebSocket-connection) context: the services and the authenticated caller."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from hedge.api.broker import ChangeBroker
from hedge.api.cache import EntityCache
from hedge.api.coalesce import FigureCoalescer
from hedge.api.errors import RATE_LIMITED, UNAUTHENTICATED, coded, from_domain
from hedge.api.lanes import Lanes
from hedge.api.metrics import Metrics
from hedge.api.presence import Presence
from hedge.api.ratelimit import RateLimiter
from hedge.api.socket_guard import SocketGuard
from hedge.config import ServerSettings
from hedge.domain.authz import Actor
from hedge.domain.errors import DomainError
from hedge.domain.models import Account, Action, Alert, Position, User
from hedge.store import audit
from hedge.store.inline import WriterBusy, is_short_write
from hedge.store.repository import Store

R = TypeVar("R")
W = TypeVar("W", bound=User | Account | Position | Action | Alert)  # what the read cache keeps


@dataclass
class Services:
    settings: ServerSettings
    store: Store
    cache: EntityCache
    broker: ChangeBroker
    limiter: RateLimiter
    presence: Presence
    metrics: Metrics
    socket_guard: SocketGuard
    figures: FigureCoalescer | None = None  # account figures, coalesced (hedge.api.coalesce)
    lanes: Lanes | None = None  # figure pushes behind every other request (hedge.api.lanes)


@dataclass
class Context:
    services: Services
    user: User | None = None
    connection_params: dict[str, Any] = field(default_factory=dict)
    address: str | None = None  # the caller's address (the proxy's client when behind one)
    socket: Any = None  # the starlette WebSocket of a subscription connection
    session_user: User | None = None  # the console's WebSocket: who its session cookie signs for
    loaders: dict[str, Any] = field(default_factory=dict)  # batched reads of one request (api/figures.py)

    @property
    def actor(self) -> Actor:
        if self.user is None:
            raise coded(UNAUTHENTICATED, "a valid token is required (Authorization: Bearer <token>)")
        return Actor(self.user.id, self.user.role)

    def check_rate(self) -> None:
        if not self.services.limiter.allow(self.actor.user_id):
            raise coded(RATE_LIMITED, "too many mutations for this token; slow down and retry")

    def rated(self) -> Context:
        """check_rate, then this context: the first line of a mutation that counts against the
        caller's rate before anything else (where a refusal comes first, call check_rate after it)."""
        self.check_rate()
        return self

    def written(self, entity: W) -> W:
        """This process just committed `entity`: tell the read cache at once (before the feed
        does), then hand the entity back for the answer."""
        self.services.cache.written(entity)
        return entity

    async def run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run a blocking store call in a worker thread; domain errors become coded GraphQL errors.

        With HEDGE_INLINE_WRITES a short write (store/inline.py) runs here on the event loop
        when the writer is free now, and in the worker thread when it is not."""
        origin = audit.Origin(None if self.user is None else self.user.id, self.address)
        try:
            with audit.bound(origin):  # the worker thread runs in a copy of this context
                if self._inline(fn):
                    try:
                        done = self.services.store.run_inline(fn, *args, **kwargs)
                    except WriterBusy:
                        pass  # nothing was written: the worker thread waits its turn
                    else:
                        # the subscribers this commit woke send first, as after a worker
                        # thread's commit, and the caller's answer after them
                        await asyncio.sleep(0)
                        return done
                return await run_in_threadpool(fn, *args, **kwargs)
        except DomainError as exc:
            raise from_domain(exc) from None

    def _inline(self, fn: Callable[..., Any]) -> bool:
        # not with a shared (Redis) cache: the commit hook refreshes it, a round trip the loop
        # must not wait for
        services = self.services
        return (
            bool(services.settings.inline_writes)
            and is_short_write(fn)
            and services.store.inline_writes
            and not services.cache.shared
        )
