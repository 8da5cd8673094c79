"""Which trigger an intent belongs to, so that the agent's log lines about it carry the trigger's
correlation id (hedge.logs): its own trigger decision (agent 1), or the correlated action a
mutation or an EA command carries out (agent 2: OPENING, OPEN, the OPEN/CLOSE to the EA)."""

from __future__ import annotations

from hedge.agent.intents import Intent, SendToEA, TriggerActions, UpdateAction, UpdatePosition
from hedge.agent.state import LocalState
from hedge.domain.enums import ActionStatus
from hedge.ea.protocol import Close, Open


def correlation_of(state: LocalState, intent: Intent) -> str | None:
    if isinstance(intent, TriggerActions):
        return intent.correlation_id
    if isinstance(intent, UpdateAction):
        action = state.actions.get(intent.action_id)
        return None if action is None else action.correlation_id
    if isinstance(intent, UpdatePosition):
        return position_correlation(state, intent.position_id)
    if isinstance(intent, SendToEA) and isinstance(intent.command, Open | Close):
        return position_correlation(state, intent.command.position_id)
    return None


def position_correlation(state: LocalState, position_id: str) -> str | None:
    """The id of the action at work on the position: an EXECUTING one first, else the latest."""
    found = [a for a in state.actions_of(position_id) if a.correlation_id]
    if not found:
        return None
    newest = max(found, key=lambda a: (a.status is ActionStatus.EXECUTING, a.updated_at, a.id))
    return newest.correlation_id
