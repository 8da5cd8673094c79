"""Query resolvers: every read is limited to the caller's own rows unless the caller is ADMIN."""

from __future__ import annotations

from typing import TypeVar

import strawberry
from strawberry.types import Info

from hedge.api import convert
from hedge.api import gqltypes as g
from hedge.api.context import Context
from hedge.domain import enums
from hedge.domain.authz import check_owner, scope_user
from hedge.domain.errors import NotFound
from hedge.domain.models import Account, Action, Position

R = TypeVar("R", Account, Position, Action)


async def _owned(c: Context, model: type[R], id: strawberry.ID) -> R | None:
    """The row `id` of `model` (from the cache), None when there is none; FORBIDDEN when it is
    another user's and the caller is a CLIENT."""
    found = await c.run(c.services.cache.get, model, str(id))
    if found is not None:
        check_owner(c.actor, found.user_id, model.__name__, found.id)
    return found


@strawberry.type
class Query:
    @strawberry.field
    async def me(self, info: Info[Context, None]) -> g.User:
        c = info.context
        found = await c.run(c.services.store.get_user, c.actor.user_id)
        if found is None:
            raise NotFound("User", c.actor.user_id)
        return convert.user(found)

    @strawberry.field
    async def get_user(self, info: Info[Context, None], id: strawberry.ID) -> g.User | None:
        c = info.context
        check_owner(c.actor, str(id), "User", str(id))
        found = await c.run(c.services.store.get_user, str(id))
        return None if found is None else convert.user(found)

    @strawberry.field
    async def list_users(self, info: Info[Context, None]) -> list[g.User]:
        c = info.context
        users = await c.run(c.services.store.list_users)
        return [convert.user(u) for u in users if c.actor.is_admin or u.id == c.actor.user_id]

    @strawberry.field
    async def get_account(self, info: Info[Context, None], id: strawberry.ID) -> g.Account | None:
        found = await _owned(info.context, Account, id)
        return None if found is None else convert.account(found)

    @strawberry.field
    async def list_accounts(
        self, info: Info[Context, None], user_id: strawberry.ID | None = None
    ) -> list[g.Account]:
        c = info.context
        scope = scope_user(c.actor, user_id)
        if scope is None:
            accounts = await c.run(c.services.store.list_accounts, None)
        else:
            accounts = await c.run(c.services.cache.accounts_of, scope)
        return [convert.account(a) for a in accounts]

    @strawberry.field
    async def get_position(self, info: Info[Context, None], id: strawberry.ID) -> g.Position | None:
        found = await _owned(info.context, Position, id)
        return None if found is None else convert.position(found)

    @strawberry.field
    async def list_positions(
        self,
        info: Info[Context, None],
        user_id: strawberry.ID | None = None,
        account_id: strawberry.ID | None = None,
        status: enums.PositionStatus | None = None,
    ) -> list[g.Position]:
        c = info.context
        scope = scope_user(c.actor, user_id)
        found = await c.run(c.services.store.list_positions, scope, account_id, status)
        return [convert.position(p) for p in found]

    @strawberry.field
    async def get_action(self, info: Info[Context, None], id: strawberry.ID) -> g.Action | None:
        found = await _owned(info.context, Action, id)
        return None if found is None else convert.action(found)

    @strawberry.field
    async def list_actions(
        self,
        info: Info[Context, None],
        user_id: strawberry.ID | None = None,
        position_id: strawberry.ID | None = None,
        status: enums.ActionStatus | None = None,
    ) -> list[g.Action]:
        c = info.context
        scope = scope_user(c.actor, user_id)
        found = await c.run(c.services.store.list_actions, scope, position_id, status)
        return [convert.action(a) for a in found]
