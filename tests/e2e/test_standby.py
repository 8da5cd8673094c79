"""One acting agent per user (issue 8, problem 6): a second agent started with the same user's
token stands by (says so in its log and on /healthz, refuses EAs, sends no EA commands and changes
no rows); when the first goes away (a clean stop releases the lease, a killed one's lease
expires), the second takes over and serves the same terminal. Real processes; the paper EA
reaches the agents through the fault proxy, which is pointed at the agent that acts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tests.e2e.harness import Account, Agent, FakeEA, Proc, System, User, fills_of, wait_for
from tests.e2e.proxy import CutProxy
from tests.e2e.test_cut_links import paper_ea_via

from hedge.ea.protocol import AGENT_NOT_READY
from hedge.localservices import free_port

pytestmark = pytest.mark.e2e

LEASE = {"HEDGE_AGENT_LEASE_TTL_S": "2", "HEDGE_AGENT_EA_WAIT_S": "1"}
ACTS = re.compile(r"→ EA |position \S+ → |action \S+ → |triggering actions")


@dataclass
class Pair:
    user: User
    account: Account
    first: Agent
    second: Agent
    proxy: CutProxy
    ea: Proc


def role(agent: Agent) -> str:
    return str(agent.health().get("role"))


def acts_in_log(agent: Agent) -> list[str]:
    return [line for line in agent.proc.log().splitlines() if ACTS.search(line)]


def point_ea_at(pair: Pair, to: Agent) -> None:
    """The terminal's next connections go to `to` (same terminal, same books): set before the
    acting agent goes away, so the paper EA's reconnect lands there."""
    pair.proxy.retarget(to.port)


def twin(system: System, first: Agent) -> Agent:
    """A second agent for the same user, on the same PC's EA token (the EAs' settings stay as they are)."""
    port = free_port()
    name = f"twin-of-{first.proc.name}"
    proc = Proc(
        name,
        ["agent", "--server", system.url, f"--token={first.user.token}", f"--ea-token={first.ea_token}",
         "--ea-port", str(port), "--state-dir", str(system.workdir / f"{name}-state")],
        system.workdir / f"{name}.log",
        {"HEDGE_AGENT_RECONNECT_MAX_S": "0.5", **LEASE},
    )  # fmt: skip
    system.procs.append(proc)
    agent = Agent(proc.start(), port, first.ea_token, first.user)
    agent.wait_ready()  # it reached the server
    return agent


@pytest.fixture
def pair(system: System) -> Iterator[Pair]:
    probe = system.admin.raw('query { __type(name: "ClaimAgentInput") { name } }')
    if not (probe.get("data") or {}).get("__type"):
        pytest.skip("this server has no claimAgent yet (the alerts branch builds it)")
    user = system.user("lease")
    account = system.account(user)
    first = system.agent(user, LEASE)
    wait_for(lambda: role(first) == "ACTING", 10, "the first agent to act")
    proxy = CutProxy(first.port).start()
    ea = paper_ea_via(system, first, account, proxy)
    first.wait_ea(account.number)
    second = twin(system, first)
    try:
        yield Pair(user, account, first, second, proxy, ea)
    finally:
        proxy.close()


def test_second_agent_of_a_user_stands_by_says_so_and_never_acts(pair: Pair) -> None:
    first_id = pair.first.health()["lease"]["agentId"]
    wait_for(lambda: role(pair.second) == "STANDBY", 10, "the second agent to stand by")
    assert pair.second.health()["lease"]["holderId"] == first_id
    assert "standing by: agent " + first_id in pair.second.proc.log()
    api = pair.user.api

    _, position = api.executing_entry(pair.account.id)
    opened = api.wait_position(position["id"], "OPEN")
    close = api.close_action(pair.account.id, position["id"])
    api.update_action(close["id"], status="EXECUTING")
    closed = api.wait_position(position["id"], "CLOSED")
    wait_for(lambda: role(pair.second) == "STANDBY", 3, "several lease periods of standing by")

    assert closed["mtTicket"] == opened["mtTicket"]
    assert api.action(close["id"])["status"] == "EXECUTED"  # not failed by an agent without the EA
    assert acts_in_log(pair.second) == []
    assert fills_of(pair.ea, position["id"]) == 1


async def test_standby_agent_answers_an_ea_agent_not_ready(pair: Pair) -> None:
    await asyncio.to_thread(wait_for, lambda: role(pair.second) == "STANDBY", 10, "standby")
    ea = FakeEA(pair.second, pair.account.number)
    try:
        assert await ea.auth() == {"type": "AUTH_FAILED", "reason": AGENT_NOT_READY}
    finally:
        await ea.close()


def test_first_agent_stopped_releases_the_lease_and_the_second_takes_over_the_same_terminal(
    pair: Pair,
) -> None:
    api = pair.user.api
    opened = api.open_entry(pair.account.id)

    point_ea_at(pair, pair.second)
    pair.first.proc.stop()  # SIGINT: a clean stop releases the lease at once
    wait_for(lambda: role(pair.second) == "ACTING", 5, "the second agent to take over")
    assert "agent lease released" in pair.first.proc.log()
    pair.second.wait_ea(pair.account.number)
    close = api.close_action(pair.account.id, opened["id"])
    api.update_action(close["id"], status="EXECUTING")

    closed = api.wait_position(opened["id"], "CLOSED", timeout=15)
    assert closed["mtTicket"] == opened["mtTicket"]
    assert any("CLOSE" in line for line in acts_in_log(pair.second))
    assert fills_of(pair.ea, opened["id"]) == 1


def test_acting_agent_killed_its_lease_expires_and_the_standby_takes_over(pair: Pair) -> None:
    wait_for(lambda: role(pair.second) == "STANDBY", 10, "the second agent to stand by")

    point_ea_at(pair, pair.second)
    pair.first.proc.kill()  # kill -9: nothing released, the lease runs out after its ttl (2 s)
    wait_for(lambda: role(pair.second) == "ACTING", 10, "the second agent to take over after the ttl")
    pair.second.wait_ea(pair.account.number)
    api = pair.user.api
    _, position = api.executing_entry(pair.account.id)

    assert api.wait_position(position["id"], "OPEN", timeout=15)["mtTicket"] is not None
    assert fills_of(pair.ea, position["id"]) == 1
