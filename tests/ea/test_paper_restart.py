"""The paper EA over a real WebSocket with this round's knobs: SYMBOLS, PLACED orders, the state file
across a restart of the EA (unsent events kept or dropped), the control file and the shared market."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hedge.domain.enums import Side
from hedge.ea.paper_config import FillFaults
from hedge.ea.paper_shared_market import read_shared_bids, set_shared_bid
from hedge.ea.paper_state import read_state
from hedge.ea.protocol import (
    AccountUpdate,
    CommandStatus,
    History,
    HistoryResult,
    HistoryState,
    Open,
    Opened,
    Price,
    Stopped,
    StopReason,
    Subscribe,
    Symbols,
    comment_for,
)

if TYPE_CHECKING:
    from tests.ea.conftest import AgentDouble, EAStarter

D = Decimal


def open_cmd(command_id: str, position_id: str, volume: str = "0.10") -> Open:
    return Open(command_id, position_id, "USDJPY", Side.BUY, D(volume), comment_for(position_id))


async def test_symbols_follow_account_after_auth_ok_and_each_subscribe(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    await start_ea(symbols=("USDJPY", "EURUSD", "XAUUSD"))
    ws, _ = await agent.accept()
    assert isinstance(await agent.recv(ws), AccountUpdate)
    first = await agent.recv(ws)
    assert isinstance(first, Symbols) and [s.symbol for s in first.symbols] == ["USDJPY", "EURUSD", "XAUUSD"]
    await agent.send(ws, Subscribe(("XAUUSD", "GBPAUD")))
    later = await agent.expect(ws, Symbols)
    assert [(s.symbol, s.digits, s.contract_size) for s in later.symbols] == [("XAUUSD", 2, D("100"))]


async def test_placed_order_is_followed_until_it_fills_then_answered(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    ea, _ = await start_ea(faults=FillFaults(placed_delay_ms=200))
    ws, _ = await agent.accept()
    await agent.send(ws, open_cmd("c1", "p1"))
    await asyncio.sleep(0.05)
    assert ea.terminal.positions() == () and "p1" in ea.terminal.books.pending
    answer = await agent.expect(ws, Opened)
    assert answer.status is CommandStatus.SUCCESS and answer.volume == D("0.10")
    assert [p.ticket for p in ea.terminal.positions()] == [answer.mt_ticket]


async def go_offline_with_a_stopped(agent: AgentDouble, start_ea: EAStarter, state: Path) -> str:
    """An EA fills p1, loses its agent, then p1 is closed by hand: the STOPPED waits unsent."""
    ea, task = await start_ea(state_file=state, auth_timeout_s=30.0)
    ws, _ = await agent.accept()
    await agent.send(ws, open_cmd("c1", "p1"))
    opened = await agent.expect(ws, Opened)
    assert opened.mt_ticket
    await ws.close()
    await agent.connection()  # the EA is back, its AUTH is never answered: it stays offline
    ea.close_externally(opened.mt_ticket)
    assert [type(m) for m in ea.pending_events()] == [Stopped]
    ea.stop()
    await asyncio.wait_for(task, 5)
    return opened.mt_ticket


async def test_restart_with_state_file_keeps_positions_history_and_sends_unsent_events(
    agent: AgentDouble, start_ea: EAStarter, tmp_path: Path
) -> None:
    state = tmp_path / "terminal.json"
    ticket = await go_offline_with_a_stopped(agent, start_ea, state)
    books = read_state(state)
    assert ticket in books.closes and [type(m) for m in books.unsent] == [Stopped]
    ea, _ = await start_ea(state_file=state)
    ws, _ = await agent.accept()
    stopped = await agent.recv(ws)
    assert isinstance(stopped, Stopped) and (stopped.mt_ticket, stopped.reason) == (
        ticket,
        StopReason.TERMINAL_CLOSE,
    )
    await agent.send(ws, open_cmd("c9", "p1"))
    again = await agent.expect(ws, Opened)
    assert (
        again.mt_ticket == ticket and ea.terminal.positions() == ()
    )  # the journal survived: no second order


async def test_restart_dropping_unsent_events_still_answers_history(
    agent: AgentDouble, start_ea: EAStarter, tmp_path: Path
) -> None:
    state = tmp_path / "terminal.json"
    ticket = await go_offline_with_a_stopped(agent, start_ea, state)
    await start_ea(state_file=state, drop_unsent_on_restart=True)
    ws, _ = await agent.accept()
    assert isinstance(await agent.recv(ws), AccountUpdate)  # no STOPPED first: it was lost
    await agent.send(ws, History("h1", ("p1",)))
    result = await agent.expect(ws, HistoryResult)
    entry = result.results[0]
    assert (entry.mt_ticket, entry.state, entry.reason) == (
        ticket,
        HistoryState.CLOSED,
        StopReason.TERMINAL_CLOSE,
    )
    assert read_state(state).unsent == []


async def test_state_file_after_sending_holds_no_unsent_events(
    agent: AgentDouble, start_ea: EAStarter, tmp_path: Path
) -> None:
    state = tmp_path / "terminal.json"
    await start_ea(state_file=state)
    ws, _ = await agent.accept()
    await agent.send(ws, open_cmd("c1", "p1"))
    opened = await agent.expect(ws, Opened)
    await asyncio.sleep(0.05)
    books = read_state(state)
    assert [p.ticket for p in books.held.values()] == [opened.mt_ticket] and books.unsent == []
    assert books.answers["c1"] == opened


async def test_control_file_close_by_hand_sends_stopped_terminal_close_once(
    agent: AgentDouble, start_ea: EAStarter, tmp_path: Path
) -> None:
    control = tmp_path / "control.txt"
    ea, _ = await start_ea(control_file=control, control_poll_s=0.02)
    ws, _ = await agent.accept()
    await agent.send(ws, open_cmd("c1", "p1"))
    opened = await agent.expect(ws, Opened)
    control.write_text("# by hand\nfly away\nclose p1\n", encoding="utf-8")
    stopped = await agent.expect(ws, Stopped)
    assert (stopped.mt_ticket, stopped.reason) == (opened.mt_ticket, StopReason.TERMINAL_CLOSE)
    with control.open("a", encoding="utf-8") as handle:
        handle.write("open EURUSD SELL 0.2 by hand\n")
    for _ in range(100):
        if ea.terminal.positions():
            break
        await asyncio.sleep(0.02)
    assert [(p.symbol, p.magic) for p in ea.terminal.positions()] == [("EURUSD", 0)]
    assert len(ea.terminal.books.closes) == 1  # the close line was carried out once


async def test_two_eas_on_one_market_file_quote_one_market_with_their_own_offset(
    agent: AgentDouble, start_ea: EAStarter, tmp_path: Path
) -> None:
    market = tmp_path / "market.json"
    one, _ = await start_ea(account_number="1", market_file=market, feed="static", spread_pips=D("1"))
    two, _ = await start_ea(
        account_number="2",
        market_file=market,
        feed="static",
        spread_pips=D("1.5"),
        market_offset_pips=D("0.2"),
    )
    ws_one, _ = await agent.accept("acc-1")
    ws_two, _ = await agent.accept("acc-2")
    set_shared_bid(market, "USDJPY", D("151.234"))
    await agent.send(ws_one, Subscribe(("USDJPY",)))
    await agent.send(ws_two, Subscribe(("USDJPY",)))
    price_one = await until_bid(agent, ws_one, D("151.234"))
    price_two = await until_bid(agent, ws_two, D("151.236"))
    assert (price_one.ask, price_two.ask) == (D("151.244"), D("151.251"))
    assert read_shared_bids(market)["USDJPY"] == D("151.234")
    assert one.market.quote("EURUSD") is not None and two.market.quote("EURUSD") is not None


async def until_bid(agent: AgentDouble, ws: object, bid: Decimal) -> Price:
    for _ in range(200):
        price = await agent.expect(ws, Price)  # type: ignore[arg-type]
        if price.bid == bid:
            return price
    raise AssertionError(f"no PRICE with bid {bid}")


async def test_random_market_file_moves_for_every_ea_alike(
    tmp_path: Path, agent: AgentDouble, start_ea: EAStarter
) -> None:
    market = tmp_path / "market.json"
    one, _ = await start_ea(account_number="1", market_file=market, feed="random", seed=1)
    two, _ = await start_ea(account_number="2", market_file=market, feed="random", seed=2)
    start = read_shared_bids(market)["USDJPY"]
    for _ in range(100):
        await asyncio.sleep(0.02)
        quote_one, quote_two = one.market.quote("USDJPY"), two.market.quote("USDJPY")
        assert quote_one is not None and quote_two is not None
        if quote_one.bid != start.quantize(D("0.001")) and quote_one.bid == quote_two.bid:
            return
    pytest.fail("the shared random market did not move for both EAs")
