"""The link between an agent and its paper EA cut and restored through the fault proxy, with the
server, the agent and the paper EA as real processes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tests.e2e.harness import SERVER_NAME, Account, Agent, Proc, System, User, fills_of, wait_for
from tests.e2e.proxy import CutProxy

pytestmark = pytest.mark.e2e


@dataclass
class CutDesk:
    user: User
    account: Account
    agent: Agent
    proxy: CutProxy
    ea: Proc


def paper_ea_via(system: System, agent: Agent, account: Account, proxy: CutProxy, *options: str) -> Proc:
    """A paper EA for `account` that reaches `agent` through `proxy`."""
    proc = Proc(
        f"ea{account.number}",
        ["paper-ea", "--agent", proxy.url, f"--ea-token={agent.ea_token}", "--account-number",
         account.number, "--server-name", SERVER_NAME, "--symbols", "USDJPY", "--seed", "1",
         "--feed", "static", "--tick-interval-ms", "0", *options],
        system.workdir / f"ea{account.number}.log",
    )  # fmt: skip
    system.procs.append(proc)
    return proc.start()


@pytest.fixture
def desk(system: System) -> Iterator[CutDesk]:
    user = system.user("cut")
    account = system.account(user)
    agent = system.agent(user)
    proxy = CutProxy(agent.port).start()
    ea = paper_ea_via(system, agent, account, proxy)
    agent.wait_ea(account.number)
    try:
        yield CutDesk(user, account, agent, proxy, ea)
    finally:
        proxy.close()


def test_ea_link_cut_and_restored_the_ea_returns_and_its_open_position_closes_at_the_terminal_price(
    desk: CutDesk,
) -> None:
    api = desk.user.api
    action, position = api.entry(desk.account.id)
    api.update_action(action["id"], status="EXECUTING")
    opened = api.wait_position(position["id"], "OPEN")

    desk.proxy.cut()
    wait_for(lambda: desk.account.number not in desk.agent.ea_numbers(), 10, "the agent to see the EA gone")
    desk.proxy.restore()
    desk.agent.wait_ea(desk.account.number)

    assert api.position(position["id"])["status"] == "OPEN"  # a reconnect changes nothing
    close = api.close_action(desk.account.id, position["id"])
    api.update_action(close["id"], status="EXECUTING")
    closed = api.wait_position(position["id"], "CLOSED")
    assert closed["mtTicket"] == opened["mtTicket"]
    assert closed["exitPrice"] is not None
    assert fills_of(desk.ea, position["id"]) == 1
    assert desk.proxy.connections_made == 2  # the first link, then the one after the cut


def test_entry_while_the_link_is_cut_goes_out_once_the_ea_is_back(desk: CutDesk) -> None:
    api = desk.user.api
    desk.proxy.cut()
    wait_for(lambda: desk.account.number not in desk.agent.ea_numbers(), 10, "the agent to see the EA gone")
    action, position = api.entry(desk.account.id)
    api.update_action(action["id"], status="EXECUTING")

    desk.proxy.restore()  # within HEDGE_AGENT_EA_WAIT_S (30 s): the action waits for the EA

    opened = api.wait_position(position["id"], "OPEN", timeout=20)
    assert opened["mtTicket"] is not None
    assert api.wait_action(action["id"], "EXECUTED")["status"] == "EXECUTED"
    assert fills_of(desk.ea, position["id"]) == 1
