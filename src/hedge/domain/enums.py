"""The enumerations of the API contract, one StrEnum each (values equal the GraphQL names)."""

from __future__ import annotations

from enum import StrEnum


class UserRole(StrEnum):
    ADMIN = "ADMIN"
    CLIENT = "CLIENT"


class PCStatus(StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


class BrokerType(StrEnum):
    MT4 = "MT4"
    MT5 = "MT5"


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    DISCONNECTED = "DISCONNECTED"


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class PositionStatus(StrEnum):
    PENDING = "PENDING"
    OPENING = "OPENING"
    OPEN = "OPEN"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"
    STOPPED = "STOPPED"
    CANCELED = "CANCELED"


class ActionType(StrEnum):
    ENTRY = "ENTRY"
    CLOSE = "CLOSE"


class ActionStatus(StrEnum):
    PENDING = "PENDING"
    EXECUTING = "EXECUTING"
    EXECUTED = "EXECUTED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class TrailMode(StrEnum):
    FROM_ENTRY = "FROM_ENTRY"
    TRAILING_STOP = "TRAILING_STOP"


class ExitReason(StrEnum):
    MANUAL_CLOSE = "MANUAL_CLOSE"
    ACTION_CLOSE = "ACTION_CLOSE"
    STOP_OUT = "STOP_OUT"
    STOP_LOSS = "STOP_LOSS"
    TAKE_PROFIT = "TAKE_PROFIT"
    TERMINAL_CLOSE = "TERMINAL_CLOSE"  # closed by hand in the terminal


class TriggerReason(StrEnum):
    TRAIL = "TRAIL"
    STOP_OUT = "STOP_OUT"
    MANUAL = "MANUAL"


class ChangeSource(StrEnum):
    USER = "USER"  # a person (an ADMIN credential: the console, GraphiQL)
    AGENT = "AGENT"  # the owner's agent (a CLIENT credential on its own rows)
    SERVER = "SERVER"  # one of the server's own rules (deadline, trigger, follow-on moves)


class TradingScope(StrEnum):
    GLOBAL = "GLOBAL"
    USER = "USER"
    ACCOUNT = "ACCOUNT"


class TradingState(StrEnum):
    """Ordered from least to most restrictive (the effective state is the most restrictive)."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class AlertKind(StrEnum):
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
    EA_UNREACHABLE = "EA_UNREACHABLE"
    ORPHAN_AT_BROKER = "ORPHAN_AT_BROKER"
    GHOST_POSITION = "GHOST_POSITION"
    HEDGE_LEG_FAILED = "HEDGE_LEG_FAILED"
    ACTION_EXPIRED = "ACTION_EXPIRED"
    RECONCILIATION_MISMATCH = "RECONCILIATION_MISMATCH"
    AGENT_OFFLINE = "AGENT_OFFLINE"
    TRADING_HALTED = "TRADING_HALTED"
    STOPPED_OUT = "STOPPED_OUT"
    MARGIN_LOW = "MARGIN_LOW"
    ORDER_FAILED = "ORDER_FAILED"
    LATE_TRIGGER = "LATE_TRIGGER"  # a trigger's actions started long after its price (a hedge opened late)


class AlertSeverity(StrEnum):
    """In rising order: escalation moves an alert one step up this list."""

    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
