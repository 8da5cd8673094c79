"""Benchmark of our GraphQL client (hedge.client) against `gql` on the hedge path; prints one JSON line.

The agents send their mutations (fills, trigger actions) as graphql-transport-ws `subscribe`
messages on the WebSocket they already hold for their subscriptions. This measures one such
round trip (send the mutation, read its `next` and `complete`) to a real `hedge server` (SQLite),
with our `SubscriptionConnection` and with gql's `WebsocketsTransport` speaking the same
subprotocol, on one connection each, in alternating rounds so both meet the same server state.
Each mutation is an updatePosition of one position's memo (a write, a feed row, an event).

    uv run python bench/graphql_client.py [--mutations 400] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from api import UPDATE, hedge_positions, hedge_server, process  # type: ignore[import-not-found]  # bench/api.py
from hedge.client.graphql import GraphQLClient, SubscriptionConnection

Send = Callable[[str], Awaitable[None]]


async def ours(conn: SubscriptionConnection, position_id: str) -> Send:
    async def send(memo: str) -> None:
        op = await conn.start(UPDATE, {"id": position_id, "m": memo})
        got_next = False
        while True:
            message = await conn.next_message()
            if message.get("id") != op:
                continue
            if message["type"] == "next":
                got_next = not message["payload"].get("errors")
            elif message["type"] == "complete":
                break
            else:
                raise RuntimeError(f"unexpected answer {message}")
        if not got_next:
            raise RuntimeError("the mutation was not answered")

    return send


async def timed(send: Send, count: int, tag: str) -> list[float]:
    laps = []
    for i in range(count):
        started = time.perf_counter()
        await send(f"{tag}{i}")
        laps.append((time.perf_counter() - started) * 1000)
    return laps


def summary(laps: list[float]) -> dict[str, float]:
    laps = sorted(laps)
    return {
        "p50_ms": round(statistics.median(laps), 3),
        "p99_ms": round(laps[int(len(laps) * 0.99) - 1], 3),
        "mean_ms": round(statistics.fmean(laps), 3),
    }


async def main(mutations: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        argv, port, env = hedge_server(f"sqlite:///{Path(tmp) / 'bench.db'}")
        async with process(argv, port, env) as url:
            token, (position_id,) = await hedge_positions(url, 1)
            client = GraphQLClient(url, token)
            transport = WebsocketsTransport(
                url=client.ws_url(),
                init_payload={"authorization": f"Bearer {token}"},
                subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],  # graphql-transport-ws
            )
            document = gql(UPDATE)  # parsed once, as an agent would keep it
            results: dict[str, list[float]] = {"ours": [], "gql": []}
            async with client.connection() as conn, Client(transport=transport) as session:
                send_ours = await ours(conn, position_id)

                async def send_gql(memo: str) -> None:
                    await session.execute(document, variable_values={"id": position_id, "m": memo})

                for name, send in (("ours", send_ours), ("gql", send_gql)):  # warm-up
                    await timed(send, 50, f"w{name}")
                for r in range(rounds):  # alternate, so both meet the same server and machine state
                    order = (("ours", send_ours), ("gql", send_gql))
                    for name, send in order if r % 2 == 0 else order[::-1]:
                        results[name] += await timed(send, mutations // rounds, f"{name}{r}-")
            await client.close()
            a, b = summary(results["ours"]), summary(results["gql"])
            return {
                "bench": "graphql_client",
                "mutations_each": len(results["ours"]),
                "ours": a,
                "gql": b,
                "gql_p50_vs_ours": round(b["p50_ms"] / a["p50_ms"], 2),
                "gql_p99_vs_ours": round(b["p99_ms"] / a["p99_ms"], 2),
            }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutations", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.mutations, args.rounds))))
