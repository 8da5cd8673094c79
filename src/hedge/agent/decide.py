"""The agent's decisions: given the rows, the facts heard from the EAs and the time, what should
happen now. Functions over the AgentCore's state (core.py feeds it; this module reads it and
records what it sends, so nothing is sent twice)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hedge.agent.facts import Exit, Failure, Fill, InFlight
from hedge.agent.intents import Intent, SendToEA, UpdateAction, UpdatePosition
from hedge.domain.enums import ActionStatus, ActionType, ExitReason, PositionStatus
from hedge.domain.models import Action, Position
from hedge.domain.symbols import broker_symbol
from hedge.domain.values import iso_ms, utc_from_ms
from hedge.ea.protocol import Close, Open, Subscribe, comment_for

if TYPE_CHECKING:
    from hedge.agent.core import AgentCore

log = logging.getLogger(__name__)

P = PositionStatus


def decide(core: AgentCore, now: float) -> list[Intent]:
    """Everything that should happen now, given the rows, the facts and the time."""
    intents: list[Intent] = []
    for account_id in sorted(core.connected - core.synced):
        sent = core.sync_sent.get(account_id)
        if sent is None or now - sent[1] > core.settings.command_timeout_s:
            intents += core.sync_request(account_id, now)
    for action in core.state.executing_actions():
        intents += _carry_out(core, action, now)
    for pos in core.state.positions_in(P.OPENING):
        intents += _opening(core, pos, now)
    for pos in core.state.positions_in(P.CLOSING):
        intents += _closing(core, pos, now)
    for pos in core.state.positions_in(P.OPEN):
        exit_ = _exit(core, pos)
        if exit_ is not None and exit_.stopped_reason is not None:
            intents.append(_stop(core, pos, exit_))
    intents += list(core.triggers.values())
    for account_id in sorted(core.connected & core.synced):
        account = core.state.accounts.get(account_id)
        mapping = account.symbol_map if account else None
        symbols = tuple(broker_symbol(symbol, mapping) for symbol in core.state.symbols_of(account_id))
        if core.subscribed.get(account_id) != symbols:
            core.subscribed[account_id] = symbols
            intents.append(SendToEA(account_id, Subscribe(symbols), "stream prices of live positions"))
    return intents


def _carry_out(core: AgentCore, action: Action, now: float) -> list[Intent]:
    pos = core.state.positions.get(action.position_id)
    if pos is None:
        return []
    if action.type is ActionType.ENTRY:
        if pos.status is P.PENDING:
            early = _command(core, pos, "OPEN", now) if _fill(core, pos) is None else []
            return [*early, UpdatePosition(pos.id, {"status": "OPENING"}, f"ENTRY action {action.id}")]
        if pos.status in (P.OPEN, P.CLOSING, P.CLOSED, P.STOPPED):
            return [UpdateAction(action.id, {"status": "EXECUTED"}, "its position is open")]
        if pos.status is P.CANCELED:
            failure = core.failures.get(pos.id)
            message = failure.message if failure else "its position was canceled"
            return [UpdateAction(action.id, {"status": "FAILED", "errorMessage": message}, message)]
        return []
    if pos.status is P.OPEN:
        early = _command(core, pos, "CLOSE", now) if _exit(core, pos) is None else []
        return [*early, UpdatePosition(pos.id, {"status": "CLOSING"}, f"CLOSE action {action.id}")]
    if pos.status is P.CLOSED:
        return [UpdateAction(action.id, {"status": "EXECUTED"}, "its position is closed")]
    if pos.status in (P.STOPPED, P.CANCELED, P.PENDING):
        message = f"cannot close position {pos.id}: it is {pos.status.value}"
        return [UpdateAction(action.id, {"status": "FAILED", "errorMessage": message}, message)]
    return []  # OPENING or CLOSING: wait for the position


def _fill(core: AgentCore, pos: Position) -> Fill | None:
    fill = core.fills.get(pos.id)
    return fill if fill is not None and fill.account_id in ("", pos.account_id) else None


def _exit(core: AgentCore, pos: Position) -> Exit | None:
    exit_ = core.exits.get(pos.id)
    return exit_ if exit_ is not None and exit_.account_id in ("", pos.account_id) else None


def _opening(core: AgentCore, pos: Position, now: float) -> list[Intent]:
    fill = _fill(core, pos)
    if fill is not None:
        changes = {
            "status": "OPEN",
            "entryPrice": fill.price,
            "entryTime": iso_ms(utc_from_ms(fill.time_ms)),
            "mtTicket": fill.mt_ticket,
        }
        return [UpdatePosition(pos.id, changes, f"filled as ticket {fill.mt_ticket}")]
    sending = [] if pos.id in core.failures else _command(core, pos, "OPEN", now)
    failure = core.failures.get(pos.id)  # may have been found just now (the EA never came)
    if failure is not None:
        return [
            UpdatePosition(pos.id, {"status": "CANCELED"}, failure.message),
            *_fail_actions(core, pos.id, ActionType.ENTRY, failure.message),
        ]
    return sending


def _closing(core: AgentCore, pos: Position, now: float) -> list[Intent]:
    exit_ = _exit(core, pos)
    if exit_ is not None:
        by_action = any(
            a.type is ActionType.CLOSE for a in core.state.action_for(pos.id, ActionStatus.EXECUTING)
        )
        if exit_.stopped_reason is not None:
            reason = ExitReason.STOP_OUT if exit_.stopped_reason == "STOP_OUT" else ExitReason.MANUAL_CLOSE
        else:
            reason = ExitReason.ACTION_CLOSE if by_action else ExitReason.MANUAL_CLOSE
        return [UpdatePosition(pos.id, _exit_changes("CLOSED", exit_, reason), f"closed at {exit_.price}")]
    sending = [] if pos.id in core.failures else _command(core, pos, "CLOSE", now)
    failure = core.failures.get(pos.id)
    if failure is not None:
        return [
            UpdatePosition(pos.id, {"status": "OPEN"}, failure.message),
            *_fail_actions(core, pos.id, ActionType.CLOSE, failure.message),
        ]
    return sending


def _stop(core: AgentCore, pos: Position, exit_: Exit) -> Intent:
    reason = ExitReason.STOP_OUT if exit_.stopped_reason == "STOP_OUT" else ExitReason.MANUAL_CLOSE
    return UpdatePosition(
        pos.id, _exit_changes("STOPPED", exit_, reason), f"stopped ({exit_.stopped_reason})"
    )


def _fail_actions(core: AgentCore, position_id: str, type_: ActionType, message: str) -> list[Intent]:
    return [
        UpdateAction(a.id, {"status": "FAILED", "errorMessage": message}, message)
        for a in core.state.action_for(position_id, ActionStatus.EXECUTING)
        if a.type is type_
    ]


def _command(core: AgentCore, pos: Position, kind: str, now: float) -> list[Intent]:
    """Send OPEN or CLOSE for `pos` unless one is on its way; wait for the EA, within limits."""
    pid, account_id = pos.id, pos.account_id
    flight = core.inflight.get(pid)
    if flight is not None:
        if now - flight.sent_at > core.settings.command_timeout_s:
            log.warning(
                "%s of position %s unanswered for %.1f s; settling by SYNC",
                kind,
                pid,
                now - flight.sent_at,
            )
            del core.inflight[pid]
            core.synced.discard(account_id)
            core.sync_sent.pop(account_id, None)
        return []
    if now < core.retry_at.get(pid, 0.0):
        return []
    if account_id not in core.connected:
        since = core.ea_wait_since.setdefault(pid, now)
        if now - since >= core.settings.ea_wait_s:
            account = core.state.accounts.get(account_id)
            name = account.account_number if account else account_id
            message = f"the EA of account {name} was not connected within {core.settings.ea_wait_s:g} s"
            core.failures[pid] = Failure(kind, None, message)
            core.ea_wait_since.pop(pid, None)
        return []
    if account_id not in core.synced:
        return []
    core.ea_wait_since.pop(pid, None)
    command_id = core.next_command_id()
    if kind == "OPEN":
        account = core.state.accounts.get(account_id)
        symbol = broker_symbol(pos.symbol, account.symbol_map if account else None)  # the broker's name
        command: Open | Close = Open(command_id, pid, symbol, pos.side, pos.volume, comment_for(pid))
    else:
        if pos.mt_ticket is None:
            core.failures[pid] = Failure(kind, None, f"position {pid} has no mtTicket to close")
            return []
        command = Close(command_id, pid, pos.mt_ticket)
    attempts = core.retries.get(pid, 0) + 1
    core.inflight[pid] = InFlight(kind, command_id, account_id, now, attempts)
    return [SendToEA(account_id, command, f"{kind} position {pid}")]


def _exit_changes(status: str, exit_: Exit, reason: ExitReason) -> dict[str, object]:
    return {
        "status": status,
        "exitPrice": exit_.price,
        "exitTime": iso_ms(utc_from_ms(exit_.time_ms)),
        "realizedPL": exit_.profit,
        "exitReason": reason.value,
    }
