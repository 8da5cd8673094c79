"""A scripted EA for the conformance kit's tests: right by default, wrong in the ways its `Flaws` say."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hedge.domain.enums import BrokerType
from hedge.ea.errors import BadMessage
from hedge.ea.protocol import (
    MAX_FRAME_BYTES,
    Auth,
    AuthOk,
    Close,
    Closed,
    Error,
    ErrorCode,
    History,
    HistoryEntry,
    HistoryResult,
    HistoryState,
    Message,
    Open,
    Opened,
    Ping,
    Pong,
    PositionReport,
    Positions,
    Price,
    StopReason,
    Subscribe,
    SymbolInfo,
    Symbols,
    Sync,
    decode,
    encode,
)

D = Decimal


@dataclass
class Flaws:
    first_frame: str | None = None  # sent instead of AUTH
    new_ticket_per_open: bool = False  # not idempotent by positionId
    answers_twice: bool = False  # every OPENED is sent twice
    ignores_ping: bool = False
    silent_on_bad_frames: bool = False
    price_in_broker_time: bool = False  # timeMs 3 h ahead, as a GMT+3 server clock would give
    keeps_streaming: bool = False  # SUBSCRIBE [] does not stop PRICE
    bad_error_code: bool = False  # a FAILED answer with an errorCode outside the contract
    # protocol round 2
    no_margin_mode: bool = False  # AUTH without marginMode, as an older EA sends it
    no_symbols: bool = False  # never sends SYMBOLS
    no_volume: bool = False  # OPENED SUCCESS without volume
    history_forgets: bool = False  # HISTORY answers UNKNOWN for everything
    legacy_reason: bool = False  # HISTORY_RESULT reason "MANUAL" (old free text) for its own CLOSE


@dataclass
class FakeEA:
    """A scripted EA over a real WebSocket: right by default, wrong in the ways `flaws` says."""

    url: str
    flaws: Flaws
    close_code: int | None = None
    streaming: bool = False
    answered: dict[str, Message] = field(default_factory=dict)
    by_position: dict[str, Opened] = field(default_factory=dict)
    held: dict[str, Open] = field(default_factory=dict)  # ticket -> the OPEN that filled it
    closes: dict[str, Closed] = field(default_factory=dict)
    next_ticket: int = 700

    async def run(self) -> None:
        async with connect(self.url, max_size=MAX_FRAME_BYTES) as ws:
            mode = None if self.flaws.no_margin_mode else "HEDGING"
            await ws.send(
                self.flaws.first_frame or encode(Auth("T", "12345", "Fake 1", BrokerType.MT5, "f", mode))
            )
            try:
                async for frame in ws:
                    await self._handle(ws, frame)
            except ConnectionClosed:
                pass
            self.close_code = ws.close_code

    async def _handle(self, ws: ClientConnection, frame: str | bytes) -> None:
        try:
            msg = decode(frame)
        except BadMessage as exc:
            if not self.flaws.silent_on_bad_frames:
                await ws.send(encode(Error.bad_message(exc.message, exc.command_id)))
            return
        for reply in self.replies(msg):
            await ws.send(reply if isinstance(reply, str) else encode(reply))
        if isinstance(msg, Subscribe):
            self.streaming = bool(msg.symbols) or self.flaws.keeps_streaming
        if isinstance(msg, Ping) and self.streaming:
            await ws.send(encode(self.price()))  # a tick, as a live stream would send now and then

    def price(self) -> Price:
        skew_ms = 3 * 3_600_000 if self.flaws.price_in_broker_time else 0
        return Price("USDJPY", D("150.000"), D("150.010"), int(time.time() * 1000) + skew_ms)

    def replies(self, msg: Message) -> list[Message | str]:
        if isinstance(msg, Ping):
            return [] if self.flaws.ignores_ping else [Pong(msg.id)]
        if isinstance(msg, Subscribe):
            symbols: list[Message | str] = [] if self.flaws.no_symbols else [self.symbols(msg.symbols)]
            return [*symbols, self.price()] if "USDJPY" in msg.symbols else symbols
        if isinstance(msg, AuthOk):
            return [] if self.flaws.no_symbols else [self.symbols(())]
        if isinstance(msg, History):
            answer = self.answered.get(msg.command_id) or self.history(msg)
            self.answered[msg.command_id] = answer
            if self.flaws.legacy_reason:  # the free text of older EAs, which the decoder reads leniently
                return [encode(answer).replace('"reason":"TERMINAL_CLOSE"', '"reason":"MANUAL"')]
            return [answer]
        if isinstance(msg, Open | Close | Sync):
            answer = self.answered.get(msg.command_id) or self.execute(msg)
            self.answered[msg.command_id] = answer
            if isinstance(answer, Opened) and answer.error_code and self.flaws.bad_error_code:
                return [encode(answer).replace(answer.error_code.value, "NO_SUCH_CODE")]
            return [answer, answer] if isinstance(answer, Opened) and self.flaws.answers_twice else [answer]
        return []

    @staticmethod
    def symbols(names: tuple[str, ...]) -> Symbols:
        info = SymbolInfo(
            "USDJPY", 3, D("0.001"), D("100000"), D("0.01"), D("0.01"), D("100"), D("1000"), D("0.67")
        )
        return Symbols(tuple(info for name in names if name == "USDJPY"))

    def history(self, cmd: History) -> HistoryResult:
        entries = []
        for position_id in cmd.position_ids:
            opened = self.by_position.get(position_id)
            ticket = opened.mt_ticket if opened is not None else None
            if self.flaws.history_forgets or ticket is None:
                entries.append(HistoryEntry(position_id, None, HistoryState.UNKNOWN))
            elif ticket in self.held:
                entries.append(HistoryEntry(position_id, ticket, HistoryState.OPEN))
            else:
                close = self.closes[ticket]
                reason = StopReason.TERMINAL_CLOSE if self.flaws.legacy_reason else None
                entries.append(HistoryEntry(
                    position_id, ticket, HistoryState.CLOSED, D("150"), close.time_ms, D(0), reason
                ))  # fmt: skip
        return HistoryResult(cmd.command_id, tuple(entries))

    def execute(self, cmd: Open | Close | Sync) -> Message:
        now = int(time.time() * 1000)
        if isinstance(cmd, Sync):
            reports = tuple(
                PositionReport(o.position_id, t, o.symbol, o.side, o.volume, D("150.010"), now, D(0))
                for t, o in self.held.items()
            )
            return Positions(cmd.command_id, reports)
        if isinstance(cmd, Close):
            if cmd.mt_ticket in self.held:
                del self.held[cmd.mt_ticket]
                self.closes[cmd.mt_ticket] = Closed.success(
                    "", cmd.position_id, cmd.mt_ticket, D("150"), now, D(0)
                )
            record = self.closes.get(cmd.mt_ticket)
            if record is None:
                return Closed.failed(
                    cmd.command_id, cmd.position_id, cmd.mt_ticket, ErrorCode.UNKNOWN, "no such"
                )
            return Closed.success(
                cmd.command_id, cmd.position_id, cmd.mt_ticket, D("150"), record.time_ms or 0, D(0)
            )
        if cmd.symbol != "USDJPY":
            return Opened.failed(cmd.command_id, cmd.position_id, ErrorCode.INVALID_SYMBOL, cmd.symbol)
        if not D("0.01") <= cmd.volume <= D("100"):
            return Opened.failed(cmd.command_id, cmd.position_id, ErrorCode.INVALID_VOLUME, str(cmd.volume))
        first = self.by_position.get(cmd.position_id)
        if first is not None and not self.flaws.new_ticket_per_open:
            return Opened.success(
                cmd.command_id, cmd.position_id, first.mt_ticket or "", D("150.010"), first.time_ms or 0,
                None if self.flaws.no_volume else cmd.volume,
            )  # fmt: skip
        self.next_ticket += 1
        ticket = str(self.next_ticket)
        self.held[ticket] = cmd
        self.by_position.setdefault(
            cmd.position_id, Opened.success("", cmd.position_id, ticket, D("150.010"), now)
        )
        volume = None if self.flaws.no_volume else cmd.volume
        return Opened.success(cmd.command_id, cmd.position_id, ticket, D("150.010"), now, volume)
