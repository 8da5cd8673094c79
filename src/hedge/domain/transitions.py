"""The Position and Action state machines: one table each, one function to apply a move.

Each table line is `(state, trigger) -> state`. The API and the agent both import these tables;
no other layer keeps its own copy of the allowed moves.
"""

from __future__ import annotations

from enum import StrEnum

from hedge.domain.enums import ActionStatus, PositionStatus
from hedge.domain.machine import apply_move, final_states, trigger_between


class PositionTrigger(StrEnum):
    EXECUTE = "EXECUTE"  # the operator or an ENTRY action asks to open
    CANCEL = "CANCEL"  # withdrawn before it was sent
    FILL = "FILL"  # the EA reported OPENED SUCCESS
    REJECT = "REJECT"  # the EA reported OPENED FAILED
    CLOSE = "CLOSE"  # the operator or a CLOSE action asks to close
    STOP_OUT = "STOP_OUT"  # the broker closed it (EA STOPPED)
    CLOSE_FILL = "CLOSE_FILL"  # the EA reported CLOSED SUCCESS
    CLOSE_FAIL = "CLOSE_FAIL"  # the EA reported CLOSED FAILED


class ActionTrigger(StrEnum):
    START = "START"  # triggered, or started by hand
    CANCEL = "CANCEL"
    SUCCEED = "SUCCEED"
    FAIL = "FAIL"
    RETRY = "RETRY"


P = PositionStatus
A = ActionStatus

POSITION_TABLE: dict[tuple[PositionStatus, PositionTrigger], PositionStatus] = {
    (P.PENDING, PositionTrigger.EXECUTE): P.OPENING,
    (P.PENDING, PositionTrigger.CANCEL): P.CANCELED,
    (P.OPENING, PositionTrigger.FILL): P.OPEN,
    (P.OPENING, PositionTrigger.REJECT): P.CANCELED,
    (P.OPEN, PositionTrigger.CLOSE): P.CLOSING,
    (P.OPEN, PositionTrigger.STOP_OUT): P.STOPPED,
    (P.CLOSING, PositionTrigger.CLOSE_FILL): P.CLOSED,
    (P.CLOSING, PositionTrigger.CLOSE_FAIL): P.OPEN,
}

ACTION_TABLE: dict[tuple[ActionStatus, ActionTrigger], ActionStatus] = {
    (A.PENDING, ActionTrigger.START): A.EXECUTING,
    (A.PENDING, ActionTrigger.CANCEL): A.CANCELED,
    (A.EXECUTING, ActionTrigger.SUCCEED): A.EXECUTED,
    (A.EXECUTING, ActionTrigger.FAIL): A.FAILED,
    (A.FAILED, ActionTrigger.RETRY): A.PENDING,
}


def apply_position(state: PositionStatus, trigger: PositionTrigger) -> PositionStatus:
    """The state a Position reaches from `state` on `trigger`; InvalidTransition otherwise."""
    return apply_move(POSITION_TABLE, "Position", state, trigger)


def apply_action(state: ActionStatus, trigger: ActionTrigger) -> ActionStatus:
    """The state an Action reaches from `state` on `trigger`; InvalidTransition otherwise."""
    return apply_move(ACTION_TABLE, "Action", state, trigger)


def position_trigger_for(state: PositionStatus, target: PositionStatus) -> PositionTrigger:
    """The trigger that moves a Position from `state` to `target` (the API sets statuses)."""
    return trigger_between(POSITION_TABLE, "Position", state, target)


def action_trigger_for(state: ActionStatus, target: ActionStatus) -> ActionTrigger:
    """The trigger that moves an Action from `state` to `target`."""
    return trigger_between(ACTION_TABLE, "Action", state, target)


def check_position_move(state: PositionStatus, target: PositionStatus) -> None:
    """Raise InvalidTransition unless the table allows `state -> target`."""
    position_trigger_for(state, target)


def check_action_move(state: ActionStatus, target: ActionStatus) -> None:
    """Raise InvalidTransition unless the table allows `state -> target`."""
    action_trigger_for(state, target)


FINAL_POSITION_STATES = final_states(POSITION_TABLE, PositionStatus)
FINAL_ACTION_STATES = final_states(ACTION_TABLE, ActionStatus)
