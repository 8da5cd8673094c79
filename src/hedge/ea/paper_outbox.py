"""Frames waiting to go to the agent. Events (fills, closes, stops, positions, history results)
survive a disconnect and go out after the next AUTH_OK; snapshots (PRICE, ACCOUNT, SYMBOLS, PONG,
ERROR) are dropped instead.

Delivery is at least once per event: a frame whose send fails is put back in front, so the agent
may see it twice (it ignores repeats, as the contract says). A frame the socket accepted but the
network then lost is not re-sent; the agent's SYNC after a reconnect covers that gap.
"""

from __future__ import annotations

import asyncio
from collections import deque

from hedge.ea.protocol import Closed, HistoryResult, Message, Opened, Positions, Stopped

DURABLE = (Opened, Closed, Stopped, Positions, HistoryResult)


def is_durable(msg: Message) -> bool:
    return isinstance(msg, DURABLE)


class Outbox:
    def __init__(self) -> None:
        self._items: deque[Message] = deque()
        self._ready = asyncio.Event()
        self._online = False

    def put(self, msg: Message) -> None:
        if not self._online and not is_durable(msg):
            return  # a snapshot is stale by the time we reconnect
        self._items.append(msg)
        self._ready.set()

    def put_back(self, msg: Message) -> None:
        """Return a frame whose send failed to the front of the queue (if it is worth keeping)."""
        if is_durable(msg):
            self._items.appendleft(msg)
            self._ready.set()

    async def get(self) -> Message:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def go_online(self) -> None:
        self._online = True

    def go_offline(self) -> None:
        self._online = False
        kept = [m for m in self._items if is_durable(m)]
        self._items.clear()
        self._items.extend(kept)

    def pending(self) -> tuple[Message, ...]:
        return tuple(self._items)
