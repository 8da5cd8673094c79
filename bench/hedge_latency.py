"""Hedge latency: from the PRICE frame that meets position A's trail at EA 1 to the OPEN frame of the
hedge (position B, another user) arriving at EA 2, over loopback.

The server and the two agents run as their own processes (`hedge server`, `hedge agent`), as in
production; the two EAs are scripted WebSocket clients in this process, so one clock stamps both
ends. Per trigger: user 2 plans a hedge ENTRY, user 1 a position A with a 1-pip trail whose
triggerActionIds (set by the admin) name the hedge; A is opened through EA 1; then EA 1 sends the
PRICE that meets the trail and EA 2 stamps the OPEN for B.

The floor, measured in the same run: the same 6 WebSocket hops (EA 1 -> agent 1 -> server ->
agent 2 -> server -> agent 2 -> EA 2) and 2 SQLite commits (the trigger; agent 2's OPENING) through
bare relays of the same libraries (`websockets`, `sqlite3`), one process per relay as in the real
path, doing nothing else: what any design with this topology must spend.

On PostgreSQL (+ Redis) two server processes run (`--pg-servers`): agent 1 on the first, agent 2
on the second, so the trigger's change reaches agent 2 through the feed (LISTEN/NOTIFY), as in a
deployment with several servers.

Run: `uv run python bench/hedge_latency.py [--triggers 200] [--engines sqlite,postgres]`.
Prints one JSON line per engine: p50/p99/max in ms, the count, the floor and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.* when run as a script

from bench.hedge_latency_ea import MEETS, NEUTRAL, SERVER_NAME, ScriptedEA
from bench.hedge_latency_floor import relay_agent, relay_server, run_floor
from bench.hedge_latency_hops import PROCESS_NAMES, hop_report, traced
from bench.report import against_floor, percentile

from hedge.client.graphql import GraphQLClient
from hedge.localservices import free_ports


@dataclass
class Processes:
    workdir: Path
    log_level: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    trace: dict[str, str] = field(default_factory=dict)  # HEDGE_TRACE_HOPS* when --hops

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "hedge.cli", *args, "--log-level", self.log_level],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.trace, **env},
        )
        self.procs.append(proc)
        PROCESS_NAMES[str(proc.pid)] = name

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


async def until(probe: Any, what: str, timeout_s: float = 30.0) -> None:
    """Process start-up only: poll a readiness probe (there is no event to wait on across processes)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(httpx.HTTPError, OSError, KeyError, ValueError):
            if await probe():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Watch:
    """The admin's subscription to action updates: await an action reaching a status."""

    def __init__(self) -> None:
        self.status: dict[str, str] = {}
        self.waiters: dict[tuple[str, str], asyncio.Future[None]] = {}
        self.seen_at: dict[tuple[str, str], int] = {}  # monotonic_ns when the admin saw it

    async def run(self, admin: GraphQLClient) -> None:
        async with admin.connection() as conn:
            await conn.start("subscription { onUpdateAction { id status } }")
            self.ready.set_result(None)
            while True:
                message = await conn.next_message()
                if message.get("type") != "next":
                    continue
                row = message["payload"]["data"]["onUpdateAction"]
                self.status[row["id"]] = row["status"]
                self.seen_at[(row["id"], row["status"])] = time.monotonic_ns()
                waiter = self.waiters.pop((row["id"], row["status"]), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

    def reached(self, action_id: str, status: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.status.get(action_id) == status:
            future.set_result(None)
        else:
            self.waiters[(action_id, status)] = future
        return future

    ready: asyncio.Future[None]


@contextlib.asynccontextmanager
async def system(
    database_url: str, log_level: str, servers: int = 1, redis_url: str | None = None
) -> AsyncIterator[tuple[GraphQLClient, list[Any]]]:
    """Server + two agents (processes) + two scripted EAs; yields (admin, [(client, account, ea)] * 2)."""
    workdir = Path(tempfile.mkdtemp(prefix="hedge-latency-"))
    procs = Processes(workdir, log_level)
    if HOPS_FILE:
        procs.trace = {"HEDGE_TRACE_HOPS": "1", "HEDGE_TRACE_HOPS_FILE": HOPS_FILE[0]}
    admin_token = "hs_" + secrets.token_urlsafe(24)
    # distinct, chosen at once (a port closed right after it was chosen can come back from the next
    # bind): the servers' (agent 1 on the first, agent 2 on the last), then the two agents' EA ports
    *ports, ea_port1, ea_port2 = free_ports(servers + 2)
    url = f"http://127.0.0.1:{ports[0]}"
    server_env = {
        "HEDGE_ADMIN_TOKEN": admin_token,
        "HEDGE_MUTATION_RATE_PER_S": "100000",
        "HEDGE_MUTATION_BURST": "100000",
        **({"HEDGE_REDIS_URL": redis_url} if redis_url else {}),
    }
    eas: list[ScriptedEA] = []
    clients: list[GraphQLClient] = []
    try:
        async with httpx.AsyncClient() as http:
            for port in ports:  # one after the other: the first makes the fresh store
                procs.start(f"server{port}", ["server", "--port", str(port), "--database-url", database_url],
                            server_env)  # fmt: skip
                await until(lambda: _ok(http, f"http://127.0.0.1:{port}/healthz", "ok"), "a server")  # noqa: B023
            admin = GraphQLClient(url, admin_token)
            clients.append(admin)
            parties = []
            for index in (1, 2):
                user = (
                    await admin.execute(
                        "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } token } }",
                        {
                            "i": {
                                "email": f"bench{index}@bench.local",
                                "name": f"Bench {index}",
                                "role": "CLIENT",
                            }
                        },
                    )
                )["createUser"]
                number = f"{index}0000{index}"
                account = (
                    await admin.execute(
                        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }",
                        {
                            "i": {
                                "userId": user["user"]["id"],
                                "brokerType": "MT5",
                                "accountNumber": number,
                                "serverName": SERVER_NAME,
                                "displayName": f"bench {index}",
                                "currency": "USD",
                                "leverage": 100,
                            }
                        },
                    )
                )["createAccount"]["id"]
                ea_port, ea_token = (ea_port1, ea_port2)[index - 1], secrets.token_urlsafe(12)
                procs.start(
                    f"agent{index}",
                    [
                        "agent",
                        "--server",
                        f"http://127.0.0.1:{ports[index - 1] if index == 1 else ports[-1]}",
                        f"--token={user['token']}",
                        f"--ea-token={ea_token}",
                        "--ea-port",
                        str(ea_port),
                        "--state-dir",
                        str(workdir / f"agent{index}"),
                    ],
                    {},
                )
                client = GraphQLClient(url, user["token"])
                clients.append(client)
                ea = ScriptedEA(f"ws://127.0.0.1:{ea_port}", ea_token, number)
                parties.append((client, account, ea, f"http://127.0.0.1:{ea_port}/healthz"))
            for _, _, ea, health in parties:
                await until(functools.partial(_ok, http, health, "serverConnected"), "an agent")
                await ea.start()
                eas.append(ea)
            for client, account, _, _ in parties:  # as on a real terminal: no MARGIN_LOW on the path
                await until(functools.partial(_reported, client, account), "the EA's SYMBOLS and ACCOUNT")
            yield admin, [(client, account, ea) for client, account, ea, _ in parties]
    finally:
        for ea in eas:
            await ea.close()
        for client in clients:
            await client.close()
        procs.stop()


async def _ok(http: httpx.AsyncClient, url: str, key: str) -> bool:
    return bool((await http.get(url, timeout=1.0)).json()[key])


REPORTED = "query($id: ID!) { getAccount(id: $id) { equity symbolSpecs { symbol source marginPerLot } } }"


async def _reported(client: GraphQLClient, account_id: str) -> bool:
    """The agent has recorded the EA's ACCOUNT snapshot and its SYMBOLS figures for USDJPY."""
    account = (await client.execute(REPORTED, {"id": account_id}))["getAccount"]
    specs = {s["symbol"]: s for s in account["symbolSpecs"]}
    usdjpy = specs.get("USDJPY", {})
    terminal = usdjpy.get("source") == "TERMINAL" and usdjpy["marginPerLot"] is not None
    return account["equity"] is not None and terminal


async def open_alerts(admin: GraphQLClient) -> dict[str, int]:
    """Open alerts by kind (the bench checks that the path raised none, MARGIN_LOW above all)."""
    found = await admin.execute("query { listAlerts(open: true) { kind count } }")
    kinds: dict[str, int] = {}
    for alert in found["listAlerts"]:
        kinds[alert["kind"]] = kinds.get(alert["kind"], 0) + alert["count"]
    return kinds


CREATE = "mutation($i: CreateActionInput!) { createAction(input: $i) { action { id } position { id } } }"
UPDATE_POSITION = "mutation($i: UpdatePositionInput!) { updatePosition(input: $i) { id } }"
UPDATE_ACTION = "mutation($i: UpdateActionInput!) { updateAction(input: $i) { id } }"


async def run_engine(
    database_url: str, triggers: int, log_level: str, servers: int = 1, redis_url: str | None = None
) -> list[float]:
    samples: list[float] = []
    splits.clear()
    traced.clear()
    async with system(database_url, log_level, servers, redis_url) as (admin, parties):
        (user1, account1, ea1), (user2, account2, ea2) = parties
        watch = Watch()
        watch.ready = asyncio.get_running_loop().create_future()
        watcher = asyncio.create_task(watch.run(admin))
        await watch.ready
        cpu_before = process_cpu_ms()
        try:
            for _ in range(triggers):
                hedge = (
                    await user2.execute(
                        CREATE,
                        {
                            "i": {
                                "type": "ENTRY",
                                "accountId": account2,
                                "symbol": "USDJPY",
                                "side": "SELL",
                                "volume": 0.1,
                            }
                        },
                    )
                )["createAction"]
                entry = (
                    await user1.execute(
                        CREATE,
                        {
                            "i": {
                                "type": "ENTRY",
                                "accountId": account1,
                                "symbol": "USDJPY",
                                "side": "BUY",
                                "volume": 0.1,
                                "trailWidth": 1,
                            }
                        },
                    )
                )["createAction"]
                a_id, b_id = entry["position"]["id"], hedge["position"]["id"]
                link = {"id": a_id, "triggerActionIds": [hedge["action"]["id"]]}
                await admin.execute(UPDATE_POSITION, {"i": link})
                await ea1.price(NEUTRAL)  # so A does not fire as soon as it opens
                executed = watch.reached(entry["action"]["id"], "EXECUTED")
                execute = {"id": entry["action"]["id"], "status": "EXECUTING"}
                await user1.execute(UPDATE_ACTION, {"i": execute})
                await asyncio.wait_for(executed, 10)  # agent 1 holds A as OPEN and watches its trail
                hedged = watch.reached(hedge["action"]["id"], "EXECUTED")
                arrival = ea2.expect_open(b_id)
                sent = await ea1.price(MEETS)
                arrived = await asyncio.wait_for(arrival, 10)
                samples.append((arrived - sent) / 1e6)
                traced.append((sent, arrived, a_id, hedge["action"]["id"], b_id))
                await asyncio.wait_for(hedged, 10)
                started = watch.seen_at.get((hedge["action"]["id"], "EXECUTING"))
                if started is not None:
                    splits.append((started - sent) / 1e6)
        finally:
            watcher.cancel()
        cpu_after = process_cpu_ms()
        cpu_per_trigger.clear()
        cpu_per_trigger.update(
            {name: round((ms - cpu_before.get(name, 0.0)) / triggers, 3) for name, ms in cpu_after.items()}
        )
        alerts_raised.clear()
        alerts_raised.update(await open_alerts(admin))
    return samples


def process_cpu_ms() -> dict[str, float]:
    """CPU time (user + system, ms) each server and agent process has used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for pid, name in PROCESS_NAMES.items():
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[name] = (int(fields[11]) + int(fields[12])) * 1000 / ticks
    return used


# CPU ms per trigger of each process over the trigger loop (the setup of each trigger included:
# two createAction, the admin's link, A's OPENING/OPEN/EXECUTED): compare runs by it, as it moves
# far less with the machine's load than the latencies do
cpu_per_trigger: dict[str, float] = {}
alerts_raised: dict[str, int] = {}  # open alerts by kind (times raised) at the end of the run: none expected


# PRICE at EA 1 -> the hedge action's EXECUTING seen by an admin subscriber (in this process): the
# part of the path through agent 1 and the server; the rest is agent 2 and the OPEN to EA 2
splits: list[float] = []


floor_samples: list[float] = []
HOPS_FILE: list[str] = []  # the file the processes stamp into, when --hops
GOALS = {"sqlite": {"p50_vs_floor": 2, "p99_vs_floor": 3}, "postgres": {"p50_vs_floor": 3, "p99_vs_floor": 4}}


def report(engine: str, samples: list[float], log_level: str) -> dict[str, Any]:
    return {
        "bench": "hedge_latency",
        "engine": engine,
        "count": len(samples),
        **against_floor(samples, floor_samples),
        "max_ms": round(max(samples), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "price_to_action_executing_seen_p50_ms": round(percentile(splits, 0.50), 3) if splits else None,
        "goal": {
            "p50_vs_floor": 2 if engine == "sqlite" else 3,
            "p99_vs_floor": 3 if engine == "sqlite" else 4,
        },
        "processes": "server + 2 agents as processes, 2 scripted EAs in the bench",
        "log_level": log_level,
        "cpus": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "cpu_ms_per_trigger": dict(cpu_per_trigger),
        "alerts_raised": dict(alerts_raised),
    }


async def main_async(args: argparse.Namespace) -> None:
    floor_samples.extend(await run_floor(args.triggers))
    for engine in args.engines.split(","):
        if engine == "sqlite":
            url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='hedge-latency-db-')) / 'hedge.db'}"
            samples = await run_engine(url, args.triggers, args.log_level)
        elif engine == "postgres":
            from hedge.localservices import ServiceUnavailable, start_postgres, start_redis

            try:
                pg, redis = start_postgres(fsync=True), start_redis()
            except ServiceUnavailable as exc:
                skipped = {"bench": "hedge_latency", "engine": engine, "skipped": str(exc)}
                print(json.dumps(skipped), flush=True)
                continue
            try:
                samples = await run_engine(
                    pg.create_database("latency"), args.triggers, args.log_level, args.pg_servers, redis.url
                )
            finally:
                redis.stop()
                pg.stop()
        else:
            raise SystemExit(f"unknown engine {engine!r}: sqlite or postgres")
        line = report(engine, samples, args.log_level)
        line["servers"] = args.pg_servers if engine == "postgres" else 1
        if HOPS_FILE:
            line["hops"] = hop_report(HOPS_FILE[0])
            if args.keep_hops:
                os.rename(HOPS_FILE[0], kept := f"{args.keep_hops}.{engine}")
                line["hops_file"] = kept
            else:
                os.unlink(HOPS_FILE[0])
        print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--triggers", type=int, default=200)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--log-level", default="warning", help="of the server and agent processes")
    parser.add_argument(
        "--pg-servers",
        type=int,
        default=2,
        help="server processes on PostgreSQL + Redis (agent 1 on the "
        "first, agent 2 on the last: the trigger's event crosses processes through the feed)",
    )
    parser.add_argument(
        "--hops", action="store_true", help="stamp each hop (HEDGE_TRACE_HOPS) and print p50/p99 per hop"
    )
    parser.add_argument("--keep-hops", default="", metavar="PATH",
                        help="with --hops: keep the stamps (and probes) in PATH.<engine>")  # fmt: skip
    parser.add_argument("--floor-relay", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_relay is not None:
        role, port, other = args.floor_relay
        if role == "server":
            asyncio.run(relay_server(int(port), other))
        else:
            asyncio.run(relay_agent(int(port), int(other), role))
        return
    if args.hops:
        HOPS_FILE.append(str(Path(tempfile.mkdtemp(prefix="hedge-hops-")) / "hops.log"))
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
