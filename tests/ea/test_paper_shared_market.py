"""One market in a file for several paper EAs: offsets and spreads per EA, moves by whoever is due."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from hedge.domain.clock import ManualClock
from hedge.domain.errors import ValidationError
from hedge.ea.paper_shared_market import SharedMarketFeed, read_shared_bids, set_shared_bid

D = Decimal


def feed(path: Path, clock: ManualClock, **options: object) -> SharedMarketFeed:
    settings: dict[str, object] = {"moves": False, "tick_interval_ms": 100, "seed": 1}
    settings.update(options)
    return SharedMarketFeed(path, ["USDJPY", "EURUSD"], clock, **settings)  # type: ignore[arg-type]


def test_first_feed_writes_start_prices_the_second_quotes_them_with_its_offset(tmp_path: Path) -> None:
    path, clock = tmp_path / "market.json", ManualClock()
    one = feed(path, clock).initial()
    two = feed(path, clock, offset_pips=D("0.2"), spread_pips=D("1.5")).initial()
    assert read_shared_bids(path) == {"USDJPY": D("150.000"), "EURUSD": D("1.08000")}
    assert [(q.symbol, q.bid, q.ask) for q in one] == [
        ("USDJPY", D("150.000"), D("150.010")), ("EURUSD", D("1.08000"), D("1.08010")),
    ]  # fmt: skip
    assert [(q.bid, q.ask) for q in two] == [(D("150.002"), D("150.017")), (D("1.08002"), D("1.08017"))]


def test_static_market_moves_only_when_someone_writes_it(tmp_path: Path) -> None:
    path, clock = tmp_path / "market.json", ManualClock()
    quoting = feed(path, clock)
    quoting.initial()
    clock.advance(10)
    assert quoting.next_quotes()[0].bid == D("150.000")
    set_shared_bid(path, "USDJPY", D("149.5"))
    assert quoting.next_quotes()[0].bid == D("149.5")


def test_random_market_moves_once_per_interval_for_every_feed(tmp_path: Path) -> None:
    path, clock = tmp_path / "market.json", ManualClock()
    first, second = feed(path, clock, moves=True, seed=1), feed(path, clock, moves=True, seed=2)
    first.initial()
    second.initial()
    clock.advance(0.2)
    moved = first.next_quotes()[0].bid
    assert moved != D("150.000")
    assert second.next_quotes()[0].bid == moved  # not due again: it quotes what the first wrote
    clock.advance(0.2)
    assert second.next_quotes()[0].bid != moved


def test_symbol_missing_from_the_file_is_added_at_its_start_price(tmp_path: Path) -> None:
    path = tmp_path / "market.json"
    path.write_text(json.dumps({"version": 1, "timeMs": 0, "bids": {"USDJPY": "151"}}), encoding="utf-8")
    quotes = feed(path, ManualClock()).initial()
    assert [q.bid for q in quotes] == [D("151"), D("1.08000")] and "EURUSD" in read_shared_bids(path)


@pytest.mark.parametrize(
    "text", ["{not json", "[]", '{"version": 2, "bids": {}}', '{"version": 1, "bids": 5}']
)
def test_broken_market_file_is_a_validation_error_naming_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "market.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        feed(path, ManualClock()).initial()
    assert caught.value.field == str(path)
