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
