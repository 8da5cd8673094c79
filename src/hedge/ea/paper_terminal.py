"""The simulated MetaTrader terminal: a synchronous core that executes agent commands.

Everything it has to say (answers, STOPPED, ACCOUNT after a balance change) goes to one `emit`
sink in order, so the asyncio shell only forwards. Idempotency per the contract: one answer per
commandId (repeats get the recorded answer), one position per positionId (a repeated OPEN answers
with the recorded fill, held or closed), and a CLOSE of a closed ticket answers the recorded close.
A failed OPEN is not recorded by positionId: a new commandId for it is a new attempt.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hedge.domain.clock import Clock
from hedge.domain.enums import Side
from hedge.domain.errors import NotFound, ValidationError
from hedge.ea import paper_account as acct
from hedge.ea.paper_account import AccountState, CloseRecord, HeldPosition
from hedge.ea.paper_config import RejectPolicy
from hedge.ea.paper_market import Market
from hedge.ea.protocol import (
    AccountUpdate,
    Close,
    Closed,
    Command,
    ErrorCode,
    History,
    HistoryEntry,
    HistoryResult,
    HistoryState,
    Message,
    Open,
    Opened,
    PositionReport,
    Positions,
    Stopped,
    StopReason,
    Sync,
    position_id_from_comment,
)

log = logging.getLogger("hedge.ea.paper")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AccountSettings:
    balance: Decimal
    currency: str = "USD"
    leverage: int = 100
    credit: Decimal = Decimal("0")
    stop_out_level_pct: Decimal = Decimal("50")


class Terminal:
    def __init__(
        self,
        market: Market,
        clock: Clock,
        settings: AccountSettings,
        *,
        rejects: RejectPolicy | None = None,
        first_ticket: int = 50_000_000_001,
        seed: int | None = None,
        emit: Callable[[Message], None] | None = None,
    ) -> None:
        self.market = market
        self._clock = clock
        self.currency = settings.currency
        self.leverage = settings.leverage
        self.stop_out_level_pct = settings.stop_out_level_pct
        self.balance = settings.balance
        self.credit = settings.credit
        self._rejects = rejects or RejectPolicy()
        self._reject_random = random.Random(seed)
        self._forced_rejects: deque[ErrorCode] = deque()
        self._open_attempts = 0
        self._next_ticket = first_ticket
        self._emit = emit or (lambda _msg: None)
        self._balance_changed = False
        self._held: dict[str, HeldPosition] = {}
        self._closes: dict[str, CloseRecord] = {}
        self._fills: dict[str, HeldPosition] = {}  # positionId -> its fill, held or closed
        self._answers: dict[str, Message] = {}  # commandId -> the answer sent

    def set_sink(self, emit: Callable[[Message], None]) -> None:
        self._emit = emit

    def now_ms(self) -> int:
        return (self._clock.now() - _EPOCH) // timedelta(milliseconds=1)

    # --- commands -------------------------------------------------------------------------------

    def execute(self, command: Command) -> Message:
        """Carry out one agent command and emit its answer (the recorded one for a repeated commandId)."""
        answer = self._answers.get(command.command_id)
        if answer is None:
            if isinstance(command, Open):
                answer = self._open(command)
            elif isinstance(command, Close):
                answer = self._close(command)
            elif isinstance(command, History):
                answer = self._history(command)
            else:
                answer = self._sync(command)
            self._answers[command.command_id] = answer
        else:
            log.info("repeated commandId %s: sending the recorded %s again", command.command_id, answer.TYPE)
        self._emit(answer)
        self._emit_account_if_balance_changed()
        return answer

    def _open(self, cmd: Open) -> Opened:
        fill = self._fills.get(cmd.position_id)
        if fill is not None:
            log.info(
                "OPEN %s: position %s already filled as ticket %s",
                cmd.command_id,
                cmd.position_id,
                fill.ticket,
            )
            return Opened.success(
                cmd.command_id, cmd.position_id, fill.ticket, fill.open_price, fill.open_time_ms
            )
        refusal = self._refusal(cmd)
        if refusal is not None:
            code, message = refusal
            log.info("OPEN %s for %s refused: %s %s", cmd.command_id, cmd.position_id, code, message)
            return Opened.failed(cmd.command_id, cmd.position_id, code, message)
        position = self._fill(cmd.position_id, cmd.symbol, cmd.side, cmd.volume, cmd.comment)
        self._fills[cmd.position_id] = position
        return Opened.success(
            cmd.command_id, cmd.position_id, position.ticket, position.open_price, position.open_time_ms
        )

    def _refusal(self, cmd: Open) -> tuple[ErrorCode, str] | None:
        if self.market.quote(cmd.symbol) is None:
            quoted = ", ".join(self.market.symbols()) or "none"
            return ErrorCode.INVALID_SYMBOL, f"{cmd.symbol} is not quoted on this terminal (quoted: {quoted})"
        try:
            self.market.spec(cmd.symbol).check_volume(cmd.volume)
        except ValidationError as exc:
            return ErrorCode.INVALID_VOLUME, exc.message
        self._open_attempts += 1
        code = self._configured_reject(cmd.position_id)
        if code is not None:
            return code, f"paper terminal rejects this OPEN by configuration ({code})"
        needed = acct.margin_for(cmd.symbol, cmd.volume, self.market, self.currency, self.leverage)
        free = self.account().free_margin
        if needed > free:
            return ErrorCode.NOT_ENOUGH_MONEY, f"needs margin {needed} {self.currency}, free margin is {free}"
        return None

    def _configured_reject(self, position_id: str) -> ErrorCode | None:
        if self._forced_rejects:
            return self._forced_rejects.popleft()
        policy = self._rejects
        if policy.every_nth and self._open_attempts % policy.every_nth == 0:
            return policy.code
        if position_id in policy.position_ids:
            return policy.code
        if policy.rate and self._reject_random.random() < policy.rate:
            return policy.code
        return None

    def _fill(
        self, position_id: str | None, symbol: str, side: Side, volume: Decimal, comment: str
    ) -> HeldPosition:
        quote = self.market.quote(symbol)
        if quote is None:
            raise NotFound("quote", symbol)
        ticket = str(self._next_ticket)
        self._next_ticket += 1
        fill_price = quote.ask if side is Side.BUY else quote.bid
        position = HeldPosition(ticket, position_id, symbol, side, volume, fill_price, self.now_ms(), comment)
        self._held[ticket] = position
        log.info("filled ticket %s: %s %s %s at %s (%s)", ticket, side, volume, symbol, fill_price, comment)
        return position

    def _close(self, cmd: Close) -> Closed:
        record = self._closes.get(cmd.mt_ticket)
        held = self._held.get(cmd.mt_ticket)
        owner = record.position_id if record else held.position_id if held else None
        if owner is not None and owner != cmd.position_id:
            return Closed.failed(
                cmd.command_id,
                cmd.position_id,
                cmd.mt_ticket,
                ErrorCode.UNKNOWN,
                f"ticket {cmd.mt_ticket} belongs to position {owner}, not {cmd.position_id}",
            )
        if record is None and held is not None:
            record = self._realise(held, "CLOSE")
        if record is None:
            return Closed.failed(
                cmd.command_id,
                cmd.position_id,
                cmd.mt_ticket,
                ErrorCode.UNKNOWN,
                f"no position with ticket {cmd.mt_ticket} on this terminal, open or closed",
            )
        return Closed.success(
            cmd.command_id, cmd.position_id, cmd.mt_ticket, record.price, record.time_ms, record.profit
        )

    def _sync(self, cmd: Sync) -> Positions:
        reports = []
        for held in self._held.values():
            position_id = position_id_from_comment(held.comment)
            if position_id is None:
                continue  # not the system's position: SYNC reports HedgeSystem[...] positions only
            reports.append(
                PositionReport(
                    position_id,
                    held.ticket,
                    held.symbol,
                    held.side,
                    held.volume,
                    held.open_price,
                    held.open_time_ms,
                    self._floating(held),
                )
            )
        return Positions(cmd.command_id, tuple(reports))

    def _history(self, cmd: History) -> HistoryResult:
        return HistoryResult(cmd.command_id, tuple(self.history_of(pid) for pid in cmd.position_ids))

    def history_of(self, position_id: str) -> HistoryEntry:
        """What the deal history says of one positionId: held, closed (and why) or not found."""
        fill = self._fills.get(position_id)
        if fill is None:
            return HistoryEntry(position_id, None, HistoryState.UNKNOWN)
        if fill.ticket in self._held:
            return HistoryEntry(position_id, fill.ticket, HistoryState.OPEN)
        record = self._closes[fill.ticket]
        reason = None if record.reason == "CLOSE" else StopReason(record.reason)
        return HistoryEntry(
            position_id, fill.ticket, HistoryState.CLOSED, record.price, record.time_ms, record.profit, reason
        )

    # --- closing --------------------------------------------------------------------------------

    def _realise(self, held: HeldPosition, reason: str) -> CloseRecord:
        """Close a held position at the current price and book its profit into the balance."""
        close_price = acct.closing_price(held, self.market)
        profit = acct.profit_at(held, close_price, self.market, self.currency)
        record = CloseRecord(held.ticket, held.position_id, close_price, self.now_ms(), profit, reason)
        del self._held[held.ticket]
        self._closes[held.ticket] = record
        self.balance += profit
        self._balance_changed = True
        log.info(
            "closed ticket %s (%s) at %s, profit %s %s, balance %s",
            held.ticket,
            reason,
            close_price,
            profit,
            self.currency,
            self.balance,
        )
        return record

    def close_externally(self, ticket: str, reason: str = StopReason.TERMINAL_CLOSE) -> CloseRecord:
        """Close a position outside the system (a person in the terminal, the broker); emits STOPPED."""
        held = self._held.get(ticket)
        if held is None:
            raise NotFound("open position with ticket", ticket)
        record = self._realise(held, reason)
        self._emit_stopped(record)
        self._emit_account_if_balance_changed()
        return record

    def _emit_stopped(self, record: CloseRecord) -> None:
        if record.position_id is not None:  # the agent knows only its own positions
            self._emit(
                Stopped(
                    record.position_id,
                    record.ticket,
                    record.price,
                    record.time_ms,
                    record.profit,
                    record.reason,
                )
            )

    def _emit_account_if_balance_changed(self) -> None:
        if self._balance_changed:
            self._balance_changed = False
            self._emit(self.account_update())

    # --- prices and stop-out --------------------------------------------------------------------

    def set_price(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Quote a symbol (tests, replay) and apply the stop-out rule to the new prices."""
        self.market.set_price(symbol, bid, ask, self.now_ms())
        self.check_stop_out()

    def apply_quotes(self, quotes: list[tuple[str, Decimal, Decimal]]) -> None:
        """One tick of the feed: set every quote, then apply the stop-out rule once."""
        now = self.now_ms()
        for symbol, bid, ask in quotes:
            self.market.set_price(symbol, bid, ask, now)
        self.check_stop_out()

    def check_stop_out(self) -> list[CloseRecord]:
        """While the margin level is below the stop-out level, close the position losing most."""
        closed = []
        while self._held:
            state = self.account()
            if state.margin <= 0 or state.margin_level >= self.stop_out_level_pct:
                break
            worst = min(self._held.values(), key=self._floating)
            log.warning(
                "stop-out: margin level %s%% < %s%%, closing ticket %s",
                state.margin_level,
                self.stop_out_level_pct,
                worst.ticket,
            )
            record = self._realise(worst, StopReason.STOP_OUT)
            self._emit_stopped(record)
            closed.append(record)
        self._emit_account_if_balance_changed()
        return closed

    # --- state ----------------------------------------------------------------------------------

    def _floating(self, held: HeldPosition) -> Decimal:
        return acct.floating_profit(held, self.market, self.currency)

    def account(self) -> AccountState:
        floating = sum((self._floating(h) for h in self._held.values()), Decimal(0))
        margin = sum(
            (
                acct.margin_for(h.symbol, h.volume, self.market, self.currency, self.leverage)
                for h in self._held.values()
            ),
            Decimal(0),
        )
        equity = self.balance + self.credit + floating
        level = acct.money(equity / margin * 100) if margin > 0 else Decimal(0)
        return AccountState(self.balance, self.credit, equity, margin, level)

    def account_update(self) -> AccountUpdate:
        state = self.account()
        return AccountUpdate(
            state.balance,
            state.credit,
            state.equity,
            state.margin,
            state.margin_level,
            self.currency,
            self.now_ms(),
        )

    def positions(self) -> tuple[HeldPosition, ...]:
        return tuple(self._held.values())

    def close_record(self, ticket: str) -> CloseRecord | None:
        return self._closes.get(ticket)

    # --- test and demo controls -----------------------------------------------------------------

    def open_externally(self, symbol: str, side: Side, volume: Decimal, comment: str = "") -> HeldPosition:
        """A position opened by hand in the terminal (no HedgeSystem comment unless given one)."""
        return self._fill(position_id_from_comment(comment), symbol, side, volume, comment)

    def reject_next(self, code: ErrorCode, count: int = 1) -> None:
        """Refuse the next `count` new OPENs with `code`."""
        self._forced_rejects.extend([code] * count)
