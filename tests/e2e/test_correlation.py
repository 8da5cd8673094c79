"""One correlation id follows a trigger through three real processes' JSON logs: agent 1 decides
(its trail is met), the server records the trigger and moves the hedge action, agent 2 opens the
hedge (OPENING, the OPEN to its EA, the EA's OPENED, OPEN) and marks the action EXECUTED. An
operator greps the three logs for the one id (docs/operations.md) and finds each step."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.harness import Proc, System, ramp_csv

pytestmark = pytest.mark.e2e
SERVER_ENV = {"HEDGE_LOG_FORMAT": "json"}
SERVER_LOG_LEVEL = "info"
JSON_LOGS = {"HEDGE_LOG_FORMAT": "json"}
ACTION = "query($id: ID!) { getAction(id: $id) { status correlationId } }"


def lines_about(proc: Proc, correlation_id: str) -> list[str]:
    """The messages of `proc`'s JSON log lines that carry `correlation_id` (every line is JSON)."""
    found = []
    for text in proc.log().splitlines():
        if text.startswith("====="):  # the harness's own marker at each start
            continue
        line: dict[str, Any] = json.loads(text)
        if line.get("correlationId") == correlation_id:
            found.append(str(line["message"]))
    return found


def has(messages: list[str], *parts: str) -> bool:
    return any(all(part in m for part in parts) for m in messages)


def test_one_trigger_is_traced_by_one_id_through_agent1_server_and_agent2(
    system: System, tmp_path: Path
) -> None:
    user1, user2 = system.user("tracer"), system.user("hedger")
    rising, hedge = system.account(user1), system.account(user2)
    agent1 = system.agent(user1, env=JSON_LOGS)
    agent2 = system.agent(user2, env=JSON_LOGS)
    feed = ramp_csv(tmp_path / "up.csv", Decimal("150.000"), Decimal("0.01"), 6000)
    system.paper_ea(agent1, rising, "--feed", feed, "--tick-interval-ms", "20")
    system.paper_ea(agent2, hedge)
    hedge_action, b = user2.api.entry(hedge.id, side="SELL")
    _, a = user1.api.entry(rising.id, trailWidth=10)
    system.admin.update_position(a["id"], triggerActionIds=[hedge_action["id"]])

    user1.api.update_position(a["id"], status="OPENING")

    user2.api.wait_position(b["id"], "OPEN", timeout=20)
    user2.api.wait_action(hedge_action["id"], "EXECUTED")
    cid = user2.api.execute(ACTION, {"id": hedge_action["id"]})["getAction"]["correlationId"]
    assert cid.startswith(f"trg-{a['id']}-")  # agent 1's id: the position and its price's time
    a_id, b_id, action_id = a["id"], b["id"], hedge_action["id"]

    first = lines_about(agent1.proc, cid)
    assert has(first, f"trail condition met for position {a_id}")
    assert has(first, f"triggering actions of position {a_id}")
    assert has(first, f"position {a_id} fired; actions started: {action_id}")

    server = lines_about(system.server, cid)
    assert has(server, f"triggerActions for position {a_id}", f"from user {user1.id}")
    assert has(server, f"action {action_id}", "PENDING -> EXECUTING")
    assert has(server, f"action {action_id}", "now EXECUTED", f"by user {user2.id}")

    second = lines_about(agent2.proc, cid)
    assert has(second, f"position {b_id} → OPENING")
    assert has(second, f"→ EA {hedge.number}: OPEN", f"position {b_id}")
    assert has(second, f"← EA {hedge.number}: OPENED")
    assert has(second, f"position {b_id} → OPEN", "filled as ticket")
    assert has(second, f"action {action_id} → EXECUTED")
    # nothing of another trigger is in this id's lines, and user 1's own open is not part of it
    assert not has(second + server, f"position {a_id} → OPEN")
