"""The GraphQL types of alerts (the contract's next/alerts.graphql) and their conversion."""

from __future__ import annotations

from datetime import datetime

import strawberry

from hedge.api.images import image
from hedge.domain import enums
from hedge.domain import models as m

strawberry.enum(enums.AlertKind)
strawberry.enum(enums.AlertSeverity)


@strawberry.type
class Alert:
    id: strawberry.ID
    user_id: strawberry.ID
    account_id: strawberry.ID | None
    position_id: strawberry.ID | None
    action_id: strawberry.ID | None
    related_position_ids: list[strawberry.ID] = strawberry.field(
        description="the other legs of the same hedge, when the alert is about a pair"
    )
    kind: enums.AlertKind
    severity: enums.AlertSeverity
    message: str = strawberry.field(description="what happened and what to do")
    count: int = strawberry.field(description="times the same open condition was raised")
    requires_action: bool = strawberry.field(description="true: a person must decide")
    created_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: strawberry.ID | None
    resolved_at: datetime | None = strawberry.field(description="set when the condition went away")
    resolved_by: strawberry.ID | None = strawberry.field(description="null when the system resolved it")
    note: str | None = strawberry.field(description="the last acknowledge or resolve note")
    escalated_at: datetime | None
    version: int


@strawberry.input
class RaiseAlertInput:
    kind: enums.AlertKind
    severity: enums.AlertSeverity
    message: str
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="defaults to the caller; an agent raises alerts for its own user"
    )
    account_id: strawberry.ID | None = None
    position_id: strawberry.ID | None = None
    action_id: strawberry.ID | None = None
    related_position_ids: list[strawberry.ID] | None = None
    requires_action: bool | None = None


@strawberry.input
class AcknowledgeAlertInput:
    id: strawberry.ID
    note: str | None = None


@strawberry.input
class ResolveAlertInput:
    id: strawberry.ID
    note: str | None = None
    automatic: bool | None = strawberry.field(
        default=None, description="true: the condition went away by itself (resolvedBy stays null)"
    )


def alert(a: m.Alert) -> Alert:
    return image(a, Alert)
