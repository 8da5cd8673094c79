"""Benchmark of §6-2's priorities: status changes are not delayed by the 30 s account figures.

One `hedge server` process (SQLite). A subscriber watches onUpdatePosition; the bench moves
positions through PENDING -> OPENING -> OPEN -> CLOSING -> CLOSED one status at a time and
measures, for each move, the time from sending the mutation to receiving its event. First with
no other load (the baseline), then while 100 accounts push their figures every second (100 times
the agents' real rate); prints one JSON line with both p99s and their ratio (goal <= 1.2).

    uv run python bench/priorities.py [--moves 200] [--accounts 100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from hedge.client.graphql import GraphQLClient
from hedge.localservices import free_port

ADMIN = "bench-admin-token-for-priorities"
CREATE_USER = (
    'mutation($e: String!) { createUser(input: {email: $e, name: "B", role: CLIENT}) { user { id } token } }'
)
CREATE_ACCOUNT = """mutation($u: ID!, $n: String!) { createAccount(input: {userId: $u, brokerType: MT5,
  accountNumber: $n, serverName: "Bench", displayName: "b"}) { id } }"""
CREATE_ENTRY = """mutation($a: ID!) { createAction(input: {type: ENTRY, accountId: $a, symbol: "USDJPY",
  side: BUY, volume: 0.1}) { position { id } } }"""
MOVE = """mutation($i: UpdatePositionInput!) { updatePosition(input: $i) { id version status } }"""
PUSH = """mutation($a: ID!, $e: Float!) { updateAccount(input: {id: $a, balance: 10000, credit: 0,
  equity: $e, margin: 120, marginLevel: 8000}) { id version } }"""
SUBSCRIBE = "subscription { onUpdatePosition { id version status } }"
STEPS: list[tuple[str, dict[str, object]]] = [
    ("OPENING", {}),
    ("OPEN", {"entryPrice": 150.0, "mtTicket": "1"}),
    ("CLOSING", {}),
    ("CLOSED", {"exitPrice": 150.1}),
]


async def start_server(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "HEDGE_ADMIN_TOKEN": ADMIN, "HEDGE_MUTATION_RATE_PER_S": "100000",
           "HEDGE_MUTATION_BURST": "100000"}  # fmt: skip
    argv = [sys.executable, "-m", "hedge.cli", "server", "--port", str(port), "--database-url", database_url,
            "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(argv, env=env)  # noqa: ASYNC220 - started once, before any timing
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(url + "/healthz")).status_code == 200:
                    return proc, url
            await asyncio.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


async def make_user(admin: GraphQLClient, email: str) -> tuple[str, str]:
    made = (await admin.execute(CREATE_USER, {"e": email}))["createUser"]
    return made["user"]["id"], made["token"]


async def pushers(url: str, admin: GraphQLClient, accounts: int, stop: asyncio.Event) -> list[int]:
    """`accounts` accounts (ten per user) each pushing its figures once a second until `stop`."""
    pushed, dropped = [0], [0]
    owners: list[tuple[GraphQLClient, str]] = []
    for index in range(accounts):
        if index % 10 == 0:
            _, token = await make_user(admin, f"pusher{index}@bench.io")
            client = GraphQLClient(url, token)
        made = await admin.execute(CREATE_ACCOUNT, {"u": await _me(client), "n": f"P{index}"})
        owners.append((client, made["createAccount"]["id"]))

    async def push(client: GraphQLClient, account_id: str) -> None:
        await asyncio.sleep(random.random())  # spread over the second, as real agents are
        while not stop.is_set():
            try:
                await client.execute(PUSH, {"a": account_id, "e": 10000 + random.random()})
                pushed[0] += 1
            except httpx.TransportError:  # a keep-alive connection the server closed as we reused it
                dropped[0] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    tasks = [asyncio.create_task(push(c, a)) for c, a in owners]
    await stop.wait()
    await asyncio.gather(*tasks)
    for client in {id(c): c for c, _ in owners}.values():
        await client.close()
    return [pushed[0], dropped[0]]


async def _me(client: GraphQLClient) -> str:
    return str((await client.execute("{ me { id } }"))["me"]["id"])


async def measure(trader: GraphQLClient, account_id: str, moves: int) -> list[float]:
    """Latencies (ms) of `moves` status changes, from sending the mutation to its event."""
    latencies: list[float] = []
    async with trader.connection() as conn:
        await conn.start(SUBSCRIBE)
        while len(latencies) < moves:
            position = (await trader.execute(CREATE_ENTRY, {"a": account_id}))["createAction"]["position"][
                "id"
            ]
            for status, extra in STEPS:
                sent = time.perf_counter()
                changes: dict[str, object] = {"id": position, "status": status, **extra}
                moved = await trader.execute(MOVE, {"i": changes})
                version = moved["updatePosition"]["version"]
                while True:
                    message = await asyncio.wait_for(conn.next_message(), 10)
                    event = message.get("payload", {}).get("data", {}).get("onUpdatePosition") or {}
                    if event.get("id") == position and event.get("version") == version:
                        break
                latencies.append((time.perf_counter() - sent) * 1000)
                await asyncio.sleep(0.01)
    return latencies[:moves]


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


async def main(moves: int, accounts: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = await start_server(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            async with GraphQLClient(url, ADMIN) as admin:
                trader_id, token = await make_user(admin, "trader@bench.io")
                account = (await admin.execute(CREATE_ACCOUNT, {"u": trader_id, "n": "T1"}))["createAccount"][
                    "id"
                ]
                async with GraphQLClient(url, token) as trader:
                    await measure(trader, account, 8)  # warm-up
                    quiet = await measure(trader, account, moves)
                    stop = asyncio.Event()
                    setup = GraphQLClient(url, ADMIN)  # a fresh connection: the first one has idled
                    load = asyncio.create_task(pushers(url, setup, accounts, stop))
                    await asyncio.sleep(3)  # every pusher is under way
                    started = time.perf_counter()
                    loaded = await measure(trader, account, moves)
                    elapsed = time.perf_counter() - started
                    stop.set()
                    pushed = await load
                    await setup.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return {
        "bench": "priorities",
        "engine": "sqlite",
        "moves": moves,
        "accounts_pushing_per_s": accounts,
        "account_pushes": pushed[0],
        "account_pushes_dropped": pushed[1],
        "pushes_per_s_during_measure": round(pushed[0] / max(elapsed + 3, 1e-9), 1),
        "status_p50_ms_quiet": round(statistics.median(quiet), 2),
        "status_p99_ms_quiet": round(p99(quiet), 2),
        "status_p50_ms_loaded": round(statistics.median(loaded), 2),
        "status_p99_ms_loaded": round(p99(loaded), 2),
        "p99_ratio": round(p99(loaded) / p99(quiet), 3),
        "goal_p99_ratio": 1.2,
        "load_average_1m": os.getloadavg()[0],  # the machine is shared: say how busy it was
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.moves, args.accounts))))
