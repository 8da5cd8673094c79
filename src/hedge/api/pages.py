"""`positionPage`: one page of positions, newest first, and how many match (the console reads its
first page with it, so the first load does not wait for every row)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from hedge.api import convert
from hedge.api import gqltypes as g
from hedge.api.context import Context
from hedge.domain import enums
from hedge.domain.authz import scope_user
from hedge.domain.errors import ValidationError
from hedge.store.pages import MAX_PAGE, position_page


@strawberry.type(description="A page of positions, newest first (createdAt, then id)")
class PositionPage:
    total: int = strawberry.field(description="how many positions match the filters, on all pages")
    positions: list[g.Position]


@strawberry.type
class PageQuery:
    @strawberry.field
    async def position_page(
        self,
        info: Info[Context, None],
        user_id: strawberry.ID | None = None,
        account_id: strawberry.ID | None = None,
        status: enums.PositionStatus | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> PositionPage:
        """Positions newest first, `limit` (1-1000) of them after skipping `offset`, with the total.
        A CLIENT sees its own only, as with listPositions."""
        c = info.context
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError("limit", f"must be between 1 and {MAX_PAGE}, was {limit}")
        if offset < 0:
            raise ValidationError("offset", f"must be >= 0, was {offset}")
        scope = scope_user(c.actor, user_id)
        account = None if account_id is None else str(account_id)
        page = await c.run(position_page, c.services.store.engine, scope, account, status, offset, limit)
        return PositionPage(total=page.total, positions=[convert.position(p) for p in page.positions])
