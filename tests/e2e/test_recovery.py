"""Kills and restarts: of the agent (SIGKILL, also in the middle of an OPEN) and of the server; and
commands the EA never answers. Whatever happens, every OPENING/CLOSING position and EXECUTING
action of the user is carried out, and none twice (the paper EA's log shows each fill)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.e2e.harness import (
    System,
    fake_desk,
    fills_of,
    opened_success,
    paper_desk,
    wait_for,
    wait_for_async,
)

pytestmark = pytest.mark.e2e

COMMAND_TIMEOUT_ENV = {"HEDGE_AGENT_COMMAND_TIMEOUT_S": "0.5"}


def test_agent_killed_changes_made_meanwhile_carried_out_once_after_restart(system: System) -> None:
    user, account, agent, ea = paper_desk(system, "restart")
    api = user.api
    before, before_position = api.executing_entry(account.id)
    ticket = api.wait_position(before_position["id"], "OPEN")["mtTicket"]
    api.wait_action(before["id"], "EXECUTED")

    agent.proc.kill()
    action, by_action = api.executing_entry(account.id)  # an action to carry out
    _, by_admin = api.entry(account.id)
    system.admin.update_position(by_admin["id"], status="OPENING")  # the admin UI's execute button
    close = api.close_action(account.id, before_position["id"])
    api.update_action(close["id"], status="EXECUTING")
    agent.restart()

    assert api.wait_position(by_action["id"], "OPEN", timeout=15)["mtTicket"]
    assert api.wait_action(action["id"], "EXECUTED")["errorMessage"] is None
    assert api.wait_position(by_admin["id"], "OPEN")["mtTicket"]
    closed = api.wait_position(before_position["id"], "CLOSED")
    assert closed["exitReason"] == "ACTION_CLOSE" and closed["mtTicket"] == ticket
    assert api.wait_action(close["id"], "EXECUTED")["errorMessage"] is None
    for position_id in (before_position["id"], by_action["id"], by_admin["id"]):
        assert fills_of(ea, position_id) == 1, position_id
    assert ea.log().count(f"closed ticket {ticket} (CLOSE)") == 1


def test_agent_killed_mid_open_restart_syncs_one_position_with_right_ticket(system: System) -> None:
    user, account, agent, ea = paper_desk(system, "midopen", "--fill-delay-ms", "1500")
    api = user.api

    action, position = api.executing_entry(account.id)
    pid = position["id"]
    api.wait_position(pid, "OPENING")
    wait_for(lambda: f"for {pid}" in ea.log(), 5, "the EA to receive the OPEN")
    agent.proc.kill()  # the EA fills 1.5 s later, with no agent to hear it
    wait_for(lambda: fills_of(ea, pid), 5, "the EA to fill the OPEN")
    agent.restart()

    opened = api.wait_position(pid, "OPEN", timeout=15)
    filled = re.search(rf"filled ticket (\d+): .*HedgeSystem\[{pid}\]", ea.log())
    assert filled is not None and opened["mtTicket"] == filled.group(1)
    assert api.wait_action(action["id"], "EXECUTED")["errorMessage"] is None
    assert fills_of(ea, pid) == 1


async def test_open_unanswered_settled_by_sync_as_held(system: System) -> None:
    user, account, _, ea = await fake_desk(system, "unanswered", COMMAND_TIMEOUT_ENV)

    _, position = user.api.executing_entry(account.id)
    lost = await ea.expect("OPEN")  # never answered
    report = {"positionId": position["id"], "mtTicket": "777001", "symbol": "USDJPY", "side": "BUY",
              "volume": 0.1, "openPrice": 150.013, "openTimeMs": 1_790_000_000_000, "profit": 0}  # fmt: skip
    await ea.serve_sync([report])

    opened = await wait_for_async(lambda: _status(user.api.position(position["id"]), "OPEN"), 5, "OPEN")
    assert opened["mtTicket"] == "777001" and opened["entryPrice"] == 150.013
    assert lost["positionId"] == position["id"]
    await ea.barrier(1)
    assert not [f for f in ea.skipped if f["type"] == "OPEN"]  # settled by SYNC: no second OPEN
    await ea.close()


async def test_open_unanswered_not_held_and_not_in_history_sent_again_not_canceled(system: System) -> None:
    user, account, _, ea = await fake_desk(system, "resend", COMMAND_TIMEOUT_ENV)

    action, position = user.api.executing_entry(account.id)
    lost = await ea.expect("OPEN")
    await ea.serve_sync([])  # the EA does not hold it: it may have been filled and closed since
    history = await ea.expect("HISTORY")  # so its history is asked before anything is sent again
    assert history["positionIds"] == [position["id"]]
    unknown = {"positionId": position["id"], "state": "UNKNOWN"}
    await ea.send({"type": "HISTORY_RESULT", "commandId": history["commandId"], "results": [unknown]})
    again = await ea.expect("OPEN")  # the terminal never had it: the OPEN is sent again
    await ea.send(opened_success(again, "777002", 150.02))

    opened = await wait_for_async(lambda: _status(user.api.position(position["id"]), "OPEN"), 5, "OPEN")
    assert opened["mtTicket"] == "777002"
    assert again["positionId"] == lost["positionId"] and again["commandId"] != lost["commandId"]
    await wait_for_async(lambda: _status(user.api.action(action["id"]), "EXECUTED"), 5, "EXECUTED")
    await ea.close()


def test_server_restart_agent_reconnects_and_goes_on(system: System) -> None:
    user, account, agent, ea = paper_desk(system, "server-restart")
    api = user.api
    _, before_position = api.executing_entry(account.id)
    version = api.wait_position(before_position["id"], "OPEN")["version"]

    system.server.stop()
    wait_for(lambda: not agent.health()["serverConnected"], 5, "the agent to notice the server is gone")
    system.start_server()

    agent.wait_ready(timeout=10)
    pc = "query($id: ID!) { getUser(id: $id) { pcStatus } }"
    assert system.admin.execute(pc, {"id": user.id})["getUser"]["pcStatus"] == "ONLINE"
    _, after_position = api.executing_entry(account.id)
    assert api.wait_position(after_position["id"], "OPEN")["mtTicket"]
    assert api.position(before_position["id"])["version"] == version  # caught up, nothing redone
    assert fills_of(ea, before_position["id"]) == 1


def _status(row: dict[str, Any], status: str) -> dict[str, Any] | None:
    return row if row["status"] == status else None
