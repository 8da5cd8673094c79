"""How a test sees the server close a subscription socket."""

from __future__ import annotations

import asyncio

from websockets.exceptions import ConnectionClosed

from hedge.client.graphql import SubscriptionConnection


async def close_code_within(conn: SubscriptionConnection, within_s: float) -> int | None:
    """The close code of a socket the server closes within `within_s` (None: still open then)."""
    try:
        async with asyncio.timeout(within_s):
            while True:
                await conn.next_message()
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code
    except TimeoutError:
        return None
