"""The simulated MetaTrader terminal: a synchronous core that executes agent commands.

Everything it has to say (answers, STOPPED, ACCOUNT after a balance change) goes to one `emit`
sink in order, so the asyncio shell only forwards. Idempotency per the contract: one answer per
commandId (repeats get the recorded answer), one position per positionId (a repeated OPEN answers
with the recorded fill, held or closed), and a CLOSE of a closed ticket answers the recorded close.
A failed OPEN is not recorded by positionId: a new commandId for it is a new attempt.

Identity is the EA's journal (positionId -> fill) and magic number, never the comment alone: the
broker may cut comments (`comment_limit`, MT4 keeps 31 characters). Fill faults (`FillFaults`):
partial fills (the remainder is cancelled, OPENED says what filled), a TIMEOUT answer for an order
that did fill, and PLACED orders that the shell fills later (`fill_pending`), answered only then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hedge.domain.clock import Clock
from hedge.domain.enums import Side
from hedge.domain.errors import NotFound, ValidationError
from hedge.ea import paper_account as acct
from hedge.ea.paper_account import AccountState, CloseRecord, Costs, HeldPosition
from hedge.ea.paper_config import FillFaults, RejectPolicy
from hedge.ea.paper_faults import FaultDice
from hedge.ea.paper_market import Market
from hedge.ea.paper_state import Books, PendingOrder
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
    MarginMode,
    Message,
    Open,
    Opened,
    PositionReport,
    Positions,
    Stopped,
    StopReason,
    position_id_from_comment,
)

log = logging.getLogger("hedge.ea.paper")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AGENT_CLOSE = "CLOSE"  # CloseRecord.reason of a close by the agent's CLOSE


@dataclass(frozen=True, slots=True)
class AccountSettings:
    balance: Decimal
    currency: str = "USD"
    leverage: int = 100
    credit: Decimal = Decimal("0")
    stop_out_level_pct: Decimal = Decimal("50")
    margin_mode: MarginMode = MarginMode.HEDGING
    magic: int = 7077001
    comment_limit: int | None = None
    costs: Costs = field(default_factory=Costs)


class Terminal:
    def __init__(
        self,
        market: Market,
        clock: Clock,
        settings: AccountSettings,
        *,
        rejects: RejectPolicy | None = None,
        faults: FillFaults | None = None,
        first_ticket: int = 50_000_000_001,
        seed: int | None = None,
        emit: Callable[[Message], None] | None = None,
        books: Books | None = None,
    ) -> None:
        self.market = market
        self._clock = clock
        self.settings = settings
        self.currency = settings.currency
        self.leverage = settings.leverage
        self.stop_out_level_pct = settings.stop_out_level_pct
        self.credit = settings.credit
        self.books = books or Books(settings.balance, first_ticket)
        self._faults = faults or FillFaults()
        self._dice = FaultDice(rejects or RejectPolicy(), self._faults, seed)
        self._emit = emit or (lambda _msg: None)
        self._balance_changed = False

    @property
    def balance(self) -> Decimal:
        return self.books.balance

    def set_sink(self, emit: Callable[[Message], None]) -> None:
        self._emit = emit

    def now_ms(self) -> int:
        return (self._clock.now() - _EPOCH) // timedelta(milliseconds=1)

    # --- commands -------------------------------------------------------------------------------

    def execute(self, command: Command) -> Message | None:
        """Carry out one agent command and emit its answer (the recorded one for a repeated commandId).

        None when the answer must wait: an OPEN the broker only PLACED (see `fill_pending`).
        """
        answer = self.books.answers.get(command.command_id)
        if answer is None:
            if isinstance(command, Open):
                answer = self._open(command)
            elif isinstance(command, Close):
                answer = self._close(command)
            elif isinstance(command, History):
                answer = HistoryResult(
                    command.command_id, tuple(self.history_of(p) for p in command.position_ids)
                )
            else:
                answer = Positions(command.command_id, self._reports())
            if answer is None:
                return None
            self.books.answers[command.command_id] = answer
        else:
            log.info("repeated commandId %s: sending the recorded %s again", command.command_id, answer.TYPE)
        self._emit(answer)
        self._emit_account_if_balance_changed()
        return answer

    def _open(self, cmd: Open) -> Opened | None:
        fill = self.books.journal.get(cmd.position_id)
        if fill is not None:
            log.info(
                "OPEN %s: position %s already filled as ticket %s",
                cmd.command_id,
                cmd.position_id,
                fill.ticket,
            )
            return Opened.success(
                cmd.command_id, cmd.position_id, fill.ticket, fill.open_price, fill.open_time_ms, fill.volume
            )
        pending = self.books.pending.get(cmd.position_id)
        if pending is not None:
            log.info("OPEN %s: position %s has an order placed already; answered when it fills",
                     cmd.command_id, cmd.position_id)  # fmt: skip
            pending.command_ids.append(cmd.command_id)
            return None
        refusal = self._refusal(cmd)
        if refusal is not None:
            code, message = refusal
            log.info("OPEN %s for %s refused: %s %s", cmd.command_id, cmd.position_id, code, message)
            return Opened.failed(cmd.command_id, cmd.position_id, code, message)
        if self._faults.placed_delay_ms > 0:
            self.books.pending[cmd.position_id] = PendingOrder(
                cmd.position_id, cmd.symbol, cmd.side, cmd.volume, cmd.comment, [cmd.command_id]
            )
            log.info("OPEN %s: order for %s PLACED, not filled yet", cmd.command_id, cmd.position_id)
            return None
        return self._fill_order(
            cmd.command_id, cmd.position_id, cmd.symbol, cmd.side, cmd.volume, cmd.comment
        )

    def _fill_order(
        self, command_id: str, position_id: str, symbol: str, side: Side, volume: Decimal, comment: str
    ) -> Opened:
        filled = self._dice.filled_volume(self.market.spec(symbol), volume)
        if filled != volume:
            log.info(
                "partial fill for %s: %s of %s lots, the remainder cancelled", position_id, filled, volume
            )
        position = self._fill(position_id, symbol, side, filled, comment)
        self.books.journal[position_id] = position
        if self._dice.timeout_after_fill():
            log.info(
                "OPEN %s: answering TIMEOUT although ticket %s filled (fault knob)",
                command_id,
                position.ticket,
            )
            return Opened.failed(
                command_id, position_id, ErrorCode.TIMEOUT, "no answer from the trade server in time"
            )
        return Opened.success(
            command_id, position_id, position.ticket, position.open_price, position.open_time_ms, filled
        )

    def fill_pending(self) -> list[Opened]:
        """Fill every PLACED order now (the broker's fill came) and answer each OPEN waiting on it."""
        answers = []
        for position_id, order in list(self.books.pending.items()):
            del self.books.pending[position_id]
            first, *repeats = order.command_ids
            answer = self._fill_order(
                first, position_id, order.symbol, order.side, order.volume, order.comment
            )
            for command_id in [first, *repeats]:
                again = replace(answer, command_id=command_id)
                self.books.answers[command_id] = again
                self._emit(again)
                answers.append(again)
        self._emit_account_if_balance_changed()
        return answers

    def _refusal(self, cmd: Open) -> tuple[ErrorCode, str] | None:
        if self.market.quote(cmd.symbol) is None:
            quoted = ", ".join(self.market.symbols()) or "none"
            return ErrorCode.INVALID_SYMBOL, f"{cmd.symbol} is not quoted on this terminal (quoted: {quoted})"
        try:
            self.market.spec(cmd.symbol).check_volume(cmd.volume)
        except ValidationError as exc:
            return ErrorCode.INVALID_VOLUME, exc.message
        if self.settings.margin_mode is not MarginMode.HEDGING:
            opposite = [
                h for h in self.books.held.values() if h.symbol == cmd.symbol and h.side is not cmd.side
            ]
            if opposite:
                return ErrorCode.HEDGING_PROHIBITED, (
                    f"a {self.settings.margin_mode} account cannot hold {cmd.side} {cmd.symbol} "
                    f"against ticket {opposite[0].ticket}"
                )
        code = self._dice.reject(cmd.position_id)
        if code is not None:
            return code, f"paper terminal rejects this OPEN by configuration ({code})"
        needed = acct.margin_for(cmd.symbol, cmd.volume, self.market, self.currency, self.leverage)
        free = self.account().free_margin
        if needed > free:
            return ErrorCode.NOT_ENOUGH_MONEY, f"needs margin {needed} {self.currency}, free margin is {free}"
        return None

    def _fill(
        self,
        position_id: str | None,
        symbol: str,
        side: Side,
        volume: Decimal,
        comment: str,
        magic: int | None = None,
    ) -> HeldPosition:
        quote = self.market.quote(symbol)
        if quote is None:
            raise NotFound("quote", symbol)
        ticket = str(self.books.next_ticket)
        self.books.next_ticket += 1
        fill_price = quote.ask if side is Side.BUY else quote.bid
        kept = comment[: self.settings.comment_limit] if self.settings.comment_limit is not None else comment
        position = HeldPosition(
            ticket, position_id, symbol, side, volume, fill_price, self.now_ms(), kept,
            self.settings.magic if magic is None else magic,
        )  # fmt: skip
        self.books.held[ticket] = position
        log.info("filled ticket %s: %s %s %s at %s (%s)", ticket, side, volume, symbol, fill_price, comment)
        return position

    def _close(self, cmd: Close) -> Closed:
        record = self.books.closes.get(cmd.mt_ticket)
        held = self.books.held.get(cmd.mt_ticket)
        owner = record.position_id if record else held.position_id if held else None
        if owner is not None and owner != cmd.position_id:
            return Closed.failed(
                cmd.command_id, cmd.position_id, cmd.mt_ticket, ErrorCode.UNKNOWN,
                f"ticket {cmd.mt_ticket} belongs to position {owner}, not {cmd.position_id}",
            )  # fmt: skip
        if record is None and held is not None:
            record = self._realise(held, AGENT_CLOSE)
        if record is None:
            return Closed.failed(
                cmd.command_id, cmd.position_id, cmd.mt_ticket, ErrorCode.UNKNOWN,
                f"no position with ticket {cmd.mt_ticket} on this terminal, open or closed",
            )  # fmt: skip
        return Closed.success(
            cmd.command_id, cmd.position_id, cmd.mt_ticket, record.price, record.time_ms, record.profit
        )

    def _reports(self) -> tuple[PositionReport, ...]:
        """SYNC: positions of the journal with our magic; a HedgeSystem comment only as the fallback."""
        reports = []
        for held in self.books.held.values():
            position_id = held.position_id if held.magic == self.settings.magic else None
            position_id = position_id or position_id_from_comment(held.comment)
            if position_id is None:
                continue  # not the system's position
            reports.append(
                PositionReport(
                    position_id, held.ticket, held.symbol, held.side, held.volume, held.open_price,
                    held.open_time_ms, self._floating(held),
                )
            )  # fmt: skip
        return tuple(reports)

    def history_of(self, position_id: str) -> HistoryEntry:
        """What the deal history says of one positionId: held, closed (and why) or not found."""
        fill = self.books.journal.get(position_id)
        if fill is None:
            return HistoryEntry(position_id, None, HistoryState.UNKNOWN)
        if fill.ticket in self.books.held:
            return HistoryEntry(position_id, fill.ticket, HistoryState.OPEN)
        record = self.books.closes[fill.ticket]
        reason = None if record.reason == AGENT_CLOSE else StopReason(record.reason)
        return HistoryEntry(
            position_id, fill.ticket, HistoryState.CLOSED, record.price, record.time_ms, record.profit, reason
        )

    # --- closing --------------------------------------------------------------------------------

    def _realise(self, held: HeldPosition, reason: str) -> CloseRecord:
        """Close a held position at the current price and book its net profit into the balance."""
        close_price = acct.closing_price(held, self.market)
        gross = acct.profit_at(held, close_price, self.market, self.currency)
        swap = self.settings.costs.swap(held, self.now_ms())
        commission = self.settings.costs.commission(held.volume, 2)
        profit = gross + swap + commission
        record = CloseRecord(
            held.ticket, held.position_id, close_price, self.now_ms(), profit, reason, swap, commission
        )
        del self.books.held[held.ticket]
        self.books.closes[held.ticket] = record
        self.books.balance += profit
        self._balance_changed = True
        log.info(
            "closed ticket %s (%s) at %s, profit %s %s (swap %s, commission %s), balance %s",
            held.ticket, reason, close_price, profit, self.currency, swap, commission, self.books.balance,
        )  # fmt: skip
        return record

    def close_externally(self, ticket: str, reason: str = StopReason.TERMINAL_CLOSE) -> CloseRecord:
        """Close a position outside the system (a person in the terminal, the broker); emits STOPPED."""
        held = self.books.held.get(ticket)
        if held is None:
            raise NotFound("open position with ticket", ticket)
        record = self._realise(held, StopReason(reason).value)
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

    # --- prices, stops and stop-out -------------------------------------------------------------

    def set_price(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Quote a symbol (tests, replay) and apply SL/TP and the stop-out rule to the new prices."""
        self.market.set_price(symbol, bid, ask, self.now_ms())
        self.check_stops()
        self.check_stop_out()

    def apply_quotes(self, quotes: list[tuple[str, Decimal, Decimal]]) -> None:
        """One tick of the feed: set every quote, then apply SL/TP and the stop-out rule once."""
        now = self.now_ms()
        for symbol, bid, ask in quotes:
            self.market.set_price(symbol, bid, ask, now)
        self.check_stops()
        self.check_stop_out()

    def set_stops(self, ticket: str, stop_loss: Decimal | None, take_profit: Decimal | None) -> HeldPosition:
        """Put an SL and/or TP on a held position (by hand in the terminal)."""
        held = self.books.held.get(ticket)
        if held is None:
            raise NotFound("open position with ticket", ticket)
        changed = replace(
            held,
            stop_loss=held.stop_loss if stop_loss is None else stop_loss,
            take_profit=held.take_profit if take_profit is None else take_profit,
        )
        self.books.held[ticket] = changed
        self.check_stops()
        return changed

    def check_stops(self) -> list[CloseRecord]:
        """Close positions whose SL or TP the current price reached (at the current price)."""
        closed = []
        for held in list(self.books.held.values()):
            price = acct.closing_price(held, self.market)
            sign = 1 if held.side is Side.BUY else -1
            reason = None
            if held.stop_loss is not None and sign * (price - held.stop_loss) <= 0:
                reason = StopReason.STOP_LOSS
            elif held.take_profit is not None and sign * (price - held.take_profit) >= 0:
                reason = StopReason.TAKE_PROFIT
            if reason is not None:
                record = self._realise(held, reason.value)
                self._emit_stopped(record)
                closed.append(record)
        self._emit_account_if_balance_changed()
        return closed

    def check_stop_out(self) -> list[CloseRecord]:
        """While the margin level is below the stop-out level, close the position losing most."""
        closed = []
        while self.books.held:
            state = self.account()
            if state.margin <= 0 or state.margin_level >= self.stop_out_level_pct:
                break
            worst = min(self.books.held.values(), key=self._floating)
            log.warning(
                "stop-out: margin level %s%% < %s%%, closing ticket %s",
                state.margin_level, self.stop_out_level_pct, worst.ticket,
            )  # fmt: skip
            record = self._realise(worst, StopReason.STOP_OUT.value)
            self._emit_stopped(record)
            closed.append(record)
        self._emit_account_if_balance_changed()
        return closed

    # --- state ----------------------------------------------------------------------------------

    def _floating(self, held: HeldPosition) -> Decimal:
        """Net floating profit: the price move, swap so far and the entry side's commission."""
        gross = acct.floating_profit(held, self.market, self.currency)
        costs = self.settings.costs
        return gross + costs.swap(held, self.now_ms()) + costs.commission(held.volume, 1)

    def account(self) -> AccountState:
        held = self.books.held.values()
        floating = sum((self._floating(h) for h in held), Decimal(0))
        margin = sum(
            (acct.margin_for(h.symbol, h.volume, self.market, self.currency, self.leverage) for h in held),
            Decimal(0),
        )
        equity = self.books.balance + self.credit + floating
        level = acct.money(equity / margin * 100) if margin > 0 else Decimal(0)
        return AccountState(self.books.balance, self.credit, equity, margin, level)

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
        return tuple(self.books.held.values())

    def close_record(self, ticket: str) -> CloseRecord | None:
        return self.books.closes.get(ticket)

    def ticket_of(self, ticket_or_position_id: str) -> str | None:
        """The held ticket named by its ticket or by the positionId of the journal."""
        if ticket_or_position_id in self.books.held:
            return ticket_or_position_id
        fill = self.books.journal.get(ticket_or_position_id)
        return fill.ticket if fill is not None and fill.ticket in self.books.held else None

    # --- test and demo controls -----------------------------------------------------------------

    def open_externally(self, symbol: str, side: Side, volume: Decimal, comment: str = "") -> HeldPosition:
        """A position opened by hand in the terminal (magic 0; no HedgeSystem comment unless given one)."""
        return self._fill(position_id_from_comment(comment), symbol, side, volume, comment, magic=0)

    def reject_next(self, code: ErrorCode, count: int = 1) -> None:
        """Refuse the next `count` new OPENs with `code`."""
        self._dice.force_rejects(code, count)

    def timeout_next_fills(self, count: int = 1) -> None:
        """Answer the next `count` fills with TIMEOUT although they filled."""
        self._dice.force_timeouts(count)
