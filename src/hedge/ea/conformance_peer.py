"""The conformance kit's view of one connected EA: every frame it sent, in order, awaitable by predicate.

A reader task records each frame as an `Arrival` (the text, the decoder's reading or its complaint) and
answers the EA's own PINGs with PONG, as an agent would. Rules send with `send` (which returns a mark:
the index the next arrival will get) and await `first(match, since=mark)`; a `None` from `first` after
a quiet window is how a rule sees that nothing (more) came.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from hedge.domain.clock import Clock
from hedge.ea.errors import ProtocolError
from hedge.ea.protocol import Message, Ping, Pong, decode, encode
from hedge.eventloop import within


@dataclass(frozen=True, slots=True)
class Arrival:
    """One frame from the EA, as it came and as the agent's decoder read it."""

    index: int
    received_ms: int
    text: str
    message: Message | None  # None when the decoder refused the frame
    problem: str | None  # the decoder's complaint, when it refused the frame
    raw: dict[str, object] | None  # the JSON object, when the frame was one (to report invalid answers)

    @property
    def frame_type(self) -> str | None:
        """`type` as written on the wire, even when the frame did not decode."""
        found = self.raw.get("type") if self.raw is not None else None
        return found if isinstance(found, str) else None

    @property
    def command_id(self) -> str | None:
        found = self.raw.get("commandId") if self.raw is not None else None
        return found if isinstance(found, str) else None

    def describe(self, limit: int = 160) -> str:
        """What came, for a FAIL line: the frame text (cut short) and the decoder's complaint if any."""
        text = self.text if len(self.text) <= limit else self.text[:limit] + "..."
        return f"{text} ({self.problem})" if self.problem else text


Match = Callable[[Arrival], bool]


class EAGone(Exception):
    """The EA closed the connection (or it broke) while a rule was waiting for a frame."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"the EA closed the connection (code {code}{', ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


class Peer:
    def __init__(self, ws: ServerConnection, clock: Clock) -> None:
        self._ws = ws
        self._clock = clock
        self.arrivals: list[Arrival] = []
        self.ea_pings: list[Ping] = []
        self._changed = asyncio.Condition()
        self._closed = False
        self._reader: asyncio.Task[None] | None = None

    def now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Read the EA's frames in the background from now on."""
        self._reader = asyncio.create_task(self._read(), name="conformance-peer-reader")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def close_code(self) -> int | None:
        return self._ws.close_code

    def gone(self) -> EAGone:
        return EAGone(self._ws.close_code, self._ws.close_reason or "")

    async def wait_closed(self, timeout_s: float) -> bool:
        """True when the EA's side closed within `timeout_s`."""
        return await within(timeout_s, self._ws.wait_closed())

    async def close(self, code: int, reason: str) -> None:
        await self._ws.close(code, reason)

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                arrival = self._record(frame if isinstance(frame, str) else frame.decode("utf-8", "replace"))
                if isinstance(arrival.message, Ping):  # an agent answers the EA's PINGs
                    self.ea_pings.append(arrival.message)
                    await self._ws.send(encode(Pong(arrival.message.id)))
                async with self._changed:
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self._closed = True
            async with self._changed:
                self._changed.notify_all()

    def _record(self, text: str) -> Arrival:
        message: Message | None = None
        problem: str | None = None
        try:
            message = decode(text)
        except ProtocolError as exc:
            problem = exc.message
        arrival = Arrival(len(self.arrivals), self.now_ms(), text, message, problem, _json_object(text))
        self.arrivals.append(arrival)
        return arrival

    # --- sending and awaiting -------------------------------------------------------------------

    async def send(self, msg: Message | str) -> int:
        """Send a typed message (or a raw text frame) and return the mark for awaiting its answers."""
        mark = len(self.arrivals)
        try:
            await self._ws.send(msg if isinstance(msg, str) else encode(msg))
        except ConnectionClosed:
            raise self.gone() from None
        return mark

    async def first(self, match: Match, since: int, timeout_s: float) -> Arrival | None:
        """The first arrival at or after `since` that matches, awaited up to `timeout_s`; None if none came.

        Raises EAGone when the connection closes before a match.
        """
        scanned = since

        def found() -> Arrival | None:
            nonlocal scanned
            for arrival in self.arrivals[scanned:]:
                if match(arrival):
                    return arrival
            scanned = max(scanned, len(self.arrivals))
            return None

        try:
            async with asyncio.timeout(timeout_s), self._changed:
                await self._changed.wait_for(lambda: found() is not None or self._closed)
        except TimeoutError:
            return None
        hit = found()
        if hit is None:
            raise self.gone()
        return hit

    async def watch(self, seconds: float) -> None:
        """Let `seconds` pass while frames keep being recorded (a quiet window), or until the EA leaves."""
        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(lambda: self._closed)
        except TimeoutError:
            pass

    def all(self, match: Match, since: int = 0, until: int | None = None) -> list[Arrival]:
        return [a for a in self.arrivals[since:until] if match(a)]

    async def barrier(self, ping_id: int, timeout_s: float) -> Arrival | None:
        """PING and await its PONG: frames after the PONG were sent after the EA read what came before."""
        mark = await self.send(Ping(ping_id))
        return await self.first(lambda a: a.message == Pong(ping_id), mark, timeout_s)


def of_type(*types: type[Message]) -> Match:
    return lambda a: isinstance(a.message, types)


def wire_type(*names: str) -> Match:
    """Frames whose `type` is one of `names`, whether or not they decoded."""
    return lambda a: a.frame_type in names


ANSWER_TYPES = ("OPENED", "CLOSED", "POSITIONS", "HISTORY_RESULT", "ERROR")


def answer_to(command_id: str, names: Sequence[str] = ANSWER_TYPES) -> Match:
    """Frames that answer `command_id` (decoded or not)."""
    return lambda a: a.command_id == command_id and a.frame_type in names


def _json_object(text: str) -> dict[str, object] | None:
    try:
        data = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
