"""Credentials an operator manages: updateUser (deactivation), rotateToken, onUpdateUser, auditLog.

A deactivated user's or a rotated token is refused at once on HTTP, and its open WebSockets are
closed with 4403 by the socket guard (api/socket_guard.py) on every server process.
"""

from __future__ import annotations

import json
from datetime import datetime

import strawberry
from strawberry.types import Info

from hedge.api import convert
from hedge.api import gqltypes as g
from hedge.api.context import Context
from hedge.api.mutations import given
from hedge.api.subscriptions import feed
from hedge.domain.authz import require_admin
from hedge.domain.errors import ValidationError
from hedge.store import audit
from hedge.store import users as user_writes


@strawberry.input
class UpdateUserInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET


@strawberry.type(description="One recorded admin change: who, when, what, from which address")
class AuditEntry:
    id: strawberry.ID
    at: datetime
    actor_id: strawberry.ID | None = strawberry.field(description="null: the system itself")
    address: str | None
    action: str = strawberry.field(description='what was done, e.g. "updateUser", "rotateToken"')
    entity: str
    entity_id: strawberry.ID
    detail: str = strawberry.field(description="what changed, as a JSON object (never a token)")


def _entry(e: audit.AuditEntry) -> AuditEntry:
    return AuditEntry(
        id=strawberry.ID(str(e.seq)),
        at=e.at,
        actor_id=None if e.actor_id is None else strawberry.ID(e.actor_id),
        address=e.address,
        action=e.action,
        entity=e.entity,
        entity_id=strawberry.ID(e.entity_id),
        detail=json.dumps(e.detail, sort_keys=True),
    )


@strawberry.type
class AccessMutation:
    @strawberry.mutation
    async def update_user(self, info: Info[Context, None], input: UpdateUserInput) -> g.User:
        c = info.context.rated()
        changes = given(input, "name", "email", "is_active")
        user = await c.run(user_writes.update_user, c.services.store, c.actor, str(input.id), changes)
        return convert.user(c.written(user))

    @strawberry.mutation
    async def rotate_token(self, info: Info[Context, None], user_id: strawberry.ID) -> g.CreateUserPayload:
        c = info.context.rated()
        user, token = await c.run(user_writes.rotate_token, c.services.store, c.actor, str(user_id))
        c.services.cache.written(user)
        return g.CreateUserPayload(user=convert.user(user), token=token)


@strawberry.type
class AccessQuery:
    @strawberry.field
    async def audit_log(
        self,
        info: Info[Context, None],
        limit: int = 100,
        before: strawberry.ID | None = None,
        entity_id: strawberry.ID | None = None,
        actor_id: strawberry.ID | None = None,
    ) -> list[AuditEntry]:
        c = info.context
        require_admin(c.actor, "auditLog")
        before_seq = None if before is None else _seq(str(before))
        entries = await c.run(
            audit.read,
            c.services.store.engine,
            limit=limit,
            before_seq=before_seq,
            entity_id=None if entity_id is None else str(entity_id),
            actor_id=None if actor_id is None else str(actor_id),
        )
        return [_entry(e) for e in entries]


def _seq(value: str) -> int:
    if not value.isdigit():
        raise ValidationError("before", f"must be an audit entry id, was {value[:40]!r}")
    return int(value)


@strawberry.type
class AccessSubscription:
    on_update_user = feed("User", "UPDATE", g.User)
