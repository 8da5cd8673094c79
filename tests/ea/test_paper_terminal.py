"""The paper terminal core without sockets: fills, closes, idempotency, money, stop-out, rejects."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hedge.domain.clock import ManualClock
from hedge.domain.enums import Side
from hedge.domain.errors import NotFound
from hedge.ea.paper_config import RejectPolicy
from hedge.ea.paper_feed import StaticFeed
from hedge.ea.paper_market import Market
from hedge.ea.paper_terminal import AccountSettings, Terminal
from hedge.ea.protocol import (
    AccountUpdate,
    Close,
    Closed,
    CommandStatus,
    ErrorCode,
    History,
    HistoryResult,
    HistoryState,
    Message,
    Open,
    Opened,
    Positions,
    Stopped,
    StopReason,
    Sync,
    comment_for,
)

D = Decimal


def make_terminal(
    balance: str = "10000", leverage: int = 100, rejects: RejectPolicy | None = None, stop_out: str = "50"
) -> tuple[Terminal, list[Message], ManualClock]:
    clock = ManualClock()
    sent: list[Message] = []
    market = Market()
    terminal = Terminal(
        market, clock, AccountSettings(D(balance), "USD", leverage, stop_out_level_pct=D(stop_out)),
        rejects=rejects, emit=sent.append,
    )  # fmt: skip
    terminal.apply_quotes([(q.symbol, q.bid, q.ask) for q in StaticFeed(["USDJPY", "EURUSD"]).initial()])
    return terminal, sent, clock


def open_cmd(command_id: str, position_id: str, side: Side = Side.BUY, volume: str = "0.10") -> Open:
    return Open(command_id, position_id, "USDJPY", side, D(volume), comment_for(position_id))


def test_open_buy_fills_at_ask_with_string_ticket_and_clock_time() -> None:
    terminal, sent, clock = make_terminal()
    answer = terminal.execute(open_cmd("c1", "p1"))
    assert isinstance(answer, Opened) and answer.status is CommandStatus.SUCCESS
    assert answer.price == D("150.010") and isinstance(answer.mt_ticket, str)
    assert answer.time_ms == int(clock.now().timestamp() * 1000) and sent == [answer]


def test_open_sell_fills_at_bid() -> None:
    terminal, _, _ = make_terminal()
    assert terminal.execute(open_cmd("c1", "p1", Side.SELL)).price == D("150.000")  # type: ignore[union-attr]


def test_open_for_held_position_id_answers_first_fill_and_opens_nothing() -> None:
    terminal, _, clock = make_terminal()
    first = terminal.execute(open_cmd("c1", "p1"))
    clock.advance(5)
    terminal.set_price("USDJPY", D("151.000"), D("151.010"))
    again = terminal.execute(open_cmd("c2", "p1"))
    assert isinstance(first, Opened) and isinstance(again, Opened)
    assert (again.command_id, again.mt_ticket, again.price, again.time_ms) == (
        "c2", first.mt_ticket, first.price, first.time_ms,
    )  # fmt: skip
    assert len(terminal.positions()) == 1


def test_open_for_closed_position_id_answers_recorded_fill_and_opens_nothing() -> None:
    terminal, _, _ = make_terminal()
    first = terminal.execute(open_cmd("c1", "p1"))
    assert isinstance(first, Opened) and first.mt_ticket
    terminal.execute(Close("c2", "p1", first.mt_ticket))
    again = terminal.execute(open_cmd("c3", "p1"))
    assert isinstance(again, Opened) and again.mt_ticket == first.mt_ticket and terminal.positions() == ()


def test_repeated_command_id_gets_the_same_answer_again() -> None:
    terminal, sent, _ = make_terminal()
    first = terminal.execute(open_cmd("c1", "p1"))
    terminal.set_price("USDJPY", D("152.000"), D("152.010"))
    assert terminal.execute(open_cmd("c1", "p1")) == first and sent == [first, first]


def test_close_realises_profit_converted_to_account_currency() -> None:
    terminal, sent, _ = make_terminal()
    opened = terminal.execute(open_cmd("c1", "p1", volume="1"))  # BUY 1 lot at 150.010
    assert isinstance(opened, Opened) and opened.mt_ticket
    terminal.set_price("USDJPY", D("151.000"), D("151.010"))
    closed = terminal.execute(Close("c2", "p1", opened.mt_ticket))
    # 0.990 JPY x 100000 = 99000 JPY, at the USDJPY mid 151.005: 655.61 USD
    assert isinstance(closed, Closed) and closed.price == D("151.000") and closed.profit == D("655.61")
    assert terminal.balance == D("10655.61")
    assert isinstance(sent[-1], AccountUpdate) and sent[-1].balance == D("10655.61") and sent[-2] == closed


def test_close_eurusd_sell_profit_is_in_usd_directly() -> None:
    terminal, _, _ = make_terminal()
    opened = terminal.execute(Open("c1", "p1", "EURUSD", Side.SELL, D("0.5"), comment_for("p1")))
    assert isinstance(opened, Opened) and opened.mt_ticket and opened.price == D("1.08000")
    terminal.set_price("EURUSD", D("1.07500"), D("1.07510"))
    closed = terminal.execute(Close("c2", "p1", opened.mt_ticket))
    assert isinstance(closed, Closed) and closed.profit == D("245.00")  # (1.08000-1.07510) x 50000


def test_close_of_closed_ticket_answers_recorded_close() -> None:
    terminal, _, _ = make_terminal()
    opened = terminal.execute(open_cmd("c1", "p1"))
    assert isinstance(opened, Opened) and opened.mt_ticket
    first = terminal.execute(Close("c2", "p1", opened.mt_ticket))
    terminal.set_price("USDJPY", D("140.000"), D("140.010"))
    again = terminal.execute(Close("c3", "p1", opened.mt_ticket))
    assert isinstance(first, Closed) and isinstance(again, Closed) and again.status is CommandStatus.SUCCESS
    assert (again.price, again.time_ms, again.profit) == (first.price, first.time_ms, first.profit)
    assert terminal.balance == D("10000") + (first.profit or 0)


def test_close_unknown_ticket_fails_with_unknown_and_clear_message() -> None:
    terminal, _, _ = make_terminal()
    answer = terminal.execute(Close("c1", "p1", "999"))
    assert isinstance(answer, Closed) and answer.status is CommandStatus.FAILED
    assert answer.error_code is ErrorCode.UNKNOWN and "no position with ticket 999" in (answer.message or "")


def test_close_of_another_positions_ticket_fails_and_closes_nothing() -> None:
    terminal, _, _ = make_terminal()
    opened = terminal.execute(open_cmd("c1", "p1"))
    assert isinstance(opened, Opened) and opened.mt_ticket
    answer = terminal.execute(Close("c2", "p2", opened.mt_ticket))
    assert (
        isinstance(answer, Closed)
        and answer.error_code is ErrorCode.UNKNOWN
        and len(terminal.positions()) == 1
    )


def test_sync_reports_only_positions_with_hedge_system_comment() -> None:
    terminal, _, _ = make_terminal()
    opened = terminal.execute(open_cmd("c1", "p1", Side.SELL, "0.20"))
    terminal.open_externally("EURUSD", Side.BUY, D("1"), "manual")
    answer = terminal.execute(Sync("c2"))
    assert isinstance(answer, Positions) and isinstance(opened, Opened)
    [report] = answer.positions
    assert (report.position_id, report.mt_ticket, report.side, report.volume, report.open_price) == (
        "p1", opened.mt_ticket, Side.SELL, D("0.20"), D("150.000"),
    )  # fmt: skip
    assert report.profit == D("-1.33")  # SELL closes at ask 150.010: -0.010 x 20000 JPY / 150.005


@pytest.mark.parametrize(
    ("cmd", "code"),
    [
        (Open("c1", "p1", "GBPUSD", Side.BUY, D("1"), "HedgeSystem[p1]"), ErrorCode.INVALID_SYMBOL),
        (Open("c1", "p1", "USDJPY", Side.BUY, D("0.015"), "HedgeSystem[p1]"), ErrorCode.INVALID_VOLUME),
        (Open("c1", "p1", "USDJPY", Side.BUY, D("500"), "HedgeSystem[p1]"), ErrorCode.INVALID_VOLUME),
        (Open("c1", "p1", "USDJPY", Side.BUY, D("50"), "HedgeSystem[p1]"), ErrorCode.NOT_ENOUGH_MONEY),
    ],
)
def test_open_that_the_terminal_cannot_fill_fails_with_code(cmd: Open, code: ErrorCode) -> None:
    terminal, _, _ = make_terminal()
    answer = terminal.execute(cmd)
    assert isinstance(answer, Opened) and answer.status is CommandStatus.FAILED and answer.error_code is code
    assert answer.message and terminal.positions() == ()


def test_failed_open_is_retried_under_a_new_command_id() -> None:
    terminal, _, _ = make_terminal()
    terminal.reject_next(ErrorCode.REQUOTE)
    first = terminal.execute(open_cmd("c1", "p1"))
    retry = terminal.execute(open_cmd("c2", "p1"))
    assert isinstance(first, Opened) and first.error_code is ErrorCode.REQUOTE and first.error_code.retryable
    assert isinstance(retry, Opened) and retry.status is CommandStatus.SUCCESS


def test_reject_policy_every_second_open_is_refused_with_configured_code() -> None:
    terminal, _, _ = make_terminal(rejects=RejectPolicy(ErrorCode.TIMEOUT, every_nth=2))
    answers = [terminal.execute(open_cmd(f"c{i}", f"p{i}")) for i in range(4)]
    codes = [a.error_code for a in answers if isinstance(a, Opened)]
    assert codes == [None, ErrorCode.TIMEOUT, None, ErrorCode.TIMEOUT]


def test_reject_policy_listed_position_is_refused() -> None:
    terminal, _, _ = make_terminal(
        rejects=RejectPolicy(ErrorCode.MARKET_CLOSED, position_ids=frozenset({"p2"}))
    )
    ok, refused = terminal.execute(open_cmd("c1", "p1")), terminal.execute(open_cmd("c2", "p2"))
    assert isinstance(ok, Opened) and ok.status is CommandStatus.SUCCESS
    assert isinstance(refused, Opened) and refused.error_code is ErrorCode.MARKET_CLOSED


def test_account_reports_equity_margin_and_level() -> None:
    terminal, _, _ = make_terminal()
    terminal.execute(open_cmd("c1", "p1", volume="1"))  # 100000 USD notional / 100 = 1000 margin
    state = terminal.account()
    assert state.margin == D("1000.00") and state.equity == D(
        "9993.33"
    )  # spread: -1000 JPY / 150.005 = -6.67
    assert state.margin_level == D("999.33")


def test_adverse_move_below_stop_out_level_closes_largest_loss_first() -> None:
    terminal, sent, _ = make_terminal(balance="1000", leverage=500)
    small = terminal.execute(open_cmd("c1", "p-small", volume="0.5"))
    big = terminal.execute(open_cmd("c2", "p-big", volume="2"))
    assert isinstance(small, Opened) and isinstance(big, Opened)
    sent.clear()
    terminal.set_price("USDJPY", D("149.400"), D("149.410"))  # -0.61 yen: about -1020 USD on 2.5 lots
    stopped = [m for m in sent if isinstance(m, Stopped)]
    assert stopped[0].position_id == "p-big" and stopped[0].reason == "STOP_OUT"
    assert stopped[0].mt_ticket == big.mt_ticket and stopped[0].profit < 0
    assert isinstance(sent[-1], AccountUpdate) and sent[-1].balance == terminal.balance
    assert terminal.account().margin_level >= D("50") or terminal.positions() == ()


def test_small_move_does_not_stop_out() -> None:
    terminal, sent, _ = make_terminal(balance="1000", leverage=500)
    terminal.execute(open_cmd("c1", "p1", volume="0.5"))
    terminal.set_price("USDJPY", D("149.900"), D("149.910"))
    assert not any(isinstance(m, Stopped) for m in sent) and len(terminal.positions()) == 1


def test_close_externally_emits_stopped_manual_then_account() -> None:
    terminal, sent, _ = make_terminal()
    opened = terminal.execute(open_cmd("c1", "p1"))
    assert isinstance(opened, Opened) and opened.mt_ticket
    record = terminal.close_externally(opened.mt_ticket)
    stopped, account = sent[-2], sent[-1]
    assert (
        isinstance(stopped, Stopped)
        and stopped.reason == StopReason.TERMINAL_CLOSE
        and stopped.profit == record.profit
    )
    assert isinstance(account, AccountUpdate)
    closed = terminal.execute(Close("c2", "p1", opened.mt_ticket))  # the agent's late CLOSE
    assert (
        isinstance(closed, Closed)
        and closed.status is CommandStatus.SUCCESS
        and closed.price == stopped.price
    )


def test_close_externally_of_unknown_ticket_raises_not_found() -> None:
    terminal, _, _ = make_terminal()
    with pytest.raises(NotFound):
        terminal.close_externally("404")


def test_external_position_without_comment_stops_without_stopped_event() -> None:
    terminal, sent, _ = make_terminal()
    held = terminal.open_externally("USDJPY", Side.BUY, D("0.1"))
    terminal.close_externally(held.ticket)
    assert not any(isinstance(m, Stopped) for m in sent)


def test_history_reports_open_closed_and_unknown_positions() -> None:
    terminal, _, _ = make_terminal()
    held = terminal.execute(open_cmd("c1", "p1"))
    gone = terminal.execute(open_cmd("c2", "p2", Side.SELL))
    assert isinstance(held, Opened) and isinstance(gone, Opened) and gone.mt_ticket
    record = terminal.close_externally(gone.mt_ticket)
    answer = terminal.execute(History("h1", ("p1", "p2", "p3")))
    assert isinstance(answer, HistoryResult)
    states = [(e.position_id, e.mt_ticket, e.state, e.reason) for e in answer.results]
    assert states == [
        ("p1", held.mt_ticket, HistoryState.OPEN, None),
        ("p2", gone.mt_ticket, HistoryState.CLOSED, StopReason.TERMINAL_CLOSE),
        ("p3", None, HistoryState.UNKNOWN, None),
    ]
    assert (answer.results[1].price, answer.results[1].profit) == (record.price, record.profit)
