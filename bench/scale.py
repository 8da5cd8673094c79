"""Scale run: 100 users, each with its agent and a paper EA, 10,000 OPEN positions with trails,
1,000 ticks/s across symbols, and cross-user hedges fired throughout; on SQLite and on
PostgreSQL + Redis (throwaway servers from `hedge.localservices`).

Layout: `hedge server` process(es) (PostgreSQL: 2, agents split between them); the agents in
`--agent-procs` host processes (each agent its own server link, token, lease, EA port and state
folder: `scale_parts.run_agent_host`); the paper EAs (the real terminal simulation) in this process,
so one clock stamps both ends of a hedge. Background positions (half FROM_ENTRY 100 pips, half
TRAILING_STOP 50 pips, USDJPY and EURUSD) are opened through the system (ENTRY -> agent -> EA ->
OPEN) before the clock starts; the EAs jitter their prices within 3 pips, so those trails are
watched on every tick but never fire.

A hedge sample: user j plans a hedge ENTRY (GBPUSD SELL), user i a GBPUSD BUY with a 1-pip trail
whose triggerActionIds name it; once i's agent holds it OPEN, EA i lifts GBPUSD 3 pips and the
bench times PRICE at EA i -> OPEN at EA j (the hedge path of bench/hedge_latency.py, now under
load). Several such pipelines run at once on disjoint users at `--trigger-rate` per second.

Per tick-rate step (`--rates 1000,2000,4000` steps it up, to see what saturates first) one JSON
line: ticks/s measured, hedge p50/p99 and their ratio to the floor measured in the same run (the
bare-relay floor of bench/hedge_latency.py; goal p99 <= 10x), CPU (% of one core) and resident
memory per role sampled every second, and lost/doubled hedges (goal 0: every triggered hedge
opened exactly once at its terminal). A hedge its terminal does not hold at the end is told apart
by the server's rows (`missing_hedge`): not triggered, failed loudly, still pending, or lost. A
last line checks the whole books: every position the server has OPEN is held at its terminal, and
the other way round.

Run: `uv run python bench/scale.py [--users 100] [--positions 10000] [--seconds 60]
[--rates 1000] [--engines sqlite,postgres]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.* when run as a script

from bench.hedge_latency import CREATE, UPDATE_ACTION, UPDATE_POSITION, Watch, _ok, until
from bench.hedge_latency_floor import run_floor
from bench.hedge_latency_hops import hop_report, traced
from bench.report import percentile
from bench.scale_books import Hedge, call, missing_hedge
from bench.scale_parts import (
    BALANCE,
    JITTERED,
    TRIGGER,
    Sampler,
    ScaleEA,
    busy_pct,
    machine_cpu,
    plan,
    run_agent_host,
    saturation,
    seed_store,
)

from hedge.client.graphql import GraphQLClient
from hedge.ea.paper_config import PaperConfig
from hedge.localservices import free_port, free_ports

SERVER_NAME = "Scale-Server"
THIS_FILE = os.path.abspath(__file__)
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } token } }"
CREATE_ACCOUNT = "mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }"
OPEN_POSITIONS = "{ listPositions(status: OPEN) { id accountId } }"
P99_GOAL = 10


@dataclass
class Party:
    index: int
    client: GraphQLClient
    account_id: str
    ea: ScaleEA


@dataclass
class Run:
    """One engine's system and what the run saw."""

    args: argparse.Namespace
    workdir: Path
    procs: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)  # role -> processes
    parties: list[Party] = field(default_factory=list)
    admin: GraphQLClient | None = None
    watch: Watch = field(default_factory=Watch)
    seeded: int = 0
    seed_rate: float = 0.0  # background positions written per second
    hedges: list[Hedge] = field(default_factory=list)
    late: int = 0  # OPENs not at their EA within the wait (checked again at the end)
    late_ids: set[str] = field(default_factory=set)  # their positions B
    stalled: int = 0  # trigger positions not OPEN within a minute (no PRICE sent for them)

    def start(self, role: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self.workdir / f"{role}{len(self.procs.get(role, []))}.log").open("wb")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env})
        self.procs.setdefault(role, []).append(proc)

    def stop(self) -> None:
        for role in ("agents", "server"):
            for proc in self.procs.get(role, []):
                proc.terminate()
            for proc in self.procs.get(role, []):
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


async def gather_limited(limit: int, jobs: list[Any]) -> list[Any]:
    """Await the coroutines `jobs`, at most `limit` at a time."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs))


@contextlib.asynccontextmanager
async def system(run: Run, database_url: str, redis_url: str | None, servers: int) -> AsyncIterator[None]:
    args = run.args
    admin_token = "hs_" + secrets.token_urlsafe(24)
    env = {
        "HEDGE_ADMIN_TOKEN": admin_token,
        "HEDGE_MUTATION_RATE_PER_S": "1000000",
        "HEDGE_MUTATION_BURST": "1000000",
        **({"HEDGE_TRACE_HOPS": "1", "HEDGE_TRACE_HOPS_FILE": args.hops} if args.hops else {}),
        **({"HEDGE_REDIS_URL": redis_url} if redis_url else {}),
    }
    urls = []
    tasks: list[asyncio.Task[None]] = []
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(servers):  # one after the other: the first makes the fresh store
                port = free_port()
                urls.append(f"http://127.0.0.1:{port}")
                run.start(
                    "server",
                    [sys.executable, "-m", "hedge.cli", "server", "--port", str(port), "--database-url",
                     database_url, "--log-level", args.log_level],
                    env,
                )  # fmt: skip
                await until(lambda: _ok(http, f"{urls[-1]}/healthz", "ok"), "a server", 60)
            run.admin = GraphQLClient(urls[0], admin_token)
            accounts = await gather_limited(8, [_user(run.admin, n) for n in range(args.users)])
            books: dict[str, Path] = {}
            if args.seed_via == "store":  # before the agents start: they load them as at any start
                started = time.monotonic()
                pairs = [(user_id, account_id) for _, user_id, account_id in accounts]
                books = await asyncio.to_thread(seed_store, database_url, pairs, args.positions, run.workdir)
                run.seeded, run.seed_rate = args.positions, args.positions / (time.monotonic() - started)
            specs: list[list[dict[str, Any]]] = [[] for _ in range(args.agent_procs)]
            configs = []
            ea_ports = free_ports(len(accounts))  # distinct: a shared port meets another agent's token
            for n, (token, _, account_id) in enumerate(accounts):
                ea_port, ea_token = ea_ports[n], secrets.token_urlsafe(12)
                specs[n % args.agent_procs].append(
                    {"server": urls[n % servers], "token": token, "eaToken": ea_token, "eaPort": ea_port,
                     "stateDir": str(run.workdir / f"agent{n}")}
                )  # fmt: skip
                configs.append((n, token, account_id, ea_port, ea_token))
            for k, spec in enumerate(specs):
                path = run.workdir / f"agents{k}.json"
                path.write_text(json.dumps(spec))
                argv = [sys.executable, THIS_FILE, "--agent-host", str(path), "--log-level", args.log_level]
                trace = {"HEDGE_TRACE_HOPS": "1", "HEDGE_TRACE_HOPS_FILE": args.hops} if args.hops else {}
                run.start("agents", argv, trace)
            for n, token, account_id, ea_port, ea_token in configs:
                health = f"http://127.0.0.1:{ea_port}/healthz"
                await until(functools.partial(_ok, http, health, "serverConnected"), f"agent {n}", 120)
                config = PaperConfig(
                    account_number=_number(n), server_name=SERVER_NAME, ea_token=ea_token,
                    agent_url=f"ws://127.0.0.1:{ea_port}", symbols=(*JITTERED, TRIGGER),
                    tick_interval_ms=tick_interval_ms(args.rates[0], args.users), balance=BALANCE,
                    leverage=500, seed=n, state_file=books.get(account_id),
                )  # fmt: skip
                ea = ScaleEA(config, seed=n)
                tasks.append(asyncio.create_task(ea.run(), name=f"paper-ea-{n}"))
                run.parties.append(Party(n, GraphQLClient(urls[n % servers], token), account_id, ea))
            for party in run.parties:
                await asyncio.wait_for(party.ea.online.wait(), 60)
            yield
    finally:
        for party in run.parties:
            party.ea.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for party in run.parties:
            await party.client.close()
        if run.admin is not None:
            await run.admin.close()
        run.stop()


def _number(n: int) -> str:
    return f"7{n:06d}"


async def _user(admin: GraphQLClient, n: int) -> tuple[str, str, str]:
    user = (
        await admin.execute(
            CREATE_USER, {"i": {"email": f"scale{n}@bench.local", "name": f"Scale {n}", "role": "CLIENT"}}
        )
    )["createUser"]
    account = {
        "userId": user["user"]["id"], "brokerType": "MT5", "accountNumber": _number(n),
        "serverName": SERVER_NAME, "displayName": f"scale {n}", "leverage": 500,
    }  # fmt: skip
    account_id = (await admin.execute(CREATE_ACCOUNT, {"i": account}))["createAccount"]["id"]
    return str(user["token"]), str(user["user"]["id"]), str(account_id)


def tick_interval_ms(rate: int, users: int) -> int:
    """Each EA streams one PRICE per jittered symbol per tick: the interval that makes `rate` in all."""
    return max(1, round(1000 * len(JITTERED) * users / rate))


async def entry(
    party: Party, symbol: str, side: str, trail: tuple[float, str] | None = None
) -> dict[str, Any]:
    fields: dict[str, Any] = {"type": "ENTRY", "accountId": party.account_id, "symbol": symbol, "side": side,
                              "volume": 0.01, "clientRequestId": secrets.token_hex(8)}  # fmt: skip
    if trail is not None:
        fields["trailWidth"], fields["trailMode"] = trail
    created: dict[str, Any] = (await call(party.client, CREATE, {"i": fields}))["createAction"]
    return created


async def execute(party: Party, action_id: str) -> None:
    await call(party.client, UPDATE_ACTION, {"i": {"id": action_id, "status": "EXECUTING"}})


async def seed(run: Run) -> float:
    """Open the background positions through the system; the rate (positions/s) it took."""
    parties, total = run.parties, int(run.args.positions)
    started = time.monotonic()

    async def one(k: int) -> None:
        party = parties[k % len(parties)]
        symbol, side, width, mode = plan(k // len(parties))  # the user's m-th position
        made = await entry(party, symbol, side, (width, mode))
        executed = run.watch.reached(made["action"]["id"], "EXECUTED")
        await execute(party, made["action"]["id"])
        await asyncio.wait_for(executed, 600)

    await gather_limited(32, [one(k) for k in range(total)])
    run.seeded = total
    return total / (time.monotonic() - started)


async def hedge_once(run: Run, i: int, j: int) -> float | None:
    """One hedge: PRICE at EA i -> OPEN at EA j in ms (None: not there within 30 s)."""
    assert run.admin is not None
    one, other = run.parties[i], run.parties[j]
    hedge = await entry(other, TRIGGER, "SELL")
    trigger = await entry(one, TRIGGER, "BUY", (1.0, "FROM_ENTRY"))
    b_id = hedge["position"]["id"]
    link = {"id": trigger["position"]["id"], "triggerActionIds": [hedge["action"]["id"]]}
    await call(run.admin, UPDATE_POSITION, {"i": link})
    executed = run.watch.reached(trigger["action"]["id"], "EXECUTED")
    await execute(one, trigger["action"]["id"])
    try:
        await asyncio.wait_for(executed, 60)  # i's agent holds it OPEN and watches its trail
    except TimeoutError:  # e.g. its agent stood by: its lease expired on a starved machine
        run.stalled += 1
        return None
    arrival = other.ea.expect_open(b_id)
    online = one.ea.online.is_set()
    sent = one.ea.bump()
    run.hedges.append(Hedge(i, j, trigger["position"]["id"], hedge["action"]["id"], b_id, online))
    try:
        arrived: int = await asyncio.wait_for(arrival, 30)
    except TimeoutError:
        run.late += 1
        run.late_ids.add(b_id)
        return None
    if run.args.hops:
        traced.append((sent, arrived, trigger["position"]["id"], hedge["action"]["id"], b_id))
    return (arrived - sent) / 1e6


async def measure(run: Run, rate: int, floor: list[float], sampler: Sampler) -> dict[str, Any]:
    args = run.args
    for party in run.parties:
        party.ea.config = replace(party.ea.config, tick_interval_ms=tick_interval_ms(rate, args.users))
        party.ea.ticking = True
    await asyncio.sleep(1.0)  # the new interval in effect everywhere
    samples: list[float] = []
    hedges_before, late_before, stalled_before = len(run.hedges), run.late, run.stalled
    pipelines = max(1, min(4, args.users // 2))
    period = pipelines / args.trigger_rate
    prices_before = sum(p.ea.prices_sent for p in run.parties)
    machine_before = machine_cpu()
    sampler.cpu.clear()
    sampler.rss.clear()
    started = time.monotonic()
    end = started + args.seconds
    sampling = asyncio.create_task(sampler.run())

    async def pipeline(w: int) -> None:
        users = [n for n in range(args.users) if n % pipelines == w]
        k = 0
        while time.monotonic() < end:
            began = time.monotonic()
            i = users[k % len(users)]
            latency = await hedge_once(run, i, (i + 1) % args.users)
            if latency is not None:
                samples.append(latency)
            k += 1
            await asyncio.sleep(max(0.0, period - (time.monotonic() - began)))

    try:
        await asyncio.gather(*(pipeline(w) for w in range(pipelines)))
    finally:
        sampling.cancel()
        sampler.sample()
    elapsed = time.monotonic() - started
    ticks = (sum(p.ea.prices_sent for p in run.parties) - prices_before) / elapsed
    line: dict[str, Any] = {
        "bench": "scale",
        "engine": args.engine_now,
        "users": args.users,
        "positions_open": run.seeded + 2 * len(run.hedges),
        "target_ticks_per_s": rate,
        "ticks_per_s": round(ticks, 1),
        "seconds": round(elapsed, 1),
        "hedges": len(run.hedges) - hedges_before,
        "late": run.late - late_before,
        "trigger_positions_stalled": run.stalled - stalled_before,
    }
    if samples:
        p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
        f50, f99 = percentile(floor, 0.5), percentile(floor, 0.99)
        line.update(
            hedge_p50_ms=round(p50, 2), hedge_p99_ms=round(p99, 2), hedge_max_ms=round(max(samples), 2),
            floor_p50_ms=round(f50, 3), floor_p99_ms=round(f99, 3), p50_vs_floor=round(p50 / f50, 1),
            p99_vs_floor=round(p99 / f99, 1), goal={"p99_vs_floor": P99_GOAL},
        )  # fmt: skip
    if args.hops:
        line["hops"] = hop_report(args.hops)
        traced.clear()
    line["processes"] = sampler.report()
    line["machine_cpu_busy_pct"] = busy_pct(machine_before, machine_cpu())  # of all cores
    line["loadavg_1m"] = round(os.getloadavg()[0], 2)
    line["cpus"] = os.cpu_count()
    line["saturates_first"] = saturation(line, P99_GOAL)
    return line


async def books(run: Run) -> dict[str, Any]:
    """Every triggered hedge opened exactly once; the server's OPEN positions = the terminals'."""
    assert run.admin is not None
    for _ in range(100):  # hedges late in the run: give them up to 10 s more
        if all(run.parties[h.j].ea.held_for(h.b_id) for h in run.hedges):
            break
        await asyncio.sleep(0.1)
    held = [run.parties[h.j].ea.held_for(h.b_id) for h in run.hedges]
    at_terminals = sum(len(p.ea.terminal.books.held) for p in run.parties)
    for _ in range(100):  # the agents record the last fills at the server: up to 10 s more
        server_open = await call(run.admin, OPEN_POSITIONS, {})
        if len(server_open["listPositions"]) == at_terminals:
            break
        await asyncio.sleep(0.1)
    repeated = sum(max(0, run.parties[h.j].ea.opens.get(h.b_id, 0) - 1) for h in run.hedges)
    missing = [await missing_hedge(run.admin, h) for h, n in zip(run.hedges, held, strict=True) if n == 0]
    kinds = [m["kind"] for m in missing]
    return {
        "bench": "scale",
        "engine": run.args.engine_now,
        "check": "books",
        "hedges": len(run.hedges),
        "late_then_held": sum(
            1 for h, n in zip(run.hedges, held, strict=True) if n and h.b_id in run.late_ids
        ),
        "not_held": len(missing),
        "not_triggered": kinds.count("not_triggered"),
        "failed_loudly": kinds.count("failed_loudly"),
        "pending": kinds.count("pending"),
        "lost": kinds.count("lost"),
        "missing": missing,
        "doubled": sum(1 for h in held if h > 1),
        "open_frames_repeated": repeated,
        "server_open": len(server_open["listPositions"]),
        "held_at_terminals": at_terminals,
        "expected_open": run.seeded + 2 * len(run.hedges),
        "trigger_positions_stalled": run.stalled,  # each may be OPEN by now too (not in expected_open)
    }


async def run_engine(args: argparse.Namespace, floor: list[float], database_url: str,
                     redis_url: str | None, servers: int) -> None:  # fmt: skip
    run = Run(args, Path(tempfile.mkdtemp(prefix=f"hedge-scale-{args.engine_now}-")))
    async with system(run, database_url, redis_url, servers):
        assert run.admin is not None
        run.watch.ready = asyncio.get_running_loop().create_future()
        watcher = asyncio.create_task(run.watch.run(run.admin))
        try:
            await run.watch.ready
            if args.seed_via == "system":
                run.seed_rate = await seed(run)
            how = (
                "through the store and the terminals' books" if args.seed_via == "store" else "by the system"
            )
            setup = {"bench": "scale", "engine": args.engine_now, "setup": f"opened {how}, no ticks",
                     "positions": run.seeded, "per_s": round(run.seed_rate, 1), "servers": servers,
                     "agent_processes": args.agent_procs, "workdir": str(run.workdir)}  # fmt: skip
            print(json.dumps(setup), flush=True)
            roles = {
                "server": [p.pid for p in run.procs["server"]],
                "agents": [p.pid for p in run.procs["agents"]],
                "bench_eas": [os.getpid()],
            }
            sampler = Sampler(roles)
            for step in args.rates:
                print(json.dumps(await measure(run, step, floor, sampler)), flush=True)
            print(json.dumps(await books(run)), flush=True)
        finally:
            watcher.cancel()


async def main_async(args: argparse.Namespace) -> None:
    floor = await run_floor(args.floor_triggers)
    for engine in args.engines.split(","):
        args.engine_now = engine
        if engine == "sqlite":
            db = Path(tempfile.mkdtemp(prefix="hedge-scale-db-")) / "hedge.db"
            await run_engine(args, floor, f"sqlite:///{db}", None, 1)
        elif engine == "postgres":
            from hedge.localservices import ServiceUnavailable, start_postgres, start_redis

            try:
                pg, redis = start_postgres(fsync=True), start_redis()
            except ServiceUnavailable as exc:
                print(json.dumps({"bench": "scale", "engine": engine, "skipped": str(exc)}), flush=True)
                continue
            try:
                await run_engine(args, floor, pg.create_database("scale"), redis.url, args.pg_servers)
            finally:
                redis.stop()
                pg.stop()
        else:
            raise SystemExit(f"unknown engine {engine!r}: sqlite or postgres")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--positions", type=int, default=10_000, help="background OPEN positions")
    parser.add_argument("--seconds", type=float, default=60.0, help="per tick-rate step")
    parser.add_argument("--rates", default="1000", help="ticks/s in total, comma-separated steps")
    parser.add_argument("--trigger-rate", type=float, default=2.0, help="hedges fired per second")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--agent-procs", type=int, default=2, help="processes the agents share")
    parser.add_argument("--pg-servers", type=int, default=2, help="server processes on PostgreSQL")
    parser.add_argument("--floor-triggers", type=int, default=200)
    parser.add_argument("--log-level", default="warning", help="of the server and agent processes")
    parser.add_argument(
        "--seed-via",
        choices=["store", "system"],
        default="store",
        help="write the background positions through the store (fast) or open each through agent and EA",
    )
    parser.add_argument(
        "--hops", action="store_true", help="stamp each hop (HEDGE_TRACE_HOPS), p50/p99 per hop"
    )
    parser.add_argument("--agent-host", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.agent_host is not None:
        run_agent_host(args.agent_host, args.log_level)
        return
    if args.users < 2:
        parser.error("--users must be at least 2 (a hedge goes to another user)")
    args.rates = [int(r) for r in args.rates.split(",")]
    args.hops = str(Path(tempfile.mkdtemp(prefix="hedge-scale-hops-")) / "hops.log") if args.hops else ""

    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
