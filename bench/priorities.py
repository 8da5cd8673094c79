"""Benchmark of §6-2's priorities: status changes are not delayed by the 30 s account figures.

One `hedge server` process (SQLite). A subscriber watches onUpdatePosition; the bench moves
positions through PENDING -> OPENING -> OPEN -> CLOSING -> CLOSED one status at a time and
measures, for each move, the time from sending the mutation to receiving its event. Half of the
moves are measured with no other load (the baseline), half while 100 accounts push their figures
every second (30 times the agents' real rate); prints one JSON line with both p99s and their
ratio (goal <= 1.2), the pushes achieved per second, and the machine's load average.

Fair measuring on a shared 2-core machine:
- The pushers run in a process of their own (this script with --push), standing for agents on
  other PCs: in the bench's own event loop their HTTP work would delay the bench's reading of the
  events it times, and so count the load generator's cost against the server. That process runs
  at nice 10 (--load-nice) so that its CPU does not compete with the server's (an agent's CPU is
  on its own PC); the pushes it achieves are printed, so a starved generator shows (on a machine
  with a load average far above its cores a niced generator falls short of 100/s: say so).
- --control adds rounds with the same rate of plain account reads (foreground requests, no write,
  no change event): what 100 requests a second cost the status path by themselves, on top of
  which the figures' writes, feed rows and fan-out must add nothing.
- Quiet and loaded rounds alternate (the pusher process is stopped with SIGSTOP for quiet rounds
  and continued with SIGCONT, with a settling second before measuring), so both p99s see the same
  background load of the machine, which changes from minute to minute.

    uv run python bench/priorities.py [--moves 400] [--accounts 100] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from hedge.client.graphql import GraphQLClient
from hedge.localservices import HedgeServer, start_hedge_server

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
READ = """query($a: ID!) { getAccount(id: $a) { id version } }"""  # the control: same rate, no write
SUBSCRIBE = "subscription { onUpdatePosition { id version status } }"
STEPS: list[tuple[str, dict[str, object]]] = [
    ("OPENING", {}),
    ("OPEN", {"entryPrice": 150.0, "mtTicket": "1"}),
    ("CLOSING", {}),
    ("CLOSED", {"exitPrice": 150.1}),
]
SETTLE_S = 1.5  # after SIGCONT: the pushers' overdue timers fire at once; measure after that


# --- the load generator (its own process) -------------------------------------------------------


async def push_forever(url: str, owners: list[tuple[str, str]], out: Path, reads: bool) -> None:
    """Each (token, account) pushes its figures once a second until SIGTERM; then writes when each
    push was answered (time.monotonic(), the same clock in every process) and how long it took."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    clients = {token: GraphQLClient(url, token) for token in {t for t, _ in owners}}
    answered: list[tuple[float, float]] = []
    failed = [0]
    print("ready", flush=True)

    async def push(client: GraphQLClient, account_id: str) -> None:
        next_at = time.monotonic() + random.random()  # spread over the second, as real agents are
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(next_at - time.monotonic(), 0))
            if stop.is_set():
                break
            next_at += 1.0
            sent = time.monotonic()
            try:
                if reads:
                    await client.execute(READ, {"a": account_id})
                else:
                    await client.execute(PUSH, {"a": account_id, "e": 10000 + random.random()})
                answered.append((time.monotonic(), time.monotonic() - sent))
            except httpx.TransportError:  # a keep-alive connection the server closed as we reused it
                failed[0] += 1
            next_at = max(next_at, time.monotonic())  # late (answer slow, or SIGSTOP): go on from now

    await asyncio.gather(*(push(clients[t], a) for t, a in owners))
    for client in clients.values():
        await client.close()
    await asyncio.to_thread(out.write_text, json.dumps({"answered": answered, "failed": failed[0]}))


# --- the bench -----------------------------------------------------------------------------------


async def make_user(admin: GraphQLClient, email: str) -> tuple[str, str]:
    made = (await admin.execute(CREATE_USER, {"e": email}))["createUser"]
    return made["user"]["id"], made["token"]


async def make_pushers(admin: GraphQLClient, accounts: int) -> list[tuple[str, str]]:
    """`accounts` accounts, ten per user: (the owner's token, the account id)."""
    owners: list[tuple[str, str]] = []
    for index in range(accounts):
        if index % 10 == 0:
            user_id, token = await make_user(admin, f"pusher{index}@bench.io")
        made = await admin.execute(CREATE_ACCOUNT, {"u": user_id, "n": f"P{index}"})
        owners.append((token, made["createAccount"]["id"]))
    return owners


async def measure(trader: GraphQLClient, account_id: str, moves: int) -> list[float]:
    """Latencies (ms) of `moves` status changes, from sending the mutation to its event."""
    latencies: list[float] = []
    async with trader.connection() as conn:
        await conn.start(SUBSCRIBE)
        while len(latencies) < moves:
            created = await trader.execute(CREATE_ENTRY, {"a": account_id})
            position = created["createAction"]["position"]["id"]
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


def start_pushers(
    url: str, owners: list[tuple[str, str]], workdir: Path, mode: str, nice: int
) -> tuple[subprocess.Popen[bytes], Path]:
    """The load generator's process, at `nice`, stopped (SIGSTOP) once it is ready."""
    (workdir / "owners.json").write_text(json.dumps(owners))
    out = workdir / f"{mode}.json"
    argv = [sys.executable, __file__, "--push", str(workdir / "owners.json"), "--url", url, "--out", str(out),
            *(["--reads"] if mode == "reads" else [])]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, preexec_fn=lambda: os.nice(nice))
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    proc.send_signal(signal.SIGSTOP)  # quiet until the first loaded round
    return proc, out


async def main(moves: int, accounts: int, rounds: int, control: bool, nice: int) -> dict[str, object]:
    modes = ["figures", "reads"] if control else ["figures"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {"HEDGE_MUTATION_RATE_PER_S": "100000", "HEDGE_MUTATION_BURST": "100000"}
        server: HedgeServer = await asyncio.to_thread(
            start_hedge_server, f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp), admin_token=ADMIN, env=env
        )
        try:
            async with GraphQLClient(server.url, ADMIN) as admin:
                trader_id, token = await make_user(admin, "trader@bench.io")
                made = await admin.execute(CREATE_ACCOUNT, {"u": trader_id, "n": "T1"})
                account = made["createAccount"]["id"]
                owners = await make_pushers(admin, accounts)
            loads = {}
            for mode in modes:  # one load process per mode, each stopped until its rounds
                loads[mode] = await asyncio.to_thread(
                    start_pushers, server.url, owners, Path(tmp), mode, nice
                )
            latencies: dict[str, list[float]] = {"quiet": [], **{m: [] for m in modes}}
            windows: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
            per_round = max(moves // ((1 + len(modes)) * rounds), 4)
            try:
                async with GraphQLClient(server.url, token) as trader:
                    await measure(trader, account, 8)  # warm-up
                    for _ in range(rounds):
                        latencies["quiet"] += await measure(trader, account, per_round)
                        for mode, (proc, _) in loads.items():
                            proc.send_signal(signal.SIGCONT)
                            await asyncio.sleep(SETTLE_S)
                            began = time.monotonic()
                            latencies[mode] += await measure(trader, account, per_round)
                            windows[mode].append((began, time.monotonic()))
                            proc.send_signal(signal.SIGSTOP)
            finally:
                for proc, _ in loads.values():
                    proc.send_signal(signal.SIGCONT)
                    proc.terminate()
                    proc.wait(timeout=30)
            pushed = {
                m: json.loads(out.read_text()) for m, (_, out) in zip(modes, loads.values(), strict=True)
            }
        finally:
            server.stop()
    quiet = latencies["quiet"]
    result: dict[str, object] = {
        "bench": "priorities",
        "engine": "sqlite",
        "rounds": rounds,
        "accounts_pushing_every_s": accounts,
        "load_process_nice": nice,
        "moves_quiet": len(quiet),
        "status_p50_ms_quiet": round(statistics.median(quiet), 2),
        "status_p99_ms_quiet": round(p99(quiet), 2),
    }
    for mode in modes:
        name = "loaded" if mode == "figures" else "reads"
        answered = [(at, took) for at, took in pushed[mode]["answered"] if _inside(at, windows[mode])]
        took_ms = [took * 1000 for _, took in answered] or [0.0]
        loaded = latencies[mode]
        result |= {
            f"moves_{name}": len(loaded),
            f"{'pushes' if mode == 'figures' else 'reads'}_per_s_while_{name}": round(
                len(answered) / max(sum(e - b for b, e in windows[mode]), 1e-9), 1
            ),
            f"{mode}_answer_p50_ms": round(statistics.median(took_ms), 1),
            f"{mode}_failed": pushed[mode]["failed"],
            f"status_p50_ms_{name}": round(statistics.median(loaded), 2),
            f"status_p99_ms_{name}": round(p99(loaded), 2),
            f"p99_ratio{'' if mode == 'figures' else '_reads'}": round(p99(loaded) / p99(quiet), 3),
        }
    result |= {
        "goal_p99_ratio": 1.2,
        "load_average_1m": round(os.getloadavg()[0], 2),  # the machine is shared: say how busy it was
        "cpus": os.cpu_count(),
    }
    return result


def _inside(moment: float, windows: list[tuple[float, float]]) -> bool:
    return any(began <= moment <= ended for began, ended in windows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--moves", type=int, default=400, help="status changes measured (half quiet)")
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10, help="quiet/loaded rounds, alternating")
    parser.add_argument(
        "--control", action="store_true",
        help="also rounds with the same rate of account reads (no write): what the requests alone cost",
    )  # fmt: skip
    parser.add_argument("--load-nice", type=int, default=10, help="the load processes' niceness (0: none)")
    parser.add_argument("--reads", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--push", type=Path, help=argparse.SUPPRESS)  # the load generator's own process
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.push is not None:
        owners = [(str(t), str(a)) for t, a in json.loads(args.push.read_text())]
        asyncio.run(push_forever(args.url, owners, args.out, args.reads))
    else:
        print(
            json.dumps(
                asyncio.run(main(args.moves, args.accounts, args.rounds, args.control, args.load_nice))
            )
        )
