"""What the agent's core asks its shell to do: mutations on the server and commands to EAs."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hedge.domain.enums import TriggerReason
from hedge.ea.protocol import Close, Open, Subscribe, Sync


@dataclass(frozen=True, slots=True)
class UpdatePosition:
    position_id: str
    changes: dict[str, Any]  # GraphQL field names -> values
    why: str


@dataclass(frozen=True, slots=True)
class UpdateAction:
    action_id: str
    changes: dict[str, Any]
    why: str


@dataclass(frozen=True, slots=True)
class UpdateAccount:
    account_id: str
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TriggerActions:
    position_id: str
    reason: TriggerReason
    price: Decimal | None


@dataclass(frozen=True, slots=True)
class SendToEA:
    account_id: str
    command: Open | Close | Sync | Subscribe
    why: str = field(default="")


Intent = UpdatePosition | UpdateAction | UpdateAccount | TriggerActions | SendToEA


def busy_key(intent: Intent) -> str | None:
    """The row a server intent works on: one mutation per row at a time."""
    if isinstance(intent, UpdatePosition):
        return f"Position:{intent.position_id}"
    if isinstance(intent, UpdateAction):
        return f"Action:{intent.action_id}"
    if isinstance(intent, TriggerActions):
        return f"Trigger:{intent.position_id}"
    if isinstance(intent, UpdateAccount):
        return f"Account:{intent.account_id}"
    return None
