"""Reading what the agent's core answered: the commands it sends to EAs and the changes it asks the
server to make to positions and actions."""

from __future__ import annotations

from hedge.agent.intents import Intent, SendToEA, UpdateAction, UpdatePosition


def sent(intents: list[Intent], kind: type) -> list:  # type: ignore[type-arg]
    return [i.command for i in intents if isinstance(i, SendToEA) and isinstance(i.command, kind)]


def position_updates(intents: list[Intent]) -> list[dict[str, object]]:
    return [i.changes for i in intents if isinstance(i, UpdatePosition)]


def action_updates(intents: list[Intent]) -> list[dict[str, object]]:
    return [i.changes for i in intents if isinstance(i, UpdateAction)]
