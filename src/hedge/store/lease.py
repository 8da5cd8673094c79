"""The agent lease in the store (table agent_leases), shared by every server process.

Every claim and release locks the user's row first (FOR UPDATE on PostgreSQL, the write lock on
SQLite), so two claimants of one user are decided one after the other, never both granted.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from hedge.domain import lease as rules
from hedge.domain.lease import Claim, Lease
from hedge.domain.models import User
from hedge.store.tables import agent_leases
from hedge.store.unit import Unit


def _lease_of(conn: Connection, user_id: str) -> Lease | None:
    row = conn.execute(select(agent_leases).where(agent_leases.c.user_id == user_id)).mappings().first()
    return (
        None if row is None else Lease(row["user_id"], row["holder_id"], row["expires_at"], row["claimed_at"])
    )


def current_lease(unit: Unit, user_id: str) -> Lease | None:
    return _lease_of(unit.conn, user_id)


def claim_in(unit: Unit, user_id: str, agent_id: str, ttl_s: Any) -> Claim:
    agent = rules.checked_agent_id(agent_id)
    ttl = rules.checked_ttl(ttl_s)
    unit.require(User, user_id)  # locks the user: claims of one user queue here
    current = current_lease(unit, user_id)
    answer, lease = rules.claim(current, user_id, agent, unit.now, ttl)
    if lease is not None:
        values = {
            "holder_id": lease.holder_id,
            "expires_at": lease.expires_at,
            "claimed_at": lease.claimed_at,
        }
        if current is None:
            unit.conn.execute(insert(agent_leases).values(user_id=user_id, **values))
        else:
            unit.conn.execute(update(agent_leases).where(agent_leases.c.user_id == user_id).values(**values))
    return answer


def release_in(unit: Unit, user_id: str, agent_id: str) -> bool:
    agent = rules.checked_agent_id(agent_id)
    unit.require(User, user_id)
    if not rules.may_release(current_lease(unit, user_id), agent):
        return False
    unit.conn.execute(delete(agent_leases).where(agent_leases.c.user_id == user_id))
    return True


class LeaseStore:
    """The Store's lease methods (a mixin of `Store`)."""

    engine: Engine

    def _unit(self) -> AbstractContextManager[Unit]:  # pragma: no cover - Store defines it
        raise NotImplementedError

    def claim_agent(self, user_id: str, agent_id: Any, ttl_s: Any = None) -> Claim:
        """Claim (or renew) the one acting agent of the user for `agent_id`."""
        with self._unit() as unit:
            return claim_in(unit, user_id, agent_id, ttl_s)

    def release_agent(self, user_id: str, agent_id: Any) -> bool:
        """End the lease if `agent_id` holds it; False when it does not (nothing changes)."""
        with self._unit() as unit:
            return release_in(unit, user_id, agent_id)

    def agent_lease(self, user_id: str) -> Lease | None:
        """The lease as stored (it may have expired: compare expiresAt with now)."""
        with self.engine.connect() as conn:
            return _lease_of(conn, user_id)
