"""Reading what the agent's core answered: the commands it sends to EAs, the changes it asks the
server to make to positions and actions, and the alerts it raises and resolves."""

from __future__ import annotations

from hedge.agent.core import AgentCore
from hedge.agent.intents import Intent, RaiseAlert, ResolveAlert, SendToEA, UpdateAction, UpdatePosition


def sent(intents: list[Intent], kind: type) -> list:  # type: ignore[type-arg]
    return [i.command for i in intents if isinstance(i, SendToEA) and isinstance(i.command, kind)]


def position_updates(intents: list[Intent]) -> list[dict[str, object]]:
    return [i.changes for i in intents if isinstance(i, UpdatePosition)]


def action_updates(intents: list[Intent]) -> list[dict[str, object]]:
    return [i.changes for i in intents if isinstance(i, UpdateAction)]


def raised(intents: list[Intent]) -> dict[str, RaiseAlert]:
    return {i.kind: i for i in intents if isinstance(i, RaiseAlert)}


def resolved(intents: list[Intent]) -> list[str]:
    return [i.key[0] for i in intents if isinstance(i, ResolveAlert)]


def record_alerts(agent: AgentCore, intents: list[Intent]) -> None:
    """The shell's part: the server answered every raise and resolve."""
    for intent in intents:
        if isinstance(intent, RaiseAlert):
            agent.alert_raised(intent.key, f"alert-{intent.kind}")
        elif isinstance(intent, ResolveAlert):
            agent.alert_resolved(intent.key, intent.alert_id)
