"""A scripted EA for the conformance kit's tests: right by default, wrong in the ways its `Flaws` say."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hedge.domain.enums import BrokerType
from hedge.ea import protocol as wire
from hedge.ea.errors import BadMessage
from hedge.ea.protocol import decode, encode

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
    answered: dict[str, wire.Message] = field(default_factory=dict)
    by_position: dict[str, wire.Opened] = field(default_factory=dict)
    held: dict[str, wire.Open] = field(default_factory=dict)  # ticket -> the OPEN that filled it
    closes: dict[str, wire.Closed] = field(default_factory=dict)
    next_ticket: int = 700

    async def run(self) -> None:
        async with connect(self.url, max_size=wire.MAX_FRAME_BYTES) as ws:
            mode = None if self.flaws.no_margin_mode else "HEDGING"
            await ws.send(
                self.flaws.first_frame or encode(wire.Auth("T", "12345", "Fake 1", BrokerType.MT5, "f", mode))
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
                await ws.send(encode(wire.Error.bad_message(exc.message, exc.command_id)))
            return
        for reply in self.replies(msg):
            await ws.send(reply if isinstance(reply, str) else encode(reply))
        if isinstance(msg, wire.Subscribe):
            self.streaming = bool(msg.symbols) or self.flaws.keeps_streaming
        if isinstance(msg, wire.Ping) and self.streaming:
            await ws.send(encode(self.price()))  # a tick, as a live stream would send now and then

    def price(self) -> wire.Price:
        skew_ms = 3 * 3_600_000 if self.flaws.price_in_broker_time else 0
        return wire.Price("USDJPY", D("150.000"), D("150.010"), int(time.time() * 1000) + skew_ms)

    def replies(self, msg: wire.Message) -> list[wire.Message | str]:
        if isinstance(msg, wire.Ping):
            return [] if self.flaws.ignores_ping else [wire.Pong(msg.id)]
        if isinstance(msg, wire.Subscribe):
            symbols: list[wire.Message | str] = [] if self.flaws.no_symbols else [self.symbols(msg.symbols)]
            return [*symbols, self.price()] if "USDJPY" in msg.symbols else symbols
        if isinstance(msg, wire.AuthOk):
            return [] if self.flaws.no_symbols else [self.symbols(())]
        if isinstance(msg, wire.History):
            answer = self.answered.get(msg.command_id) or self.history(msg)
            self.answered[msg.command_id] = answer
            if self.flaws.legacy_reason:  # the free text of older EAs, which the decoder reads leniently
                return [encode(answer).replace('"reason":"TERMINAL_CLOSE"', '"reason":"MANUAL"')]
            return [answer]
        if isinstance(msg, wire.Open | wire.Close | wire.Sync):
            answer = self.answered.get(msg.command_id) or self.execute(msg)
            self.answered[msg.command_id] = answer
            if isinstance(answer, wire.Opened) and answer.error_code and self.flaws.bad_error_code:
                return [encode(answer).replace(answer.error_code.value, "NO_SUCH_CODE")]
            return (
                [answer, answer] if isinstance(answer, wire.Opened) and self.flaws.answers_twice else [answer]
            )
        return []

    @staticmethod
    def symbols(names: tuple[str, ...]) -> wire.Symbols:
        info = wire.SymbolInfo(
            "USDJPY", 3, D("0.001"), D("100000"), D("0.01"), D("0.01"), D("100"), D("1000"), D("0.67")
        )
        return wire.Symbols(tuple(info for name in names if name == "USDJPY"))

    def history(self, cmd: wire.History) -> wire.HistoryResult:
        entries = []
        for position_id in cmd.position_ids:
            opened = self.by_position.get(position_id)
            ticket = opened.mt_ticket if opened is not None else None
            if self.flaws.history_forgets or ticket is None:
                entries.append(wire.HistoryEntry(position_id, None, wire.HistoryState.UNKNOWN))
            elif ticket in self.held:
                entries.append(wire.HistoryEntry(position_id, ticket, wire.HistoryState.OPEN))
            else:
                close = self.closes[ticket]
                reason = wire.StopReason.TERMINAL_CLOSE if self.flaws.legacy_reason else None
                entries.append(wire.HistoryEntry(
                    position_id, ticket, wire.HistoryState.CLOSED, D("150"), close.time_ms, D(0), reason
                ))  # fmt: skip
        return wire.HistoryResult(cmd.command_id, tuple(entries))

    def execute(self, cmd: wire.Open | wire.Close | wire.Sync) -> wire.Message:
        now = int(time.time() * 1000)
        if isinstance(cmd, wire.Sync):
            reports = tuple(
                wire.PositionReport(o.position_id, t, o.symbol, o.side, o.volume, D("150.010"), now, D(0))
                for t, o in self.held.items()
            )
            return wire.Positions(cmd.command_id, reports)
        if isinstance(cmd, wire.Close):
            if cmd.mt_ticket in self.held:
                del self.held[cmd.mt_ticket]
                self.closes[cmd.mt_ticket] = wire.Closed.success(
                    "", cmd.position_id, cmd.mt_ticket, D("150"), now, D(0)
                )
            record = self.closes.get(cmd.mt_ticket)
            if record is None:
                return wire.Closed.failed(
                    cmd.command_id, cmd.position_id, cmd.mt_ticket, wire.ErrorCode.UNKNOWN, "no such"
                )
            return wire.Closed.success(
                cmd.command_id, cmd.position_id, cmd.mt_ticket, D("150"), record.time_ms or 0, D(0)
            )
        if cmd.symbol != "USDJPY":
            return wire.Opened.failed(
                cmd.command_id, cmd.position_id, wire.ErrorCode.INVALID_SYMBOL, cmd.symbol
            )
        if not D("0.01") <= cmd.volume <= D("100"):
            return wire.Opened.failed(
                cmd.command_id, cmd.position_id, wire.ErrorCode.INVALID_VOLUME, str(cmd.volume)
            )
        first = self.by_position.get(cmd.position_id)
        if first is not None and not self.flaws.new_ticket_per_open:
            return wire.Opened.success(
                cmd.command_id, cmd.position_id, first.mt_ticket or "", D("150.010"), first.time_ms or 0,
                None if self.flaws.no_volume else cmd.volume,
            )  # fmt: skip
        self.next_ticket += 1
        ticket = str(self.next_ticket)
        self.held[ticket] = cmd
        self.by_position.setdefault(
            cmd.position_id, wire.Opened.success("", cmd.position_id, ticket, D("150.010"), now)
        )
        volume = None if self.flaws.no_volume else cmd.volume
        return wire.Opened.success(cmd.command_id, cmd.position_id, ticket, D("150.010"), now, volume)
