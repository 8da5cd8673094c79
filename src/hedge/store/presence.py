"""pcStatus across server processes: each process keeps a row per user it holds a live agent
connection for, refreshed before it expires. A user is ONLINE while any unexpired row exists.

All writes lock the user's row first (FOR UPDATE on PostgreSQL, the write lock on SQLite), so
a process that sees its user leave and another that sees it arrive cannot interleave.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, insert, select, update

from hedge.store.tables import presence, users
from hedge.store.unit import Unit


def hold(unit: Unit, user_id: str, process_id: str, connections: int, expires_at: datetime) -> None:
    """This process holds `connections` connections of the user until `expires_at` (upsert)."""
    values = {"connections": connections, "expires_at": expires_at}
    where = (presence.c.user_id == user_id) & (presence.c.process_id == process_id)
    if unit.conn.execute(update(presence).where(where).values(**values)).rowcount == 0:
        unit.conn.execute(insert(presence).values(user_id=user_id, process_id=process_id, **values))


def release(unit: Unit, user_id: str, process_id: str) -> None:
    where = (presence.c.user_id == user_id) & (presence.c.process_id == process_id)
    unit.conn.execute(delete(presence).where(where))


def held_anywhere(unit: Unit, user_id: str) -> bool:
    """Whether some process holds a connection of the user that has not expired."""
    live = select(presence.c.user_id).where(presence.c.user_id == user_id, presence.c.expires_at > unit.now)
    return unit.conn.execute(select(exists(live))).scalar_one() is True


def orphaned_online(unit: Unit) -> list[str]:
    """ONLINE users that no process holds any more (their process died or stopped)."""
    live = select(presence.c.user_id).where(
        presence.c.user_id == users.c.id, presence.c.expires_at > unit.now
    )
    query = select(users.c.id).where(users.c.pc_status == "ONLINE", ~exists(live)).order_by(users.c.id)
    return [str(user_id) for user_id in unit.conn.execute(query).scalars()]


def drop_expired(unit: Unit) -> None:
    unit.conn.execute(delete(presence).where(presence.c.expires_at <= unit.now))
