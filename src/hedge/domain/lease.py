"""The agent lease: one acting agent per user. Pure rules; the store keeps the lease row.

A claim is granted when nobody holds the lease, when it has expired, or when the claimant already
holds it (a renewal, which extends it). Otherwise the answer names the holder and its expiry, and
the claimant stands by. A release by the holder ends the lease at once; by anyone else it does
nothing (the answer says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from hedge.domain.errors import ValidationError
from hedge.domain.values import text

DEFAULT_TTL_S = 15.0
MAX_TTL_S = 3600.0
MAX_AGENT_ID = 128


@dataclass(frozen=True, slots=True)
class Lease:
    user_id: str
    holder_id: str
    expires_at: datetime
    claimed_at: datetime  # when this holder first got it (a renewal keeps it)


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to a claim: granted or not, who holds the lease now, until when."""

    granted: bool
    holder_id: str
    expires_at: datetime


def checked_agent_id(value: object) -> str:
    return text(value, "agentId", max_length=MAX_AGENT_ID).strip()


def checked_ttl(value: object) -> timedelta:
    """The lease's time to live: None = the default; else a finite number of seconds in (0, max]."""
    if value is None:
        return timedelta(seconds=DEFAULT_TTL_S)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError("ttlS", f"must be a number of seconds, was {type(value).__name__}")
    if not math.isfinite(value) or value <= 0 or value > MAX_TTL_S:
        raise ValidationError("ttlS", f"must be > 0 and <= {MAX_TTL_S:g} seconds, was {value}")
    return timedelta(seconds=float(value))


def claim(
    current: Lease | None, user_id: str, agent_id: str, now: datetime, ttl: timedelta
) -> tuple[Claim, Lease | None]:
    """The answer, and the lease to store (None: leave the stored one as it is)."""
    if current is not None and current.holder_id != agent_id and current.expires_at > now:
        return Claim(False, current.holder_id, current.expires_at), None
    renewal = current is not None and current.holder_id == agent_id and current.expires_at > now
    claimed_at = current.claimed_at if renewal and current is not None else now
    lease = Lease(user_id, agent_id, now + ttl, claimed_at)
    return Claim(True, agent_id, lease.expires_at), lease


def may_release(current: Lease | None, agent_id: str) -> bool:
    """Only the holder ends its lease (an expired one is over anyway)."""
    return current is not None and current.holder_id == agent_id
