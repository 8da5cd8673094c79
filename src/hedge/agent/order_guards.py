"""What the agent checks itself before an order leaves for a terminal: the kill switch (its
ControlBook) and an ENTRY's maxSlippagePips against the terminal's current price.

The server's guards run at the move to OPENING/CLOSING; these run again right before the
OPEN/CLOSE goes out, because the state may have changed since (a HALT that came meanwhile, the
server unheard for HEDGE_AGENT_OFFLINE_REDUCING_S, a price that moved). A refusal is a message
saying why; the caller refuses the order's tracker with it, so the action FAILs saying so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from hedge.agent.controls import OfflineReducing
from hedge.domain.account_specs import spec_for
from hedge.domain.enums import ActionStatus, ActionType, Side, TradingState
from hedge.domain.errors import Refused, ValidationError
from hedge.domain.models import Action, Position
from hedge.domain.symbols import pip_for_digits
from hedge.domain.trading import check_close, check_open

if TYPE_CHECKING:
    from hedge.agent.core import AgentCore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Verdict:
    """May the order go now? `refusal`: never (say why); `waiting`: not yet (say for what)."""

    refusal: str | None = None
    waiting: str | None = None

    @property
    def go(self) -> bool:
        return self.refusal is None and self.waiting is None


GO = Verdict()


def entry_action(core: AgentCore, pos: Position) -> Action | None:
    """The EXECUTING ENTRY action that opens `pos` (None: opened by a direct move)."""
    found = [a for a in core.state.action_for(pos.id, ActionStatus.EXECUTING) if a.type is ActionType.ENTRY]
    return found[0] if found else None


def open_refusal(core: AgentCore, pos: Position, now: float, *, to_terminal: bool = True) -> str | None:
    """Why the trading state forbids opening `pos` now, or None. Not `to_terminal` (the move to
    OPENING, which needs the server anyway): an unheard server is no reason, only a control is.

    REDUCING lets through a hedge leg that pairs an open position (hedge.domain.trading.reduces),
    judged here when the agent holds that position's row (its own user's). A leg of another
    user's position is judged by the server at the move to OPENING, where both rows are seen;
    the agent does not refuse it for a pairing it cannot see."""
    state = core.controls.state_for(pos.user_id, pos.account_id, now)
    if state.state is TradingState.ACTIVE or (isinstance(state, OfflineReducing) and not to_terminal):
        return None
    action = entry_action(core, pos)
    head_id = None if action is None else action.trigger_position_id
    head = None if head_id is None else core.state.positions.get(head_id)
    if state.state is TradingState.REDUCING and head_id is not None and head is None:
        log.info(
            "position %s: trading is %s; its pairing with position %s (another user's) was the "
            "server's to judge at the move to OPENING",
            pos.id,
            state.describe(),
            head_id,
        )
        return None
    try:
        check_open(state, pos, head)
    except Refused as refused:
        return refused.reason
    return None


def close_refusal(core: AgentCore, pos: Position, now: float) -> str | None:
    """Why the trading state forbids closing `pos` now (HALTED: closes included), or None."""
    try:
        check_close(core.controls.state_for(pos.user_id, pos.account_id, now), pos)
    except Refused as refused:
        return refused.reason
    return None


def pip_size(core: AgentCore, account_id: str, symbol: str) -> Decimal:
    """The account's pip of `symbol`: its terminal's digits (SYMBOLS) where reported, else the
    spec the server holds for the account, else configuration or the built-ins; NoSymbolSpec
    (a ValidationError) when none knows it."""
    info = core.terminal(account_id).symbols.get(symbol)
    if info is not None:
        return pip_for_digits(info.digits, info.point)
    account = core.state.accounts.get(account_id)
    if account is not None:
        return spec_for(account, symbol, core.catalog).pip_size
    return core.catalog.spec(symbol).pip_size


def slippage(core: AgentCore, pos: Position, opened_at: float, now: float) -> Verdict:
    """Whether the terminal's current price is within the ENTRY's maxSlippagePips of the price
    that triggered it. At the bound it opens; beyond it, never. No triggering price (started by
    hand, or triggered on another symbol) or no maxSlippagePips: it does not apply."""
    action = entry_action(core, pos)
    if action is None or action.max_slippage_pips is None:
        return GO
    if action.trigger_price is None:
        if action.id not in core.slippage_noted:
            core.slippage_noted.add(action.id)
            log.info("action %s has no triggering price (started by hand, or triggered on another "
                     "symbol): maxSlippagePips does not apply", action.id)  # fmt: skip
        return GO
    term = core.terminal(pos.account_id)
    quote = core.quotes.get((pos.account_id, pos.symbol)) if pos.symbol in term.priced else None
    if quote is None:  # none since its EA (re)connected: a price from before is no price now
        waited = now - max(opened_at, term.connected_at)
        if waited >= core.settings.ea_wait_s:
            return Verdict(refusal=f"no {pos.symbol} price from the terminal within {waited:.0f} s to "
                                   f"check maxSlippagePips {action.max_slippage_pips} against")  # fmt: skip
        return Verdict(waiting=f"a {pos.symbol} price to check maxSlippagePips against")
    try:
        pip = pip_size(core, pos.account_id, pos.symbol)
    except ValidationError as exc:
        return Verdict(refusal=f"maxSlippagePips cannot be checked: {exc.message}")
    price = quote.ask if pos.side is Side.BUY else quote.bid  # what the order would fill at
    worse = price - action.trigger_price if pos.side is Side.BUY else action.trigger_price - price
    pips = worse / pip
    if pips > action.max_slippage_pips:
        return Verdict(
            refusal=f"the terminal's {pos.side.value} price {price} is {pips.normalize():f} pips worse than "
            f"the triggering price {action.trigger_price} (maxSlippagePips {action.max_slippage_pips}):"
            " not opened"
        )
    return GO
