"""The paper EA keeps trying when its agent dies at any moment of the opening handshake.

The fault campaign's paper-EA crashes: an agent killed (or a link dropped by the proxy) just after
the TCP connection was accepted, before the EA's handshake request went out, made websockets
raise ConnectionClosedError from `connect`, which its default retry rule calls fatal; the EA's
connection loop ended and the process exited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from tests.e2e.proxy import CutProxy
from tests.ea.conftest import AgentDouble, EAStarter
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosedError, InvalidStatus, InvalidURI
from websockets.http11 import Response

from hedge.ea.paper import retry_connect
from hedge.ea.protocol import Auth


@pytest.fixture
def proxy(agent: AgentDouble) -> Iterator[CutProxy]:
    cut = CutProxy(agent.port).start()
    yield cut
    cut.close()


class Lost:
    def __init__(self) -> None:
        self.count = 0
        self.thrice = asyncio.Event()


@pytest.fixture
def lost_before_handshake(monkeypatch: pytest.MonkeyPatch) -> Lost:
    """Every opening handshake waits (up to 1 s) for its TCP connection to be lost first: the
    moment the campaign hit by chance, made certain. Counts the handshakes that lost it."""
    original = ClientConnection.handshake
    lost = Lost()

    async def late_handshake(self: ClientConnection, *args: Any, **kwargs: Any) -> None:
        done, _ = await asyncio.wait([asyncio.shield(self.connection_lost_waiter)], timeout=1.0)
        if done:
            lost.count += 1
            if lost.count >= 3:
                lost.thrice.set()
        await original(self, *args, **kwargs)

    monkeypatch.setattr(ClientConnection, "handshake", late_handshake)
    return lost


async def test_agent_dying_before_the_ea_sends_its_handshake_is_retried_until_it_answers(
    agent: AgentDouble, start_ea: EAStarter, proxy: CutProxy, lost_before_handshake: Lost
) -> None:
    proxy.cut(mode="reset")  # accepts each TCP connection and drops it at once: a dying agent
    _, task = await start_ea(agent_url=proxy.url)
    thrice = asyncio.create_task(lost_before_handshake.thrice.wait())
    await asyncio.wait([task, thrice], timeout=10, return_when=asyncio.FIRST_COMPLETED)
    thrice.cancel()
    assert not task.done(), f"the EA stopped: {task.exception()!r}"
    assert lost_before_handshake.count >= 3

    proxy.restore()
    ws, auth = await agent.accept()

    assert isinstance(auth, Auth) and auth.account_number == "12345"
    assert not task.done()
    await ws.close()


def test_connection_closed_during_the_handshake_is_retried() -> None:
    assert retry_connect(ConnectionClosedError(None, None)) is None
    assert retry_connect(OSError("refused")) is None


def test_an_answer_that_is_not_a_websocket_still_ends_the_ea() -> None:
    not_found = InvalidStatus(Response(404, "Not Found", None))  # type: ignore[arg-type]
    assert retry_connect(not_found) is not_found
    bad_uri = InvalidURI("http://x", "not a ws URI")
    assert retry_connect(bad_uri) is bad_uri
