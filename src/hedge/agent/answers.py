"""The EA's answers and reports about one position: OPENED, CLOSED, STOPPED, applied to its tracker.

A success is the terminal's word whatever command it answers (also a replay after a reconnect);
a failure counts only for the command the tracker waits for. TIMEOUT and UNKNOWN leave the
outcome open; only REQUOTE (`ErrorCode.retryable`) is retried.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hedge.agent.intents import Intent, UpdateAction
from hedge.domain.enums import ActionType, PositionStatus
from hedge.domain.orders import Exit, Fill, OrderState, OrderTracker, OrderTrigger
from hedge.domain.transitions import FINAL_POSITION_STATES
from hedge.ea.protocol_messages import Closed, CommandStatus, ErrorCode, Opened, Stopped

if TYPE_CHECKING:
    from hedge.agent.core import AgentCore

log = logging.getLogger(__name__)

P = PositionStatus
S = OrderState


def known_tracker(core: AgentCore, pid: str, now: float) -> OrderTracker | None:
    """The tracker of a position the server has live (OPENING, OPEN, CLOSING); None otherwise."""
    found = core.orders.get(pid)
    if found is not None:
        return found
    pos = core.state.positions.get(pid)
    if pos is None or pos.status in FINAL_POSITION_STATES or pos.status is P.PENDING:
        return None
    return core.tracker(pos, now)


def on_opened(core: AgentCore, account_id: str, msg: Opened, now: float) -> list[Intent]:
    return _on_answer(core, account_id, msg, now)


def on_closed(core: AgentCore, account_id: str, msg: Closed, now: float) -> list[Intent]:
    return _on_answer(core, account_id, msg, now)


def _on_answer(core: AgentCore, account_id: str, msg: Opened | Closed, now: float) -> list[Intent]:
    """OPENED or CLOSED: a success is applied whatever command it answers, a failure only when it
    answers the command the position's tracker waits for."""
    pid = msg.position_id
    if core.foreign(account_id, pid, msg.TYPE):
        return []
    tracker = known_tracker(core, pid, now)
    if msg.status is CommandStatus.SUCCESS:
        if isinstance(msg, Opened):
            _apply_fill(core, account_id, msg, tracker, now)
        else:
            _apply_exit(core, account_id, msg, tracker, now)
        return []
    kind = "OPEN" if isinstance(msg, Opened) else "CLOSE"
    if tracker is None or tracker.command_id != msg.command_id or tracker.kind != kind:
        return []  # an answer to a command we no longer wait for (a repeat)
    return _failed(core, tracker, msg.error_code, msg.message or "", now)


def _apply_fill(
    core: AgentCore, account_id: str, msg: Opened, tracker: OrderTracker | None, now: float
) -> None:
    assert msg.mt_ticket is not None and msg.price is not None and msg.time_ms is not None
    fill = Fill(msg.mt_ticket, msg.price, msg.time_ms, msg.volume)
    core.terminal(account_id).hold(msg.position_id, fill)  # also what orphans are judged from
    if tracker is not None and tracker.can(OrderTrigger.FILL) and tracker.state is not S.HELD:
        tracker.filled(fill, now)
        core.fill_heard(msg.position_id)


def _apply_exit(
    core: AgentCore, account_id: str, msg: Closed, tracker: OrderTracker | None, now: float
) -> None:
    assert msg.price is not None and msg.time_ms is not None and msg.profit is not None
    core.terminal(account_id).release(msg.position_id)
    if tracker is not None and tracker.can(OrderTrigger.EXIT):
        tracker.exited(Exit(msg.price, msg.time_ms, msg.profit, None, msg.mt_ticket), now)


def _failed(
    core: AgentCore, tracker: OrderTracker, code: ErrorCode | None, message: str, now: float
) -> list[Intent]:
    kind = tracker.kind
    text = f"{kind} failed: {code}: {message}" if code else f"{kind} failed: {message}"
    if code is not None and not code.placed_nothing:  # TIMEOUT, UNKNOWN: it may have been done
        if tracker.can(OrderTrigger.TIMEOUT):
            log.warning(
                "%s of position %s: %s; outcome unknown, settling by SYNC",
                kind,
                tracker.position_id,
                text,
            )
            tracker.timed_out(now, text)
        return []
    if code is not None and code.retryable and tracker.requotes < core.settings.max_retries:
        if not tracker.can(OrderTrigger.REQUOTE):
            return []
        delay = core.settings.retry_backoff_s * (2**tracker.requotes)
        tracker.requoted(now + delay, now)
        log.info(
            "%s of position %s failed (%s); retry %d in %.2f s",
            kind,
            tracker.position_id,
            code,
            tracker.requotes,
            delay,
        )
        wanted = ActionType.ENTRY if kind == "OPEN" else ActionType.CLOSE
        return [
            UpdateAction(a.id, {"retryCount": tracker.requotes}, f"retry {tracker.requotes} after {code}")
            for a in core.executing(tracker.position_id, wanted)
        ]
    if code is not None and code.retryable:
        text += f" (after {tracker.requotes} retries)"
    if tracker.can(OrderTrigger.REFUSE):
        tracker.refused(text, now)
    return []


def on_stopped(core: AgentCore, account_id: str, msg: Stopped, now: float = 0.0) -> list[Intent]:
    pid = msg.position_id
    if core.foreign(account_id, pid, "STOPPED"):
        return []
    core.terminal(account_id).release(pid)
    tracker = known_tracker(core, pid, now)
    if tracker is not None and tracker.can(OrderTrigger.EXIT):
        reason = msg.reason.value if hasattr(msg.reason, "value") else str(msg.reason)
        tracker.exited(Exit(msg.price, msg.time_ms, msg.profit, reason, msg.mt_ticket), now)
    return []
