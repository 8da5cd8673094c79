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


class TriggerReason(StrEnum):
    TRAIL = "TRAIL"
    STOP_OUT = "STOP_OUT"
    MANUAL = "MANUAL"


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


class AlertSeverity(StrEnum):
    """In rising order: escalation moves an alert one step up this list."""

    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
