"""A triggered hedge whose agent is offline fails at its deadline and is not opened late.

Server, agents and paper EAs are real processes. User 1's position A carries a trigger action that
opens a SELL hedge (position B) on user 2's account; user 2's agent is stopped before the trigger.
With HEDGE_ACTION_TTL_S=2 the server fails the action about 2 s after the trigger (ACTION_EXPIRED
for both users) and cancels B; when user 2's agent comes back, B is not opened.
"""

from __future__ import annotations

import pytest
from tests.e2e.harness import System, fills_of

pytestmark = pytest.mark.e2e
SERVER_ENV = {"HEDGE_ACTION_TTL_S": "2"}
ALERTS = "{ listAlerts(open: true) { kind userId actionId requiresAction } }"
TRIGGER = """mutation($p: ID!) { triggerActions(input: {positionId: $p, reason: MANUAL, price: 150.0}) {
  actions { id expiresAt } } }"""


def test_triggered_hedge_with_its_agent_offline_expires_and_is_not_opened_when_it_returns(
    system: System,
) -> None:
    user1, user2 = system.user("one"), system.user("two")
    trading, hedging = system.account(user1), system.account(user2)
    agent1, agent2 = system.agent(user1), system.agent(user2)
    system.paper_ea(agent1, trading)
    hedge_ea = system.paper_ea(agent2, hedging)
    hedge_action, b = user2.api.entry(hedging.id, side="SELL")
    _, a = user1.api.entry(trading.id)
    system.admin.update_position(a["id"], triggerActionIds=[hedge_action["id"]])
    user1.api.update_position(a["id"], status="OPENING")
    user1.api.wait_position(a["id"], "OPEN")
    agent2.proc.stop()  # user 2's PC goes away

    started = user1.api.execute(TRIGGER, {"p": a["id"]})["triggerActions"]["actions"]
    assert [s["id"] for s in started] == [hedge_action["id"]] and started[0]["expiresAt"] is not None

    failed = user2.api.wait_action(hedge_action["id"], "FAILED", timeout=10)
    assert "deadline passed" in failed["errorMessage"]
    assert user2.api.wait_position(b["id"], "CANCELED")["mtTicket"] is None
    for user in (user1, user2):
        kinds = {(x["kind"], x["actionId"]) for x in user.api.execute(ALERTS)["listAlerts"]}
        assert ("ACTION_EXPIRED", hedge_action["id"]) in kinds

    agent2.restart()  # back after the deadline: it must not open the hedge now
    agent2.wait_ea(hedging.number)
    # a new order of user 2 opens: the agent is back and acting (and has seen B long before)
    _, c = user2.api.entry(hedging.id)
    user2.api.update_position(c["id"], status="OPENING")
    user2.api.wait_position(c["id"], "OPEN")
    assert user2.api.position(b["id"])["status"] == "CANCELED"
    assert user2.api.action(hedge_action["id"])["status"] == "FAILED"
    assert fills_of(hedge_ea, b["id"]) == 0
