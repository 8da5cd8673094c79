"""The paper terminal's fills under this round's rules: filled volume, partial fills, TIMEOUT after a
fill, PLACED orders, netting accounts, identity by journal and magic, net profit, SL/TP and SYMBOLS."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hedge.domain.clock import ManualClock
from hedge.domain.enums import Side
from hedge.ea import protocol as wire
from hedge.ea.paper_account import Costs
from hedge.ea.paper_config import FillFaults
from hedge.ea.paper_feed import StaticFeed
from hedge.ea.paper_market import Market
from hedge.ea.paper_symbols import symbols_message
from hedge.ea.paper_terminal import AccountSettings, Terminal
from hedge.ea.protocol import comment_for

D = Decimal


def make(
    faults: FillFaults | None = None, **settings: object
) -> tuple[Terminal, list[wire.Message], ManualClock]:
    clock = ManualClock()
    sent: list[wire.Message] = []
    terminal = Terminal(
        Market(), clock, AccountSettings(D("10000"), **settings),  # type: ignore[arg-type]
        faults=faults, emit=sent.append, seed=1,
    )  # fmt: skip
    terminal.apply_quotes([(q.symbol, q.bid, q.ask) for q in StaticFeed(["USDJPY", "EURUSD"]).initial()])
    return terminal, sent, clock


def open_cmd(command_id: str, position_id: str, volume: str = "0.10", side: Side = Side.BUY) -> wire.Open:
    return wire.Open(command_id, position_id, "USDJPY", side, D(volume), comment_for(position_id))


def opened(msg: wire.Message | None) -> wire.Opened:
    assert isinstance(msg, wire.Opened), msg
    return msg


def test_opened_success_reports_the_filled_volume() -> None:
    terminal, _, _ = make()
    assert opened(terminal.execute(open_cmd("c1", "p1", "0.30"))).volume == D("0.30")


@pytest.mark.parametrize(("ratio", "asked", "filled"), [("0.5", "1.00", "0.50"), ("0.33", "0.10", "0.03"),
                                                         ("0.1", "0.05", "0.01")])  # fmt: skip
def test_partial_fill_reports_filled_lots_and_holds_only_them(ratio: str, asked: str, filled: str) -> None:
    terminal, _, _ = make(FillFaults(partial_fill_ratio=D(ratio)))
    answer = opened(terminal.execute(open_cmd("c1", "p1", asked)))
    assert answer.status is wire.CommandStatus.SUCCESS and answer.volume == D(filled)
    assert [p.volume for p in terminal.positions()] == [D(filled)]


def test_partial_fill_repeat_open_answers_the_same_filled_volume_and_opens_nothing() -> None:
    terminal, _, _ = make(FillFaults(partial_fill_ratio=D("0.5")))
    first = opened(terminal.execute(open_cmd("c1", "p1", "1")))
    again = opened(terminal.execute(open_cmd("c2", "p1", "1")))
    assert (again.mt_ticket, again.volume) == (first.mt_ticket, D("0.5")) and len(terminal.positions()) == 1


def test_timeout_after_fill_answers_timeout_but_the_position_is_held() -> None:
    terminal, _, _ = make(FillFaults(timeout_after_fill_every=1))
    answer = opened(terminal.execute(open_cmd("c1", "p1")))
    assert answer.status is wire.CommandStatus.FAILED and answer.error_code is wire.ErrorCode.TIMEOUT
    (held,) = terminal.positions()
    assert held.position_id == "p1"
    sync = terminal.execute(wire.Sync("s1"))
    assert isinstance(sync, wire.Positions) and [p.mt_ticket for p in sync.positions] == [held.ticket]
    history = terminal.execute(wire.History("h1", ("p1",)))
    assert isinstance(history, wire.HistoryResult) and history.results[0].state is wire.HistoryState.OPEN


def test_timeout_after_fill_then_repeat_open_answers_success_with_the_one_ticket() -> None:
    terminal, _, _ = make()
    terminal.timeout_next_fills(1)
    assert opened(terminal.execute(open_cmd("c1", "p1"))).error_code is wire.ErrorCode.TIMEOUT
    again = opened(terminal.execute(open_cmd("c2", "p1")))
    assert again.status is wire.CommandStatus.SUCCESS and again.mt_ticket == terminal.positions()[0].ticket
    assert len(terminal.positions()) == 1


def test_timeout_after_fill_every_second_fill_spares_the_first() -> None:
    terminal, _, _ = make(FillFaults(timeout_after_fill_every=2))
    codes = [opened(terminal.execute(open_cmd(f"c{i}", f"p{i}"))).error_code for i in range(4)]
    assert (
        codes == [None, wire.ErrorCode.TIMEOUT, None, wire.ErrorCode.TIMEOUT]
        and len(terminal.positions()) == 4
    )


def test_placed_order_is_answered_only_when_it_fills() -> None:
    terminal, sent, _ = make(FillFaults(placed_delay_ms=500))
    assert terminal.execute(open_cmd("c1", "p1")) is None
    assert sent == [] and terminal.positions() == () and "p1" in terminal.books.pending
    (answer,) = terminal.fill_pending()
    assert answer.status is wire.CommandStatus.SUCCESS and sent == [answer] and len(terminal.positions()) == 1


def test_placed_order_repeated_with_new_command_id_places_nothing_more_and_answers_both() -> None:
    terminal, _, _ = make(FillFaults(placed_delay_ms=500))
    terminal.execute(open_cmd("c1", "p1"))
    assert terminal.execute(open_cmd("c2", "p1")) is None
    answers = terminal.fill_pending()
    assert [a.command_id for a in answers] == ["c1", "c2"] and len({a.mt_ticket for a in answers}) == 1
    assert len(terminal.positions()) == 1
    assert opened(terminal.execute(open_cmd("c1", "p1"))) == answers[0]  # the recorded answer


@pytest.mark.parametrize("mode", [wire.MarginMode.NETTING, wire.MarginMode.EXCHANGE])
def test_non_hedging_account_refuses_an_opposite_open_with_hedging_prohibited(mode: wire.MarginMode) -> None:
    terminal, _, _ = make(margin_mode=mode)
    opened(terminal.execute(open_cmd("c1", "p1")))
    refused = opened(terminal.execute(open_cmd("c2", "p2", side=Side.SELL)))
    assert refused.error_code is wire.ErrorCode.HEDGING_PROHIBITED and len(terminal.positions()) == 1
    assert opened(terminal.execute(open_cmd("c3", "p3"))).status is wire.CommandStatus.SUCCESS


def test_hedging_account_holds_opposite_positions() -> None:
    terminal, _, _ = make()
    opened(terminal.execute(open_cmd("c1", "p1")))
    assert opened(terminal.execute(open_cmd("c2", "p2", side=Side.SELL))).status is wire.CommandStatus.SUCCESS


def test_cut_comment_still_identifies_the_position_by_journal_and_magic() -> None:
    terminal, _, _ = make(comment_limit=31)
    position_id = "0b7f9c1e-2d4a-4c55-9e8a-6f1d2c3b4a59"
    answer = opened(terminal.execute(open_cmd("c1", position_id)))
    (held,) = terminal.positions()
    assert len(held.comment) == 31 and held.magic == 7077001
    sync = terminal.execute(wire.Sync("s1"))
    assert isinstance(sync, wire.Positions) and [p.position_id for p in sync.positions] == [position_id]
    assert opened(terminal.execute(open_cmd("c2", position_id))).mt_ticket == answer.mt_ticket


def test_position_with_foreign_magic_and_no_comment_is_not_reported() -> None:
    terminal, _, _ = make()
    terminal.open_externally("USDJPY", Side.BUY, D("0.1"), "by hand")
    sync = terminal.execute(wire.Sync("s1"))
    assert isinstance(sync, wire.Positions) and sync.positions == ()


def test_close_profit_is_net_of_swap_and_commission() -> None:
    terminal, _, clock = make(costs=Costs(D("3.5"), D("-2")))
    answer = opened(terminal.execute(open_cmd("c1", "p1", "1")))
    assert answer.mt_ticket
    clock.advance(2 * 86_400)
    terminal.set_price("USDJPY", D("151.000"), D("151.010"))
    closed = terminal.execute(wire.Close("c2", "p1", answer.mt_ticket))
    assert isinstance(closed, wire.Closed) and closed.profit is not None
    record = terminal.close_record(answer.mt_ticket)
    assert record is not None and (record.swap, record.commission) == (D("-4.00"), D("-7.00"))
    assert (
        closed.profit == D("655.61") - D("4.00") - D("7.00")
        and terminal.balance == D("10000") + closed.profit
    )


def test_positions_profit_is_net_of_the_entry_commission() -> None:
    terminal, _, _ = make(costs=Costs(D("3.5")))
    terminal.execute(open_cmd("c1", "p1", "1"))
    sync = terminal.execute(wire.Sync("s1"))
    assert isinstance(sync, wire.Positions) and sync.positions[0].profit == D("-6.67") - D("3.50")


@pytest.mark.parametrize(
    ("side", "stop", "bid", "reason"),
    [(Side.BUY, "sl", "149.500", wire.StopReason.STOP_LOSS),
     (Side.BUY, "tp", "150.500", wire.StopReason.TAKE_PROFIT),
     (Side.SELL, "sl", "150.500", wire.StopReason.STOP_LOSS),
     (Side.SELL, "tp", "149.500", wire.StopReason.TAKE_PROFIT)],
)  # fmt: skip
def test_stop_loss_and_take_profit_close_with_their_reason(
    side: Side, stop: str, bid: str, reason: wire.StopReason
) -> None:
    terminal, sent, _ = make()
    answer = opened(terminal.execute(open_cmd("c1", "p1", side=side)))
    assert answer.mt_ticket
    level = D("149.600") if (stop == "sl") == (side is Side.BUY) else D("150.400")
    terminal.set_stops(answer.mt_ticket, level if stop == "sl" else None, level if stop == "tp" else None)
    assert terminal.positions()
    terminal.set_price("USDJPY", D(bid), D(bid) + D("0.010"))
    stopped = [m for m in sent if isinstance(m, wire.Stopped)]
    assert [(s.position_id, s.reason) for s in stopped] == [("p1", reason)] and terminal.positions() == ()
    history = terminal.execute(wire.History("h1", ("p1",)))
    assert isinstance(history, wire.HistoryResult) and history.results[0].reason is reason


def test_history_of_agent_close_has_no_reason() -> None:
    terminal, _, _ = make()
    answer = opened(terminal.execute(open_cmd("c1", "p1")))
    assert answer.mt_ticket
    terminal.execute(wire.Close("c2", "p1", answer.mt_ticket))
    history = terminal.execute(wire.History("h1", ("p1",)))
    assert isinstance(history, wire.HistoryResult)
    assert (history.results[0].state, history.results[0].reason) == (wire.HistoryState.CLOSED, None)


def test_stop_out_during_the_history_shows_stop_out() -> None:
    terminal, _, _ = make(leverage=1000)
    terminal.execute(open_cmd("c1", "p1", "50"))
    terminal.set_price("USDJPY", D("140.000"), D("140.010"))
    history = terminal.execute(wire.History("h1", ("p1",)))
    assert isinstance(history, wire.HistoryResult) and history.results[0].reason is wire.StopReason.STOP_OUT


def test_symbols_reports_terminal_figures_with_margin_from_leverage() -> None:
    terminal, _, _ = make(leverage=100)
    msg = symbols_message(("USDJPY", "GBPAUD", "EURUSD"), terminal.market, "USD", 100)
    usdjpy, eurusd = msg.symbols
    assert (usdjpy.symbol, usdjpy.digits, usdjpy.point, usdjpy.contract_size) == (
        "USDJPY",
        3,
        D("0.001"),
        D(100000),
    )
    assert (usdjpy.volume_min, usdjpy.volume_step, usdjpy.volume_max) == (D("0.01"), D("0.01"), D("100"))
    assert usdjpy.margin_per_lot == D("1000.00") and eurusd.margin_per_lot == D("1080.05")
    assert usdjpy.tick_value == D("0.66664") and eurusd.tick_value == D("1.00000")
