"""Presence: which server processes hold a user's agent connections, and so its pcStatus.

`PresenceStore` is a part of `Store` (hedge.store.repository); the rows are hedge.store.presence,
the status change and its feed event hedge.store.presence_effects.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import timedelta

from hedge.domain.enums import PCStatus
from hedge.domain.models import User
from hedge.store import presence as presence_rows
from hedge.store import presence_effects
from hedge.store.history import Cause
from hedge.store.unit import Unit


class PresenceStore:
    def _unit(self, cause: Cause | None = None) -> AbstractContextManager[Unit]:  # pragma: no cover
        raise NotImplementedError

    def presence_join(self, user_id: str, process_id: str, connections: int, ttl: timedelta) -> User:
        """A process now holds connections of the user: the user is ONLINE."""
        with self._unit() as unit:
            user = unit.require(User, user_id)
            presence_rows.hold(unit, user_id, process_id, connections, unit.now + ttl)
            return self._set_status(unit, user, PCStatus.ONLINE)

    def presence_leave(self, user_id: str, process_id: str) -> User:
        """The process holds none any more: OFFLINE unless another process still holds one."""
        with self._unit() as unit:
            user = unit.require(User, user_id)
            presence_rows.release(unit, user_id, process_id)
            if presence_rows.held_anywhere(unit, user_id):
                return user
            return self._set_status(unit, user, PCStatus.OFFLINE)

    def presence_refresh(self, process_id: str, held: Mapping[str, int], ttl: timedelta) -> None:
        """Keep this process's rows alive (its heartbeat)."""
        if not held:
            return
        with self._unit() as unit:
            for user_id, connections in sorted(held.items()):
                presence_rows.hold(unit, user_id, process_id, connections, unit.now + ttl)

    def presence_sweep(self) -> list[User]:
        """Users left ONLINE by a process that is gone go OFFLINE; expired rows are dropped."""
        with self._unit() as unit:
            changed = []
            for user_id in presence_rows.orphaned_online(unit):
                user = unit.require(User, user_id)
                if not presence_rows.held_anywhere(unit, user_id):
                    changed.append(self._set_status(unit, user, PCStatus.OFFLINE))
            presence_rows.drop_expired(unit)
            return changed

    @staticmethod
    def _set_status(unit: Unit, user: User, status: PCStatus) -> User:
        return presence_effects.set_pc_status(unit, user, status)
