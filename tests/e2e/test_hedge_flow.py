"""The seed's cross-user hedge, and its stop-out variant, with every part a real process.

User 1's position A carries a trigger action that opens a hedge (position B) on user 2's account.
Prices come from replay feeds that ramp by one pip per tick, so the condition is met a known number
of pips after A opens, whenever that is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from tests.e2e.harness import Account, Agent, Proc, System, User, fills_of, ramp_csv, wait_for

pytestmark = pytest.mark.e2e
PIP = Decimal("0.01")


@dataclass
class Parties:
    user1: User
    user2: User
    agent1: Agent
    agent2: Agent
    rising: Account  # user 1's account whose USDJPY bid rises a pip per tick
    falling: Account  # user 1's account with little money whose bid falls a pip per tick
    hedge: Account  # user 2's account (static prices)
    rising_ea: Proc
    falling_ea: Proc
    hedge_ea: Proc


@pytest.fixture(scope="module")
def parties(system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Parties]:
    feeds = tmp_path_factory.mktemp("feeds")
    user1, user2 = system.user("one"), system.user("two")
    rising, falling, hedge = system.account(user1), system.account(user1, leverage=100), system.account(user2)
    agent1, agent2 = system.agent(user1, wait=False), system.agent(user2, wait=False)
    agent1.wait_ready()
    agent2.wait_ready()
    up = ramp_csv(Path(feeds / "up.csv"), Decimal("150.000"), PIP, 6000)
    down = ramp_csv(Path(feeds / "down.csv"), Decimal("150.000"), -PIP, 6000)
    ticks = ["--tick-interval-ms", "20"]
    rising_ea = system.paper_ea(agent1, rising, "--feed", up, *ticks, wait=False)
    # BUY 0.1 USDJPY needs 100 USD margin: with 150 USD the margin level starts near 150 %,
    # and falls under 50 % about 15 pips lower
    falling_ea = system.paper_ea(agent1, falling, "--feed", down, *ticks, "--balance", "150", wait=False)
    hedge_ea = system.paper_ea(agent2, hedge, wait=False)
    for agent, account in ((agent1, rising), (agent1, falling), (agent2, hedge)):
        agent.wait_ea(account.number)
    yield Parties(user1, user2, agent1, agent2, rising, falling, hedge, rising_ea, falling_ea, hedge_ea)


def plan_hedge(p: Parties) -> tuple[str, str]:
    """User 2 plans a SELL hedge: (its ENTRY action id, its PENDING position id)."""
    action, position = p.user2.api.entry(p.hedge.id, side="SELL")
    return action["id"], position["id"]


def test_trail_met_at_ea1_opens_hedge_at_ea2_and_executes_the_action(
    system: System, parties: Parties
) -> None:
    p = parties
    hedge_action, b_id = plan_hedge(p)
    _, a = p.user1.api.entry(p.rising.id, trailWidth=10)
    system.admin.update_position(a["id"], triggerActionIds=[hedge_action])

    p.user1.api.update_position(a["id"], status="OPENING")

    opened = p.user1.api.wait_position(a["id"], "OPEN")
    assert opened["mtTicket"] and opened["entryPrice"] is not None
    hedged = p.user2.api.wait_position(b_id, "OPEN", timeout=15)
    assert hedged["mtTicket"] and hedged["side"] == "SELL"
    assert p.user2.api.wait_action(hedge_action, "EXECUTED")["errorMessage"] is None
    fired = p.user1.api.position(a["id"])
    assert fired["trailTriggeredAt"] is not None and fired["status"] == "OPEN"
    assert fills_of(p.hedge_ea, b_id) == 1


def test_trail_fired_once_more_prices_trigger_nothing_more(system: System, parties: Parties) -> None:
    p = parties
    hedge_action, b_id = plan_hedge(p)
    _, a = p.user1.api.entry(p.rising.id, trailWidth=5)
    system.admin.update_position(a["id"], triggerActionIds=[hedge_action])
    # a later position on the same feed whose wider trail fires only after many more prices
    _, later = p.user1.api.entry(p.rising.id, trailWidth=40)
    p.user1.api.update_position(a["id"], status="OPENING")
    p.user2.api.wait_position(b_id, "OPEN", timeout=15)
    fired = p.user1.api.position(a["id"])
    p.user1.api.update_position(later["id"], status="OPENING")

    wait_for(lambda: p.user1.api.position(later["id"])["trailTriggeredAt"], 15, "the wider trail to fire")

    after = p.user1.api.position(a["id"])
    assert after["trailTriggeredAt"] == fired["trailTriggeredAt"]
    assert after["version"] == fired["version"]
    assert p.user2.api.action(hedge_action)["status"] == "EXECUTED"
    assert fills_of(p.hedge_ea, b_id) == 1


def test_stop_out_at_ea1_stops_position_and_opens_hedge_at_ea2(system: System, parties: Parties) -> None:
    p = parties
    hedge_action, b_id = plan_hedge(p)
    entry, a = p.user1.api.entry(p.falling.id)  # no trail: only the stop-out can fire its actions
    system.admin.update_position(a["id"], triggerActionIds=[hedge_action])

    p.user1.api.update_action(entry["id"], status="EXECUTING")

    stopped = p.user1.api.wait_position(a["id"], "STOPPED", timeout=15)
    assert stopped["exitReason"] == "STOP_OUT"
    assert Decimal(repr(stopped["exitPrice"])) < Decimal(repr(stopped["entryPrice"]))
    assert stopped["realizedPL"] < 0
    assert p.user2.api.wait_position(b_id, "OPEN", timeout=15)["mtTicket"]
    assert p.user2.api.wait_action(hedge_action, "EXECUTED")["triggerPositionId"] == a["id"]
    assert p.user1.api.action(entry["id"])["status"] == "EXECUTED"


def test_presence_online_while_agent_linked_offline_after_link_lost(system: System) -> None:
    user = system.user("presence")
    status = "query($id: ID!) { getUser(id: $id) { pcStatus } }"

    def pc_status() -> str:
        found: str = system.admin.execute(status, {"id": user.id})["getUser"]["pcStatus"]
        return found

    assert pc_status() == "OFFLINE"
    agent = system.agent(user)
    wait_for(lambda: pc_status() == "ONLINE", 5, "pcStatus ONLINE while the agent is linked")

    agent.proc.kill()

    # the server's grace period is 1 s here (HEDGE_PRESENCE_GRACE_S)
    wait_for(lambda: pc_status() == "OFFLINE", 5, "pcStatus OFFLINE after the agent's link is lost")
