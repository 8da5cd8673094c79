"""The agent's mutations: one GraphQL document per mutation intent, sent over the server link."""

from __future__ import annotations

import logging
from typing import Any

from hedge import hops
from hedge.agent import documents as doc
from hedge.agent.core import AgentCore
from hedge.agent.intents import (
    Intent,
    RaiseAlert,
    ResolveAlert,
    TriggerActions,
    UpdateAccount,
    UpdateAction,
    UpdatePosition,
)
from hedge.agent.link import ServerLink
from hedge.agent.state import Row
from hedge.agent.wire import from_gql, gql_value
from hedge.domain.models import Account, Action, Position
from hedge.domain.values import utc_from_ms

log = logging.getLogger("hedge.agent.runtime")  # the runtime's log lines, as before the split


async def send_mutation(link: ServerLink, core: AgentCore, intent: Intent) -> list[Row]:
    """Carry out one mutation intent; the rows the server answered with (to feed the core)."""
    if isinstance(intent, UpdatePosition):
        log.info(
            "position %s → %s (%s)",
            intent.position_id,
            intent.changes.get("status", "update"),
            intent.why,
        )
        opening = hops.ON and intent.changes.get("status") == "OPENING"
        if opening:
            hops.stamp("a2.opening_sent", intent.position_id)
        data = await link.mutate(doc.UPDATE_POSITION, {"input": _input(intent.position_id, intent.changes)})
        if opening:
            hops.stamp("a2.opening_committed", intent.position_id)
        return [from_gql(Position, data["updatePosition"])]
    if isinstance(intent, UpdateAction):
        log.info("action %s → %s (%s)", intent.action_id, intent.changes.get("status", "update"), intent.why)
        data = await link.mutate(doc.UPDATE_ACTION, {"input": _input(intent.action_id, intent.changes)})
        return [from_gql(Action, data["updateAction"])]
    if isinstance(intent, UpdateAccount):
        data = await link.mutate(doc.UPDATE_ACCOUNT, {"input": _input(intent.account_id, intent.changes)})
        return [from_gql(Account, data["updateAccount"])]
    if isinstance(intent, RaiseAlert):
        alert: dict[str, object] = {
            "kind": intent.kind,
            "severity": intent.severity,
            "message": intent.message,
            "accountId": intent.key[1],
            "positionId": intent.key[2],
            "requiresAction": intent.requires_action,
        }
        raised = (await link.mutate(doc.RAISE_ALERT, {"input": alert}))["raiseAlert"]
        core.alert_raised(intent.key, str(raised["id"]))
        return []
    if isinstance(intent, ResolveAlert):
        resolve = {"id": intent.alert_id, "automatic": True, "note": "the condition went away"}
        await link.mutate(doc.RESOLVE_ALERT, {"input": resolve})
        core.alert_resolved(intent.key, intent.alert_id)
        return []
    assert isinstance(intent, TriggerActions)
    log.info("triggering actions of position %s (%s at %s)", intent.position_id, intent.reason, intent.price)
    if hops.ON:
        hops.stamp("a1.mutation_sent", intent.position_id)
    payload: dict[str, object] = {
        "positionId": intent.position_id,
        "reason": intent.reason.value,
        "price": gql_value(intent.price),
    }
    if intent.price_time_ms is not None:  # the EA's time of the price that met the trail
        payload["priceTime"] = gql_value(utc_from_ms(intent.price_time_ms))
    if intent.correlation_id is not None:
        payload["correlationId"] = intent.correlation_id
    data = (await link.mutate(doc.TRIGGER_ACTIONS, {"input": payload}))["triggerActions"]
    started = ", ".join(f"{a['id']} of user {a['userId']}" for a in data["actions"]) or "none (already fired)"
    log.info("position %s fired; actions started: %s", intent.position_id, started)
    # The moved actions may be other users' (theirs to carry out) and the position's new row
    # comes through the subscription: nothing here to keep, and a lean answer is a faster one.
    return []


def _input(entity_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    return {"id": entity_id, **{name: gql_value(value) for name, value in changes.items()}}
