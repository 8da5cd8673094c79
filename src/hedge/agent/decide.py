"""The agent's decisions: given the rows, each position's order tracker and the time, what happens now.

| row        | tracker                          | decision                                              |
| ---------- | -------------------------------- | ----------------------------------------------------- |
| PENDING    | (ENTRY action EXECUTING)         | move to OPENING; OPEN waits until that has committed  |
| OPENING    | NEW                              | OPEN to the EA once it is connected and synced        |
| OPENING    | NEW, EA away HEDGE_AGENT_EA_WAIT_S | give up (nothing was sent): CANCELED, ENTRY FAILED  |
| OPENING    | OPEN_SENT past the timeout       | outcome unknown: SYNC, then HISTORY; never CANCELED   |
| OPENING    | HELD                             | OPEN with ticket, price, time (and filled volume)     |
| OPENING    | OPEN_FAILED                      | CANCELED, ENTRY action FAILED with the EA's words     |
| OPEN       | EXITED                           | STOPPED with the terminal's price, time, P/L, reason  |
| OPEN       | (CLOSE action EXECUTING)         | move to CLOSING; CLOSE waits until that has committed |
| CLOSING    | HELD                             | CLOSE to the EA (or, EA away and nothing sent: OPEN)  |
| CLOSING    | CLOSE_SENT past the timeout      | outcome unknown: stays CLOSING, SYNC, then HISTORY    |
| CLOSING    | CLOSE_FAILED                     | back to OPEN, CLOSE action FAILED                     |
| CLOSING    | EXITED                           | CLOSED with the terminal's price, time, P/L, reason   |

Functions over the AgentCore's state; the trackers record what is sent, so nothing is sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hedge.agent import order_guards as guards
from hedge.agent import reconcile
from hedge.agent.intents import Intent, SendToEA, UpdateAction, UpdatePosition
from hedge.domain.enums import ActionType, ExitReason, PositionStatus
from hedge.domain.models import Action, Position
from hedge.domain.orders import Exit, OrderState, OrderTracker, OrderTrigger
from hedge.domain.symbols import broker_symbol
from hedge.domain.values import iso_ms, utc_from_ms
from hedge.ea.protocol import Close, Open, Subscribe, comment_for

if TYPE_CHECKING:
    from hedge.agent.core import AgentCore

log = logging.getLogger(__name__)

P = PositionStatus
S = OrderState


def decide(core: AgentCore, now: float) -> list[Intent]:
    """Everything that should happen now, given the rows, the trackers and the time."""
    intents: list[Intent] = reconcile.requests(core, now)
    for action in core.state.executing_actions():
        intents += _carry_out(core, action, now)
    for pos in core.state.positions_in(P.OPENING):
        intents += _opening(core, pos, core.tracker(pos, now), now)
    for t in [t for t in core.unsettled() if t.state in (S.EXITED, S.CLOSE_FAILED)]:
        row = core.state.positions.get(t.position_id)
        if row is not None and row.status is P.OPEN:  # an OPEN row with a HELD tracker: nothing to do
            intents += _open(core, row, t, now)
    for pos in core.state.positions_in(P.CLOSING):
        intents += _closing(core, pos, core.tracker(pos, now), now)
    intents += list(core.triggers.values())
    intents += _subscriptions(core)
    intents += core.outbox_intents()
    holding, undecided = reconcile.conditions(core, now)
    intents += core.alerts.update(holding, undecided)
    return intents


def _carry_out(core: AgentCore, action: Action, now: float) -> list[Intent]:
    pos = core.state.positions.get(action.position_id)
    if pos is None:
        return []
    if _expired(core, action, pos):
        return []  # past its deadline: not taken up; the server fails it (ACTION_EXPIRED)
    if action.type is ActionType.ENTRY:
        if pos.status is P.PENDING:
            refusal = guards.open_refusal(core, pos, now, to_terminal=False)
            if refusal is not None:  # the kill switch: not even the move to OPENING
                core.refuse_pending(pos.id, refusal, now)
            refused = core.orders.get(pos.id)
            if refused is not None and refused.state is S.OPEN_FAILED:  # the server refused OPENING
                message = refused.failure or "the server refused to open it"
                failed = {"status": "FAILED", "errorMessage": message}
                return [
                    UpdatePosition(pos.id, {"status": "CANCELED"}, message),
                    UpdateAction(action.id, failed, message),
                ]
            return [UpdatePosition(pos.id, {"status": "OPENING"}, f"ENTRY action {action.id}")]
        if pos.status in (P.OPEN, P.CLOSING, P.CLOSED, P.STOPPED):
            return [UpdateAction(action.id, {"status": "EXECUTED"}, "its position is open")]
        if pos.status is P.CANCELED:
            tracker = core.orders.get(pos.id)
            message = tracker.failure if tracker and tracker.failure else "its position was canceled"
            return [UpdateAction(action.id, {"status": "FAILED", "errorMessage": message}, message)]
        return []
    tracker = core.orders.get(pos.id)
    if pos.status is P.OPEN:
        if tracker is not None and tracker.state is S.CLOSE_FAILED:
            message = tracker.failure or "the CLOSE was not carried out"
            return [UpdateAction(action.id, {"status": "FAILED", "errorMessage": message}, message)]
        if tracker is not None and tracker.state is S.EXITED:
            return []  # closed at the terminal already: the row goes STOPPED first
        refusal = guards.close_refusal(core, pos, now)
        if refusal is not None:  # HALTED: the position stays OPEN, the CLOSE action fails
            return [UpdateAction(action.id, {"status": "FAILED", "errorMessage": refusal}, refusal)]
        return [UpdatePosition(pos.id, {"status": "CLOSING"}, f"CLOSE action {action.id}")]
    if pos.status is P.CLOSED:
        return [UpdateAction(action.id, {"status": "EXECUTED"}, "its position is closed")]
    if pos.status in (P.STOPPED, P.CANCELED, P.PENDING):
        message = f"cannot close position {pos.id}: it is {pos.status.value}"
        return [UpdateAction(action.id, {"status": "FAILED", "errorMessage": message}, message)]
    return []  # OPENING or CLOSING: wait for the position


def _expired(core: AgentCore, action: Action, pos: Position) -> bool:
    """An action not yet taken up whose deadline has passed: starting it now would be too late."""
    not_started = pos.status is (P.PENDING if action.type is ActionType.ENTRY else P.OPEN)
    if action.expires_at is None or not not_started or core.clock.now() <= action.expires_at:
        return False
    if action.id not in core.expired:
        core.expired.add(action.id)
        log.warning("action %s expired at %s before it was taken up; not started", action.id,
                    action.expires_at.isoformat())  # fmt: skip
    return True


def _opening(core: AgentCore, pos: Position, t: OrderTracker, now: float) -> list[Intent]:
    if t.state in (S.HELD, S.EXITED) and t.fill is not None:
        fill = t.fill
        changes: dict[str, object] = {
            "status": "OPEN",
            "entryPrice": fill.price,
            "entryTime": iso_ms(utc_from_ms(fill.time_ms)),
            "mtTicket": fill.mt_ticket,
        }
        if fill.volume is not None:
            changes["filledVolume"] = fill.volume
        return [UpdatePosition(pos.id, changes, f"filled as ticket {fill.mt_ticket}")]
    return _command(core, pos, t, now)


def _open(core: AgentCore, pos: Position, t: OrderTracker, now: float) -> list[Intent]:
    if t.state is S.EXITED and t.exit is not None:
        reason = _exit_reason(t.exit, closing=False, by_action=False)
        return [
            UpdatePosition(
                pos.id,
                _exit_changes("STOPPED", t.exit, reason),
                f"closed at the terminal ({t.exit.reason or 'CLOSED'})",
            )
        ]
    if t.state is S.CLOSE_FAILED and not core.executing(pos.id, ActionType.CLOSE):
        t.recorded(now)  # the server has the row OPEN again and no CLOSE waits: a new CLOSE may come
    return []


def _closing(core: AgentCore, pos: Position, t: OrderTracker, now: float) -> list[Intent]:
    if t.state is S.EXITED and t.exit is not None:
        by_action = bool(core.executing(pos.id, ActionType.CLOSE))
        reason = _exit_reason(t.exit, closing=True, by_action=by_action)
        return [UpdatePosition(pos.id, _exit_changes("CLOSED", t.exit, reason), f"closed at {t.exit.price}")]
    return _command(core, pos, t, now)


def _command(core: AgentCore, pos: Position, t: OrderTracker, now: float) -> list[Intent]:
    """The OPEN of an OPENING row or the CLOSE of a CLOSING one (`_COMMANDS`): send it when due,
    watch its timeout, or undo the row's move when it failed (also when it was given up unsent)."""
    leg = _COMMANDS[pos.status]
    if t.state is leg.failed:
        message = t.failure or f"{t.kind} failed"
        return [
            UpdatePosition(pos.id, {"status": leg.undo.value}, message),
            *_fail_actions(core, pos.id, leg.action, message),
        ]
    if t.state is leg.ready:
        intents = leg.send(core, pos, t, now)
        return _command(core, pos, t, now) if t.state is leg.failed else intents
    if t.state is leg.sent:
        _check_timeout(core, t, now)
    return []


def _check_timeout(core: AgentCore, t: OrderTracker, now: float) -> None:
    if now - t.sent_at > core.settings.command_timeout_s:
        log.warning(
            "%s of position %s unanswered for %.1f s: outcome unknown, settling by SYNC",
            t.kind,
            t.position_id,
            now - t.sent_at,
        )
        t.timed_out(now)


def _fail_actions(core: AgentCore, position_id: str, type_: ActionType, message: str) -> list[Intent]:
    return [
        UpdateAction(a.id, {"status": "FAILED", "errorMessage": message}, message)
        for a in core.executing(position_id, type_)
    ]


def _may_send(core: AgentCore, pos: Position, t: OrderTracker, now: float) -> bool:
    """Whether a command may go to the position's EA now; gives up (REFUSE) on a long absence.

    Only from NEW (OPEN) or HELD (CLOSE): nothing of this command is at the terminal yet."""
    term = core.terminal(pos.account_id)
    if now < t.retry_at:
        return False
    if not term.connected:
        if term.away_since is None:
            term.away_since = now
        if now - term.away_since >= core.settings.ea_wait_s:
            account = core.state.accounts.get(pos.account_id)
            name = account.account_number if account else pos.account_id
            t.refused(f"the EA of account {name} was not connected within {core.settings.ea_wait_s:g} s", now)
        return False
    return term.ready


def _send_open(core: AgentCore, pos: Position, t: OrderTracker, now: float) -> list[Intent]:
    term = core.terminal(pos.account_id)
    if term.connected and not term.hedging:
        t.refused(
            f"account reports marginMode {term.margin_mode}: the agent opens positions only on "
            "HEDGING accounts",
            now,
        )
        return []
    if t.requotes > core.settings.max_retries:
        t.refused(f"{t.failure or 'OPEN failed'} (after {core.settings.max_retries} retries)", now)
        return []
    refusal = guards.open_refusal(core, pos, now)  # the kill switch: the EA's presence does not matter
    if refusal is None:
        if not _may_send(core, pos, t, now):
            return []
        verdict = guards.slippage(core, pos, t.moved_at, now)
        if verdict.waiting is not None:
            return []  # for the terminal's price
        refusal = verdict.refusal
    if refusal is not None:
        log.warning("position %s: OPEN not sent: %s", pos.id, refusal)
        t.refused(refusal, now)
        return []
    account = core.state.accounts.get(pos.account_id)
    symbol = broker_symbol(pos.symbol, account.symbol_map if account else None)  # the broker's name
    command_id = core.next_command_id()
    t.send(OrderTrigger.SEND_OPEN, command_id, now)
    return [
        SendToEA(
            pos.account_id,
            Open(command_id, pos.id, symbol, pos.side, pos.volume, comment_for(pos.id)),
            f"OPEN position {pos.id}",
        )
    ]


def _send_close(core: AgentCore, pos: Position, t: OrderTracker, now: float) -> list[Intent]:
    if pos.mt_ticket is None:
        t.refused(f"position {pos.id} has no mtTicket to close", now)
        return []
    refusal = guards.close_refusal(core, pos, now)
    if refusal is not None:
        log.warning("position %s: CLOSE not sent: %s", pos.id, refusal)
        t.refused(refusal, now)
        return []
    if not _may_send(core, pos, t, now):
        return []
    command_id = core.next_command_id()
    t.send(OrderTrigger.SEND_CLOSE, command_id, now)
    return [SendToEA(pos.account_id, Close(command_id, pos.id, pos.mt_ticket), f"CLOSE position {pos.id}")]


@dataclass(frozen=True, slots=True)
class _Command:
    """The tracker states of one command, the row's status when it fails, the action it serves."""

    ready: OrderState
    sent: OrderState
    failed: OrderState
    undo: PositionStatus
    action: ActionType
    send: Callable[[AgentCore, Position, OrderTracker, float], list[Intent]]


_COMMANDS = {
    P.OPENING: _Command(S.NEW, S.OPEN_SENT, S.OPEN_FAILED, P.CANCELED, ActionType.ENTRY, _send_open),
    P.CLOSING: _Command(S.HELD, S.CLOSE_SENT, S.CLOSE_FAILED, P.OPEN, ActionType.CLOSE, _send_close),
}


def _subscriptions(core: AgentCore) -> list[Intent]:
    intents: list[Intent] = []
    for account_id, term in sorted(core.terminals.items()):
        if not term.ready:
            continue
        account = core.state.accounts.get(account_id)
        mapping = account.symbol_map if account else None
        symbols = tuple(broker_symbol(symbol, mapping) for symbol in core.state.symbols_of(account_id))
        if term.subscribed != symbols:
            term.subscribed = symbols
            intents.append(SendToEA(account_id, Subscribe(symbols), "stream prices of live positions"))
    return intents


def _exit_reason(exit_: Exit, *, closing: bool, by_action: bool) -> ExitReason:
    """The row's exitReason for the terminal's word: STOP_OUT fires chains, nothing else does."""
    if exit_.reason is None:  # our own CLOSE
        return ExitReason.ACTION_CLOSE if by_action else ExitReason.MANUAL_CLOSE
    if exit_.reason == "STOP_OUT":
        return ExitReason.STOP_OUT
    # STOP_LOSS, TAKE_PROFIT, TERMINAL_CLOSE; an older EA's unknown word: MANUAL_CLOSE
    return ExitReason.__members__.get(exit_.reason, ExitReason.MANUAL_CLOSE)


def _exit_changes(status: str, exit_: Exit, reason: ExitReason) -> dict[str, object]:
    return {
        "status": status,
        "exitPrice": exit_.price,
        "exitTime": iso_ms(utc_from_ms(exit_.time_ms)),
        "realizedPL": exit_.profit,
        "exitReason": reason.value,
    }
