"""The alerts of the API: listAlerts/getAlert, raiseAlert, acknowledgeAlert, resolveAlert.

A user sees and acts on its own alerts; ADMIN on all; an agent (CLIENT) raises alerts for its own
user only. The types are in api.alert_types, the subscriptions in api.subscriptions.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from hedge.api.alert_types import AcknowledgeAlertInput, Alert, RaiseAlertInput, ResolveAlertInput, alert
from hedge.api.context import Context
from hedge.domain import models as m
from hedge.domain.alerts import checked_draft
from hedge.domain.authz import check_owner, owner_for_create, scope_user


@strawberry.type
class AlertQuery:
    @strawberry.field
    async def list_alerts(
        self, info: Info[Context, None], user_id: strawberry.ID | None = None, open: bool | None = None
    ) -> list[Alert]:
        """open: true = not yet resolved, false = resolved, null = all."""
        c = info.context
        scope = scope_user(c.actor, None if user_id is None else str(user_id))
        found = await c.run(c.services.store.list_alerts, scope, open)
        return [alert(a) for a in found]

    @strawberry.field
    async def get_alert(self, info: Info[Context, None], id: strawberry.ID) -> Alert | None:
        c = info.context
        found = await c.run(c.services.cache.get, m.Alert, str(id))
        if found is None:
            return None
        check_owner(c.actor, found.user_id, "Alert", found.id)
        return alert(found)


@strawberry.type
class AlertMutation:
    @strawberry.mutation
    async def raise_alert(self, info: Info[Context, None], input: RaiseAlertInput) -> Alert:
        c = info.context
        owner = owner_for_create(c.actor, None if input.user_id is None else str(input.user_id))
        c.check_rate()
        draft = await c.run(
            checked_draft,
            user_id=owner,
            kind=input.kind,
            severity=input.severity,
            message=input.message,
            account_id=input.account_id,
            position_id=input.position_id,
            action_id=input.action_id,
            related_position_ids=[str(i) for i in input.related_position_ids or ()],
            requires_action=bool(input.requires_action),
        )
        raised = await c.run(c.services.store.raise_alert, draft, c.actor)
        return alert(c.written(raised))

    @strawberry.mutation
    async def acknowledge_alert(self, info: Info[Context, None], input: AcknowledgeAlertInput) -> Alert:
        c = info.context.rated()
        done = await c.run(c.services.store.acknowledge_alert, c.actor, str(input.id), input.note)
        return alert(c.written(done))

    @strawberry.mutation
    async def resolve_alert(self, info: Info[Context, None], input: ResolveAlertInput) -> Alert:
        c = info.context.rated()
        done = await c.run(
            c.services.store.resolve_alert, c.actor, str(input.id), input.note, bool(input.automatic)
        )
        return alert(c.written(done))
