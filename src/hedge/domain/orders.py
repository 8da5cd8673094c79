"""The order tracker: what is known of one position's orders at its terminal, as one state machine.

One tracker per position. Its state moves only by the lines of `ORDER_TABLE`, `(state, trigger)
-> state`; `apply_order` raises InvalidTransition for anything else. The server's row (Position)
says what is wanted; the tracker says what the terminal has said so far. After a command may
have reached the terminal (SENT, then a lost link or a timeout), only the terminal's word moves
it on: a fill or a close heard from the EA (OPENED, CLOSED, STOPPED, also replayed), POSITIONS
(held or not held), or HISTORY_RESULT (how it ended, or nothing found).

    NEW ──SEND_OPEN──► OPEN_SENT ──FILL──► HELD ──SEND_CLOSE──► CLOSE_SENT ──EXIT──► EXITED
                          │ TIMEOUT, LINK_LOST                     │ TIMEOUT, LINK_LOST
                          ▼                                        ▼
                     OPEN_UNKNOWN ──NOT_HELD──► OPEN_SEARCHING  CLOSE_UNKNOWN ──NOT_HELD──► MISSING
                                    NOT_FOUND (never placed) ─► NEW       NOT_FOUND ─► UNEXPLAINED

Pure: no I/O, times are passed in (monotonic seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from hedge.domain.machine import apply_move, final_states


class OrderState(StrEnum):
    NEW = "NEW"  # nothing at the terminal: nothing sent yet, or refused with certainly nothing placed
    OPEN_SENT = "OPEN_SENT"  # OPEN is with the EA, no answer yet
    OPEN_UNKNOWN = "OPEN_UNKNOWN"  # the OPEN may have reached the terminal: SYNC settles it
    OPEN_SEARCHING = "OPEN_SEARCHING"  # POSITIONS did not hold it: HISTORY asked
    OPEN_FAILED = "OPEN_FAILED"  # the terminal refused the OPEN and placed nothing; no retry left
    HELD = "HELD"  # the terminal holds it (ticket, price, volume known)
    CLOSE_SENT = "CLOSE_SENT"  # CLOSE is with the EA, no answer yet
    CLOSE_UNKNOWN = "CLOSE_UNKNOWN"  # the CLOSE may have reached the terminal: SYNC settles it
    CLOSE_FAILED = "CLOSE_FAILED"  # the terminal refused the CLOSE; it still holds the position
    MISSING = "MISSING"  # the terminal no longer holds it: HISTORY asked
    UNEXPLAINED = "UNEXPLAINED"  # neither held nor in the terminal's history: a person settles it
    EXITED = "EXITED"  # closed at the terminal (price, time, P/L known)


class OrderTrigger(StrEnum):
    SEND_OPEN = "SEND_OPEN"  # the agent hands OPEN to the EA
    SEND_CLOSE = "SEND_CLOSE"  # the agent hands CLOSE to the EA
    FILL = "FILL"  # the terminal holds it: OPENED SUCCESS, POSITIONS lists it, HISTORY says OPEN
    EXIT = "EXIT"  # the terminal closed it: CLOSED SUCCESS, STOPPED, HISTORY says CLOSED
    REFUSE = "REFUSE"  # FAILED with a code that placed nothing, and no retry left
    REQUOTE = "REQUOTE"  # FAILED with a retryable code (placed nothing): may be sent again
    TIMEOUT = "TIMEOUT"  # FAILED TIMEOUT, or no answer within the command timeout
    LINK_LOST = "LINK_LOST"  # the EA went away before it answered
    NOT_HELD = "NOT_HELD"  # POSITIONS does not list it
    NOT_FOUND = "NOT_FOUND"  # HISTORY_RESULT found nothing for it
    RECORDED = "RECORDED"  # the server has recorded the refused CLOSE (the row is OPEN again)


S = OrderState
T = OrderTrigger

ORDER_TABLE: dict[tuple[OrderState, OrderTrigger], OrderState] = {
    (S.NEW, T.SEND_OPEN): S.OPEN_SENT,
    (S.NEW, T.FILL): S.HELD,  # held before this agent sent anything (an earlier run sent it)
    (S.NEW, T.EXIT): S.EXITED,
    (S.NEW, T.REFUSE): S.OPEN_FAILED,  # given up before sending (EA away too long, retries spent)
    (S.OPEN_SENT, T.FILL): S.HELD,
    (S.OPEN_SENT, T.EXIT): S.EXITED,
    (S.OPEN_SENT, T.REFUSE): S.OPEN_FAILED,
    (S.OPEN_SENT, T.REQUOTE): S.NEW,
    (S.OPEN_SENT, T.TIMEOUT): S.OPEN_UNKNOWN,
    (S.OPEN_SENT, T.LINK_LOST): S.OPEN_UNKNOWN,
    (S.OPEN_UNKNOWN, T.FILL): S.HELD,
    (S.OPEN_UNKNOWN, T.EXIT): S.EXITED,
    (S.OPEN_UNKNOWN, T.REFUSE): S.OPEN_FAILED,  # the late answer to that very OPEN
    (S.OPEN_UNKNOWN, T.REQUOTE): S.NEW,
    (S.OPEN_UNKNOWN, T.NOT_HELD): S.OPEN_SEARCHING,
    (S.OPEN_SEARCHING, T.FILL): S.HELD,
    (S.OPEN_SEARCHING, T.EXIT): S.EXITED,
    (S.OPEN_SEARCHING, T.REFUSE): S.OPEN_FAILED,
    (S.OPEN_SEARCHING, T.REQUOTE): S.NEW,
    (S.OPEN_SEARCHING, T.NOT_FOUND): S.NEW,  # the terminal never had it: OPEN may be sent again
    (S.OPEN_SEARCHING, T.NOT_HELD): S.OPEN_SEARCHING,
    (S.OPEN_SEARCHING, T.TIMEOUT): S.OPEN_UNKNOWN,  # HISTORY unanswered: SYNC again
    (S.OPEN_SEARCHING, T.LINK_LOST): S.OPEN_UNKNOWN,
    (S.OPEN_FAILED, T.FILL): S.HELD,  # the terminal's word wins over an earlier refusal
    (S.HELD, T.SEND_CLOSE): S.CLOSE_SENT,
    (S.HELD, T.EXIT): S.EXITED,
    (S.HELD, T.NOT_HELD): S.MISSING,
    (S.HELD, T.REFUSE): S.CLOSE_FAILED,  # a CLOSE given up before it was sent (EA away too long)
    (S.CLOSE_SENT, T.EXIT): S.EXITED,
    (S.CLOSE_SENT, T.REFUSE): S.CLOSE_FAILED,
    (S.CLOSE_SENT, T.REQUOTE): S.HELD,
    (S.CLOSE_SENT, T.TIMEOUT): S.CLOSE_UNKNOWN,
    (S.CLOSE_SENT, T.LINK_LOST): S.CLOSE_UNKNOWN,
    (S.CLOSE_UNKNOWN, T.EXIT): S.EXITED,
    (S.CLOSE_UNKNOWN, T.FILL): S.CLOSE_FAILED,  # POSITIONS still lists it: the CLOSE did not happen
    (S.CLOSE_UNKNOWN, T.REFUSE): S.CLOSE_FAILED,
    (S.CLOSE_UNKNOWN, T.REQUOTE): S.HELD,
    (S.CLOSE_UNKNOWN, T.NOT_HELD): S.MISSING,
    (S.CLOSE_FAILED, T.RECORDED): S.HELD,
    (S.CLOSE_FAILED, T.EXIT): S.EXITED,
    (S.CLOSE_FAILED, T.NOT_HELD): S.MISSING,
    (S.MISSING, T.EXIT): S.EXITED,
    (S.MISSING, T.FILL): S.HELD,
    (S.MISSING, T.NOT_FOUND): S.UNEXPLAINED,
    (S.MISSING, T.NOT_HELD): S.MISSING,
    (S.UNEXPLAINED, T.EXIT): S.EXITED,
    (S.UNEXPLAINED, T.FILL): S.HELD,
    (S.UNEXPLAINED, T.NOT_HELD): S.MISSING,  # asked again at the next reconciliation
}

FINAL_ORDER_STATES = final_states(ORDER_TABLE, OrderState)
IN_FLIGHT = frozenset({S.OPEN_SENT, S.CLOSE_SENT})
IN_DOUBT = frozenset({S.OPEN_UNKNOWN, S.OPEN_SEARCHING, S.CLOSE_UNKNOWN})  # OUTCOME_UNKNOWN
SEARCHING = frozenset({S.OPEN_SEARCHING, S.MISSING})  # waiting for HISTORY_RESULT
AWAITING_SYNC = frozenset({S.OPEN_UNKNOWN, S.CLOSE_UNKNOWN})  # waiting for POSITIONS
# states in which POSITIONS not listing the position means something (NOT_HELD applies)
EXPECTED_HELD = frozenset(
    {S.OPEN_UNKNOWN, S.OPEN_SEARCHING, S.HELD, S.CLOSE_UNKNOWN, S.CLOSE_FAILED, S.MISSING, S.UNEXPLAINED}
)


def apply_order(state: OrderState, trigger: OrderTrigger) -> OrderState:
    """The state an order tracker reaches from `state` on `trigger`; InvalidTransition otherwise."""
    return apply_move(ORDER_TABLE, "Order", state, trigger)


def allows(state: OrderState, trigger: OrderTrigger) -> bool:
    return (state, trigger) in ORDER_TABLE


@dataclass(frozen=True, slots=True)
class Fill:
    """The terminal holds the position: its ticket, open price and time, and the lots filled."""

    mt_ticket: str
    price: Decimal
    time_ms: int
    volume: Decimal | None = None  # None: the EA did not say (older EAs); the planned volume then


@dataclass(frozen=True, slots=True)
class Exit:
    """The terminal closed the position: price, time, net P/L, and its reason word.

    `reason` None means our own CLOSE closed it; otherwise the EA's word (STOP_OUT, STOP_LOSS,
    TAKE_PROFIT, TERMINAL_CLOSE, UNKNOWN, or an older EA's free text)."""

    price: Decimal
    time_ms: int
    profit: Decimal
    reason: str | None = None
    mt_ticket: str | None = None


@dataclass(frozen=True, slots=True)
class Move:
    """One applied line of the table (kept on the tracker, for logs and tests)."""

    trigger: OrderTrigger
    frm: OrderState
    to: OrderState
    at: float


@dataclass
class OrderTracker:
    """One position's orders at its terminal: the state, the facts heard, the command in flight."""

    position_id: str
    account_id: str
    state: OrderState = OrderState.NEW
    command_id: str | None = None  # of the last OPEN/CLOSE sent
    kind: str = ""  # OPEN | CLOSE: the last command sent
    sent_at: float = 0.0
    moved_at: float = 0.0
    fill: Fill | None = None
    exit: Exit | None = None
    failure: str | None = None  # why the terminal refused (OPEN_FAILED, CLOSE_FAILED)
    requotes: int = 0  # retries of the current command after REQUOTE
    retry_at: float = 0.0  # no command before this time (backoff after REQUOTE)
    moves: list[Move] = field(default_factory=list)
    # told after every move (the agent keeps its trackers not HELD by it, instead of scanning all)
    on_move: Callable[[OrderTracker], None] | None = field(default=None, repr=False, compare=False)

    def _move(self, trigger: OrderTrigger, now: float) -> OrderState:
        to = apply_order(self.state, trigger)
        self.moves.append(Move(trigger, self.state, to, now))
        self.state = to
        self.moved_at = now
        if self.on_move is not None:
            self.on_move(self)
        return to

    def can(self, trigger: OrderTrigger) -> bool:
        return allows(self.state, trigger)

    def send(self, trigger: OrderTrigger, command_id: str, now: float) -> None:
        """SEND_OPEN or SEND_CLOSE: the command with this id goes to the EA now."""
        self._move(trigger, now)
        self.command_id = command_id
        self.sent_at = now
        self.failure = None
        self.kind = "OPEN" if trigger is OrderTrigger.SEND_OPEN else "CLOSE"

    def filled(self, fill: Fill, now: float) -> None:
        self._move(OrderTrigger.FILL, now)
        if self.state is OrderState.CLOSE_FAILED and self.failure is None:
            self.failure = "the terminal still holds the position: the CLOSE was not carried out"
        if self.fill is None or fill.mt_ticket != self.fill.mt_ticket or fill.volume is not None:
            self.fill = fill

    def exited(self, exit_: Exit, now: float) -> None:
        self._move(OrderTrigger.EXIT, now)
        self.exit = exit_

    def refused(self, message: str, now: float) -> None:
        self._move(OrderTrigger.REFUSE, now)
        self.failure = message

    def requoted(self, retry_at: float, now: float) -> None:
        self._move(OrderTrigger.REQUOTE, now)
        self.requotes += 1
        self.retry_at = retry_at

    def timed_out(self, now: float, message: str | None = None) -> None:
        """No answer in time, or the EA's TIMEOUT/UNKNOWN: `message` is kept for a later failure."""
        self._move(OrderTrigger.TIMEOUT, now)
        if message:
            self.failure = message

    def link_lost(self, now: float) -> None:
        self._move(OrderTrigger.LINK_LOST, now)

    def not_held(self, now: float) -> None:
        self._move(OrderTrigger.NOT_HELD, now)

    def not_found(self, now: float) -> None:
        self._move(OrderTrigger.NOT_FOUND, now)

    def recorded(self, now: float) -> None:
        self._move(OrderTrigger.RECORDED, now)
        self.failure = None
        self.requotes = 0

    @property
    def in_doubt(self) -> bool:
        """A command may have reached the terminal and the terminal has not said what became of it."""
        return self.state in IN_DOUBT

    @property
    def final(self) -> bool:
        return self.state in FINAL_ORDER_STATES
