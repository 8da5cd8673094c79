"""A trail that fired while the server was away, then the agent killed (SIGKILL) and started
again: the restarted agent reads the trigger back from its state folder and asks the server with
the same price, price time and correlation id once it is back. The hedge leg opens once, its
action carries agent 1's id, and agent 1 never decides a second trigger (real processes: server,
two agents, agent 2's paper EA; agent 1's EA scripted)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.e2e.harness import Agent, FakeEA, System, fills_of, opened_success, wait_for, wait_for_async

pytestmark = pytest.mark.e2e

# agent 1 acts for 6 s after its last renewal: long enough to hear the price with the server gone
TRAIL_AGENT_ENV = {"HEDGE_AGENT_LEASE_TTL_S": "6"}
TRIGGER = """query($id: ID!) { getPosition(id: $id) { trailTriggeredAt triggerPrice triggerReason } }"""
ACTION = "query($id: ID!) { getAction(id: $id) { status correlationId } }"


def _saved(agent: Agent) -> str:
    """What agent 1 keeps in its state folder (orders.json and orders.journal)."""
    folder = Path(agent.proc.args[agent.proc.args.index("--state-dir") + 1])
    return "".join(p.read_text() for p in (folder / "orders.json", folder / "orders.journal") if p.exists())


def _price(bid: float, time_ms: int) -> dict[str, object]:
    return {"type": "PRICE", "symbol": "USDJPY", "bid": bid, "ask": round(bid + 0.01, 3), "timeMs": time_ms}


async def test_trail_fired_while_the_server_was_away_survives_a_kill_and_hedges_once(system: System) -> None:
    user1, user2 = system.user("fired"), system.user("hedged")
    trailing, hedge = system.account(user1), system.account(user2)
    agent1 = system.agent(user1, TRAIL_AGENT_ENV)
    agent2 = system.agent(user2)
    ea2 = system.paper_ea(agent2, hedge)
    ea1 = FakeEA(agent1, trailing.number)
    assert (await ea1.auth())["type"] == "AUTH_OK"
    await ea1.serve_sync()
    hedge_action, b = user2.api.entry(hedge.id, side="SELL")
    entry, a = user1.api.entry(trailing.id, trailWidth=10, trailMode="TRAILING_STOP")
    system.admin.update_position(a["id"], triggerActionIds=[hedge_action["id"]])
    user1.api.update_action(entry["id"], status="EXECUTING")
    await ea1.send(opened_success(await ea1.expect("OPEN"), "7001", 150.0))
    user1.api.wait_position(a["id"], "OPEN")
    now_ms = int(time.time() * 1000)
    await ea1.send(_price(150.0, now_ms))
    await ea1.send(_price(150.3, now_ms + 1))  # the best so far: the trail now fires at 150.200
    await ea1.barrier(1)

    system.server.stop()
    fired_at = now_ms + 2
    await ea1.send(_price(150.2, fired_at))  # 10 pips below the best: the trail is met
    met = f"trail condition met for position {a['id']}"
    await wait_for_async(lambda: met in agent1.proc.log(), 3, "agent 1 to decide the trigger")
    cid = f"trg-{a['id']}-{fired_at}"
    wait_for(lambda: cid in _saved(agent1), 2, "the trigger on agent 1's disk")
    agent1.proc.kill()
    await ea1.close()

    agent1.proc.start()  # the server still away: the trigger is read back, not decided again
    wait_for(lambda: "1 triggers not recorded yet" in agent1.proc.log(), 10, "agent 1 to restore it")
    system.start_server()

    user2.api.wait_position(b["id"], "OPEN", timeout=25)
    assert user2.api.wait_action(hedge_action["id"], "EXECUTED")["errorMessage"] is None
    assert user2.api.execute(ACTION, {"id": hedge_action["id"]})["getAction"]["correlationId"] == cid
    trigger = user1.api.execute(TRIGGER, {"id": a["id"]})["getPosition"]
    assert trigger["triggerPrice"] == 150.2 and trigger["triggerReason"] == "TRAIL"
    assert trigger["trailTriggeredAt"] is not None
    assert fills_of(ea2, b["id"]) == 1
    assert agent1.proc.log().count(met) == 1  # the restarted agent decided no second trigger
    wait_for(lambda: cid not in _saved(agent1), 5, "agent 1 to forget the recorded trigger")
