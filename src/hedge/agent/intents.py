"""What the agent's core asks its shell to do: mutations on the server and commands to EAs."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hedge.domain.enums import TriggerReason
from hedge.ea.protocol import Close, History, Open, Subscribe, Sync


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
    price_time_ms: int | None = None  # the EA's time of that price (trailTriggeredAt takes it)
    # this trigger decision in every process's logs (hedge.domain.correlation); not part of equality
    correlation_id: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class SendToEA:
    account_id: str
    command: Open | Close | Sync | Subscribe | History
    why: str = field(default="")


AlertKey = tuple[str, str | None, str | None]  # (kind, accountId, positionId): one open condition


@dataclass(frozen=True, slots=True)
class RaiseAlert:
    """raiseAlert for a condition the agent sees; asked again until the server has recorded it."""

    key: AlertKey
    severity: str  # AlertSeverity value
    message: str
    requires_action: bool = False

    @property
    def kind(self) -> str:
        return self.key[0]


@dataclass(frozen=True, slots=True)
class ResolveAlert:
    """resolveAlert(automatic: true): the condition went away by itself."""

    key: AlertKey
    alert_id: str


Intent = UpdatePosition | UpdateAction | UpdateAccount | TriggerActions | SendToEA | RaiseAlert | ResolveAlert


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
    if isinstance(intent, RaiseAlert | ResolveAlert):
        return "Alert:" + "|".join(part or "" for part in intent.key)
    return None
