"""What the agent has learnt from its EAs and not yet recorded on the server."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hedge.ea.protocol_messages import ErrorCode


@dataclass(frozen=True, slots=True)
class Fill:
    """The position is held by the EA: OPENED SUCCESS, or seen in POSITIONS."""

    mt_ticket: str
    price: Decimal
    time_ms: int
    account_id: str = ""  # the EA that reported it ("" = not known)


@dataclass(frozen=True, slots=True)
class Exit:
    """The position is closed: CLOSED SUCCESS (by us) or STOPPED (by the broker or by hand)."""

    mt_ticket: str
    price: Decimal
    time_ms: int
    profit: Decimal
    stopped_reason: str | None = None  # None: closed by our CLOSE
    account_id: str = ""  # the EA that reported it ("" = not known)


@dataclass(frozen=True, slots=True)
class Failure:
    """The EA could not carry out OPEN or CLOSE, and no retry is left."""

    kind: str  # OPEN | CLOSE
    code: ErrorCode | None
    message: str


@dataclass
class InFlight:
    """A command sent to an EA and not yet answered."""

    kind: str  # OPEN | CLOSE
    command_id: str
    account_id: str
    sent_at: float  # monotonic seconds
    attempts: int = 1
