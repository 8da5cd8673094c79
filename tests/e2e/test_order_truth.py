"""Order truth under faults, with the server and the agent as real processes and a scripted EA
whose link the test cuts: after a command may have reached the terminal, the position stays as it
is until the terminal's word (POSITIONS, a replayed OPENED/CLOSED) settles it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.e2e.harness import Account, Agent, FakeEA, System, User, fake_desk, opened_success, wait_for_async

from hedge.ea.protocol import AGENT_NOT_READY

pytestmark = pytest.mark.e2e

EA_WAIT_S = 1.0
AGENT_ENV = {"HEDGE_AGENT_EA_WAIT_S": str(EA_WAIT_S), "HEDGE_AGENT_COMMAND_TIMEOUT_S": "30"}


def _status(row: dict[str, Any], status: str) -> dict[str, Any] | None:
    return row if row["status"] == status else None


ALERTS = (
    "query($open: Boolean) { listAlerts(open: $open) { id kind accountId positionId resolvedAt resolvedBy } }"
)


def _alerts(user: User, open_only: bool = True) -> set[tuple[str, str | None]]:
    found = user.api.execute(ALERTS, {"open": open_only})["listAlerts"]
    return {(a["kind"], a["positionId"]) for a in found}


async def _desk(system: System, label: str) -> tuple[User, Account, Agent, FakeEA]:
    return await fake_desk(system, label, AGENT_ENV)


async def _reconnect(agent: Agent, account: Account, within_s: float = 10.0) -> FakeEA:
    """The EA back at its agent, retrying AUTH as a real EA does while the agent answers "agent not
    ready" (a restarted agent is a new claimant: it stands by until the killed one's lease expires)."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        ea = FakeEA(agent, account.number)
        answer = await ea.auth()
        if answer["type"] == "AUTH_OK":
            return ea
        await ea.close()
        assert answer.get("reason") == AGENT_NOT_READY, answer
        assert asyncio.get_running_loop().time() < deadline, "the agent was not ready in time"
        await asyncio.sleep(0.2)


async def _stays(api_row: Any, status: str, seconds: float) -> None:
    """The row keeps `status` for `seconds` (well past the EA wait): checked every 0.1 s."""
    for _ in range(int(seconds / 0.1)):
        row = await asyncio.to_thread(api_row)
        assert row["status"] == status, row
        await asyncio.sleep(0.1)


async def test_open_filled_while_the_link_is_cut_stays_opening_then_opens_from_sync(system: System) -> None:
    user, account, agent, ea = await _desk(system, "cut-open")

    action, position = user.api.executing_entry(account.id)
    pid = position["id"]
    open_frame = await ea.expect("OPEN")
    assert user.api.position(pid)["status"] == "OPENING"  # OPEN only after OPENING committed
    await ea.ws.close()  # type: ignore[union-attr]  # the terminal fills; OPENED never arrives
    await _stays(lambda: user.api.position(pid), "OPENING", EA_WAIT_S * 3)
    assert user.api.action(action["id"])["status"] == "EXECUTING"
    waiting = {("OUTCOME_UNKNOWN", pid), ("EA_UNREACHABLE", None)}
    await wait_for_async(lambda: waiting <= _alerts(user), 5, "OUTCOME_UNKNOWN and EA_UNREACHABLE alerts")

    back = await _reconnect(agent, account)
    held = {"positionId": pid, "mtTicket": "880001", "symbol": "USDJPY", "side": "BUY", "volume": 0.1,
            "openPrice": 150.021, "openTimeMs": 1_790_000_000_000, "profit": 0}  # fmt: skip
    await back.serve_sync([held])

    opened = await wait_for_async(lambda: _status(user.api.position(pid), "OPEN"), 5, "OPEN")
    assert opened["mtTicket"] == "880001" and opened["entryPrice"] == 150.021
    await wait_for_async(lambda: _status(user.api.action(action["id"]), "EXECUTED"), 5, "EXECUTED")
    await wait_for_async(lambda: not waiting & _alerts(user), 5, "the alerts to resolve themselves")
    assert waiting <= _alerts(user, open_only=False)  # kept, resolved (resolvedBy null: by the system)
    await back.barrier(1)
    assert not [f for f in back.skipped if f["type"] == "OPEN"], "sent again after the terminal held it"
    assert open_frame["positionId"] == pid
    await back.close()


async def test_close_done_while_the_link_is_cut_stays_closing_then_closed_from_the_replay(
    system: System,
) -> None:
    user, account, agent, ea = await _desk(system, "cut-close")
    _, position = user.api.executing_entry(account.id)
    pid = position["id"]
    await ea.send(opened_success(await ea.expect("OPEN"), "880002", 150.0))
    await wait_for_async(lambda: _status(user.api.position(pid), "OPEN"), 5, "OPEN")
    close = user.api.close_action(account.id, pid)

    user.api.update_action(close["id"], status="EXECUTING")
    close_frame = await ea.expect("CLOSE")
    assert user.api.position(pid)["status"] == "CLOSING"  # CLOSE only after CLOSING committed
    await ea.ws.close()  # type: ignore[union-attr]  # the terminal closes; CLOSED never arrives
    await _stays(lambda: user.api.position(pid), "CLOSING", EA_WAIT_S * 3)
    assert user.api.action(close["id"])["status"] == "EXECUTING"

    back = await _reconnect(agent, account)
    replay = {"type": "CLOSED", "commandId": close_frame["commandId"], "positionId": pid,
              "mtTicket": "880002", "status": "SUCCESS", "price": 150.25, "timeMs": 1_790_000_100_000,
              "profit": 25.0}  # fmt: skip
    await back.send(replay)  # the EA's unsent events go first after AUTH_OK
    await back.serve_sync([])

    closed = await wait_for_async(lambda: _status(user.api.position(pid), "CLOSED"), 5, "CLOSED")
    assert closed["exitPrice"] == 150.25 and closed["realizedPL"] == 25.0
    assert closed["exitReason"] == "ACTION_CLOSE"
    await wait_for_async(lambda: _status(user.api.action(close["id"]), "EXECUTED"), 5, "EXECUTED")
    await back.close()


async def test_cancel_that_commits_first_means_the_terminal_never_sees_an_open(system: System) -> None:
    user, account, agent, ea = await _desk(system, "cancel-race")
    action, position = user.api.entry(account.id)
    pid = position["id"]
    await ea.close()
    agent.proc.kill()  # so the cancel surely commits before the agent's move to OPENING

    user.api.update_action(action["id"], status="EXECUTING")
    system.admin.update_position(pid, status="CANCELED")
    agent.restart()
    ea = await _reconnect(agent, account)
    await ea.serve_sync()

    failed = await wait_for_async(lambda: _status(user.api.action(action["id"]), "FAILED"), 10, "FAILED")
    assert "canceled" in failed["errorMessage"]
    await asyncio.sleep(0.5)
    await ea.barrier(1)
    assert not [f for f in ea.skipped if f["type"] == "OPEN"]
    assert user.api.position(pid)["status"] == "CANCELED"
    await ea.close()


async def test_open_answered_timeout_is_settled_by_sync_not_retried_or_canceled(system: System) -> None:
    user, account, _agent, ea = await _desk(system, "ea-timeout")

    action, position = user.api.executing_entry(account.id)
    pid = position["id"]
    open_frame = await ea.expect("OPEN")
    timeout = {"type": "OPENED", "commandId": open_frame["commandId"], "positionId": pid,
               "status": "FAILED", "errorCode": "TIMEOUT", "message": "trade server timeout"}  # fmt: skip
    await ea.send(timeout)
    held = {"positionId": pid, "mtTicket": "880004", "symbol": "USDJPY", "side": "BUY", "volume": 0.1,
            "openPrice": 150.03, "openTimeMs": 1_790_000_000_000, "profit": 0}  # fmt: skip
    await ea.serve_sync([held])  # the broker did fill it

    opened = await wait_for_async(lambda: _status(user.api.position(pid), "OPEN"), 5, "OPEN")
    assert opened["mtTicket"] == "880004"
    executed = await wait_for_async(lambda: _status(user.api.action(action["id"]), "EXECUTED"), 5, "EXECUTED")
    assert executed["retryCount"] == 0
    await ea.barrier(1)
    assert not [f for f in ea.skipped if f["type"] == "OPEN"]
    await ea.close()


async def _open_position(system: System, label: str, env: dict[str, str]) -> tuple[User, FakeEA, str]:
    user, account, _, ea = await fake_desk(system, label, {**AGENT_ENV, **env})
    _, position = user.api.executing_entry(account.id)
    await ea.send(opened_success(await ea.expect("OPEN"), "880010", 150.0))
    await wait_for_async(lambda: _status(user.api.position(position["id"]), "OPEN"), 5, "OPEN")
    return user, ea, position["id"]


async def test_open_position_gone_from_the_terminal_is_settled_from_its_history(system: System) -> None:
    user, ea, pid = await _open_position(system, "history", {"HEDGE_AGENT_RECONCILE_S": "1"})

    await ea.serve_sync([])  # the periodic reconciliation: the terminal no longer holds it
    history = await ea.expect("HISTORY")
    closed = {"positionId": pid, "mtTicket": "880010", "state": "CLOSED", "price": 149.2,
              "timeMs": 1_790_000_200_000, "profit": -80.0, "reason": "STOP_OUT"}  # fmt: skip
    await ea.send({"type": "HISTORY_RESULT", "commandId": history["commandId"], "results": [closed]})

    stopped = await wait_for_async(lambda: _status(user.api.position(pid), "STOPPED"), 5, "STOPPED")
    assert stopped["exitReason"] == "STOP_OUT" and stopped["exitPrice"] == 149.2
    assert stopped["realizedPL"] == -80.0
    await ea.close()


async def test_open_position_neither_held_nor_in_history_raises_ghost_position(system: System) -> None:
    user, ea, pid = await _open_position(system, "ghost", {"HEDGE_AGENT_RECONCILE_S": "1"})

    await ea.serve_sync([])
    history = await ea.expect("HISTORY")
    unknown = {"positionId": pid, "state": "UNKNOWN"}
    await ea.send({"type": "HISTORY_RESULT", "commandId": history["commandId"], "results": [unknown]})

    await wait_for_async(lambda: ("GHOST_POSITION", pid) in _alerts(user), 5, "a GHOST_POSITION alert")
    assert user.api.position(pid)["status"] == "OPEN"  # nothing guessed
    await ea.close()


async def test_terminal_holding_a_position_the_server_has_canceled_raises_orphan_at_broker(
    system: System,
) -> None:
    user = system.user("orphan")
    account = system.account(user)
    agent = system.agent(user, AGENT_ENV)
    _, position = user.api.entry(account.id)
    system.admin.update_position(position["id"], status="CANCELED")
    ea = FakeEA(agent, account.number)
    assert (await ea.auth())["type"] == "AUTH_OK"
    held = {"positionId": position["id"], "mtTicket": "880020", "symbol": "USDJPY", "side": "BUY",
            "volume": 0.1, "openPrice": 150.0, "openTimeMs": 1_790_000_000_000, "profit": 0}  # fmt: skip

    await ea.serve_sync([held])

    await wait_for_async(lambda: ("ORPHAN_AT_BROKER", position["id"]) in _alerts(user), 5, "ORPHAN_AT_BROKER")
    await ea.close()


async def test_agent_killed_with_an_open_in_doubt_never_cancels_it_after_restart(system: System) -> None:
    user, account, agent, ea = await _desk(system, "restart-doubt")
    _, position = user.api.executing_entry(account.id)
    pid = position["id"]
    await ea.expect("OPEN")  # the terminal fills it; the agent dies before it hears
    agent.proc.kill()
    await ea.close()

    agent.restart()  # its orders.json says the OPEN may be at the terminal
    await _stays(lambda: user.api.position(pid), "OPENING", EA_WAIT_S * 3)
    back = await _reconnect(agent, account)
    held = {"positionId": pid, "mtTicket": "880030", "symbol": "USDJPY", "side": "BUY", "volume": 0.1,
            "openPrice": 150.05, "openTimeMs": 1_790_000_000_000, "profit": 0}  # fmt: skip
    await back.serve_sync([held])

    opened = await wait_for_async(lambda: _status(user.api.position(pid), "OPEN"), 5, "OPEN")
    assert opened["mtTicket"] == "880030"
    await back.barrier(1)
    assert not [f for f in back.skipped if f["type"] == "OPEN"]
    await back.close()


async def test_trailing_stop_best_price_survives_an_agent_restart(system: System) -> None:
    user, account, agent, ea = await _desk(system, "trail-restart")
    _, position = user.api.executing_entry(account.id, trailWidth=10, trailMode="TRAILING_STOP")
    pid = position["id"]
    await ea.send(opened_success(await ea.expect("OPEN"), "880040", 150.0))
    await wait_for_async(lambda: _status(user.api.position(pid), "OPEN"), 5, "OPEN")
    await ea.send({"type": "PRICE", "symbol": "USDJPY", "bid": 150.5, "ask": 150.51, "timeMs": 1})
    saved = agent.proc.log_path.parent / f"{agent.proc.name}-state" / "orders.json"
    await wait_for_async(lambda: saved.exists() and '"150.5"' in saved.read_text(), 5, "the saved best")
    agent.proc.kill()
    await ea.close()

    agent.restart()
    back = await _reconnect(agent, account)
    await back.serve_sync([{"positionId": pid, "mtTicket": "880040", "symbol": "USDJPY", "side": "BUY",
                            "volume": 0.1, "openPrice": 150.0, "openTimeMs": 1, "profit": 0}])  # fmt: skip
    # 10 pips below the best since entry (150.50), 30 above the entry: only a kept best fires
    await back.send({"type": "PRICE", "symbol": "USDJPY", "bid": 150.4, "ask": 150.41, "timeMs": 2})

    fired = await wait_for_async(lambda: user.api.position(pid)["trailTriggeredAt"], 5, "the trail to fire")
    assert fired
    await back.close()


async def test_failed_entry_retried_opens_a_fresh_position(system: System) -> None:
    user, account, _agent, ea = await _desk(system, "retry-entry")
    action, position = user.api.executing_entry(account.id)
    first = await ea.expect("OPEN")
    refusal = {"type": "OPENED", "commandId": first["commandId"], "positionId": position["id"],
               "status": "FAILED", "errorCode": "NOT_ENOUGH_MONEY", "message": "needs margin"}  # fmt: skip
    await ea.send(refusal)
    await wait_for_async(lambda: _status(user.api.action(action["id"]), "FAILED"), 5, "FAILED")
    await wait_for_async(lambda: _status(user.api.position(position["id"]), "CANCELED"), 5, "CANCELED")

    retried = user.api.update_action(action["id"], status="PENDING")  # a fresh PENDING position
    fresh = retried["positionId"]
    assert fresh != position["id"]
    user.api.update_action(action["id"], status="EXECUTING")
    again = await ea.expect("OPEN")
    assert again["positionId"] == fresh
    await ea.send(opened_success(again, "880050", 150.1))

    opened = await wait_for_async(
        lambda: _status(user.api.position(fresh), "OPEN"), 5, "the retried leg OPEN"
    )
    assert opened["mtTicket"] == "880050"
    await wait_for_async(lambda: _status(user.api.action(action["id"]), "EXECUTED"), 5, "EXECUTED")
    assert user.api.position(position["id"])["status"] == "CANCELED"
    await ea.close()
