"""Alert delivery (§8): the change feed's Alert events into the outbox, and the outbox out.

One server process at a time holds the "notify" lease (the scheduler's table) and runs the
loop: it wakes on every committed change (the store's feed signal; LISTEN/NOTIFY across
PostgreSQL processes), copies new raises and escalations of alerts into the outbox for each
channel that wants them, then sends what is due, CRITICAL first. A raise therefore leaves
within the time of one feed read and one send, well inside §6-2's "immediate" (1 s).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from hedge.eventloop import cancel_and_wait
from hedge.jobs.notify_config import Channel
from hedge.jobs.notify_send import DeliveryFailed, send
from hedge.jobs.scheduler import default_process_id
from hedge.jobs.stats import camel_dict
from hedge.store import jobs as job_rows
from hedge.store import outbox
from hedge.store.feed import ChangeEvent, FeedGap, head_seq, read_events
from hedge.store.repository import Store

log = logging.getLogger(__name__)

CURSOR = "notify-outbox"
LEASE = "notify"
CURSOR_EVERY_S = 5.0


def alert_deliveries(events: Sequence[ChangeEvent], channels: Sequence[Channel]) -> list[dict[str, Any]]:
    """The outbox rows for the raises and escalations among `events`."""
    rows: list[dict[str, Any]] = []
    for event in events:
        if event.entity != "Alert":
            continue
        image = event.image
        if event.op == "INSERT":
            kind, key = "RAISED", f"alert:{event.entity_id}:raised"
        elif image.get("escalated_at") and image.get("resolved_at") is None:
            kind, key = "ESCALATED", f"alert:{event.entity_id}:escalated:{image['escalated_at']}"
        else:
            continue
        payload = alert_payload(kind, image)
        for channel in channels:
            if channel.wants(kind, str(image.get("kind")), str(image.get("severity"))):
                rows.append(
                    {"channel": channel.name, "dedupe_key": key, "alert_id": event.entity_id, "event": kind,
                     "severity": str(image.get("severity")), "payload": payload}
                )  # fmt: skip
    return rows


def alert_payload(event: str, image: dict[str, Any]) -> dict[str, Any]:
    alert = camel_dict(dict(image))
    title = f"[{image.get('severity')}] {image.get('kind')}" + (
        " (escalated)" if event == "ESCALATED" else ""
    )
    where = ", ".join(f"{k} {image[k]}" for k in ("account_id", "position_id", "action_id") if image.get(k))
    action = "; a person must decide" if image.get("requires_action") else ""
    text = f"{image.get('message')}" + (f" ({where})" if where else "") + action
    return {"event": event, "title": title, "text": text, "alert": alert}


class Notifier:
    def __init__(
        self, store: Store, channels: Sequence[Channel], secret: str, *, idle_s: float = 5.0,
        lease_s: float = 15.0, process_id: str | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self.channels = {c.name: c for c in channels}
        self.secret = secret
        self.idle_s = idle_s
        self.lease_s = lease_s
        self.process_id = process_id or default_process_id()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False  # read by the loop's thread while it waits on the feed signal
        self._cursor: int | None = None
        self._cursor_saved = 0.0

    # ------------------------------------------------------------------ one round (blocking)

    def feed(self) -> int:
        """Copy new raises and escalations from the change feed into the outbox.

        The cursor is written with the rows it produced, and otherwise at most every
        `CURSOR_EVERY_S`: reading events again after a restart only re-adds rows that the
        outbox's unique key ignores, so a lazy cursor saves a write per change under load.
        """
        engine = self.store.engine
        if self._cursor is None:
            with engine.connect() as conn:
                stored = job_rows.read_cursor(conn, CURSOR)
            if stored is None:  # the first start: from now on (older alerts are not announced)
                stored = head_seq(engine)
                with job_rows.writing(engine) as conn:
                    job_rows.write_cursor(conn, CURSOR, stored)
            self._cursor, self._cursor_saved = stored, time.monotonic()
        added = 0
        while True:
            try:
                events = read_events(engine, self._cursor, 1000)
            except FeedGap as gap:
                log.warning("alert delivery: feed events up to %d were pruned unread", gap.oldest - 1)
                self._cursor = gap.oldest - 1
                continue
            if not events:
                return added
            rows = alert_deliveries(events, list(self.channels.values()))
            last = events[-1].seq
            if rows or time.monotonic() - self._cursor_saved >= CURSOR_EVERY_S:
                with job_rows.writing(engine) as conn:
                    outbox.enqueue(conn, rows, self.store.now())
                    job_rows.write_cursor(conn, CURSOR, last)
                self._cursor_saved = time.monotonic()
            self._cursor = last
            added += len(rows)

    def send_due(self) -> int:
        """Send every delivery that is due; returns how many went out."""
        delivered = 0
        for delivery in outbox.due(self.store.engine, self.store.now()):
            channel = self.channels.get(delivery.channel)
            if channel is None:  # no longer configured: keep the row, it may come back
                continue
            try:
                send(channel, delivery.event, delivery.dedupe_key, delivery.payload, self.secret)
            except DeliveryFailed as exc:
                log.warning("delivery %s to %s failed (attempt %d): %s", delivery.dedupe_key, channel.name,
                            delivery.attempts + 1, exc)  # fmt: skip
                outbox.failed(self.store.engine, delivery, str(exc), self.store.now())
                continue
            outbox.sent(self.store.engine, delivery.id, self.store.now())
            delivered += 1
        return delivered

    def round(self) -> int:
        self.feed()
        return self.send_due()

    def hold_lease(self) -> bool:
        now = self.store.now()
        return job_rows.hold_lease(
            self.store.engine, LEASE, self.process_id, now, now + timedelta(seconds=self.lease_s)
        )

    # ------------------------------------------------------------------ the loop

    def start(self) -> None:
        if self.channels:
            self._stopping = False
            self._task = asyncio.create_task(self._run_forever(), name="notify")

    async def stop(self) -> None:
        if self._task is not None:
            # the loop's thread may be waiting on the feed signal for up to idle_s: release it, or
            # the event loop's executor (and so the server's shutdown) waits that long for it
            self._stopping = True
            self.store.signal.wake()
            await cancel_and_wait(self._task)
            await asyncio.to_thread(job_rows.release_lease, self.store.engine, LEASE, self.process_id)

    async def _run_forever(self) -> None:
        renew_every_s = self.lease_s / 3
        leader_until = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                if loop.time() >= leader_until:
                    leader = await asyncio.to_thread(self.hold_lease)
                    leader_until = loop.time() + renew_every_s if leader else 0.0
                    if not leader:
                        await asyncio.sleep(renew_every_s)
                        continue
                seen = self.store.signal.head
                await asyncio.to_thread(self.round)
                wait_s = await asyncio.to_thread(self._until_next_attempt)
                await asyncio.to_thread(self.store.signal.wait_beyond, self._until_stopped(seen), wait_s)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alert delivery round failed; trying again in %.0f s", self.idle_s)
                await asyncio.sleep(self.idle_s)

    def _until_stopped(self, seen: int) -> Callable[[], int]:
        """The feed cursor to wait beyond: `seen`, or one that lets the wait end once stopping."""
        return lambda: -1 if self._stopping else seen

    def _until_next_attempt(self) -> float:
        due = outbox.next_attempt(self.store.engine)
        if due is None:
            return min(self.idle_s, self.lease_s / 3)
        return max(0.0, min((due - self.store.now()).total_seconds(), self.idle_s, self.lease_s / 3))
