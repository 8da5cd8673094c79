"""The EA wire messages of docs/ea-protocol.md: one frozen class per frame type.

Attribute names are the contract's camelCase names in snake_case (`mt_ticket` is `mtTicket`).
Prices, volumes and money are Decimal; times are epoch milliseconds (`time_ms`); tickets are text.
Field metadata carries the range rule the decoder applies (`positive`, `non_negative`, `may_be_empty`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from hedge.domain.enums import BrokerType, Side
from hedge.ea.protocol_values import MAY_BE_EMPTY, NON_NEGATIVE, POSITIVE
from hedge.ea.protocol_values import CommandStatus as CommandStatus  # re-exported: the messages carry them
from hedge.ea.protocol_values import Direction as Direction
from hedge.ea.protocol_values import ErrorCode as ErrorCode
from hedge.ea.protocol_values import ErrorFrameCode as ErrorFrameCode
from hedge.ea.protocol_values import HistoryState as HistoryState
from hedge.ea.protocol_values import StopReason as StopReason

__all__ = [
    "MESSAGE_CLASSES",
    "MESSAGE_TYPES",
    "AccountUpdate",
    "Auth",
    "AuthFailed",
    "AuthOk",
    "Close",
    "Closed",
    "Command",
    "Error",
    "History",
    "HistoryEntry",
    "HistoryResult",
    "Message",
    "Open",
    "Opened",
    "Ping",
    "Pong",
    "PositionReport",
    "Positions",
    "Price",
    "Stopped",
    "Subscribe",
    "SymbolInfo",
    "Symbols",
    "Sync",
]

# --- handshake and liveness ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Auth:
    """EA→agent. Must be the EA's first frame."""

    TYPE: ClassVar[str] = "AUTH"
    DIRECTION: ClassVar[Direction] = Direction.EA_TO_AGENT
    token: str
    account_number: str
    server_name: str
    platform: BrokerType | None = None
    ea_version: str | None = None
    margin_mode: str | None = None  # a MarginMode value; None from EAs older than this field


@dataclass(frozen=True, slots=True)
class AuthOk:
    """agent→EA. The AUTH was accepted for this server-side account."""

    TYPE: ClassVar[str] = "AUTH_OK"
    DIRECTION: ClassVar[Direction] = Direction.AGENT_TO_EA
    account_id: str


@dataclass(frozen=True, slots=True)
class AuthFailed:
    """agent→EA. The AUTH was refused; the agent then closes with 4401."""

    TYPE: ClassVar[str] = "AUTH_FAILED"
    DIRECTION: ClassVar[Direction] = Direction.AGENT_TO_EA
    reason: str


@dataclass(frozen=True, slots=True)
class Ping:
    """Either way. The other side answers PONG with the same id."""

    TYPE: ClassVar[str] = "PING"
    DIRECTION: ClassVar[Direction] = Direction.BOTH
    id: int


@dataclass(frozen=True, slots=True)
class Pong:
    """Either way. The answer to PING."""

    TYPE: ClassVar[str] = "PONG"
    DIRECTION: ClassVar[Direction] = Direction.BOTH
    id: int


# --- agent -> EA commands -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Open:
    """agent→EA. Open a market position; answered by exactly one OPENED."""

    TYPE: ClassVar[str] = "OPEN"
    DIRECTION: ClassVar[Direction] = Direction.AGENT_TO_EA
    command_id: str
    position_id: str
    symbol: str
    side: Side
    volume: Decimal = field(metadata=POSITIVE)
    comment: str


@dataclass(frozen=True, slots=True)
class Close:
    """agent→EA. Close the position with this ticket; answered by exactly one CLOSED."""

    TYPE: ClassVar[str] = "CLOSE"
    DIRECTION: ClassVar[Direction] = Direction.AGENT_TO_EA
    command_id: str
    position_id: str
    mt_ticket: str


@dataclass(frozen=True, slots=True)
class Sync:
    """agent→EA. Ask for the held HedgeSystem positions; answered by exactly one POSITIONS."""

    TYPE: ClassVar[str] = "SYNC"
    DIRECTION: ClassVar[Direction] = Direction.AGENT_TO_EA
    command_id: str


@dataclass(frozen=True, slots=True)
class Subscribe:
    """agent→EA. Stream PRICE for exactly these symbols until the next SUBSCRIBE. Not answered."""

    TYPE: ClassVar[str] = "SUBSCRIBE"
    DIRECTION: ClassVar[Direction] = Direction.AGENT_TO_EA
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class History:
    """agent→EA. How each of these positions ended at the terminal; answered by one HISTORY_RESULT."""

    TYPE: ClassVar[str] = "HISTORY"
    DIRECTION: ClassVar[Direction] = Direction.AGENT_TO_EA
    command_id: str
    position_ids: tuple[str, ...]


# --- EA -> agent events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    """EA→agent. The answer to OPEN: on SUCCESS mtTicket, price, timeMs; on FAILED errorCode, message."""

    TYPE: ClassVar[str] = "OPENED"
    DIRECTION: ClassVar[Direction] = Direction.EA_TO_AGENT
    REQUIRED_WHEN: ClassVar[Mapping[CommandStatus, tuple[str, ...]]] = {
        CommandStatus.SUCCESS: ("mt_ticket", "price", "time_ms"),
        CommandStatus.FAILED: ("error_code", "message"),
    }
    command_id: str
    position_id: str
    status: CommandStatus
    mt_ticket: str | None = None
    price: Decimal | None = field(default=None, metadata=POSITIVE)
    time_ms: int | None = field(default=None, metadata=NON_NEGATIVE)
    error_code: ErrorCode | None = None
    message: str | None = field(default=None, metadata=MAY_BE_EMPTY)
    volume: Decimal | None = field(default=None, metadata=POSITIVE)  # lots filled; None from older EAs

    @classmethod
    def success(
        cls,
        command_id: str,
        position_id: str,
        mt_ticket: str,
        price: Decimal,
        time_ms: int,
        volume: Decimal | None = None,
    ) -> Opened:
        return cls(command_id, position_id, CommandStatus.SUCCESS, mt_ticket, price, time_ms, volume=volume)

    @classmethod
    def failed(cls, command_id: str, position_id: str, error_code: ErrorCode, message: str) -> Opened:
        return cls(command_id, position_id, CommandStatus.FAILED, error_code=error_code, message=message)


@dataclass(frozen=True, slots=True)
class Closed:
    """EA→agent. The answer to CLOSE: on SUCCESS price, timeMs, profit; on FAILED errorCode, message."""

    TYPE: ClassVar[str] = "CLOSED"
    DIRECTION: ClassVar[Direction] = Direction.EA_TO_AGENT
    REQUIRED_WHEN: ClassVar[Mapping[CommandStatus, tuple[str, ...]]] = {
        CommandStatus.SUCCESS: ("price", "time_ms", "profit"),
        CommandStatus.FAILED: ("error_code", "message"),
    }
    command_id: str
    position_id: str
    mt_ticket: str
    status: CommandStatus
    price: Decimal | None = field(default=None, metadata=POSITIVE)
    time_ms: int | None = field(default=None, metadata=NON_NEGATIVE)
    profit: Decimal | None = None
    error_code: ErrorCode | None = None
    message: str | None = field(default=None, metadata=MAY_BE_EMPTY)

    @classmethod
    def success(
        cls, command_id: str, position_id: str, mt_ticket: str, price: Decimal, time_ms: int, profit: Decimal
    ) -> Closed:
        return cls(command_id, position_id, mt_ticket, CommandStatus.SUCCESS, price, time_ms, profit)

    @classmethod
    def failed(
        cls, command_id: str, position_id: str, mt_ticket: str, error_code: ErrorCode, message: str
    ) -> Closed:
        return cls(
            command_id, position_id, mt_ticket, CommandStatus.FAILED, error_code=error_code, message=message
        )


@dataclass(frozen=True, slots=True)
class Stopped:
    """EA→agent. The broker (stop-out, SL, TP) or someone outside the system closed a position.

    `profit` is net (profit + swap + commission + fee) in the account currency.
    """

    TYPE: ClassVar[str] = "STOPPED"
    DIRECTION: ClassVar[Direction] = Direction.EA_TO_AGENT
    position_id: str
    mt_ticket: str
    price: Decimal = field(metadata=POSITIVE)
    time_ms: int = field(metadata=NON_NEGATIVE)
    profit: Decimal
    reason: str = field(
        metadata=MAY_BE_EMPTY
    )  # always a StopReason member once built (text is read leniently, see StopReason)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", StopReason(self.reason))

    @property
    def stop_reason(self) -> StopReason:
        return StopReason(self.reason)


@dataclass(frozen=True, slots=True)
class Price:
    """EA→agent. A quote of a subscribed symbol."""

    TYPE: ClassVar[str] = "PRICE"
    DIRECTION: ClassVar[Direction] = Direction.EA_TO_AGENT
    symbol: str
    bid: Decimal = field(metadata=POSITIVE)
    ask: Decimal = field(metadata=POSITIVE)
    time_ms: int = field(metadata=NON_NEGATIVE)


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """EA→agent (type ACCOUNT). The account's money, on connect, periodically and on balance changes."""

    TYPE: ClassVar[str] = "ACCOUNT"
    DIRECTION: ClassVar[Direction] = Direction.EA_TO_AGENT
    balance: Decimal
    credit: Decimal
    equity: Decimal
    margin: Decimal = field(metadata=NON_NEGATIVE)
    margin_level: Decimal  # equity / margin * 100; 0 without margin, negative when equity is
    currency: str
    time_ms: int = field(metadata=NON_NEGATIVE)


@dataclass(frozen=True, slots=True)
class PositionReport:
    """One item of POSITIONS: a held position that carries a HedgeSystem[...] comment."""

    position_id: str
    mt_ticket: str
    symbol: str
    side: Side
    volume: Decimal = field(metadata=POSITIVE)
    open_price: Decimal = field(metadata=POSITIVE)
    open_time_ms: int = field(metadata=NON_NEGATIVE)
    profit: Decimal


@dataclass(frozen=True, slots=True)
class Positions:
    """EA→agent. The answer to SYNC."""

    TYPE: ClassVar[str] = "POSITIONS"
    DIRECTION: ClassVar[Direction] = Direction.EA_TO_AGENT
    command_id: str
    positions: tuple[PositionReport, ...]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One item of HISTORY_RESULT: what the terminal knows of one asked-for position.

    OPEN carries the ticket; CLOSED the ticket, close price, time and net profit, and `reason`
    (None when the close was the system's own CLOSE); UNKNOWN nothing (not found).
    """

    STATE_FIELD: ClassVar[str] = "state"
    REQUIRED_WHEN: ClassVar[Mapping[HistoryState, tuple[str, ...]]] = {
        HistoryState.OPEN: ("mt_ticket",),
        HistoryState.CLOSED: ("mt_ticket", "price", "time_ms", "profit"),
        HistoryState.UNKNOWN: (),
    }
    position_id: str
    mt_ticket: str | None
    state: HistoryState
    price: Decimal | None = field(default=None, metadata=POSITIVE)
    time_ms: int | None = field(default=None, metadata=NON_NEGATIVE)
    profit: Decimal | None = None
    reason: StopReason | None = None


@dataclass(frozen=True, slots=True)
class HistoryResult:
    """EA→agent. The answer to HISTORY: one entry per asked-for positionId."""

    TYPE: ClassVar[str] = "HISTORY_RESULT"
    DIRECTION: ClassVar[Direction] = Direction.EA_TO_AGENT
    command_id: str
    results: tuple[HistoryEntry, ...]


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """One item of SYMBOLS: a symbol's figures as the terminal has them (broker symbol names).

    `margin_per_lot` is the margin one lot needs, in the account currency (OrderCalcMargin /
    MODE_MARGINREQUIRED); `tick_value` the value of one point's move of one lot, account currency.
    """

    symbol: str
    digits: int = field(metadata=NON_NEGATIVE)
    point: Decimal = field(metadata=POSITIVE)
    contract_size: Decimal = field(metadata=POSITIVE)
    volume_min: Decimal = field(metadata=POSITIVE)
    volume_step: Decimal = field(metadata=POSITIVE)
    volume_max: Decimal = field(metadata=POSITIVE)
    margin_per_lot: Decimal | None = field(default=None, metadata=NON_NEGATIVE)
    tick_value: Decimal | None = field(default=None, metadata=NON_NEGATIVE)


@dataclass(frozen=True, slots=True)
class Symbols:
    """EA→agent. The subscribed symbols' figures, after AUTH_OK and after each SUBSCRIBE. Not answered."""

    TYPE: ClassVar[str] = "SYMBOLS"
    DIRECTION: ClassVar[Direction] = Direction.EA_TO_AGENT
    symbols: tuple[SymbolInfo, ...]


@dataclass(frozen=True, slots=True)
class Error:
    """Either way. A frame the sender could not use; `command_id` when it could read one."""

    TYPE: ClassVar[str] = "ERROR"
    DIRECTION: ClassVar[Direction] = Direction.BOTH
    code: str
    message: str = field(metadata=MAY_BE_EMPTY)
    command_id: str | None = None

    @classmethod
    def bad_message(cls, message: str, command_id: str | None = None) -> Error:
        return cls(ErrorFrameCode.BAD_MESSAGE.value, message, command_id)


Message = (
    Auth
    | AuthOk
    | AuthFailed
    | Ping
    | Pong
    | Open
    | Close
    | Sync
    | Subscribe
    | History
    | Opened
    | Closed
    | Stopped
    | Price
    | AccountUpdate
    | Positions
    | HistoryResult
    | Symbols
    | Error
)
Command = Open | Close | Sync | History
MESSAGE_CLASSES: tuple[type[Message], ...] = (
    Auth,
    AuthOk,
    AuthFailed,
    Ping,
    Pong,
    Open,
    Close,
    Sync,
    Subscribe,
    History,
    Opened,
    Closed,
    Stopped,
    Price,
    AccountUpdate,
    Positions,
    HistoryResult,
    Symbols,
    Error,
)
MESSAGE_TYPES: Mapping[str, type[Message]] = {cls.TYPE: cls for cls in MESSAGE_CLASSES}
