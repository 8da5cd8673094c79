"""The audit log: one call, `record(unit, ...)`, inside the transaction of the change it records.

Who and from where come from the request: the API binds them (`bound(origin)`) around each store
call, so the store's write paths need not pass them along; with nothing bound the change was
made by the system itself (the first admin's bootstrap, a server rule). Details never hold tokens.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from hedge.scoped import scoped
from hedge.store.tables import audit_log
from hedge.store.unit import Unit


@dataclass(frozen=True, slots=True)
class Origin:
    """Who makes the current request, and from which address."""

    actor_id: str | None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor_id: str | None
    address: str | None
    action: str
    entity: str
    entity_id: str
    detail: Mapping[str, Any]


_ORIGIN: contextvars.ContextVar[Origin | None] = contextvars.ContextVar("hedge_audit_origin", default=None)


def bound(origin: Origin | None) -> AbstractContextManager[None]:
    """Within this block (and the threads it hands work to), changes are recorded as `origin`'s."""
    return scoped(_ORIGIN, origin)


def record(
    unit: Unit,
    action: str,
    entity: str,
    entity_id: str,
    detail: Mapping[str, Any] | None = None,
    *,
    origin: Origin | None = None,
) -> None:
    """Record one change, in `unit`'s transaction: it commits with the change or not at all.

    `action` is what was done (the mutation's name, e.g. "updateUser"); `detail` what changed,
    JSON-ready (no secrets)."""
    who = origin or _ORIGIN.get() or Origin(None)
    unit.insert_row(
        audit_log,
        {
            "at": unit.now,
            "actor_id": who.actor_id,
            "address": None if who.address is None else who.address[:64],
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "detail": dict(detail or {}),
        },
    )


def read(
    engine: Engine,
    *,
    limit: int = 100,
    before_seq: int | None = None,
    entity_id: str | None = None,
    actor_id: str | None = None,
) -> list[AuditEntry]:
    """The newest entries first (at most `limit`), optionally older than `before_seq` (paging)."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(max(1, min(limit, 1000)))
    if before_seq is not None:
        query = query.where(audit_log.c.seq < before_seq)
    if entity_id is not None:
        query = query.where(audit_log.c.entity_id == entity_id)
    if actor_id is not None:
        query = query.where(audit_log.c.actor_id == actor_id)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [AuditEntry(**{**r, "seq": int(r["seq"])}) for r in rows]  # the columns are its fields
