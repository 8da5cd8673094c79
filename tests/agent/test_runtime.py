"""The agent before its server link is up: an EA's AUTH waits for the accounts, then is refused
with `agent not ready` (the EA retries) unless a saved copy of the accounts knows it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest_asyncio
from tests.agent.core_rows import ACCOUNT as CORE_ACCOUNT
from tests.agent.core_rows import account, position
from tests.agent.test_gateway import ACCOUNT, authed
from websockets.exceptions import ConnectionClosed

from hedge.agent.intents import TriggerActions
from hedge.agent.runtime import AgentRuntime
from hedge.config import AgentSettings
from hedge.domain.enums import PositionStatus
from hedge.domain.orders import OrderTracker, OrderTrigger
from hedge.domain.rows import to_image
from hedge.ea.protocol import AGENT_NOT_READY, CLOSE_AUTH_FAILED
from hedge.ea.protocol_messages import Price
from hedge.localservices import free_port


@pytest_asyncio.fixture
async def offline_agent(tmp_path: Path) -> AsyncIterator[tuple[AgentRuntime, Path]]:
    """An agent whose server is not there (nothing listens on its port)."""
    settings = AgentSettings(
        server_url=f"http://127.0.0.1:{free_port()}", token="t", ea_token="ea-secret", ea_port=0,
        state_dir=str(tmp_path), auth_wait_s=0.3, reconnect_max_s=0.2,
    )  # fmt: skip
    yield AgentRuntime(settings), tmp_path


async def _auth(port: int) -> tuple[object, int | None]:
    async with authed(port) as (ws, answer):
        try:
            await asyncio.wait_for(ws.recv(), 2)
        except ConnectionClosed as closed:
            return answer, closed.rcvd.code if closed.rcvd else None
        return answer, None


async def test_auth_before_the_accounts_are_known_fails_with_agent_not_ready(
    offline_agent: tuple[AgentRuntime, Path],
) -> None:
    agent, _ = offline_agent
    running = asyncio.create_task(agent.run())
    try:
        await asyncio.wait_for(agent.listening.wait(), 5)
        answer, code = await _auth(agent.ea_port)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert answer == {"type": "AUTH_FAILED", "reason": AGENT_NOT_READY}
    assert code == CLOSE_AUTH_FAILED


async def test_saved_accounts_let_an_ea_in_while_the_server_is_away(
    offline_agent: tuple[AgentRuntime, Path],
) -> None:
    agent, state_dir = offline_agent
    (state_dir / "accounts.json").write_text(json.dumps([to_image(ACCOUNT)]))
    running = asyncio.create_task(agent.run())
    try:
        await asyncio.wait_for(agent.listening.wait(), 5)
        async with authed(agent.ea_port) as (_, answer):
            assert answer == {"type": "AUTH_OK", "accountId": "acc-1"}
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


def sent_open(runtime: AgentRuntime, command_id: str) -> None:
    """The core has sent an OPEN of pos-A and heard no answer yet."""
    tracker = OrderTracker("pos-A", "acc-1")
    tracker.send(OrderTrigger.SEND_OPEN, command_id, 1.0)
    runtime.core.orders["pos-A"] = tracker


def restored_journal(runtime: AgentRuntime) -> dict[str, tuple[str, str]]:
    """The commands a new agent on the same state folder reads back at its start."""
    again = AgentRuntime(runtime.settings)
    again._local.restore_orders(again.core)
    return again.core.journal


async def test_a_new_lease_grant_keeps_the_commands_the_old_core_may_have_sent(
    offline_agent: tuple[AgentRuntime, Path],
) -> None:
    runtime, _ = offline_agent
    sent_open(runtime, "c-1")

    runtime._fresh_core()  # the lease was lost and granted again

    assert runtime.core.journal == {"pos-A": ("OPEN", "c-1")}


async def test_a_new_lease_grant_sends_again_a_trigger_the_old_core_fired_and_the_server_never_recorded(
    offline_agent: tuple[AgentRuntime, Path],
) -> None:
    runtime, _ = offline_agent
    opened = position(PositionStatus.OPEN, version=3, entry_price=Decimal("150"), mt_ticket="7",
                      trail_width=Decimal("0"))  # fmt: skip
    runtime.core.apply_row(account())
    runtime.core.apply_row(opened)
    fired = [i for i in runtime.core.on_price(CORE_ACCOUNT, Price("USDJPY", Decimal("150"),
             Decimal("150.01"), 1)) if isinstance(i, TriggerActions)]  # fmt: skip
    assert len(fired) == 1  # its mutation is cancelled with the lease: the server never heard it

    runtime._fresh_core()  # the lease was lost and granted again; the rows are loaded again
    runtime.core.apply_row(opened)

    again = [i for i in runtime.core.decide(1.0) if isinstance(i, TriggerActions)]
    assert again == fired and again[0].correlation_id == fired[0].correlation_id
    fired_again = runtime.core.on_price(CORE_ACCOUNT, Price("USDJPY", Decimal("150"), Decimal("150.01"), 2))
    assert fired_again == []  # the new core does not watch its trail again


async def test_a_trigger_the_core_decides_is_journaled_and_asked_again_by_the_next_agent(
    offline_agent: tuple[AgentRuntime, Path],
) -> None:
    runtime, state_dir = offline_agent
    runtime.core.apply_row(account())
    runtime.core.apply_row(position(PositionStatus.OPEN, version=3, entry_price=Decimal("150"),
                                    mt_ticket="7", trail_width=Decimal("0")))  # fmt: skip
    fired = [i for i in runtime.core.on_price(CORE_ACCOUNT, Price("USDJPY", Decimal("150"),
             Decimal("150.01"), 9)) if isinstance(i, TriggerActions)]  # fmt: skip
    assert (state_dir / "orders.journal").read_text().count('"kind": "TRIGGER"') == 1
    # the agent is killed here: orders.json was never written

    again = AgentRuntime(runtime.settings)
    again._local.restore_orders(again.core)
    asked = [i for i in again.core.decide(1.0) if isinstance(i, TriggerActions)]
    assert asked == fired and asked[0].correlation_id == fired[0].correlation_id == "trg-pos-A-9"


async def test_orders_file_written_before_a_command_and_read_back_at_start(
    offline_agent: tuple[AgentRuntime, Path],
) -> None:
    runtime, state_dir = offline_agent
    sent_open(runtime, "c-2")
    runtime._local.save_orders(runtime.core)
    saved = json.loads((state_dir / "orders.json").read_text())
    assert saved["sent"] == {"pos-A": {"kind": "OPEN", "commandId": "c-2"}}

    assert restored_journal(runtime) == {"pos-A": ("OPEN", "c-2")}


async def test_command_journaled_before_it_is_sent_is_restored_after_a_crash(
    offline_agent: tuple[AgentRuntime, Path],
) -> None:
    runtime, _ = offline_agent
    runtime._local.sent("OPEN", "pos-A", "c-3")  # the agent dies before orders.json is rewritten
    runtime._local.sent("CLOSE", "pos-B", "c-4")

    assert restored_journal(runtime) == {"pos-A": ("OPEN", "c-3"), "pos-B": ("CLOSE", "c-4")}


async def test_journal_lines_win_over_an_older_orders_file(offline_agent: tuple[AgentRuntime, Path]) -> None:
    runtime, _ = offline_agent
    sent_open(runtime, "c-5")
    runtime._local.save_orders(runtime.core)
    runtime._local.sent("CLOSE", "pos-A", "c-6")  # sent after orders.json was written

    assert restored_journal(runtime) == {"pos-A": ("CLOSE", "c-6")}


async def test_rewriting_the_orders_file_empties_the_journal(
    offline_agent: tuple[AgentRuntime, Path],
) -> None:
    runtime, state_dir = offline_agent
    sent_open(runtime, "c-7")
    runtime._local.sent("OPEN", "pos-A", "c-7")
    runtime._local.save_orders(runtime.core)

    assert (state_dir / "orders.journal").read_text() == ""
    assert restored_journal(runtime) == {"pos-A": ("OPEN", "c-7")}  # orders.json holds it now


async def test_unreadable_journal_line_is_skipped(offline_agent: tuple[AgentRuntime, Path]) -> None:
    runtime, state_dir = offline_agent
    runtime._local.sent("OPEN", "pos-A", "c-8")
    with (state_dir / "orders.journal").open("a") as journal:
        journal.write('{"positionId": "pos-B", "kind": \n[1, 2]\n')  # torn and foreign lines
    runtime._local.sent("OPEN", "pos-C", "c-9")

    assert restored_journal(runtime) == {"pos-A": ("OPEN", "c-8"), "pos-C": ("OPEN", "c-9")}


async def test_unreadable_orders_file_is_ignored(offline_agent: tuple[AgentRuntime, Path]) -> None:
    runtime, state_dir = offline_agent
    (state_dir / "orders.json").write_text("{not json")
    runtime._local.restore_orders(runtime.core)
    assert runtime.core.journal == {}
