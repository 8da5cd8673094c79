"""A page of positions, newest first, with the count of all that match (the console's first read)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from hedge.domain.enums import PositionStatus
from hedge.domain.models import Position
from hedge.domain.rows import from_mapping
from hedge.store.tables import positions

MAX_PAGE = 1000


@dataclass(frozen=True)
class PositionPage:
    total: int  # how many positions match the filters, on every page
    positions: list[Position]  # at most `limit` of them, newest first (createdAt, then id)


def position_page(
    engine: Engine,
    user_id: str | None,
    account_id: str | None,
    status: PositionStatus | None,
    offset: int,
    limit: int,
) -> PositionPage:
    """The `limit` newest positions after skipping `offset`, and how many match in all.

    One read transaction for both, so the count and the rows agree."""
    where = []
    if user_id is not None:
        where.append(positions.c.user_id == user_id)
    if account_id is not None:
        where.append(positions.c.account_id == account_id)
    if status is not None:
        where.append(positions.c.status == status.value)
    rows = (
        select(positions)
        .where(*where)
        .order_by(positions.c.created_at.desc(), positions.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(positions).where(*where)).scalar_one()
        found = [from_mapping(Position, r) for r in conn.execute(rows).mappings()]
    return PositionPage(total=int(total), positions=found)
