"""Failed entries, retries, failed closes and a missing EA, with the server, an agent and paper EAs
as real processes. One agent serves four accounts, each EA configured to fail in its own way."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tests.e2e.harness import Account, Agent, Proc, System, User, fills_of

pytestmark = pytest.mark.e2e


@dataclass
class Desk:
    user: User
    agent: Agent
    poor: Account  # balance 1000 USD: OPENs needing more margin are refused with NOT_ENOUGH_MONEY
    requoting: Account  # refuses every OPEN with REQUOTE
    flaky: Account  # refuses every second OPEN with REQUOTE
    unplugged: Account  # no EA ever connects
    poor_ea: Proc
    requoting_ea: Proc
    flaky_ea: Proc


@pytest.fixture(scope="module")
def desk(system: System) -> Iterator[Desk]:
    user = system.user("desk")
    poor, requoting, flaky, unplugged = (system.account(user) for _ in range(4))
    agent = system.agent(user, {"HEDGE_AGENT_EA_WAIT_S": "1"})
    poor_ea = system.paper_ea(agent, poor, "--balance", "1000", wait=False)
    requoting_ea = system.paper_ea(
        agent, requoting, "--reject-every", "1", "--reject-code", "REQUOTE", wait=False
    )
    flaky_ea = system.paper_ea(agent, flaky, "--reject-every", "2", "--reject-code", "REQUOTE", wait=False)
    for account in (poor, requoting, flaky):
        agent.wait_ea(account.number)
    yield Desk(user, agent, poor, requoting, flaky, unplugged, poor_ea, requoting_ea, flaky_ea)


def test_entry_refused_not_enough_money_cancels_position_and_fails_action(desk: Desk) -> None:
    api = desk.user.api

    action, position = api.executing_entry(desk.poor.id, volume=5)  # needs 5000 USD of margin

    failed = api.wait_action(action["id"], "FAILED")
    # the server's pre-trade check refuses the move to OPENING (issue 9), so no OPEN is sent
    assert "5000.00 USD of margin" in failed["errorMessage"]
    assert failed["retryCount"] == 0
    canceled = api.wait_position(position["id"], "CANCELED")
    assert canceled["mtTicket"] is None
    assert fills_of(desk.poor_ea, position["id"]) == 0


def test_entry_requoted_every_time_retried_three_times_then_fails(desk: Desk) -> None:
    api = desk.user.api

    action, position = api.executing_entry(desk.requoting.id)

    failed = api.wait_action(action["id"], "FAILED")
    assert failed["retryCount"] == 3
    assert "REQUOTE" in failed["errorMessage"] and "after 3 retries" in failed["errorMessage"]
    assert api.wait_position(position["id"], "CANCELED")["mtTicket"] is None
    refused = [
        line for line in desk.requoting_ea.log().splitlines() if f"for {position['id']} refused" in line
    ]
    assert len(refused) == 4  # the first attempt and three retries


def test_entry_requoted_once_opens_on_the_retry(desk: Desk) -> None:
    api = desk.user.api
    _, first_position = api.executing_entry(desk.flaky.id)
    api.wait_position(first_position["id"], "OPEN")  # the flaky EA's first OPEN goes through

    action, position = api.executing_entry(desk.flaky.id)  # its second OPEN is requoted

    opened = api.wait_position(position["id"], "OPEN")
    assert opened["mtTicket"] and opened["mtTicket"] != first_position["mtTicket"]
    executed = api.wait_action(action["id"], "EXECUTED")
    assert executed["retryCount"] == 1 and executed["errorMessage"] is None
    assert fills_of(desk.flaky_ea, position["id"]) == 1


SETTLE = "mutation($input: SettlePositionInput!) { settlePosition(input: $input) { id mtTicket } }"


def _record_ticket(system: System, position_id: str, ticket: str) -> None:
    """A person records a ticket (the broker's fact is no longer editable through updatePosition:
    settlePosition is the one way, ADMIN only, with a reason)."""
    facts = {
        "id": position_id,
        "status": "OPEN",
        "mtTicket": ticket,
        "reason": "ticket read off the statement",
    }
    system.admin.execute(SETTLE, {"input": facts})


def test_close_refused_by_ea_returns_position_to_open_and_fails_close_action(
    desk: Desk, system: System
) -> None:
    api = desk.user.api
    _, position = api.executing_entry(desk.poor.id)
    ticket = api.wait_position(position["id"], "OPEN")["mtTicket"]
    _record_ticket(system, position["id"], "999")  # a ticket the terminal does not know
    close = api.close_action(desk.poor.id, position["id"])

    api.update_action(close["id"], status="EXECUTING")

    failed = api.wait_action(close["id"], "FAILED")
    assert "no position with ticket 999" in failed["errorMessage"]
    reopened = api.wait_position(position["id"], "OPEN")
    assert reopened["exitReason"] is None and reopened["exitPrice"] is None
    # with the real ticket back, a new CLOSE action closes it
    _record_ticket(system, position["id"], ticket)
    again = api.close_action(desk.poor.id, position["id"])
    api.update_action(again["id"], status="EXECUTING")
    closed = api.wait_position(position["id"], "CLOSED")
    assert closed["exitReason"] == "ACTION_CLOSE" and closed["exitPrice"] is not None
    assert api.wait_action(again["id"], "EXECUTED")["errorMessage"] is None


def test_action_for_account_without_ea_waits_then_fails_saying_so(desk: Desk) -> None:
    api = desk.user.api

    action, position = api.executing_entry(desk.unplugged.id)

    failed = api.wait_action(action["id"], "FAILED", timeout=10)
    assert failed["errorMessage"] == f"the EA of account {desk.unplugged.number} was not connected within 1 s"
    assert api.wait_position(position["id"], "CANCELED")["mtTicket"] is None
