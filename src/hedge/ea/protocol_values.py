"""The EA wire protocol's values: frame limits, close codes and the enums frames carry.

The message classes that use them are in protocol_messages; `hedge.ea.protocol` is the one
import for both. Range rules (`POSITIVE`, ...) are field metadata the decoder applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = [
    "AGENT_NOT_READY",
    "CLOSE_AUTH_FAILED",
    "CLOSE_REPLACED",
    "CLOSE_TOO_BIG",
    "MAX_FRAME_BYTES",
    "MAY_BE_EMPTY",
    "NON_NEGATIVE",
    "POSITIVE",
    "CommandStatus",
    "Direction",
    "ErrorCode",
    "ErrorFrameCode",
    "HistoryState",
    "MarginMode",
    "StopReason",
]

MAX_FRAME_BYTES = 65536  # frames over 64 KiB close the connection with CLOSE_TOO_BIG
CLOSE_AUTH_FAILED = 4401  # first frame not AUTH, or AUTH refused
CLOSE_REPLACED = 4409  # another EA connected for the same account
CLOSE_TOO_BIG = 1009  # RFC 6455 "message too big"
AGENT_NOT_READY = "agent not ready"  # the AUTH_FAILED reason an EA retries after


class Direction(StrEnum):
    EA_TO_AGENT = "EA→agent"
    AGENT_TO_EA = "agent→EA"
    BOTH = "both ways"


class ErrorCode(StrEnum):
    """Why the EA could not carry out OPEN or CLOSE (`errorCode` of OPENED/CLOSED FAILED)."""

    INVALID_VOLUME = "INVALID_VOLUME"
    INVALID_SYMBOL = "INVALID_SYMBOL"
    NOT_ENOUGH_MONEY = "NOT_ENOUGH_MONEY"
    MARKET_CLOSED = "MARKET_CLOSED"
    TRADE_DISABLED = "TRADE_DISABLED"
    REQUOTE = "REQUOTE"
    TIMEOUT = "TIMEOUT"
    HEDGING_PROHIBITED = "HEDGING_PROHIBITED"
    UNKNOWN = "UNKNOWN"

    @property
    def retryable(self) -> bool:
        """True for the codes worth an automatic retry: REQUOTE only.

        A REQUOTE certainly placed nothing and the next price may be taken. TIMEOUT and UNKNOWN
        leave the outcome open (the order may have been filled), so they are settled from the
        terminal (SYNC, then HISTORY) before anything is sent again; the other codes certainly
        placed nothing but a retry would meet the same refusal.
        """
        return self is ErrorCode.REQUOTE

    @property
    def placed_nothing(self) -> bool:
        """True when the terminal certainly carried nothing out (no order placed, nothing closed).

        False for TIMEOUT (the broker may have filled it) and UNKNOWN (an error the EA could not
        classify): both are an unknown outcome that only the terminal's word settles.
        """
        return self not in _OUTCOME_UNKNOWN


_OUTCOME_UNKNOWN = frozenset({ErrorCode.TIMEOUT, ErrorCode.UNKNOWN})


class ErrorFrameCode(StrEnum):
    """`code` values of ERROR frames this project sends."""

    BAD_MESSAGE = "BAD_MESSAGE"


class CommandStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class StopReason(StrEnum):
    """Why the terminal closed a position outside a CLOSE (STOPPED and HISTORY_RESULT `reason`).

    Only STOP_OUT (the broker's stop-out) fires trigger actions. Read leniently, since the field
    was free text before: the old paper EA's and MQL EAs' "MANUAL" is TERMINAL_CLOSE, any other
    text is UNKNOWN (never STOP_OUT), so an older EA's frame is still decoded.
    """

    STOP_OUT = "STOP_OUT"
    STOP_LOSS = "STOP_LOSS"
    TAKE_PROFIT = "TAKE_PROFIT"
    TERMINAL_CLOSE = "TERMINAL_CLOSE"  # closed by hand in the terminal (or by another EA)
    UNKNOWN = "UNKNOWN"
    MANUAL = "TERMINAL_CLOSE"  # the name before this round; an alias of TERMINAL_CLOSE

    @classmethod
    def _missing_(cls, value: object) -> StopReason:
        if isinstance(value, str) and value.strip().upper() == "MANUAL":
            return cls.TERMINAL_CLOSE
        return cls.UNKNOWN


class HistoryState(StrEnum):
    """How a position stands at the terminal in a HISTORY_RESULT entry."""

    OPEN = "OPEN"  # still held
    CLOSED = "CLOSED"  # closed: price, timeMs, profit and reason say how
    UNKNOWN = "UNKNOWN"  # nothing found in positions, orders or the deal history


class MarginMode(StrEnum):
    """AUTH `marginMode` values of the contract (the field is read as text; None from older EAs)."""

    HEDGING = "HEDGING"
    NETTING = "NETTING"
    EXCHANGE = "EXCHANGE"


# Range rules the decoder applies, kept on the fields they govern.
POSITIVE: Mapping[str, str] = {"rule": "positive"}
NON_NEGATIVE: Mapping[str, str] = {"rule": "non_negative"}
MAY_BE_EMPTY: Mapping[str, str] = {"rule": "may_be_empty"}
