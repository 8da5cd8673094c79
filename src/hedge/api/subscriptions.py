"""Subscriptions: onCreateX / onUpdateX filtered by userId, fed by the change feed.

A CLIENT gets its own rows (userId null means its own); asking for another user's rows is
refused with FORBIDDEN before any data is sent. ADMIN with userId null sees every user.
`after` (a `feedCursor`) first replays the changes since that cursor, then the live ones; when
changes cannot all be delivered the subscription ends with RESYNC_REQUIRED.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hedge import hops
from hedge.api import alert_types
from hedge.api import gqltypes as g
from hedge.api.broker import ResyncRequired
from hedge.api.context import Context
from hedge.api.errors import RESYNC_REQUIRED, coded
from hedge.api.feed_cursor import parse_cursor
from hedge.domain.authz import scope_user

AFTER = strawberry.argument(description="a feedCursor: first deliver every change after it, then live ones")


async def _stream(
    info: Info[Context, None], entity: str, op: str, user_id: strawberry.ID | None, after: str | None = None
) -> AsyncIterator[Any]:
    c = info.context
    scope = scope_user(c.actor, None if user_id is None else str(user_id))  # raises before any data
    cursor = None if after is None else parse_cursor(after)
    broker = c.services.broker

    async def generate() -> AsyncGenerator[Any, None]:
        try:
            async with broker.subscribe(entity, op, scope) as sub:
                if cursor is not None:
                    async for value in broker.replay(sub, cursor):
                        yield value
                while True:  # values come converted to GraphQL objects, once for all subscribers
                    value = await broker.next_value(sub)
                    if hops.ON:
                        hops.stamp("s.sub_yield", getattr(value, "id", None))
                    yield value
        except ResyncRequired as exc:
            raise coded(RESYNC_REQUIRED, f"{exc}; read the rows again and resubscribe") from None

    return generate()


def feed(entity: str, op: str, shows: type) -> Any:
    """The subscription field for `entity`'s `op` (INSERT or UPDATE) changes, each shown as `shows`.

    Every onCreateX / onUpdateX field takes the same arguments (userId, after) and reads the same
    stream; only the entity, the operation and the GraphQL type differ, so one resolver serves all.
    """

    async def resolve(
        info: Info[Context, None],
        user_id: strawberry.ID | None = None,
        after: Annotated[str | None, AFTER] = None,
    ) -> AsyncIterator[Any]:
        return await _stream(info, entity, op, user_id, after)

    resolve.__annotations__["return"] = AsyncIterator[shows]  # type: ignore[valid-type]
    return strawberry.subscription(resolver=resolve)


@strawberry.type
class Subscription:
    on_create_position = feed("Position", "INSERT", g.Position)
    on_update_position = feed("Position", "UPDATE", g.Position)
    on_create_action = feed("Action", "INSERT", g.Action)
    on_update_action = feed("Action", "UPDATE", g.Action)
    on_update_account = feed("Account", "UPDATE", g.Account)
    on_create_alert = feed("Alert", "INSERT", alert_types.Alert)
    on_update_alert = feed("Alert", "UPDATE", alert_types.Alert)
