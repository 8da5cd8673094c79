"""Account figures are coalesced (§6-2: balances are 30 s work; status changes are immediate).

An `updateAccount` that carries only figures (balance, credit, equity, margin, marginLevel) and
no expectedVersion joins a queue keyed by account: a second report for an account still waiting
merges into the first (the latest value of each field wins) and both callers get the one
result. One writer wakes at the first report, lets the others gather for `pause_s`, and writes
everything waiting in one transaction, so however many agents push, figures cost at most one
transaction per pause, off the status path: status changes, fills and triggers keep their own
direct path and never wait in this queue. Every report is taken (nothing throttles the agents'
requests); a report is answered when its batch is written, about `pause_s` plus one write later.

The figures also step aside for everything else (hedge.api.lanes): the writer starts each
transaction of at most `chunk` accounts, and answers each group of `chunk` waiting reports, only
while no foreground request is under way (waiting at most `yield_s` for a gap, so figures are
delayed, never starved). On SQLite that keeps a status change from waiting for the write lock
behind a figures transaction, and on both engines it keeps the figures' worker thread and the
answers to a batch of reports from taking the event loop while a status change, fill or trigger
is being handled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from hedge.api.lanes import Lanes
from hedge.domain.authz import Actor
from hedge.domain.errors import DomainError
from hedge.domain.models import Account
from hedge.eventloop import cancel_and_wait
from hedge.store.account_figures import FIGURES, update_figures
from hedge.store.repository import Store

log = logging.getLogger(__name__)


def coalescible(changes: Mapping[str, Any], expected_version: int | None) -> bool:
    return expected_version is None and bool(changes) and set(changes) <= FIGURES


@dataclass
class _Waiting:
    changes: dict[str, Any]
    actor: Actor | None
    futures: list[asyncio.Future[Account]] = field(default_factory=list)


@dataclass(eq=False)
class FigureCoalescer:
    store: Store
    pause_s: float = 0.25
    _: KW_ONLY
    lanes: Lanes | None = None
    chunk: int = 10
    yield_s: float = 0.5
    batches: int = field(default=0, init=False)  # transactions written (tests and the benchmark read it)
    _waiting: dict[str, _Waiting] = field(default_factory=dict, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self) -> None:
        self._task = asyncio.create_task(self._drain_forever(), name="account-figures")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        for waiting in self._waiting.values():
            for future in waiting.futures:
                future.cancel()

    async def submit(self, account_id: str, changes: Mapping[str, Any], actor: Actor | None) -> Account:
        if self._task is None:  # not started (a store used without the server's lifespan)
            self.start()
        future: asyncio.Future[Account] = asyncio.get_running_loop().create_future()
        waiting = self._waiting.get(account_id)
        if waiting is None or waiting.actor != actor:
            if waiting is not None:  # another caller for the same account: write the earlier first
                await self._flush_now()
            self._waiting[account_id] = waiting = _Waiting(dict(changes), actor)
        else:
            waiting.changes.update(changes)
        waiting.futures.append(future)
        self._wake.set()
        return await future

    async def _flush_now(self) -> None:
        batch, self._waiting = self._waiting, {}
        await self._write(batch)

    async def _gap(self) -> None:
        """A moment when no foreground request is under way (or `yield_s` of waiting for one)."""
        if self.lanes is not None:
            await self.lanes.clear(self.yield_s)

    async def _drain_forever(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.pause_s)  # the reports arriving meanwhile join this batch
            self._wake.clear()
            batch, self._waiting = self._waiting, {}
            ids = sorted(batch)
            for start in range(0, len(ids), self.chunk):
                await self._gap()
                await self._write({i: batch[i] for i in ids[start : start + self.chunk]})

    async def _write(self, batch: dict[str, _Waiting]) -> None:
        try:
            results: dict[str, Account | DomainError] = await run_in_threadpool(
                update_figures, self.store, {k: (w.changes, w.actor) for k, w in batch.items()}
            )
        except Exception as exc:  # the whole transaction failed: every caller gets the error
            log.warning("writing %d accounts' figures failed: %s", len(batch), exc)
            for waiting in batch.values():
                for future in waiting.futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        self.batches += 1
        for account_id, waiting in batch.items():
            outcome = results[account_id]
            for future in waiting.futures:
                if future.done():
                    continue
                if isinstance(outcome, DomainError):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
