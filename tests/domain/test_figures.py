"""Per-position figures: the distance to a trail's trigger (the trail rule as a distance) and the
checks a report must pass."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hedge.domain.enums import Side, TrailMode
from hedge.domain.errors import ValidationError
from hedge.domain.figures import MAX_REPORT, PositionFigures, check_report, trail_distance_pips
from hedge.domain.trail import should_fire

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
PIP = Decimal("0.01")
ENTRY = Decimal("150.000")


def figures(position_id: str = "p1", **fields: object) -> PositionFigures:
    base: dict[str, object] = {
        "price": Decimal("150.1"),
        "unrealized_pl": Decimal("-12.5"),
        "currency": "JPY",
        "trail_distance_pips": Decimal("3.5"),
        "at": NOW,
    }
    base.update(fields)
    return PositionFigures(position_id, **base)  # type: ignore[arg-type]


def test_from_entry_buy_distance_is_the_width_less_the_pips_moved_up() -> None:
    assert (
        trail_distance_pips(
            Side.BUY, TrailMode.FROM_ENTRY, ENTRY, ENTRY, Decimal(10), PIP, Decimal("150.030")
        )
        == 7
    )
    assert (
        trail_distance_pips(
            Side.BUY, TrailMode.FROM_ENTRY, ENTRY, ENTRY, Decimal(10), PIP, Decimal("149.950")
        )
        == 15
    )


def test_from_entry_sell_distance_counts_the_move_down_as_progress() -> None:
    assert (
        trail_distance_pips(
            Side.SELL, TrailMode.FROM_ENTRY, ENTRY, ENTRY, Decimal(10), PIP, Decimal("149.960")
        )
        == 6
    )


def test_trailing_stop_distance_is_the_width_less_the_retrace_from_the_best() -> None:
    best = Decimal("150.500")
    assert (
        trail_distance_pips(
            Side.BUY, TrailMode.TRAILING_STOP, ENTRY, best, Decimal(20), PIP, Decimal("150.420")
        )
        == 12
    )
    sell_best = Decimal("149.500")
    got = trail_distance_pips(
        Side.SELL, TrailMode.TRAILING_STOP, ENTRY, sell_best, Decimal(20), PIP, Decimal("149.650")
    )
    assert got == 5


def test_width_zero_is_always_at_its_trigger() -> None:
    assert (
        trail_distance_pips(Side.BUY, TrailMode.FROM_ENTRY, ENTRY, ENTRY, Decimal(0), PIP, Decimal("149"))
        == 0
    )


@pytest.mark.parametrize(
    ("side", "mode"),
    list(itertools.product([Side.BUY, Side.SELL], [TrailMode.FROM_ENTRY, TrailMode.TRAILING_STOP])),
)
def test_distance_at_or_below_zero_exactly_when_the_trail_rule_fires(side: Side, mode: TrailMode) -> None:
    best = Decimal("150.200") if side is Side.BUY else Decimal("149.800")
    for width in (Decimal(0), Decimal("0.5"), Decimal(5), Decimal(20)):
        for step in range(-400, 401, 7):
            price = ENTRY + Decimal(step) / 1000
            fires = should_fire(side, mode, ENTRY, best, width, PIP, price)
            assert (trail_distance_pips(side, mode, ENTRY, best, width, PIP, price) <= 0) is fires, (
                width,
                price,
            )


def test_report_of_sound_figures_passes() -> None:
    check_report([figures("p1"), figures("p2", price=None, unrealized_pl=None, currency=None)], NOW)


@pytest.mark.parametrize(
    ("report", "field"),
    [
        ([], "figures"),
        ([figures(str(n)) for n in range(MAX_REPORT + 1)], "figures"),
        ([figures("p1"), figures("p1")], "figures"),
        ([figures(price=Decimal(0))], "price"),
        ([figures(price=Decimal("-1"))], "price"),
        ([figures(unrealized_pl=Decimal("NaN"))], "unrealizedPL"),
        ([figures(trail_distance_pips=Decimal("Infinity"))], "trailDistancePips"),
        ([figures(currency="yen")], "currency"),
        ([figures(currency="")], "currency"),
        ([figures(at=NOW + timedelta(minutes=5))], "at"),
        ([figures(at=datetime(2026, 12, 2, 9, 0))], "at"),
    ],
)
def test_report_with_bad_figures_is_refused_naming_the_field(
    report: list[PositionFigures], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        check_report(report, NOW)
    assert str(refused.value).startswith(field)


def test_report_a_little_ahead_of_the_servers_clock_is_accepted() -> None:
    check_report([figures(at=NOW + timedelta(seconds=30))], NOW)
