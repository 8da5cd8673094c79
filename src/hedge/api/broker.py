"""Fan-out of the change feed to this process's subscriptions (the seed's Streams -> AppSync).

One thread tails the store's feed (woken by commits, LISTEN/NOTIFY on PostgreSQL), invalidates
the cache, and hands each batch to the event loop, which puts every event on the queue of each
matching subscription: filtered by entity, operation and userId, per user in commit order.

A subscription given a feed cursor (`after`) first replays, from the store, the matching events
after the cursor up to the point where it joined the live fan-out, then the live ones: each event
is delivered once, in feed order (every queued item carries its sequence number). Whatever would
make a subscriber miss an event (a cursor older than the retained feed, the fan-out's own cursor
pruned away, a queue overflow) ends the subscription with RESYNC_REQUIRED instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from hedge import hop_probes, hops
from hedge.api import alert_types, convert
from hedge.api.cache import EntityCache
from hedge.api.metrics import Metrics
from hedge.domain.errors import ValidationError
from hedge.domain.rows import ENTITY_TYPES, from_mapping
from hedge.store.feed import ChangeEvent, FeedGap, head_seq, read_events
from hedge.store.repository import Store

log = logging.getLogger(__name__)

# how long the tail thread waits for a wake-up before it reads the feed anyway: the bound on
# shutdown time, and on delivery delay of another process's commits on SQLite (no NOTIFY there)
IDLE_WAIT_S = 0.1
TO_GRAPHQL: dict[str, Callable[[Any], Any]] = {
    "Position": convert.position,
    "Action": convert.action,
    "Account": convert.account,
    "User": convert.user,
    "TradingControl": convert.control,
    "Alert": alert_types.alert,
}
ANY = "ANY"  # a subscription's op that takes inserts and updates alike
MAX_QUEUED = 10_000  # a subscriber this far behind is cut off (it must re-subscribe and reload)
REPLAY_PAGE = 1000
_RESYNC = -1  # the sequence number of the queued item that ends a subscription with RESYNC_REQUIRED


class ResyncRequired(Exception):
    """The subscriber would miss changes: it must read its rows again and resubscribe."""


SubscriberTooSlow = ResyncRequired  # the earlier name (the socket guard catches it)


@dataclass(eq=False)
class Subscription:
    entity: str
    op: str
    user_id: str | None  # None: every user (ADMIN)
    queue: asyncio.Queue[tuple[int, Any]] = field(default_factory=asyncio.Queue)
    joined_at: int = 0  # the fan-out had delivered up to here when this subscription joined it
    last_seq: int = 0  # delivered to this subscriber up to here
    ended: bool = False

    def sees(self, event: ChangeEvent) -> bool:
        return (
            event.entity == self.entity
            and event.op == self.op
            and (self.user_id is None or self.user_id == event.user_id)
        )


class ChangeBroker:
    def __init__(self, store: Store, cache: EntityCache, metrics: Metrics) -> None:
        self._store = store
        self._cache = cache
        self._metrics = metrics
        # (entity, op) -> userId (None: every user's) -> its subscriptions: an event is matched
        # against its user's subscriptions only, not against every subscription of its kind
        self._subs: dict[tuple[str, str], dict[str | None, set[Subscription]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None  # the loop's thread (inline writes commit in it)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._apply_lock = threading.Lock()  # the tail thread and commit hooks apply in turn
        self.cursor = store.signal.head  # read from the feed (and applied to the cache) up to here
        self.delivered = store.signal.head  # handed to subscriptions up to here (loop thread only)
        # own commits announced before what comes ahead of them was delivered, by first seq
        self._held: dict[int, list[ChangeEvent]] = {}
        # up to here a commit hook is applying its own commit, which followed the cursor: the
        # tail thread need not wake for it (its NOTIFY often comes while the hook is applying)
        self._claimed = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        if hops.ON:
            hop_probes.start(self._loop)
        self.cursor = self.delivered = self._store.signal.head
        self._store.add_commit_hook(self._committed_here)
        self._store.add_claim_hook(self._claim)
        self._thread = threading.Thread(target=self._tail, name="change-broker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _tail(self) -> None:
        """Read what this process's commit hooks did not announce: other processes' commits,
        and own ones that did not follow the cursor. It waits before it reads, and skips the
        read when every commit it heard of was applied by its hook already."""
        signal = self._store.signal
        while not self._stop.is_set():
            # the cursor as a callable: a commit the hooks applied already, or are applying,
            # wakes nobody (a timeout reads from the cursor whatever was claimed)
            woken = signal.wait_beyond(self._seen, IDLE_WAIT_S)
            if woken and signal.head <= self._seen():
                continue  # announced by the commit hooks, nothing to read back
            try:
                events = self._store.read_changes(self.cursor)
            except FeedGap as gap:
                log.error(
                    "change feed pruned past this process's cursor (%s); resuming at the oldest kept and "
                    "telling every subscriber to resync",
                    gap,
                )
                with self._apply_lock:
                    self.cursor = gap.oldest - 1
                self._call_in_loop(self._end_all, f"the change feed lost events before {gap.oldest}")
                continue
            except Exception:
                log.exception("change feed read failed; retrying")
                self._stop.wait(0.5)
                continue
            with self._apply_lock:  # a commit hook may have applied some of them meanwhile
                events = [event for event in events if event.seq > self.cursor]
                if hops.ON and not events:  # a read for nothing: a hook applied them meanwhile
                    hops.stamp("p.tail_empty", f"{os.getpid()}/{self.cursor}")
                handed = True
                if events:
                    if hops.ON:  # a batch the tail thread applies (another process's, or own ones it won)
                        hops.stamp("p.tail_apply", f"{os.getpid()}/{len(events)}")
                    self._apply(events)
                    # handed to the loop under the lock: its callbacks come in the order of the applies
                    handed = self._call_in_loop(self._dispatch, events)
            if not handed:
                return  # the loop closed: the server is shutting down

    def _claim(self, first_seq: int, last_seq: int) -> None:
        """A transaction of this process took feed numbers first..last and is about to commit:
        when nothing is missing before them, the tail thread need not wake for them (their
        NOTIFY often comes before this process's commit hook has applied them), as the hook
        will apply them. Read without the lock: the cursor only grows. Should the commit fail,
        nothing is lost: numbers after `last_seq` still wake the tail, which reads from its
        cursor, and so does its idle timeout."""
        if first_seq == self.cursor + 1:
            self._claimed = last_seq

    def _seen(self) -> int:
        """Applied, or being applied by a commit hook, up to here (the tail's wake-up cursor)."""
        return max(self.cursor, self._claimed)

    def _apply(self, events: list[ChangeEvent]) -> None:
        """Invalidate the cache for `events` and move the cursor past them (under _apply_lock)."""
        self._cache.invalidate_many(events)  # memory copies, then Redis in one round trip
        self.cursor = events[-1].seq
        self._cache.applied_seq = self.cursor
        self._metrics.feed_lag_events.set(max(0, self._store.signal.head - self.cursor))
        lag = time.time() - events[-1].committed_at.timestamp()
        self._metrics.feed_lag_seconds.set(max(lag, 0.0))

    def _call_in_loop(self, fn: Callable[..., None], *args: Any) -> bool:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            return False
        return True

    def _end_all(self, reason: str) -> None:
        for by_user in self._subs.values():
            for subs in by_user.values():
                for sub in list(subs):
                    self._end(sub, reason)

    @staticmethod
    def _end(sub: Subscription, reason: str) -> None:
        if not sub.ended:
            sub.ended = True
            sub.queue.put_nowait((_RESYNC, reason))

    def _committed_here(self, events: list[ChangeEvent]) -> None:
        """This process committed `events`: deliver them now instead of reading them back.

        Runs in the committing thread, after the commit and before the store's signal wakes the
        tail thread; the delivery itself happens on the event loop. When they follow the cursor
        (nothing of another process's is missing before them), they are applied here too (memory
        copies, Redis when configured, cursor), so that the tail thread need not read them back.
        Redis is refreshed here in the committing worker thread either way, before the mutation
        answers, so that a read on another server right after sees the write; the resolvers'
        `cache.written` then only forgets memory copies, without a Redis round trip on the loop."""
        if hops.ON:
            for event in events:
                hops.stamp("s.committed", event.entity_id)
        if not events:
            return
        with self._apply_lock:
            applied = events[0].seq == self.cursor + 1
            if hops.ON:  # committed -> locked: the wait for the apply lock (the tail thread's turn)
                for event in events:
                    hops.stamp("s.locked", event.entity_id)
                if not applied:  # the tail thread read and applied them first (its NOTIFY won)
                    hops.stamp("p.hook_late", f"{os.getpid()}/{events[0].seq}")
            if applied:
                self._apply(events)
                if hops.ON:  # locked -> applied: the memory copies and Redis refreshed
                    for event in events:
                        hops.stamp("s.applied", event.entity_id)
            # handed to the loop under the lock, so that the loop sees the tail thread's batches
            # and this one in the order they were applied; committed on the loop's own thread
            # (an inline write, store/inline.py), delivered at once, before the mutation answers,
            # as a worker thread's commit is (a tail batch still queued is older: these wait for it)
            if (
                self._loop is not None
                and self._store.inline_here()
                and self._loop_thread == threading.get_ident()
            ):
                self._deliver_here(events)
            elif self._loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed: shutting down
                    self._loop.call_soon_threadsafe(self._deliver_if_next, events)
        if not applied and self._cache.shared:  # after a gap: Redis now, the tail applies later
            self._cache.invalidate_many(events)

    def _deliver_here(self, events: list[ChangeEvent]) -> None:
        """_deliver_if_next, called by a commit hook on the loop: the commit stands whatever
        happens here, so a failure is the loop's to log (as for a callback), not the writer's."""
        try:
            self._deliver_if_next(events)
        except Exception as exc:  # the same handler a loop callback's failure gets
            assert self._loop is not None
            self._loop.call_exception_handler(
                {"message": "delivering this process's own commit failed", "exception": exc}
            )

    def _deliver_if_next(self, events: list[ChangeEvent]) -> None:
        # Only when nothing before them is missing: another process's commit that came first is
        # still on its way (the tail thread read it, or will), and order per user must hold.
        # They are held until then: the hook may have moved the cursor past them already, so
        # the tail thread will not read them back (the two threads' loop callbacks can arrive
        # in either order).
        if events[0].seq <= self.delivered + 1:
            self._dispatch(events)
        elif events[-1].seq > self.delivered:
            self._held[events[0].seq] = events

    def _dispatch(self, events: list[ChangeEvent]) -> None:
        self._dispatch_events(events)
        while self._held:  # held own commits now next in line, or delivered meanwhile by a feed read
            ready = sorted(first for first in self._held if first <= self.delivered + 1)
            if not ready:
                break
            for first in ready:
                self._dispatch_events(self._held.pop(first))  # what was delivered already is skipped

    def _dispatch_events(self, events: list[ChangeEvent]) -> None:
        for event in events:
            if event.seq <= self.delivered:
                continue  # already delivered (by the commit hook, or a re-read)
            self.delivered = event.seq
            if hops.ON:
                hops.stamp("s.dispatched", event.entity_id)
            targets = self._targets(event)
            if not targets:
                continue
            # converted once for every subscriber: the GraphQL object is only read from here on
            value = TO_GRAPHQL[event.entity](from_mapping(ENTITY_TYPES[event.entity], event.image))
            for sub in targets:
                if sub.ended:
                    continue
                if sub.queue.qsize() >= MAX_QUEUED:
                    self._end(sub, f"more than {MAX_QUEUED} changes queued for this subscriber")
                    continue
                sub.queue.put_nowait((event.seq, value))

    def _targets(self, event: ChangeEvent) -> list[Subscription]:
        """The subscriptions that see `event`: its kind's, of its user or of every user."""
        found: list[Subscription] = []
        for op in (event.op, ANY):
            by_user = self._subs.get((event.entity, op))
            if by_user:
                if event.user_id is not None:
                    found.extend(by_user.get(event.user_id, ()))
                found.extend(by_user.get(None, ()))
        return found

    def _join(self, sub: Subscription) -> None:
        self._subs.setdefault((sub.entity, sub.op), {}).setdefault(sub.user_id, set()).add(sub)

    def _leave(self, sub: Subscription) -> None:
        by_user = self._subs.get((sub.entity, sub.op), {})
        subs = by_user.get(sub.user_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del by_user[sub.user_id]

    @asynccontextmanager
    async def subscribe(self, entity: str, op: str, user_id: str | None) -> AsyncIterator[Subscription]:
        sub = Subscription(entity, op, user_id, joined_at=self.delivered, last_seq=self.delivered)
        self._join(sub)
        self._metrics.subscriptions_open.inc()
        try:
            yield sub
        finally:
            self._leave(sub)
            self._metrics.subscriptions_open.dec()

    async def replay(self, sub: Subscription, cursor: int) -> AsyncIterator[Any]:
        """The subscription's changes after `cursor` that came before it joined the fan-out.

        ResyncRequired when the feed no longer holds them all, or the cursor is ahead of the feed.
        """
        if cursor > sub.joined_at and cursor > await run_in_threadpool(head_seq, self._store.engine):
            raise ValidationError("after", f"must be a cursor this feed has reached, was {cursor}")
        after = cursor
        while after < sub.joined_at:
            try:
                events = await run_in_threadpool(
                    read_events, self._store.engine, after, REPLAY_PAGE, strict=True
                )
            except FeedGap as gap:
                raise ResyncRequired(
                    f"the change feed no longer holds the changes after cursor {cursor} "
                    f"(oldest kept: {gap.oldest})"
                ) from None
            if not events:
                break
            for event in events:
                if event.seq > sub.joined_at:
                    break
                if sub.sees(event):
                    yield TO_GRAPHQL[event.entity](from_mapping(ENTITY_TYPES[event.entity], event.image))
            after = events[-1].seq
        sub.last_seq = max(cursor, sub.joined_at)

    @asynccontextmanager
    async def watch(self, entity: str, op: str) -> AsyncIterator[Subscription]:
        """Every user's changes of one kind, for the server itself (not counted as a client's)."""
        sub = Subscription(entity, op, None, joined_at=self.delivered, last_seq=self.delivered)
        self._join(sub)
        try:
            yield sub
        finally:
            self._leave(sub)

    async def next_value(self, sub: Subscription) -> Any:
        """The next change for this subscription (a GraphQL object), waiting for it."""
        while True:
            seq, value = await sub.queue.get()
            if seq == _RESYNC:
                raise ResyncRequired(str(value))
            if seq > sub.last_seq:  # queued before a replay that already delivered it: skip
                sub.last_seq = seq
                return value
