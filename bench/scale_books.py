"""The scale run's hedges as the server has them: a request sent again when its connection broke,
and why a triggered hedge its terminal does not hold is missing (bench/scale.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from hedge.client.graphql import GraphQLClient, GraphQLClientError


@dataclass(frozen=True)
class Hedge:
    """One triggered hedge: user i's trigger position, user j's hedge action and position B."""

    i: int
    j: int
    trigger_id: str
    action_id: str
    b_id: str
    ea_online: bool  # EA i was connected to its agent when the bench lifted its price


async def call(client: GraphQLClient, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    """A request, sent again when the connection broke (a keep-alive connection the server closed
    while this client was idle); the documents sent here are safe to repeat (a create carries a
    clientRequestId, a move to EXECUTING already made is answered INVALID_TRANSITION, settled)."""
    for attempt in range(3):
        try:
            return await client.execute(document, variables)
        except httpx.TransportError:
            if attempt == 2:
                raise
        except GraphQLClientError as exc:
            if attempt == 0 or exc.code != "INVALID_TRANSITION":
                raise
            return {}
    raise AssertionError("unreachable")


HEDGE_ROWS = """query($t: ID!, $a: ID!, $b: ID!) {
  trigger: getPosition(id: $t) { status trailTriggeredAt triggerReason }
  action: getAction(id: $a) { status errorMessage retryCount }
  hedge: getPosition(id: $b) { status mtTicket }
}"""


async def missing_hedge(admin: GraphQLClient, hedge: Hedge) -> dict[str, Any]:
    """Why a triggered hedge is not held at its terminal, from the server's rows:
    not_triggered (the server never recorded the trigger position's trail: the bump's PRICE found
    no acting agent, e.g. EA i offline, `ea_online`, or the agent fired and did not record it),
    failed_loudly (the hedge action FAILED or was CANCELED, with its error for the user to see),
    pending (the action still EXECUTING or the position OPENING: the system still owes it),
    lost (the hedge position says OPEN, or the action EXECUTED, and the terminal holds nothing)."""
    rows = await call(admin, HEDGE_ROWS, {"t": hedge.trigger_id, "a": hedge.action_id, "b": hedge.b_id})
    trigger, action, position = rows["trigger"], rows["action"], rows["hedge"]
    if action["status"] in ("FAILED", "CANCELED"):
        kind = "failed_loudly"
    elif action["status"] == "PENDING" and trigger["trailTriggeredAt"] is None:
        kind = "not_triggered"
    elif action["status"] == "EXECUTED" or position["status"] == "OPEN":
        kind = "lost"
    else:
        kind = "pending"
    return {"kind": kind, "users": [hedge.i, hedge.j], "trigger": trigger, "action": action,
            "position": position, "b_id": hedge.b_id, "action_id": hedge.action_id,
            "ea_online": hedge.ea_online}  # fmt: skip
