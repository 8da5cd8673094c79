"""The agent's own guards, with the server, agents and paper EAs as real processes: a halt reaches
the agent over its subscription and stops an OPEN that had already passed the server's guard; a
hedge leg whose terminal price slipped past maxSlippagePips is not opened, and every leg's owner
gets HEDGE_LEG_FAILED naming both legs; within the bound it opens.

The paper EAs quote USDJPY statically at 150.000 / 150.010 (a SELL opens at the bid, 150.000).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.harness import Account, Agent, System, User, fills_of, wait_for

pytestmark = pytest.mark.e2e
SET_STATE = """mutation($i: SetTradingStateInput!) {
  setTradingState(input: $i) { scope targetId state updatedAt } }"""
TRIGGER = """mutation($p: ID!, $price: Float!) {
  triggerActions(input: {positionId: $p, reason: MANUAL, price: $price}) { actions { id } } }"""
ALERTS = "{ listAlerts(open: true) { kind positionId relatedPositionIds } }"
TRIGGER_PRICE = "query($id: ID!) { getAction(id: $id) { triggerPrice maxSlippagePips } }"


def _set(system: System, account: Account, state: str, reason: str) -> dict[str, Any]:
    made: dict[str, Any] = system.admin.execute(
        SET_STATE, {"i": {"scope": "ACCOUNT", "targetId": account.id, "state": state, "reason": reason}}
    )["setTradingState"]
    return made


def _agent_holds(agent: Agent, account: Account, state: str) -> bool:
    controls = agent.health()["trading"]["controls"]
    return any(c["id"] == f"ACCOUNT:{account.id}" and c["state"] == state for c in controls)


def test_halt_reaches_the_agent_and_stops_an_open_that_passed_the_servers_guard(system: System) -> None:
    user = system.user()
    account = system.account(user)
    agent = system.agent(user)
    entry_action, position = user.api.entry(account.id)
    user.api.update_position(position["id"], status="OPENING")  # committed: no EA yet, the OPEN waits
    user.api.wait_action(entry_action["id"], "EXECUTING")

    _set(system, account, "HALTED", "broker incident")
    wait_for(lambda: _agent_holds(agent, account, "HALTED"), 5, "the agent to hold the halt")
    ea = system.paper_ea(agent, account)  # its terminal is there now: the agent still sends nothing

    failed = user.api.wait_action(entry_action["id"], "FAILED")
    assert "HALTED" in failed["errorMessage"] and "broker incident" in failed["errorMessage"]
    assert user.api.wait_position(position["id"], "CANCELED")["mtTicket"] is None
    assert fills_of(ea, position["id"]) == 0

    _set(system, account, "ACTIVE", "incident over")
    wait_for(lambda: _agent_holds(agent, account, "ACTIVE"), 5, "the agent to hold the resume")
    _, again = user.api.entry(account.id)
    user.api.update_position(again["id"], status="OPENING")
    user.api.wait_position(again["id"], "OPEN")


def _hedge(
    system: System, max_slippage_pips: float
) -> tuple[User, User, dict[str, Any], dict[str, Any], str]:
    """User 1's OPEN position A whose trigger opens a SELL (B) on user 2's account."""
    user1, user2 = system.user("one"), system.user("two")
    trading, hedging = system.account(user1), system.account(user2)
    agent1, agent2 = system.agent(user1), system.agent(user2)
    system.paper_ea(agent1, trading)
    system.paper_ea(agent2, hedging)
    hedge_action, b = user2.api.entry(hedging.id, side="SELL", maxSlippagePips=max_slippage_pips)
    _, a = user1.api.entry(trading.id)
    system.admin.update_position(a["id"], triggerActionIds=[hedge_action["id"]])
    user1.api.update_position(a["id"], status="OPENING")
    user1.api.wait_position(a["id"], "OPEN")
    return user1, user2, a, b, hedge_action["id"]


def test_hedge_leg_past_its_slippage_bound_is_not_opened_and_both_owners_are_alerted(
    system: System,
) -> None:
    user1, user2, a, b, action_id = _hedge(system, max_slippage_pips=3)
    user1.api.execute(TRIGGER, {"p": a["id"], "price": 150.05})  # the bid is 5 pips lower

    failed = user2.api.wait_action(action_id, "FAILED")
    assert "5 pips worse than the triggering price 150.05" in failed["errorMessage"]
    assert user2.api.execute(TRIGGER_PRICE, {"id": action_id})["getAction"] == {
        "triggerPrice": 150.05,
        "maxSlippagePips": 3.0,
    }
    assert user2.api.wait_position(b["id"], "CANCELED")["mtTicket"] is None
    for user in (user1, user2):

        def leg_alert(u: User = user) -> list[dict[str, Any]]:
            found = u.api.execute(ALERTS)["listAlerts"]
            return [x for x in found if x["kind"] == "HEDGE_LEG_FAILED" and x["positionId"] == b["id"]]

        [alert] = wait_for(leg_alert, 5, "HEDGE_LEG_FAILED for each leg's owner")
        assert set(alert["relatedPositionIds"]) == {a["id"], b["id"]}


def test_hedge_leg_within_its_slippage_bound_opens(system: System) -> None:
    user1, user2, a, b, action_id = _hedge(system, max_slippage_pips=3)
    user1.api.execute(TRIGGER, {"p": a["id"], "price": 150.02})  # the bid is 2 pips lower
    assert user2.api.wait_position(b["id"], "OPEN")["entryPrice"] == 150.0
    user2.api.wait_action(action_id, "EXECUTED")
