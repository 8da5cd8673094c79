"""Who may do what: the contract's authorization rules as pure functions over an Actor.

ADMIN reads and writes everything. CLIENT reads and writes only rows whose userId is its own;
its one cross-user write is triggerActions on its own position. Only ADMIN may list another
user's action in a position's triggerActionIds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hedge.domain.enums import UserRole
from hedge.domain.errors import Forbidden
from hedge.domain.ids import UserId


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: UserId
    role: UserRole

    @property
    def is_admin(self) -> bool:
        return self.role is UserRole.ADMIN


def require_admin(actor: Actor, operation: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"{operation} needs the ADMIN role")


def check_owner(actor: Actor, owner_id: str, entity: str, entity_id: str) -> None:
    """Raise Forbidden unless the actor is ADMIN or owns the row."""
    if not actor.is_admin and owner_id != actor.user_id:
        raise Forbidden(f"{entity} {entity_id!r} belongs to another user")


def scope_user(actor: Actor, requested: str | None) -> UserId | None:
    """The userId a read or subscription is limited to: None means all users (ADMIN only).

    A CLIENT asking for null gets its own; asking for another user is Forbidden.
    """
    if actor.is_admin:
        return UserId(requested) if requested is not None else None
    if requested is not None and requested != actor.user_id:
        raise Forbidden(f"a CLIENT may only read its own rows, asked for user {requested!r}")
    return actor.user_id


def owner_for_create(actor: Actor, requested: str | None) -> UserId:
    """The owner of a row the actor creates: the caller, or any user when ADMIN names one."""
    if requested is None or requested == actor.user_id:
        return actor.user_id
    if not actor.is_admin:
        raise Forbidden(f"only ADMIN may create rows for another user, asked for user {requested!r}")
    return UserId(requested)


def check_trigger_owners(actor: Actor, position_owner: str, action_owners: Iterable[tuple[str, str]]) -> None:
    """Only ADMIN may list another user's action (id, owner) in a position's triggerActionIds."""
    if actor.is_admin:
        return
    for action_id, owner in action_owners:
        if owner != position_owner:
            raise Forbidden(
                f"only ADMIN may list another user's action in triggerActionIds, action {action_id!r}"
            )
