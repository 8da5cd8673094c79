"""The agent's figures of its OPEN positions for the console: from the last quote, at its time."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.agent.core_rows import ACCOUNT, core, position

from hedge.agent.figures import figures, report_input
from hedge.domain.enums import PositionStatus, Side, TrailMode
from hedge.ea.protocol_messages import Price

QUOTE_MS = 1_796_000_000_000  # the quote's own time
NOW_MS = QUOTE_MS + 5_000


def open_row(**fields: object) -> object:
    base: dict[str, object] = {
        "entry_price": Decimal("150.000"),
        "mt_ticket": "7",
        "trail_width": Decimal(10),
    }
    base.update(fields)
    return position(PositionStatus.OPEN, version=3, **base)


def test_figures_of_an_open_buy_come_from_the_last_quote_at_its_time() -> None:
    agent = core()
    agent.apply_row(open_row())  # type: ignore[arg-type]
    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.040"), Decimal("150.050"), QUOTE_MS))
    [found] = figures(agent, NOW_MS)
    assert found.position_id == "pos-A"
    assert found.price == Decimal("150.040")  # a BUY closes at the bid
    assert found.unrealized_pl == Decimal("400") and found.currency == "JPY"  # 0.04 x 0.1 lot x 100,000
    assert found.trail_distance_pips == Decimal(6)  # 10 pips wanted, 4 moved
    assert found.at == datetime.fromtimestamp(QUOTE_MS / 1000, UTC)


def test_figures_of_a_trailing_stop_sell_measure_from_its_best_price() -> None:
    agent = core()
    agent.apply_row(open_row(side=Side.SELL, trail_mode=TrailMode.TRAILING_STOP, trail_width=Decimal(20)))  # type: ignore[arg-type]
    agent.on_price(
        ACCOUNT, Price("USDJPY", Decimal("149.790"), Decimal("149.800"), QUOTE_MS)
    )  # best ask 149.800
    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("149.840"), Decimal("149.850"), QUOTE_MS + 1))
    [found] = figures(agent, NOW_MS)
    assert found.price == Decimal("149.850") and found.trail_distance_pips == Decimal(15)  # 5 of 20 retraced


def test_no_quote_yet_means_no_figures() -> None:
    agent = core()
    agent.apply_row(open_row())  # type: ignore[arg-type]
    assert figures(agent, NOW_MS) == []


def test_a_position_without_a_watched_trail_has_no_distance() -> None:
    agent = core()
    agent.apply_row(open_row(trail_width=None))  # type: ignore[arg-type]
    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.040"), Decimal("150.050"), QUOTE_MS))
    [found] = figures(agent, NOW_MS)
    assert found.trail_distance_pips is None and found.unrealized_pl == Decimal("400")


def test_positions_not_open_are_not_reported() -> None:
    agent = core()
    agent.apply_row(position(PositionStatus.PENDING))
    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.040"), Decimal("150.050"), QUOTE_MS))
    assert figures(agent, NOW_MS) == []


def test_a_quote_stamped_ahead_of_the_pc_clock_is_reported_at_the_pc_time() -> None:
    agent = core()
    agent.apply_row(open_row())  # type: ignore[arg-type]
    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.040"), Decimal("150.050"), NOW_MS + 600_000))
    [found] = figures(agent, NOW_MS)
    assert found.at == datetime.fromtimestamp(NOW_MS / 1000, UTC)


def test_report_input_carries_numbers_and_the_time_as_the_api_wants_them() -> None:
    agent = core()
    agent.apply_row(open_row())  # type: ignore[arg-type]
    agent.on_price(ACCOUNT, Price("USDJPY", Decimal("150.040"), Decimal("150.050"), QUOTE_MS))
    sent: object = report_input(figures(agent, NOW_MS))["figures"]
    assert isinstance(sent, list) and len(sent) == 1
    assert sent[0] == {"positionId": "pos-A", "price": 150.04, "unrealizedPL": 400.0, "currency": "JPY",
                    "trailDistancePips": 6.0, "at": "2026-11-30T00:53:20.000Z"}  # fmt: skip
