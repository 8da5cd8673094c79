"""Benchmark of the GraphQL server against a bare Strawberry baseline and a raw floor; prints one
JSON line.

Measures updatePosition mutations/s over HTTP with 1 and 16 concurrent clients, and subscription
fan-out (events/s delivered to 100 graphql-transport-ws subscribers), on SQLite and PostgreSQL.
The baseline is a bare Strawberry app (no store, no auth: a dict and an asyncio broadcast)
serving the same operations over the same transports, with Strawberry's own ParserCache and
ValidationCache extensions: without them plain Strawberry parses and validates the same document
on every request (about half its CPU per mutation, graphql-core's validation visitors), which our
server does once per document text, so the comparison was of caching, not of serving
(`--baseline-uncached` measures that plain default too). The floor is a raw Starlette endpoint on
the same uvicorn that takes the same JSON body and, per request, commits one conditional update
and one feed row through the bare driver (sqlite3 / psycopg): what any server must at least do.
Every server runs in its own process (uvicorn); the clients run here. `--alternate N` adds N
rounds of ours and the floor in turn (1 client, both servers up), whose medians a busy machine
moves less than one measurement of each.

    uv run python bench/api.py [--seconds 3] [--events 200] [--engines sqlite,postgres] [--alternate 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import strawberry
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from hedge.client.graphql import GraphQLClient
from hedge.localservices import free_port, start_postgres

ADMIN = "bench-admin-token-of-24-chars"
UPDATE = "mutation($id: ID!, $m: String) { updatePosition(input: {id: $id, memo: $m}) { id version memo } }"
SUBSCRIBE = "subscription { onUpdatePosition { id version memo } }"
SUBSCRIBERS = 100


# ---------------------------------------------------------------- the baseline server


# module scope: Strawberry resolves the (string) annotations from the module's globals
_rows: dict[str, dict[str, Any]] = {}
_listeners: set[asyncio.Queue[dict[str, Any]]] = set()


@strawberry.type
class Position:
    id: strawberry.ID
    version: int
    memo: str | None


@strawberry.input
class UpdatePositionInput:
    id: strawberry.ID
    memo: str | None = None


@strawberry.type
class Query:
    @strawberry.field
    def get_position(self, id: strawberry.ID) -> Position | None:
        row = _rows.get(str(id))
        return None if row is None else Position(**row)


@strawberry.type
class Mutation:
    @strawberry.mutation
    def update_position(self, input: UpdatePositionInput) -> Position:
        row = _rows.setdefault(str(input.id), {"id": input.id, "version": 0, "memo": None})
        row.update(version=row["version"] + 1, memo=input.memo)
        for queue in _listeners:
            queue.put_nowait(dict(row))
        return Position(**row)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def on_update_position(self) -> AsyncIterator[Position]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        _listeners.add(queue)
        try:
            while True:
                yield Position(**(await queue.get()))
        finally:
            _listeners.discard(queue)


def baseline_app(cached: bool = True) -> GraphQL[None, None]:
    extensions: list[Callable[[], SchemaExtension]] = (
        [lambda: ParserCache(maxsize=100), lambda: ValidationCache(maxsize=100)] if cached else []
    )
    schema = strawberry.Schema(Query, Mutation, Subscription, extensions=extensions)
    return GraphQL(schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))


def run_baseline(port: int, cached: bool = True) -> None:
    import uvicorn

    app = baseline_app(cached)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")


# ---------------------------------------------------------------- the floor server

FLOOR_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS positions (id TEXT PRIMARY KEY, version INTEGER NOT NULL, memo TEXT)",
    "CREATE TABLE IF NOT EXISTS changes (seq {serial} PRIMARY KEY, entity TEXT, entity_id TEXT, "
    "version INTEGER, image TEXT, committed_at TEXT)",
)


def floor_app(database_url: str) -> Any:
    """POST /graphql: parse the JSON body, commit update + feed row, answer like GraphQL would."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    postgres = database_url.startswith("postgresql")
    if postgres:
        import psycopg

        conn: Any = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"))
        mark, serial = "%s", "BIGSERIAL"
    else:
        import sqlite3

        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        mark, serial = "?", "INTEGER"
    for statement in FLOOR_SCHEMA:
        conn.execute(statement.format(serial=serial))
    if postgres:
        conn.commit()
    update = f"UPDATE positions SET memo = {mark}, version = version + 1 WHERE id = {mark} RETURNING version"
    append = (
        f"INSERT INTO changes (entity, entity_id, version, image, committed_at) "
        f"VALUES ('Position', {mark}, {mark}, {mark}, {mark})"
    )
    insert = f"INSERT INTO positions (id, version, memo) VALUES ({mark}, 0, NULL)"

    async def graphql(request: Request) -> Response:
        if request.method == "GET":
            return PlainTextResponse("floor")  # the readiness probe
        body = await request.json()
        variables = body.get("variables") or {}
        position_id, memo = str(variables["id"]), variables.get("m")
        if not postgres:
            conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(update, (memo, position_id)).fetchone()
        if row is None:
            conn.execute(insert, (position_id,))
            row = (0,)
        image = json.dumps({"id": position_id, "version": row[0], "memo": memo})
        conn.execute(append, (position_id, row[0], image, time.strftime("%Y-%m-%dT%H:%M:%SZ")))
        if postgres:
            conn.commit()
        else:
            conn.execute("COMMIT")
        return JSONResponse(
            {"data": {"updatePosition": {"id": position_id, "version": row[0], "memo": memo}}}
        )

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST", "GET"])])


def run_floor(port: int, database_url: str) -> None:
    import uvicorn

    uvicorn.run(floor_app(database_url), host="127.0.0.1", port=port, log_level="warning")


# ---------------------------------------------------------------- servers as processes


WARM_UP = 30  # requests per client before the timing starts
_SERVER_PIDS: dict[str, int] = {}  # the server process behind each URL (its CPU time is read)


def server_cpu_s(url: str) -> float:
    """User + system CPU seconds of the server process at `url` so far (Linux /proc)."""
    with open(f"/proc/{_SERVER_PIDS[url]}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def process(argv: list[str], port: int, env: dict[str, str]) -> AsyncIterator[str]:
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any timing
        argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=sys.stderr
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):  # a separate process offers no readiness event
                if proc.poll() is not None:
                    raise RuntimeError(f"{argv} exited with {proc.returncode}")
                try:
                    await http.get(url + "/graphql", headers={"accept": "text/html"})
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        _SERVER_PIDS[url] = proc.pid
        yield url
    finally:
        _SERVER_PIDS.pop(url, None)
        proc.terminate()
        proc.wait(timeout=10)


def hedge_server(database_url: str) -> tuple[list[str], int, dict[str, str]]:
    port = free_port()
    argv = [sys.executable, "-m", "hedge.cli", "server", "--port", str(port), "--database-url", database_url,
            "--log-level", "warning"]  # fmt: skip
    env = {
        "HEDGE_ADMIN_TOKEN": ADMIN,
        "HEDGE_MUTATION_RATE_PER_S": "1000000",
        "HEDGE_MUTATION_BURST": "1000000",
    }
    return argv, port, env


def floor_server(database_url: str) -> tuple[list[str], int, dict[str, str]]:
    port = free_port()
    argv = [sys.executable, str(Path(__file__).resolve()), "--floor-server", str(port), database_url]
    return argv, port, {}


def baseline_server(cached: bool = True) -> tuple[list[str], int, dict[str, str]]:
    port = free_port()
    argv = [sys.executable, str(Path(__file__).resolve()), "--baseline-server", str(port)]
    return [*argv, *([] if cached else ["--uncached"])], port, {}


# ---------------------------------------------------------------- workloads


async def hedge_positions(url: str, count: int) -> tuple[str, list[str]]:
    """A CLIENT with `count` positions; returns its token and their ids."""
    async with GraphQLClient(url, ADMIN) as admin:
        made = await admin.execute(
            'mutation($e: String!) { createUser(input: {email: $e, name: "Bench", role: CLIENT}) '
            "{ user { id } token } }",
            {"e": f"{uuid.uuid4().hex[:8]}@bench.example.com"},
        )
        user, token = made["createUser"]["user"]["id"], made["createUser"]["token"]
        account = await admin.execute(
            "mutation($u: ID!, $n: String!) { createAccount(input: {userId: $u, brokerType: MT5, "
            'accountNumber: $n, serverName: "Bench", displayName: "bench"}) { id } }',
            {"u": user, "n": uuid.uuid4().hex[:10]},
        )
    ids = []
    async with GraphQLClient(url, token) as client:
        for _ in range(count):
            entry = await client.execute(
                'mutation($a: ID!) { createAction(input: {type: ENTRY, accountId: $a, symbol: "USDJPY", '
                "side: BUY, volume: 0.1}) { position { id } } }",
                {"a": account["createAccount"]["id"]},
            )
            ids.append(entry["createAction"]["position"]["id"])
    return token, ids


async def mutations_per_s(url: str, token: str | None, ids: list[str], seconds: float) -> float:
    return (await mutation_figures(url, token, ids, seconds))[0]


async def mutation_figures(
    url: str, token: str | None, ids: list[str], seconds: float
) -> tuple[float, float]:
    """Mutations per second, and the server's CPU microseconds per mutation (steadier than the
    rate on a shared machine: what the server spent, not how long it waited for a core)."""
    done = warmed = 0
    deadline = 0.0
    all_warm, ready = asyncio.Event(), asyncio.Event()

    async def one(position_id: str) -> None:
        nonlocal done, warmed
        async with GraphQLClient(url, token) as client:
            for n in range(WARM_UP):  # untimed: the server's first requests import and compile
                await client.execute(UPDATE, {"id": position_id, "m": f"w{n}"})
            warmed += 1
            if warmed == len(ids):
                all_warm.set()
            await ready.wait()
            while time.perf_counter() < deadline:
                await client.execute(UPDATE, {"id": position_id, "m": f"m{done}"})
                done += 1

    clients = [asyncio.create_task(one(i)) for i in ids]
    await all_warm.wait()
    started, cpu_started = time.perf_counter(), server_cpu_s(url)
    deadline = started + seconds
    ready.set()
    await asyncio.gather(*clients)
    elapsed, cpu = time.perf_counter() - started, server_cpu_s(url) - cpu_started
    return done / elapsed, cpu / max(done, 1) * 1e6


async def fanout_events_per_s(url: str, token: str | None, position_id: str, events: int) -> float:
    client = GraphQLClient(url, token)
    received = [0] * SUBSCRIBERS
    ready = asyncio.Event()
    subscribed = 0
    finished = asyncio.Event()
    warmed = asyncio.Event()

    async def subscriber(index: int) -> None:
        nonlocal subscribed
        async with client.connection() as conn:
            await conn.start(SUBSCRIBE)
            subscribed += 1
            if subscribed == SUBSCRIBERS:
                ready.set()
            while received[index] < events + 1:
                message = await conn.next_message()
                if message["type"] == "next":
                    received[index] += 1
                    if received[index] == 1 and all(n >= 1 for n in received):
                        warmed.set()
            if all(n >= events + 1 for n in received):
                finished.set()

    tasks = [asyncio.create_task(subscriber(i)) for i in range(SUBSCRIBERS)]
    await ready.wait()
    # one write that every subscriber must see proves all subscriptions are live before timing
    await client.execute(UPDATE, {"id": position_id, "m": "warm"})
    await asyncio.wait_for(warmed.wait(), 30)
    started = time.perf_counter()
    # the writes go out together, so that delivery, not one write's round trip, sets the pace
    await asyncio.gather(*(client.execute(UPDATE, {"id": position_id, "m": f"e{n}"}) for n in range(events)))
    await asyncio.wait_for(finished.wait(), 60)
    elapsed = time.perf_counter() - started
    await asyncio.gather(*tasks)
    await client.close()
    return SUBSCRIBERS * events / elapsed


async def measure(
    url: str, token: str | None, ids: list[str], seconds: float, events: int
) -> dict[str, float]:
    rate, cpu_us = await mutation_figures(url, token, ids[:1], seconds)
    figures = {
        "mutations_per_s_1_client": round(rate, 1),
        "server_cpu_us_per_mutation_1_client": round(cpu_us, 1),
        "mutations_per_s_16_clients": round(await mutations_per_s(url, token, ids[:16], seconds), 1),
    }
    if events:
        # fan-out runs are short and the machine is shared: take the median of three
        fanouts = [await fanout_events_per_s(url, token, ids[0], events) for _ in range(3)]
        figures["fanout_events_per_s_100_subscribers"] = round(statistics.median(fanouts), 1)
    return figures


async def alternated(database_url: str, floor_url: str, rounds: int, seconds: float) -> dict[str, Any]:
    """1 client, ours and the floor in turn `rounds` times (both servers up all along), so that
    a busy machine's swings fall on both alike: the medians and the median of the per-round
    ratios (rate, and the floor's CPU per mutation as a share of ours)."""
    ours_server, floor_server_ = hedge_server(database_url), floor_server(floor_url)
    async with process(*ours_server) as ours_url, process(*floor_server_) as floor_url_:
        token, ids = await hedge_positions(ours_url, 1)
        pairs = []
        for _ in range(rounds):
            ours = await mutation_figures(ours_url, token, ids, seconds)
            floor = await mutation_figures(floor_url_, None, ["p0"], seconds)
            pairs.append((ours, floor))
    med = statistics.median
    return {
        "rounds": rounds,
        "mutations_per_s_1_client": round(med(o[0] for o, _ in pairs), 1),
        "floor_mutations_per_s_1_client": round(med(f[0] for _, f in pairs), 1),
        "server_cpu_us_per_mutation_1_client": round(med(o[1] for o, _ in pairs), 1),
        "floor_server_cpu_us_per_mutation_1_client": round(med(f[1] for _, f in pairs), 1),
        "rate_vs_floor_median_of_rounds": round(med(o[0] / f[0] for o, f in pairs), 3),
        "floor_cpu_share_median_of_rounds": round(med(f[1] / o[1] for o, f in pairs), 3),
    }


async def main(
    seconds: float,
    events: int,
    engines: tuple[str, ...] = ("sqlite", "postgres"),
    baseline_uncached: bool = False,
    alternate: int = 0,
) -> dict[str, Any]:
    report: dict[str, Any] = {"bench": "api", "seconds": seconds, "fanout_events": events}
    async with process(*baseline_server()) as url:
        baseline = await measure(url, None, [f"p{i}" for i in range(16)], seconds, events)
    report["baseline"] = baseline
    if baseline_uncached:  # plain Strawberry without its caches: every request parsed and validated
        async with process(*baseline_server(cached=False)) as url:
            report["baseline_uncached"] = await measure(url, None, [f"p{i}" for i in range(16)], seconds, 0)
    postgres = start_postgres() if "postgres" in engines else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            stores = {
                "sqlite": (f"sqlite:///{Path(tmp) / 'bench.db'}", f"sqlite:///{Path(tmp) / 'floor.db'}")
            }
            if postgres is not None:
                stores["postgres"] = (
                    postgres.create_database(f"bench_{uuid.uuid4().hex[:8]}"),
                    postgres.create_database(f"floor_{uuid.uuid4().hex[:8]}"),
                )
            for name, (database_url, floor_url) in stores.items():
                if name not in engines:
                    continue
                async with process(*hedge_server(database_url)) as url:
                    token, ids = await hedge_positions(url, 16)
                    ours = await measure(url, token, ids, seconds, events)
                async with process(*floor_server(floor_url)) as url:
                    floor_ids = [f"p{i}" for i in range(16)]
                    rate, cpu_us = await mutation_figures(url, None, floor_ids[:1], seconds)
                    floor = {
                        "mutations_per_s_1_client": round(rate, 1),
                        "server_cpu_us_per_mutation_1_client": round(cpu_us, 1),
                        "mutations_per_s_16_clients": round(
                            await mutations_per_s(url, None, floor_ids, seconds), 1
                        ),
                    }
                report[name] = ours
                report[f"{name}_floor"] = floor
                report[f"{name}_vs_baseline"] = {k: round(ours[k] / baseline[k], 3) for k in ours}
                report[f"{name}_vs_floor"] = {k: round(ours[k] / floor[k], 3) for k in floor}
                # CPU: the floor's share of ours (the goal's direction: higher is closer to the floor)
                key = "server_cpu_us_per_mutation_1_client"
                report[f"{name}_vs_floor"][key] = round(floor[key] / ours[key], 3)
                if alternate:
                    # the same stores again (their servers above have stopped)
                    figures = await alternated(database_url, floor_url, alternate, seconds)
                    report[f"{name}_alternated"] = figures
    finally:
        if postgres is not None:
            postgres.stop()
    report["load_avg_1m"] = os.getloadavg()[0]
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--events", type=int, default=100, help="fan-out events (0: no fan-out run)")
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument(
        "--baseline-uncached", action="store_true", help="also plain Strawberry without its parse caches"
    )
    parser.add_argument(
        "--alternate", type=int, default=0, help="then N rounds of ours and the floor in turn, 1 client"
    )
    parser.add_argument("--baseline-server", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--uncached", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--floor-server", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server is not None:
        run_baseline(args.baseline_server, cached=not args.uncached)
    elif args.floor_server is not None:
        run_floor(int(args.floor_server[0]), args.floor_server[1])
    else:
        engines = tuple(name.strip() for name in args.engines.split(",") if name.strip())
        run = main(args.seconds, args.events, engines, args.baseline_uncached, args.alternate)
        print(json.dumps(asyncio.run(run)))
