"""Writes of users beyond creation: updateUser (deactivation included) and rotateToken.

Both bump the user's version, so the change feed carries them to every server process, where
the token cache drops the user's entries and open WebSockets of a refused token are closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select, update

from hedge.domain.authz import Actor
from hedge.domain.enums import UserRole
from hedge.domain.errors import ValidationError
from hedge.domain.models import User
from hedge.domain.tokens import new_token
from hedge.domain.users import apply_user_update, audit_detail, check_may_rotate
from hedge.store import audit
from hedge.store.account_store import hash_token
from hedge.store.repository import Store
from hedge.store.tables import users
from hedge.store.unit import Unit


def _other_active_admins(unit: Unit, user_id: str) -> int:
    query = select(func.count()).where(
        users.c.role == UserRole.ADMIN.value, users.c.is_active.is_(True), users.c.id != user_id
    )
    return int(unit.conn.execute(query).scalar_one())


def _email_taken(unit: Unit, email: str, user_id: str) -> bool:
    query = select(users.c.id).where(users.c.email == email, users.c.id != user_id)
    return unit.conn.execute(query).first() is not None


def update_user(store: Store, actor: Actor, user_id: str, changes: Mapping[str, Any]) -> User:
    with store.transaction() as unit:
        before = unit.require(User, user_id)
        after = apply_user_update(actor, before, changes, unit.now, _other_active_admins(unit, user_id))
        if after is before:
            return before
        if after.email != before.email and _email_taken(unit, after.email, user_id):
            raise ValidationError("email", f"is already used by another user, was {after.email!r}")
        unit.update(before, after)
        audit.record(unit, "updateUser", "User", user_id, audit_detail(before, after))
        return after


def rotate_token(store: Store, actor: Actor, user_id: str) -> tuple[User, str]:
    """A new token for the user (returned once); the old one stops working at once."""
    token = new_token()
    with store.transaction() as unit:
        before = unit.require(User, user_id)
        check_may_rotate(actor, before)
        after = unit.update(before, _bumped(before, unit))
        unit.conn.execute(update(users).where(users.c.id == user_id).values(token_hash=hash_token(token)))
        audit.record(unit, "rotateToken", "User", user_id)
    return after, token


def _bumped(user: User, unit: Unit) -> User:
    return replace(user, version=user.version + 1, updated_at=unit.now)
