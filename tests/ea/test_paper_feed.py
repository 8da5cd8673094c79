"""Price feeds of the paper terminal: seeded random walk, still market, CSV replay."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from hedge.domain.errors import ValidationError
from hedge.ea.paper_feed import RandomFeed, ReplayFeed, StaticFeed, build_feed
from hedge.ea.paper_market import Market

D = Decimal


def test_static_feed_starts_at_sensible_prices_with_symbol_digits() -> None:
    quotes = {q.symbol: q for q in StaticFeed(["USDJPY", "EURUSD", "XAUUSD"]).initial()}
    assert (quotes["USDJPY"].bid, quotes["USDJPY"].ask) == (D("150.000"), D("150.010"))
    assert (quotes["EURUSD"].bid, quotes["EURUSD"].ask) == (D("1.08000"), D("1.08010"))
    assert (quotes["XAUUSD"].bid, quotes["XAUUSD"].ask) == (D("2000.00"), D("2000.30"))


def test_random_feed_with_same_seed_gives_same_walk() -> None:
    one, two = RandomFeed(["USDJPY", "EURUSD"], seed=7), RandomFeed(["USDJPY", "EURUSD"], seed=7)
    walk_one = [one.next_quotes() for _ in range(20)]
    assert walk_one == [two.next_quotes() for _ in range(20)]
    assert walk_one[0] != walk_one[-1]


def test_random_feed_keeps_spread_and_positive_prices() -> None:
    feed = RandomFeed(["EURUSD"], seed=1, spread_pips=D("2"))
    for _ in range(200):
        [quote] = feed.next_quotes()
        assert quote.bid > 0 and quote.ask - quote.bid == D("0.0002")


def test_replay_feed_plays_one_time_group_per_tick(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text(
        "timeMs,symbol,bid,ask\n1000,USDJPY,150.000,150.010\n1000,EURUSD,1.08000,1.08010\n"
        "1100,USDJPY,150.050,150.060\n1200,USDJPY,149.900,149.910\n"
    )
    feed = ReplayFeed(path)
    assert {q.symbol: q.bid for q in feed.initial()} == {"USDJPY": D("150.000"), "EURUSD": D("1.08000")}
    assert [q.bid for q in feed.next_quotes()] == [D("150.050")]
    assert [q.bid for q in feed.next_quotes()] == [D("149.900")]
    assert feed.next_quotes() == []


def test_replay_feed_without_header_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text("5,XAUUSD,2001.10,2001.40\n")
    assert [q.ask for q in ReplayFeed(path).initial()] == [D("2001.40")]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("1,USDJPY,150.0\n", "line 1 must have 4 columns"),
        ("x1,USDJPY,150.0,150.1\n2,USDJPY,1,1\n", "timeMs must be an integer"),
        ("1,USDJPY,-1,150.1\n", "bid must be > 0, was -1"),
        ("1,USDJPY,150,abc\n", "ask must be a number"),
        ("", "at least one row"),
    ],
)
def test_replay_feed_bad_file_names_line_and_problem(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValidationError, match=expected):
        ReplayFeed(path)


def test_build_feed_unknown_spec_is_refused() -> None:
    with pytest.raises(ValidationError, match="random, static or replay:FILE"):
        build_feed("live", ["USDJPY"], None, None)


def test_market_refuses_crossed_or_non_positive_quote() -> None:
    market = Market()
    with pytest.raises(ValidationError, match="ask"):
        market.set_price("USDJPY", D("150.010"), D("150.000"), 0)
    with pytest.raises(ValidationError, match="bid"):
        market.set_price("USDJPY", D("0"), D("1"), 0)


def test_market_rounds_quotes_to_symbol_digits() -> None:
    quote = Market().set_price("EURUSD", D("1.080004"), D("1.0801"), 0)
    assert (str(quote.bid), str(quote.ask)) == ("1.08000", "1.08010")
