"""Changing a user: who may change what (name, email, isActive) and what the change is.

A CLIENT may rename itself and change its own email; only an ADMIN may change another user or
activate and deactivate anyone. The last active ADMIN cannot be deactivated (nobody could undo it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from hedge.domain import values as v
from hedge.domain.authz import Actor, check_owner, require_admin
from hedge.domain.enums import UserRole
from hedge.domain.errors import ValidationError
from hedge.domain.models import User

USER_FIELDS = frozenset({"name", "email", "is_active"})


def check_may_rotate(actor: Actor, user: User) -> None:
    """ADMIN rotates anyone's token; a CLIENT only its own."""
    check_owner(actor, user.id, "User", user.id)


def apply_user_update(
    actor: Actor, user: User, changes: Mapping[str, Any], now: datetime, other_active_admins: int
) -> User:
    """The user after `changes`; the same object when nothing changes.

    `other_active_admins`: how many active ADMINs there are besides `user` (the last one stays)."""
    unknown = set(changes) - USER_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "cannot be changed on a User")
    check_owner(actor, user.id, "User", user.id)
    fields: dict[str, Any] = {}
    if "name" in changes:
        fields["name"] = v.text(changes["name"], "name")
    if "email" in changes:
        fields["email"] = v.email(changes["email"])
    if "is_active" in changes:
        active = changes["is_active"]
        if not isinstance(active, bool):
            raise ValidationError("isActive", f"must be true or false, was {active!r}")
        if active != user.is_active:
            require_admin(actor, "activating or deactivating a user")
        if not active and user.is_active and user.role is UserRole.ADMIN and other_active_admins == 0:
            raise ValidationError("isActive", "cannot be false for the last active ADMIN")
        fields["is_active"] = active
    updated = replace(user, **fields)
    if updated == user:
        return user
    return replace(updated, version=user.version + 1, updated_at=now)


def audit_detail(before: User, after: User) -> dict[str, Any]:
    """What changed, for the audit log: {field: [before, after]}."""
    return {
        name: [getattr(before, name), getattr(after, name)]
        for name in ("name", "email", "is_active")
        if getattr(before, name) != getattr(after, name)
    }
