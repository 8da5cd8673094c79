"""The agent's EA port against scripted EAs: handshake rules, bad frames, repeats and /healthz.

The agent and the server are real processes; the EA side is a WebSocket client in the test, so it
can send what no well-behaved EA would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.e2e.harness import Account, Agent, FakeEA, System, User, opened_success, wait_for_async

pytestmark = pytest.mark.e2e


@dataclass
class Port:
    user: User
    agent: Agent
    account: Account
    other: Account


async def connected(port: Port, account: Account | None = None) -> FakeEA:
    ea = FakeEA(port.agent, (account or port.account).number)
    assert (await ea.auth())["type"] == "AUTH_OK"
    await ea.serve_sync()
    return ea


@pytest.fixture(scope="module")
def port(system: System) -> Iterator[Port]:
    user = system.user("port")
    account, other = system.account(user), system.account(user)
    yield Port(user, system.agent(user), account, other)


async def open_position(port: Port, ea: FakeEA, ticket: str, price: float) -> dict[str, Any]:
    """An ENTRY carried out through the fake EA: the OPEN position as the server has it."""
    api = port.user.api
    _, position = api.executing_entry(port.account.id)
    await ea.send(opened_success(await ea.expect("OPEN"), ticket, price))
    return await wait_for_async(lambda: _in(api.position(position["id"]), "OPEN"), 5, "OPEN")


def _in(row: dict[str, Any], status: str) -> dict[str, Any] | None:
    return row if row["status"] == status else None


async def test_healthz_lists_server_link_and_connected_accounts(port: Port) -> None:
    ea = await connected(port)

    async with httpx.AsyncClient() as http:
        body = (await http.get(f"http://127.0.0.1:{port.agent.port}/healthz")).json()

    assert body["serverConnected"] is True
    assert [a["accountNumber"] for a in body["accounts"]] == [port.account.number]
    assert body["accounts"][0]["accountId"] == port.account.id
    await ea.close()


async def test_first_frame_not_auth_closed_with_4401(port: Port) -> None:
    ea = await FakeEA(port.agent, port.account.number).open()

    await ea.send({"type": "PING", "id": 1})

    assert (await ea.recv())["type"] == "AUTH_FAILED"
    assert (await ea.closed())[0] == 4401


async def test_auth_wrong_token_auth_failed_and_4401(port: Port) -> None:
    ea = FakeEA(port.agent, port.account.number, token="not-the-token")

    answer = await ea.auth()

    assert answer["type"] == "AUTH_FAILED" and "token" in answer["reason"]
    assert (await ea.closed())[0] == 4401
    assert port.agent.ea_numbers() == set()


async def test_auth_unknown_account_auth_failed_and_4401(port: Port) -> None:
    ea = FakeEA(port.agent, "999999999")

    answer = await ea.auth()

    assert answer["type"] == "AUTH_FAILED" and "999999999" in answer["reason"]
    assert (await ea.closed())[0] == 4401


async def test_second_ea_for_account_replaces_first_closed_with_4409(port: Port) -> None:
    first = await connected(port)

    second = await connected(port)

    assert (await first.closed())[0] == 4409
    await second.barrier(1)  # the newer one is served
    assert port.agent.ea_numbers() == {port.account.number}
    await second.close()


async def test_frame_over_64kib_closes_1009(port: Port) -> None:
    ea = await connected(port)

    await ea.send({"type": "PING", "id": 1, "padding": "x" * (64 * 1024)})

    assert (await ea.closed())[0] == 1009


async def test_bad_frames_answered_bad_message_connection_stays_open(port: Port) -> None:
    ea = await connected(port)
    bad = [
        "{not json",
        '{"no": "type"}',
        '{"type": "TELEPORT"}',
        '{"type": "PRICE", "symbol": "USDJPY", "bid": -1, "ask": 150.01, "timeMs": 1}',
        '{"type": "PRICE", "symbol": "USDJPY", "bid": "abc", "ask": 150.01, "timeMs": 1}',
        '{"type": "ACCOUNT", "balance": NaN, "credit": 0, "equity": 1, "margin": 0, "marginLevel": 0,'
        ' "currency": "USD", "timeMs": 1}',
        '{"type": "OPEN", "commandId": "c", "positionId": "p", "symbol": "USDJPY", "side": "BUY",'
        ' "volume": 0.1, "comment": "HedgeSystem[p]"}',  # a command, not an event
        '{"type": "AUTH", "token": "t", "accountNumber": "1", "serverName": "s", "platform": "MT5",'
        ' "eaVersion": "1"}',
    ]

    for frame in bad:
        await ea.send(frame)
        error = await ea.expect("ERROR")
        assert error["code"] == "BAD_MESSAGE", frame

    await ea.barrier(1)
    await ea.close()


async def test_bad_opened_changes_nothing_good_one_then_opens(port: Port) -> None:
    ea = await connected(port)
    api = port.user.api
    _, position = api.executing_entry(port.account.id)
    command = await ea.expect("OPEN")
    opening = await wait_for_async(lambda: _in(api.position(position["id"]), "OPENING"), 5, "OPENING")
    good = opened_success(command, "880001", 150.011)

    for field, value in (("price", -1), ("price", "150"), ("mtTicket", None), ("status", "MAYBE")):
        await ea.send({**good, field: value})
        assert (await ea.expect("ERROR"))["code"] == "BAD_MESSAGE", field
    await ea.send(good)

    opened = await wait_for_async(lambda: _in(api.position(position["id"]), "OPEN"), 5, "OPEN")
    assert opened["version"] == opening["version"] + 1  # nothing in between
    assert opened["mtTicket"] == "880001" and opened["entryPrice"] == 150.011
    await ea.close()


async def test_repeated_opened_and_stopped_ignored(port: Port) -> None:
    ea = await connected(port)
    api = port.user.api
    first = await open_position(port, ea, "880101", 150.021)
    barrier = await open_position(port, ea, "880102", 150.022)

    # a repeat of the OPENED (as after a reconnect), with other values: not applied
    await ea.send({"type": "OPENED", "commandId": "old", "positionId": first["id"], "status": "SUCCESS",
                   "mtTicket": "880199", "price": 151.0, "timeMs": 1_790_000_000_001})  # fmt: skip
    stopped = {"type": "STOPPED", "positionId": first["id"], "mtTicket": "880101", "price": 149.9,
               "timeMs": 1_790_000_000_002, "profit": -8.1, "reason": "STOP_OUT"}  # fmt: skip
    await ea.send(stopped)
    done = await wait_for_async(lambda: _in(api.position(str(first["id"])), "STOPPED"), 5, "STOPPED")
    await ea.send({**stopped, "price": 140.0, "profit": -700})  # the STOPPED again
    await ea.send({**stopped, "positionId": barrier["id"], "mtTicket": "880102"})

    await wait_for_async(lambda: _in(api.position(str(barrier["id"])), "STOPPED"), 5, "the barrier STOPPED")
    assert done["version"] == first["version"] + 1 and done["mtTicket"] == "880101"
    assert done["exitPrice"] == 149.9 and done["realizedPL"] == -8.1 and done["exitReason"] == "STOP_OUT"
    assert api.position(str(first["id"])) == done  # the repeated STOPPED changed nothing
    await ea.close()


async def test_event_for_another_accounts_position_ignored(port: Port) -> None:
    ea = await connected(port)
    other = await connected(port, port.other)
    api = port.user.api
    held = await open_position(port, ea, "880201", 150.031)

    # the other account's EA claims the position was stopped: it is not its position
    await other.send({"type": "STOPPED", "positionId": held["id"], "mtTicket": "880201", "price": 149.0,
                      "timeMs": 1_790_000_000_003, "profit": -70, "reason": "STOP_OUT"})  # fmt: skip
    await other.barrier(1)
    barrier = await open_position(port, ea, "880202", 150.032)

    assert barrier["status"] == "OPEN"
    assert api.position(str(held["id"]))["status"] == "OPEN"
    await ea.close()
    await other.close()
