"""Trail rules: examples that read like the spec, and TrailBook checked against the plain reference."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.domain.enums import Side, TrailMode
from hedge.domain.errors import ValidationError
from hedge.domain.ids import PositionId
from hedge.domain.symbols import default_spec
from hedge.domain.trail import Fired, ReferenceTrail, TrailBook, should_fire

D = Decimal
JPY = D("0.01")
FE = TrailMode.FROM_ENTRY
TS = TrailMode.TRAILING_STOP
P1, P2, P3 = PositionId("p1"), PositionId("p2"), PositionId("p3")

Book = TrailBook | ReferenceTrail


@pytest.fixture(params=["TrailBook", "ReferenceTrail"])
def book(request: pytest.FixtureRequest) -> Book:
    return TrailBook() if request.param == "TrailBook" else ReferenceTrail()


def buy(book: Book, pid: PositionId, entry: str, width: str, mode: TrailMode = FE) -> list[Fired]:
    return book.add(pid, "USDJPY", Side.BUY, mode, D(entry), D(width), JPY)


def sell(book: Book, pid: PositionId, entry: str, width: str, mode: TrailMode = FE) -> list[Fired]:
    return book.add(pid, "USDJPY", Side.SELL, mode, D(entry), D(width), JPY)


def tick(book: Book, bid: str, ask: str, symbol: str = "USDJPY") -> list[Fired]:
    return book.on_price(symbol, D(bid), D(ask))


# ---- FROM_ENTRY -------------------------------------------------------------------------------


def test_from_entry_buy_fires_when_bid_reaches_width(book: Book) -> None:
    buy(book, P1, "150.000", "10")
    assert tick(book, "150.090", "150.120") == []
    assert tick(book, "150.100", "150.130") == [Fired(P1, D("150.100"), FE)]


def test_from_entry_buy_ask_beyond_width_does_not_fire(book: Book) -> None:
    buy(book, P1, "150.000", "10")
    assert tick(book, "150.050", "150.200") == []


def test_from_entry_sell_uses_ask(book: Book) -> None:
    sell(book, P1, "150.000", "10")
    assert tick(book, "149.850", "149.910") == []  # the bid moved 15 pips, the ask only 9
    assert tick(book, "149.870", "149.900") == [Fired(P1, D("149.900"), FE)]


def test_from_entry_exactly_five_pips_on_usdjpy_fires_at_width_five(book: Book) -> None:
    buy(book, P1, "150.000", "5")
    assert tick(book, "150.050", "150.060") == [Fired(P1, D("150.050"), FE)]


def test_from_entry_four_point_nine_pips_does_not_fire_at_width_five(book: Book) -> None:
    buy(book, P1, "150.000", "5")
    assert tick(book, "150.049", "150.060") == []
    assert P1 in book


def test_from_entry_fractional_width_fires_at_exact_distance(book: Book) -> None:
    sell(book, P1, "150.000", "4.9")
    assert tick(book, "149.940", "149.952") == []
    assert tick(book, "149.940", "149.951") == [Fired(P1, D("149.951"), FE)]


def test_from_entry_eurusd_width_counts_in_pips_of_0_0001(book: Book) -> None:
    pip = default_spec("EURUSD").pip_size
    book.add(P1, "EURUSD", Side.BUY, FE, D("1.10000"), D("3"), pip)
    assert book.on_price("EURUSD", D("1.10029"), D("1.10031")) == []
    assert book.on_price("EURUSD", D("1.10030"), D("1.10032")) == [Fired(P1, D("1.10030"), FE)]


@pytest.mark.parametrize("mode", [FE, TS])
def test_width_zero_fires_on_first_price(book: Book, mode: TrailMode) -> None:
    buy(book, P1, "150.000", "0", mode)
    assert tick(book, "149.500", "149.520") == [Fired(P1, D("149.500"), mode)]


@pytest.mark.parametrize("mode", [FE, TS])
def test_width_zero_fires_at_add_when_symbol_has_a_quote(book: Book, mode: TrailMode) -> None:
    tick(book, "150.010", "150.030")
    assert sell(book, P1, "150.000", "0", mode) == [Fired(P1, D("150.030"), mode)]
    assert P1 not in book


def test_add_judges_last_quote_of_its_symbol_at_once(book: Book) -> None:
    tick(book, "150.200", "150.220")
    assert buy(book, P1, "150.000", "10") == [Fired(P1, D("150.200"), FE)]
    assert buy(book, P2, "150.150", "10") == []
    assert len(book) == 1


# ---- TRAILING_STOP ----------------------------------------------------------------------------


def test_trailing_stop_buy_fires_when_bid_retraces_width_from_high(book: Book) -> None:
    buy(book, P1, "150.000", "10", TS)
    assert tick(book, "150.300", "150.310") == []  # best 150.300
    assert tick(book, "150.250", "150.260") == []
    assert tick(book, "150.350", "150.360") == []  # best 150.350
    assert tick(book, "150.251", "150.261") == []  # 9.9 pips back
    assert tick(book, "150.250", "150.400") == [Fired(P1, D("150.250"), TS)]


def test_trailing_stop_sell_fires_when_ask_retraces_width_from_low(book: Book) -> None:
    sell(book, P1, "150.000", "5", TS)
    assert tick(book, "149.780", "149.800") == []  # best (lowest ask) 149.800
    assert tick(book, "149.900", "149.849") == []  # bid irrelevant; ask 4.9 pips back
    assert tick(book, "149.800", "149.850") == [Fired(P1, D("149.850"), TS)]


def test_trailing_stop_best_starts_at_entry_price(book: Book) -> None:
    buy(book, P1, "150.000", "10", TS)
    assert tick(book, "149.950", "149.960") == []
    assert tick(book, "149.900", "149.910") == [Fired(P1, D("149.900"), TS)]


def test_trailing_stop_best_starts_where_the_caller_says(book: Book) -> None:
    # the agent starts it from the bid at the fill: a BUY filled at the ask 150.010, bid 150.000
    book.add(P1, "USDJPY", Side.BUY, TS, D("150.010"), D("10"), JPY, best_price=D("150.000"))
    assert tick(book, "149.905", "149.915") == []  # 9.5 pips under the bid at the fill
    assert tick(book, "149.900", "149.910") == [Fired(P1, D("149.900"), TS)]


def test_from_entry_ignores_a_given_best_price(book: Book) -> None:
    book.add(P1, "USDJPY", Side.BUY, FE, D("150.000"), D("10"), JPY, best_price=D("151.000"))
    assert tick(book, "150.100", "150.110") == [Fired(P1, D("150.100"), FE)]


def test_trailing_stop_quote_before_add_does_not_raise_best(book: Book) -> None:
    tick(book, "151.000", "151.010")
    assert buy(book, P1, "150.000", "10", TS) == []
    assert tick(book, "150.950", "150.960") == []  # 5 pips under the earlier quote, none from best
    assert tick(book, "150.850", "150.860") == [Fired(P1, D("150.850"), TS)]  # 10 under 150.950


def test_trailing_stop_positions_added_at_different_highs_keep_their_own_best(book: Book) -> None:
    buy(book, P1, "150.000", "10", TS)
    tick(book, "150.500", "150.510")
    buy(book, P2, "150.400", "10", TS)  # its best starts at 150.400, P1's is 150.500
    assert tick(book, "150.400", "150.410") == [Fired(P1, D("150.400"), TS)]
    assert tick(book, "150.300", "150.310") == [Fired(P2, D("150.300"), TS)]


# ---- once, removal, symbols, order ------------------------------------------------------------


@pytest.mark.parametrize("mode", [FE, TS])
def test_position_fires_once(book: Book, mode: TrailMode) -> None:
    buy(book, P1, "150.000", "0", mode)
    assert len(tick(book, "150.100", "150.110")) == 1
    assert tick(book, "150.200", "150.210") == []
    assert tick(book, "149.000", "149.010") == []
    assert P1 not in book and len(book) == 0


def test_removed_position_never_fires(book: Book) -> None:
    buy(book, P1, "150.000", "5")
    sell(book, P2, "150.000", "5", TS)
    assert book.remove(P1) is True
    assert book.remove(P2) is True
    assert tick(book, "150.500", "150.510") == []
    assert tick(book, "149.000", "149.010") == []
    assert len(book) == 0


def test_remove_unknown_position_returns_false(book: Book) -> None:
    assert book.remove(P1) is False


def test_other_symbols_tick_does_not_touch_position(book: Book) -> None:
    buy(book, P1, "150.000", "0", TS)
    assert book.on_price("EURJPY", D("160.000"), D("160.010")) == []
    assert P1 in book
    assert tick(book, "150.000", "150.010") == [Fired(P1, D("150.000"), TS)]


def test_fired_positions_come_in_the_order_they_were_added(book: Book) -> None:
    sell(book, P3, "150.000", "0", TS)
    buy(book, P1, "150.000", "1")
    sell(book, P2, "150.000", "0")
    assert [f.position_id for f in tick(book, "150.010", "150.020")] == [P3, P1, P2]


def test_fired_position_can_be_added_again_as_a_new_watch(book: Book) -> None:
    buy(book, P1, "150.000", "0")
    tick(book, "150.000", "150.010")
    assert buy(book, P1, "150.000", "10") == []
    assert P1 in book


@pytest.mark.parametrize("mode", [FE, TS])
def test_trail_book_after_many_removals_still_fires_the_survivors(mode: TrailMode) -> None:
    book = TrailBook(rebuild_slack=0)  # rebuild the index as soon as dead entries outnumber live ones
    buy(book, P1, "150.000", "10", mode)
    sell(book, P2, "150.000", "10", mode)
    for n in range(5):
        buy(book, PositionId(f"gone{n}"), "150.000", "1", mode)
        sell(book, PositionId(f"gone-sell{n}"), "150.000", "1", mode)
    for n in range(5):
        book.remove(PositionId(f"gone{n}"))
        book.remove(PositionId(f"gone-sell{n}"))
    falls, rises = (P1, P2) if mode is TS else (P2, P1)
    assert tick(book, "149.900", "149.900") == [Fired(falls, D("149.900"), mode)]
    assert tick(book, "150.100", "150.100") == [Fired(rises, D("150.100"), mode)]


# ---- bad input --------------------------------------------------------------------------------


def test_add_of_watched_position_raises_validation_error(book: Book) -> None:
    buy(book, P1, "150.000", "5")
    with pytest.raises(ValidationError) as caught:
        sell(book, P1, "150.000", "5")
    assert caught.value.field == "positionId"


@pytest.mark.parametrize(
    ("entry", "width", "pip", "field"),
    [
        ("0", "5", "0.01", "entryPrice"),
        ("-1", "5", "0.01", "entryPrice"),
        ("NaN", "5", "0.01", "entryPrice"),
        ("150", "-0.1", "0.01", "trailWidth"),
        ("150", "Infinity", "0.01", "trailWidth"),
        ("150", "100001", "0.01", "trailWidth"),
        ("150", "5", "0", "pipSize"),
        ("150", "5", "sNaN", "pipSize"),
    ],
)
def test_add_with_bad_numbers_raises_validation_error(
    book: Book, entry: str, width: str, pip: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        book.add(P1, "USDJPY", Side.BUY, FE, D(entry), D(width), D(pip))
    assert caught.value.field == field
    assert P1 not in book


@pytest.mark.parametrize(("bid", "ask"), [("0", "1"), ("1", "-1"), ("NaN", "1"), ("1", "Infinity")])
def test_on_price_with_bad_quote_raises_and_is_not_remembered(book: Book, bid: str, ask: str) -> None:
    buy(book, P1, "150.000", "0")
    with pytest.raises(ValidationError):
        tick(book, bid, ask)
    assert book.last_quote("USDJPY") is None
    assert P1 in book


def test_should_fire_compares_exact_decimals() -> None:
    assert should_fire(Side.BUY, FE, D("150.000"), D("150.000"), D("5"), JPY, D("150.050"))
    assert not should_fire(Side.BUY, FE, D("150.000"), D("150.000"), D("5"), JPY, D("150.04999"))
    assert should_fire(Side.SELL, TS, D("1.1"), D("1.0990"), D("2"), D("0.0001"), D("1.0992"))


# ---- TrailBook against the reference ---------------------------------------------------------

SYMBOLS = {"USDJPY": (D("150.000"), D("0.001")), "EURUSD": (D("1.10000"), D("0.00001"))}
WIDTHS = [D(w) for w in ("0", "0.5", "1", "2.5", "4.9", "5", "10")]


@dataclass(frozen=True)
class Add:
    symbol: str
    side: Side
    mode: TrailMode
    entry_points: int
    width: Decimal
    reuse: int | None  # index of an earlier id to add again, or None for a fresh id
    best_points: int | None = None  # TRAILING_STOP: start the best this many points from the entry


@dataclass(frozen=True)
class Remove:
    index: int


@dataclass(frozen=True)
class Tick:
    symbol: str
    bid_points: int
    spread_points: int


def quote(symbol: str, points: int) -> Decimal:
    base, point = SYMBOLS[symbol]
    return base + points * point


OPS = st.one_of(
    st.builds(
        Add,
        st.sampled_from(list(SYMBOLS)),
        st.sampled_from(Side),
        st.sampled_from(TrailMode),
        st.integers(-150, 150),
        st.sampled_from(WIDTHS),
        st.none() | st.integers(0, 50),
        st.none() | st.integers(-30, 30),
    ),
    st.builds(Remove, st.integers(0, 50)),
    st.builds(Tick, st.sampled_from(list(SYMBOLS)), st.integers(-150, 150), st.integers(0, 30)),
)


def add_op(book: Book, pid: PositionId, op: Add) -> list[Fired]:
    entry = quote(op.symbol, op.entry_points)
    best = None if op.best_points is None else quote(op.symbol, op.entry_points + op.best_points)
    pip = default_spec(op.symbol).pip_size
    return book.add(pid, op.symbol, op.side, op.mode, entry, op.width, pip, best_price=best)


def replay(ops: list[Add | Remove | Tick], slack: int, flush_points: int = 1000) -> None:
    fast, plain = TrailBook(rebuild_slack=slack), ReferenceTrail()
    ids: list[PositionId] = []
    added: Counter[PositionId] = Counter()
    fired: Counter[PositionId] = Counter()
    for op in ops:
        got: list[Fired]
        want: list[Fired]
        if isinstance(op, Add):
            pid = ids[op.reuse % len(ids)] if op.reuse is not None and ids else PositionId(f"p{len(ids)}")
            if pid not in ids:
                ids.append(pid)
            if pid in plain:
                for either in (fast, plain):
                    with pytest.raises(ValidationError):
                        add_op(either, pid, op)
                continue
            got, want = add_op(fast, pid, op), add_op(plain, pid, op)
            added[pid] += 1
        elif isinstance(op, Remove):
            pid = ids[op.index % len(ids)] if ids else PositionId("none")
            assert fast.remove(pid) == plain.remove(pid)
            continue
        else:
            bid = quote(op.symbol, op.bid_points)
            ask = bid + op.spread_points * SYMBOLS[op.symbol][1]
            got, want = fast.on_price(op.symbol, bid, ask), plain.on_price(op.symbol, bid, ask)
        assert got == want
        fired.update(f.position_id for f in got)
        assert len(fast) == len(plain)
        assert all((pid in fast) == (pid in plain) for pid in ids)
    assert all(fired[pid] <= added[pid] for pid in fired)
    # A far move each way meets every rule: a watch the index lost would show up here. The first
    # move is against USDJPY's buyers and EURUSD's sellers, so trailing stops that never saw a
    # price beyond their entry fire there.
    for symbol, first in zip(SYMBOLS, (-1, 1), strict=True):
        for points in (first * flush_points, -first * flush_points):
            price = quote(symbol, points)
            assert fast.on_price(symbol, price, price) == plain.on_price(symbol, price, price)
    assert len(fast) == len(plain) == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(OPS, max_size=120), st.sampled_from([0, 2, 64]))
def test_trail_book_fires_exactly_what_the_reference_fires(
    ops: list[Add | Remove | Tick], slack: int
) -> None:
    replay(ops, slack)


@pytest.mark.parametrize("seed", range(4))
def test_trail_book_matches_reference_on_a_long_random_walk(seed: int) -> None:
    rng = random.Random(seed)
    points = dict.fromkeys(SYMBOLS, 0)
    ops: list[Add | Remove | Tick] = []
    for _ in range(3000):
        symbol = rng.choice(list(SYMBOLS))
        roll = rng.random()
        if roll < 0.3:
            side, mode = rng.choice(list(Side)), rng.choice(list(TrailMode))
            width = rng.choice([*WIDTHS, D("20"), D("40")])
            ops.append(Add(symbol, side, mode, points[symbol] + rng.randint(-20, 20), width, None))
        elif roll < 0.45:
            ops.append(Remove(rng.randrange(1000)))
        else:
            points[symbol] += rng.randint(-12, 12)
            ops.append(Tick(symbol, points[symbol], rng.randint(0, 20)))
    replay(ops, slack=rng.choice([0, 8, 64]), flush_points=max(map(abs, points.values())) + 1000)
