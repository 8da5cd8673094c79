"""The link between an agent and its paper EA cut and restored through the fault proxy, with the
server, the agent and the paper EA as real processes; the terminal's books read from the paper
EA's state file. Issue 8's problems 1 and 2 with a real terminal: a command that reached it while
the link is down leaves the position OPENING/CLOSING until the terminal's word settles it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from tests.e2e.harness import SERVER_NAME, Account, Agent, Api, Proc, System, User, fills_of, wait_for
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
    opened = api.open_entry(desk.account.id)

    desk.proxy.cut()
    wait_for(lambda: desk.account.number not in desk.agent.ea_numbers(), 10, "the agent to see the EA gone")
    desk.proxy.restore()
    desk.agent.wait_ea(desk.account.number)

    assert api.position(opened["id"])["status"] == "OPEN"  # a reconnect changes nothing
    close = api.close_action(desk.account.id, opened["id"])
    api.update_action(close["id"], status="EXECUTING")
    closed = api.wait_position(opened["id"], "CLOSED")
    assert closed["mtTicket"] == opened["mtTicket"]
    assert closed["exitPrice"] is not None
    assert fills_of(desk.ea, opened["id"]) == 1
    assert desk.proxy.connections_made == 2  # the first link, then the one after the cut


def test_entry_while_the_link_is_cut_goes_out_once_the_ea_is_back(desk: CutDesk) -> None:
    api = desk.user.api
    desk.proxy.cut()
    wait_for(lambda: desk.account.number not in desk.agent.ea_numbers(), 10, "the agent to see the EA gone")
    action, position = api.executing_entry(desk.account.id)

    desk.proxy.restore()  # within HEDGE_AGENT_EA_WAIT_S (30 s): the action waits for the EA

    opened = api.wait_position(position["id"], "OPEN", timeout=20)
    assert opened["mtTicket"] is not None
    assert api.wait_action(action["id"], "EXECUTED")["status"] == "EXECUTED"
    assert fills_of(desk.ea, position["id"]) == 1


EA_WAIT = {"HEDGE_AGENT_EA_WAIT_S": "1"}


@pytest.fixture
def slow_desk(system: System) -> Iterator[tuple[CutDesk, Path]]:
    """A paper EA that fills 1.5 s after an OPEN/CLOSE, keeps its books in a state file, behind the
    proxy; the agent's EA wait is 1 s, shorter than the cuts below (issue 8, problems 1 and 2)."""
    user = system.user("slow")
    account = system.account(user)
    agent = system.agent(user, EA_WAIT)
    proxy = CutProxy(agent.port).start()
    books = system.workdir / f"ea{account.number}.state.json"
    ea = paper_ea_via(system, agent, account, proxy, "--fill-delay-ms", "1500", "--state-file", str(books))
    agent.wait_ea(account.number)
    try:
        yield CutDesk(user, account, agent, proxy, ea), books
    finally:
        proxy.close()


def _held(books: Path) -> dict[str, dict[str, object]]:
    return {h["position_id"]: h for h in json.loads(books.read_text())["held"]}


def _closes(books: Path) -> dict[str, dict[str, object]]:
    return {c["position_id"]: c for c in json.loads(books.read_text())["closes"]}


def _sent(desk: CutDesk, position_id: str, state: str) -> None:
    """Wait until the agent says its command is with the EA (its tracker in `state`): cutting the
    link before that would keep the command from the terminal, not its answer from the agent."""

    def with_the_ea() -> bool:
        orders = desk.agent.health().get("orders", [])
        return any(o["positionId"] == position_id and o["state"] == state for o in orders)

    wait_for(with_the_ea, 10, f"the agent to hand the command to the EA ({state})")


def _stays(api: Api, position_id: str, status: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert api.position(position_id)["status"] == status
        time.sleep(0.1)


def test_open_filled_while_the_link_is_cut_past_the_ea_wait_opens_with_the_terminals_ticket(
    slow_desk: tuple[CutDesk, Path],
) -> None:
    desk, books = slow_desk
    api = desk.user.api
    _, position = api.executing_entry(desk.account.id)
    api.wait_position(position["id"], "OPENING")  # the OPEN goes out after OPENING has committed
    _sent(desk, position["id"], "OPEN_SENT")

    desk.proxy.cut()  # the terminal fills 1.5 s later, with nobody to tell
    wait_for(lambda: position["id"] in _held(books), 10, "the paper terminal to fill the OPEN")
    _stays(api, position["id"], "OPENING", 2.0)  # twice the EA wait: never CANCELED meanwhile
    desk.proxy.restore()

    opened = api.wait_position(position["id"], "OPEN", timeout=20)
    assert opened["mtTicket"] == str(_held(books)[position["id"]]["ticket"])
    assert fills_of(desk.ea, position["id"]) == 1


def test_close_done_while_the_link_is_cut_past_the_ea_wait_closes_at_the_terminals_price(
    slow_desk: tuple[CutDesk, Path],
) -> None:
    desk, books = slow_desk
    api = desk.user.api
    position = api.open_entry(desk.account.id, timeout=15)
    close = api.close_action(desk.account.id, position["id"])
    api.update_action(close["id"], status="EXECUTING")
    api.wait_position(position["id"], "CLOSING")
    _sent(desk, position["id"], "CLOSE_SENT")

    desk.proxy.cut()
    wait_for(lambda: position["id"] in _closes(books), 10, "the paper terminal to close the position")
    _stays(api, position["id"], "CLOSING", 2.0)  # never put back to OPEN while the terminal is silent
    desk.proxy.restore()

    closed = api.wait_position(position["id"], "CLOSED", timeout=20)
    assert Decimal(str(closed["exitPrice"])) == Decimal(str(_closes(books)[position["id"]]["price"]))
    assert position["id"] not in _held(books)
