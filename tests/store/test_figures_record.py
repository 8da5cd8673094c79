"""The store's figure reports on both engines: one transaction, latest wins per position, and the
count of positions that took the report is the rows inserted or replaced (the others held newer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.store.conftest import seed
from tests.store.record_helpers import agent, entry

from hedge.domain.figures import PositionFigures
from hedge.store import figures
from hedge.store.repository import Store

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def at(position_id: str, seconds_ago: int, price: str = "150.1") -> PositionFigures:
    return PositionFigures(
        position_id, Decimal(price), Decimal("4"), "JPY", Decimal("6"), NOW - timedelta(seconds=seconds_ago)
    )


def test_a_report_counts_the_positions_it_replaced_and_keeps_the_newer_figures(store_url: str) -> None:
    store = Store(store_url)
    try:
        world = seed(store)
        a, b, c = (entry(world, world.account_id)[1].id for _ in range(3))
        owner = agent(world.client.user_id)
        assert figures.record(store.engine, owner, [at(a, 30), at(b, 30)], NOW) == 2  # both new
        taken = figures.record(store.engine, owner, [at(a, 10, "151"), at(b, 60, "149"), at(c, 60)], NOW)
        assert taken == 2  # a replaced, b older than what is held, c new
        held = figures.read(store.engine, [a, b, c])
        assert held[a].price == Decimal("151") and held[b].price == Decimal("150.1")
        assert held[c].at == NOW - timedelta(seconds=60)
        assert figures.record(store.engine, owner, [at(a, 10, "152")], NOW) == 0  # same time: not newer
        assert figures.read(store.engine, [a])[a].price == Decimal("151")
    finally:
        store.close()
