"""The paper EA over a real WebSocket: the test plays the agent on a free loopback port."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from websockets.exceptions import ConnectionClosed

from hedge.domain.enums import BrokerType, Side
from hedge.ea import protocol as wire
from hedge.ea.errors import AuthRejected
from hedge.ea.protocol import comment_for

if TYPE_CHECKING:
    from tests.ea.conftest import AgentDouble, EAStarter
    from websockets.asyncio.server import ServerConnection

    from hedge.ea.paper import PaperEA

D = Decimal


def open_cmd(command_id: str, position_id: str, volume: str = "0.10", side: Side = Side.BUY) -> wire.Open:
    return wire.Open(command_id, position_id, "USDJPY", side, D(volume), comment_for(position_id))


async def open_one(
    agent: AgentDouble, start_ea: EAStarter, command: wire.Open
) -> tuple[PaperEA, ServerConnection, wire.Opened]:
    """Start a paper EA, accept it and send it one OPEN: the EA, its socket and the OPENED answer."""
    ea, _ = await start_ea()
    ws, _ = await agent.accept()
    await agent.send(ws, command)
    return ea, ws, await agent.expect(ws, wire.Opened)


async def test_paper_ea_first_frame_is_auth_then_account_after_auth_ok(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    ea, _ = await start_ea(platform=BrokerType.MT4)
    ws, auth = await agent.accept("acc-7")
    assert auth == wire.Auth("T", "12345", "Paper-Demo 1", BrokerType.MT4, "paper-1.0.0", "HEDGING")
    account = await agent.recv(ws)
    assert (
        isinstance(account, wire.AccountUpdate)
        and account.balance == D("10000")
        and account.currency == "USD"
    )
    assert ea.account_id == "acc-7" and ea.online.is_set()


async def test_open_answers_opened_and_repeat_with_new_command_id_gives_same_ticket(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    ea, ws, first = await open_one(agent, start_ea, open_cmd("c1", "p1"))
    await agent.send(ws, open_cmd("c2", "p1"))
    again = await agent.expect(ws, wire.Opened)
    assert first.status is wire.CommandStatus.SUCCESS and first.price == D("150.010") and first.mt_ticket
    assert (again.command_id, again.mt_ticket, again.price, again.time_ms) == (
        "c2",
        first.mt_ticket,
        first.price,
        first.time_ms,
    )
    assert [p.ticket for p in ea.terminal.positions()] == [first.mt_ticket]


async def test_repeated_command_id_is_answered_again_with_the_same_answer(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    _, ws, first = await open_one(agent, start_ea, open_cmd("c1", "p1"))
    await agent.send(ws, open_cmd("c1", "p1"))
    assert await agent.expect(ws, wire.Opened) == first


async def test_close_answers_closed_with_profit_and_repeat_gets_recorded_close(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    ea, ws, opened = await open_one(agent, start_ea, open_cmd("c1", "p1", "1"))
    assert opened.mt_ticket
    ea.set_price("USDJPY", D("151.000"), D("151.010"))
    await agent.send(ws, wire.Close("c2", "p1", opened.mt_ticket))
    closed = await agent.expect(ws, wire.Closed)
    balance = await agent.expect(ws, wire.AccountUpdate)
    assert closed.status is wire.CommandStatus.SUCCESS and closed.price == D("151.000")
    assert closed.profit == D("655.61") and balance.balance == D("10655.61")
    ea.set_price("USDJPY", D("140.000"), D("140.010"))
    await agent.send(ws, wire.Close("c3", "p1", opened.mt_ticket))
    again = await agent.expect(ws, wire.Closed)
    assert (again.command_id, again.price, again.time_ms, again.profit) == (
        "c3",
        closed.price,
        closed.time_ms,
        closed.profit,
    )
    assert ea.terminal.balance == D("10655.61")


async def test_close_of_unknown_ticket_answers_failed_unknown(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    await start_ea()
    ws, _ = await agent.accept()
    await agent.send(ws, wire.Close("c1", "p1", "424242"))
    closed = await agent.expect(ws, wire.Closed)
    assert closed.status is wire.CommandStatus.FAILED and closed.error_code is wire.ErrorCode.UNKNOWN
    assert closed.mt_ticket == "424242" and "424242" in (closed.message or "")


async def test_sync_answers_positions_with_hedge_system_positions(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    ea, ws, opened = await open_one(agent, start_ea, open_cmd("c1", "p1", "0.30", Side.SELL))
    ea.terminal.open_externally("EURUSD", Side.BUY, D("0.1"), "by hand")
    await agent.send(ws, wire.Sync("c2"))
    positions = await agent.expect(ws, wire.Positions)
    assert positions.command_id == "c2"
    assert [(p.position_id, p.mt_ticket, p.side, p.volume) for p in positions.positions] == [
        ("p1", opened.mt_ticket, Side.SELL, D("0.30"))
    ]


async def test_subscribe_streams_price_only_for_subscribed_symbols(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    await start_ea(symbols=("USDJPY", "EURUSD", "XAUUSD"))
    ws, _ = await agent.accept()
    await agent.send(ws, wire.Subscribe(("EURUSD",)))
    prices = [await agent.expect(ws, wire.Price) for _ in range(5)]
    assert {p.symbol for p in prices} == {"EURUSD"} and prices[0].bid == D("1.08000")
    await agent.send(ws, wire.Subscribe(("XAUUSD", "USDJPY")))
    while (await agent.expect(ws, wire.Price)).symbol == "EURUSD":
        pass  # frames sent before the second SUBSCRIBE was read
    later = [await agent.expect(ws, wire.Price) for _ in range(6)]
    assert {p.symbol for p in later} == {"XAUUSD", "USDJPY"}


async def test_empty_subscribe_stops_the_price_stream(agent: AgentDouble, start_ea: EAStarter) -> None:
    await start_ea(account_interval_s=0.1)
    ws, _ = await agent.accept()
    await agent.send(ws, wire.Subscribe(("USDJPY",)))
    await agent.expect(ws, wire.Price)
    await agent.send(ws, wire.Subscribe(()))
    await agent.send(ws, wire.Ping(1))
    await agent.expect(ws, wire.Pong)
    # two ACCOUNT periods (about ten ticks) pass without a PRICE
    frames = [await agent.recv(ws) for _ in range(2)]
    assert all(isinstance(f, wire.AccountUpdate) for f in frames), frames


async def test_subscribe_to_unquoted_symbol_is_ignored(agent: AgentDouble, start_ea: EAStarter) -> None:
    ea, _ = await start_ea()
    ws, _ = await agent.accept()
    await agent.send(ws, wire.Subscribe(("GBPAUD", "USDJPY")))
    assert (await agent.expect(ws, wire.Price)).symbol == "USDJPY"
    assert ea.subscribed == ("USDJPY",)


@pytest.mark.parametrize(
    ("frame", "command_id", "text"),
    [
        ("this is not json", None, "not JSON"),
        ('{"type":"FLY","commandId":"c5"}', "c5", "unknown type 'FLY'"),
        ('{"commandId":"c6"}', "c6", 'no "type"'),
        (
            '{"type":"OPEN","commandId":"c7","positionId":"p","symbol":"USDJPY","side":"BUY","volume":-1,"comment":"x"}',
            "c7",
            "OPEN.volume must be > 0, was -1",
        ),
        (
            '{"type":"OPEN","commandId":"c8","positionId":"p","symbol":"USDJPY","side":"BUY","volume":"1","comment":"x"}',
            "c8",
            "OPEN.volume must be a JSON number",
        ),
        (
            '{"type":"CLOSE","commandId":"c9","positionId":"p","mtTicket":5}',
            "c9",
            "CLOSE.mtTicket must be a string",
        ),
        ('{"type":"OPENED","commandId":"c10","positionId":"p","status":"FAILED"}', "c10", "missing"),
        (
            '{"type":"STOPPED","positionId":"p","mtTicket":"1","price":1,"timeMs":1,"profit":0,"reason":"x"}',
            None,
            "STOPPED",
        ),
    ],
)
async def test_bad_frame_answers_error_bad_message_and_connection_stays_usable(
    agent: AgentDouble, start_ea: EAStarter, frame: str, command_id: str | None, text: str
) -> None:
    ea, _ = await start_ea()
    ws, _ = await agent.accept()
    await agent.send(ws, frame)
    error = await agent.expect(ws, wire.Error)
    assert error.code == "BAD_MESSAGE" and error.command_id == command_id and text in error.message
    await agent.send(ws, wire.Sync("after"))
    assert (await agent.expect(ws, wire.Positions)).positions == () and ea.terminal.positions() == ()


async def test_frame_over_64_kib_closes_with_1009_and_ea_reconnects(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    await start_ea()
    ws, _ = await agent.accept()
    await ws.send('{"type":"ERROR","code":"BAD_MESSAGE","message":"' + "x" * wire.MAX_FRAME_BYTES + '"}')
    await ws.wait_closed()
    assert ws.close_code == 1009
    _, auth = await agent.accept()
    assert auth.account_number == "12345"


async def test_agent_ping_is_answered_with_pong_of_same_id(agent: AgentDouble, start_ea: EAStarter) -> None:
    await start_ea()
    ws, _ = await agent.accept()
    await agent.send(ws, wire.Ping(41))
    assert await agent.expect(ws, wire.Pong) == wire.Pong(41)


async def test_idle_ea_pings_the_agent(agent: AgentDouble, start_ea: EAStarter) -> None:
    await start_ea(idle_ping_s=0.1, tick_interval_ms=0)
    ws, _ = await agent.accept()
    ping = await agent.expect(ws, wire.Ping)
    assert ping.id == 1


async def test_silent_agent_is_dropped_and_ea_reconnects(agent: AgentDouble, start_ea: EAStarter) -> None:
    await start_ea(idle_ping_s=0.1, dead_after_s=0.3, tick_interval_ms=0)
    ws, _ = await agent.accept()
    await ws.wait_closed()
    _, auth = await agent.accept()
    assert auth.token == "T"


async def test_stop_out_sends_stopped_for_the_largest_loss_first(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    ea, _ = await start_ea(balance=D("1000"), leverage=500)
    ws, _ = await agent.accept()
    await agent.send(ws, open_cmd("c1", "p-small", "0.5"))
    await agent.expect(ws, wire.Opened)
    await agent.send(ws, open_cmd("c2", "p-big", "2"))
    big = await agent.expect(ws, wire.Opened)
    ea.set_price("USDJPY", D("149.400"), D("149.410"))
    first = await agent.expect(ws, wire.Stopped)
    assert (first.position_id, first.mt_ticket, first.reason) == ("p-big", big.mt_ticket, "STOP_OUT")
    assert first.price == D("149.400") and first.profit < 0


async def test_external_close_sends_stopped_manual(agent: AgentDouble, start_ea: EAStarter) -> None:
    ea, ws, opened = await open_one(agent, start_ea, open_cmd("c1", "p1"))
    assert opened.mt_ticket
    record = ea.close_externally(opened.mt_ticket)
    stopped = await agent.expect(ws, wire.Stopped)
    assert (stopped.position_id, stopped.reason, stopped.profit) == (
        "p1",
        wire.StopReason.TERMINAL_CLOSE,
        record.profit,
    )


async def test_event_made_while_offline_is_sent_after_reconnect(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    ea, _ws, opened = await open_one(agent, start_ea, open_cmd("c1", "p1"))
    assert opened.mt_ticket
    port = agent.port
    await agent.stop()
    await ea.offline.wait()
    ea.close_externally(opened.mt_ticket)
    assert [type(m) for m in ea.pending_events()] == [wire.Stopped]
    await agent.start(port)
    ws2, _ = await agent.accept()
    stopped = await agent.expect(ws2, wire.Stopped)
    assert stopped.mt_ticket == opened.mt_ticket and ea.pending_events() == ()


async def test_fill_after_the_connection_dropped_is_answered_on_the_next_one(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    await start_ea(fill_delay_ms=300)
    ws, _ = await agent.accept()
    await agent.send(ws, open_cmd("c1", "p1"))
    await ws.close(1012, "agent restarting")
    ws2, _ = await agent.accept()
    opened = await agent.expect(ws2, wire.Opened)
    assert opened.command_id == "c1" and opened.status is wire.CommandStatus.SUCCESS


async def test_configured_reject_answers_failed_with_code(agent: AgentDouble, start_ea: EAStarter) -> None:
    ea, _ = await start_ea()
    ea.terminal.reject_next(wire.ErrorCode.REQUOTE)
    ws, _ = await agent.accept()
    await agent.send(ws, open_cmd("c1", "p1"))
    refused = await agent.expect(ws, wire.Opened)
    await agent.send(ws, open_cmd("c2", "p1"))
    retried = await agent.expect(ws, wire.Opened)
    assert refused.error_code is wire.ErrorCode.REQUOTE and retried.status is wire.CommandStatus.SUCCESS


async def test_wrong_token_ends_run_with_auth_rejected(agent: AgentDouble, start_ea: EAStarter) -> None:
    _, task = await start_ea(ea_token="wrong")
    ws = await agent.connection()
    await agent.recv(ws)
    await agent.send(ws, wire.AuthFailed("invalid EA token"))
    await ws.close(wire.CLOSE_AUTH_FAILED, "invalid EA token")
    with pytest.raises(AuthRejected, match="invalid EA token"):
        async with asyncio.timeout(3):
            await task


async def test_agent_not_ready_is_retried_until_auth_ok(agent: AgentDouble, start_ea: EAStarter) -> None:
    ea, _ = await start_ea()
    ws = await agent.connection()
    await agent.recv(ws)
    await agent.send(ws, wire.AuthFailed("agent not ready"))
    await ws.close(wire.CLOSE_AUTH_FAILED, "agent not ready")
    _, auth = await agent.accept("acc-late")
    await ea.online.wait()
    assert auth.token == "T" and ea.account_id == "acc-late"


async def test_close_4409_replaced_stops_the_ea(agent: AgentDouble, start_ea: EAStarter) -> None:
    ea, task = await start_ea()
    ws, _ = await agent.accept()
    await ws.close(wire.CLOSE_REPLACED, "replaced")
    async with asyncio.timeout(3):
        await task
    assert ea.stop_reason and "4409" in ea.stop_reason


async def test_first_frame_is_auth_even_when_events_are_queued(
    agent: AgentDouble, start_ea: EAStarter
) -> None:
    ea, _ = await start_ea()
    held = ea.terminal.open_externally("USDJPY", Side.BUY, D("0.1"), comment_for("p9"))
    ea.close_externally(held.ticket)
    ws = await agent.connection()
    first = await agent.recv(ws)
    assert isinstance(first, wire.Auth)
    await agent.send(ws, wire.AuthOk("acc-1"))
    assert (await agent.expect(ws, wire.Stopped)).position_id == "p9"


async def test_stop_ends_run_and_closes_the_connection(agent: AgentDouble, start_ea: EAStarter) -> None:
    ea, task = await start_ea()
    ws, _ = await agent.accept()
    ea.stop()
    async with asyncio.timeout(3):
        await task
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(3):
            while True:
                await ws.recv()
