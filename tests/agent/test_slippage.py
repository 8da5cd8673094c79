"""maxSlippagePips in the agent: an ENTRY started by a trigger is not opened when its terminal's
price (BUY: the ask, SELL: the bid) is worse than the triggering price by more than its bound;
at the bound it opens. No triggering price (a manual start): the bound does not apply. Pips are
the account's own (its terminal's digits where reported)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from tests.agent.core_intents import action_updates, position_updates, sent
from tests.agent.core_rows import ACCOUNT, action, connect_and_sync, core, position

from hedge.agent.core import AgentCore
from hedge.domain.enums import PositionStatus, Side
from hedge.domain.ids import PositionId
from hedge.ea.protocol import Open
from hedge.ea.protocol_messages import Price, SymbolInfo, Symbols

P = PositionStatus
TRIGGER = Decimal("150.000")


def leg(
    agent: AgentCore,
    side: Side = Side.BUY,
    max_pips: str | None = "3",
    trigger_price: Decimal | None = TRIGGER,
    symbol: str = "USDJPY",
) -> None:
    """A triggered ENTRY whose move to OPENING has committed: the OPEN is the next step."""
    agent.apply_row(position(P.OPENING, version=2, side=side, symbol=symbol))
    agent.apply_row(
        replace(
            action(),
            trigger_position_id=PositionId("pos-H"),
            max_slippage_pips=None if max_pips is None else Decimal(max_pips),
            trigger_price=trigger_price,
        )
    )


def price(agent: AgentCore, bid: str, ask: str, symbol: str = "USDJPY") -> None:
    agent.on_price(ACCOUNT, Price(symbol, Decimal(bid), Decimal(ask), 1))


def ready() -> AgentCore:
    agent = core()
    connect_and_sync(agent)
    return agent


@pytest.mark.parametrize(("ask", "opens"), [("150.020", True), ("150.030", True), ("150.031", False)])
def test_buy_leg_below_at_and_above_its_bound(ask: str, opens: bool) -> None:
    agent = ready()
    leg(agent)
    price(agent, "150.000", ask)
    intents = agent.decide(1.0)
    assert len(sent(intents, Open)) == (1 if opens else 0)
    assert position_updates(intents) == ([] if opens else [{"status": "CANCELED"}])


def test_buy_leg_refused_for_slippage_fails_saying_by_how_much() -> None:
    agent = ready()
    leg(agent)
    price(agent, "150.040", "150.050")
    [failed] = action_updates(agent.decide(1.0))
    assert failed["status"] == "FAILED"
    message = str(failed["errorMessage"])
    assert "BUY price 150.050 is 5 pips worse than the triggering price 150.000" in message
    assert "maxSlippagePips 3" in message


@pytest.mark.parametrize(("bid", "opens"), [("149.980", True), ("149.970", True), ("149.969", False)])
def test_sell_leg_below_at_and_above_its_bound(bid: str, opens: bool) -> None:
    agent = ready()
    leg(agent, side=Side.SELL)
    price(agent, bid, "150.100")
    assert len(sent(agent.decide(1.0), Open)) == (1 if opens else 0)


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_a_better_price_than_the_trigger_opens(side: Side) -> None:
    agent = ready()
    leg(agent, side=side)
    if side is Side.BUY:
        price(agent, "149.490", "149.500")  # an ask below the triggering price
    else:
        price(agent, "150.100", "150.110")  # a bid above it
    assert len(sent(agent.decide(1.0), Open)) == 1


def test_without_a_triggering_price_the_bound_does_not_apply() -> None:
    agent = ready()
    leg(agent, trigger_price=None)  # started by hand
    price(agent, "151.000", "151.010")
    assert len(sent(agent.decide(1.0), Open)) == 1


def test_without_a_bound_any_price_opens() -> None:
    agent = ready()
    leg(agent, max_pips=None)
    price(agent, "151.000", "151.010")
    assert len(sent(agent.decide(1.0), Open)) == 1


def test_without_a_price_from_the_terminal_it_waits_then_fails_after_the_ea_wait() -> None:
    agent = ready()
    leg(agent)
    assert sent(agent.decide(1.0), Open) == [] and position_updates(agent.decide(1.0)) == []
    intents = agent.decide(31.0)  # HEDGE_AGENT_EA_WAIT_S (30) after the position was seen OPENING
    assert sent(intents, Open) == [] and position_updates(intents) == [{"status": "CANCELED"}]
    assert "no USDJPY price from the terminal" in str(action_updates(intents)[0]["errorMessage"])


def test_price_from_before_the_ea_reconnected_is_not_used() -> None:
    agent = ready()
    price(agent, "150.000", "150.010")
    agent.ea_disconnected(ACCOUNT, 0.5)
    connect_and_sync(agent, now=0.6)
    leg(agent)
    assert sent(agent.decide(1.0), Open) == []  # waits for a price of the terminal as it is now
    price(agent, "150.000", "150.010")
    assert len(sent(agent.decide(1.1), Open)) == 1


def test_pips_follow_the_terminals_digits_where_reported() -> None:
    # XAUUSD: a built-in pip of 0.1; this terminal quotes 2 digits, so its pip is 0.01
    agent = ready()
    leg(agent, symbol="XAUUSD", trigger_price=Decimal("2000.00"))
    price(agent, "2000.00", "2000.05", symbol="XAUUSD")  # 0.5 built-in pips, 5 of this terminal's
    info = SymbolInfo("XAUUSD", 2, Decimal("0.01"), Decimal(100), Decimal("0.01"), Decimal("0.01"),
                      Decimal(50), None, None)  # fmt: skip
    agent.on_symbols(ACCOUNT, Symbols((info,)))
    assert sent(agent.decide(1.0), Open) == []
    assert "5 pips worse" in str(action_updates(agent.decide(1.0))[0]["errorMessage"])


def test_built_in_pips_where_the_terminal_reported_none() -> None:
    agent = ready()
    leg(agent, symbol="XAUUSD", trigger_price=Decimal("2000.00"))
    price(agent, "2000.00", "2000.25", symbol="XAUUSD")  # 2.5 pips of 0.1: within 3
    assert len(sent(agent.decide(1.0), Open)) == 1


def test_symbol_without_any_spec_fails_instead_of_guessing_a_pip() -> None:
    agent = ready()
    leg(agent, symbol="ZZZZZZ", trigger_price=Decimal("10"))
    price(agent, "10", "10.01", symbol="ZZZZZZ")
    intents = agent.decide(1.0)
    assert sent(intents, Open) == []
    assert "maxSlippagePips cannot be checked" in str(action_updates(intents)[0]["errorMessage"])


def test_trail_width_uses_the_terminals_pips_too() -> None:
    # XAUUSD on a 2-digit terminal: a 3-pip trail is 0.03, not the built-in 0.3
    agent = ready()
    info = SymbolInfo("XAUUSD", 2, Decimal("0.01"), Decimal(100), Decimal("0.01"), Decimal("0.01"),
                      Decimal(50), None, None)  # fmt: skip
    agent.on_symbols(ACCOUNT, Symbols((info,)))
    agent.apply_row(position(P.OPEN, version=3, symbol="XAUUSD", entry_price=Decimal("2000.00"),
                             mt_ticket="7", trail_width=Decimal("3")))  # fmt: skip
    assert agent.on_price(ACCOUNT, Price("XAUUSD", Decimal("2000.02"), Decimal("2000.05"), 1)) == []
    assert len(agent.on_price(ACCOUNT, Price("XAUUSD", Decimal("2000.03"), Decimal("2000.06"), 2))) == 1
