"""The floor of bench/hedge_latency.py: the hedge path's 6 WebSocket hops and 2 SQLite commits
through bare relays of the same libraries (`websockets`, `sqlite3`), one process per relay
(`bench/hedge_latency.py --floor-relay ROLE PORT OTHER`), doing nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hedge.localservices import free_ports

HEDGE_LATENCY = str(Path(__file__).with_name("hedge_latency.py"))  # the relays run as its --floor-relay


async def relay_server(port: int, db_path: str) -> None:
    """The server's part: commit what agent 1 or agent 2 sends; tell agent 2 of a trigger."""
    import sqlite3

    from websockets.asyncio.server import ServerConnection, serve

    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS rows (id TEXT PRIMARY KEY, status TEXT, version INTEGER)")
    db.execute("CREATE TABLE IF NOT EXISTS feed (seq INTEGER PRIMARY KEY, id TEXT, image TEXT)")
    peers: dict[str, ServerConnection] = {}

    def commit(row_id: str, status: str) -> None:
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO rows VALUES (?, ?, 1) "
            "ON CONFLICT(id) DO UPDATE SET status = ?, version = version + 1",
            (row_id, status, status),
        )
        db.execute("INSERT INTO feed (id, image) VALUES (?, ?)", (row_id, json.dumps({"status": status})))
        db.execute("COMMIT")

    async def handle(ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):  # the bench stops the relays when it is done
            await relay(ws)

    async def relay(ws: ServerConnection) -> None:
        role = json.loads(await ws.recv())["role"]
        peers[role] = ws
        async for raw in ws:
            frame = json.loads(raw)
            if frame["t"] == "trigger":
                commit(frame["id"], "EXECUTING")
                await peers["agent2"].send(
                    json.dumps({"t": "event", "id": frame["id"], "status": "EXECUTING"})
                )
            elif frame["t"] == "opening":
                commit(frame["id"], "OPENING")
                await ws.send(json.dumps({"t": "ok", "id": frame["id"]}))

    async with serve(handle, "127.0.0.1", port):
        await asyncio.Future()


async def relay_agent(port: int, server_port: int, role: str) -> None:
    """An agent's part: agent1 passes the EA's PRICE on as a trigger; agent2 records OPENING on the
    trigger's event and sends OPEN to its EA once that committed."""
    from websockets.asyncio.server import ServerConnection, serve

    upstream = await connect(f"ws://127.0.0.1:{server_port}")
    await upstream.send(json.dumps({"role": role}))
    eas: list[ServerConnection] = []

    async def from_server() -> None:
        async for raw in upstream:
            frame = json.loads(raw)
            if frame["t"] == "event":
                await upstream.send(json.dumps({"t": "opening", "id": frame["id"]}))
            elif frame["t"] == "ok" and eas:
                await eas[0].send(json.dumps({"type": "OPEN", "positionId": frame["id"]}))

    async def handle(ws: ServerConnection) -> None:
        eas.append(ws)
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                frame = json.loads(raw)
                await upstream.send(json.dumps({"t": "trigger", "id": frame["positionId"]}))

    async with serve(handle, "127.0.0.1", port):
        with contextlib.suppress(ConnectionClosed):  # the bench stops the relays when it is done
            await from_server()


async def run_floor(triggers: int) -> list[float]:
    """Per trigger: EA 1 sends a frame, EA 2 stamps the OPEN that comes of it; ms each."""
    workdir = Path(tempfile.mkdtemp(prefix="hedge-latency-floor-"))
    server_port, port1, port2 = free_ports(3)  # distinct, chosen at once
    roles = [
        ["--floor-relay", "server", str(server_port), str(workdir / "floor.db")],
        ["--floor-relay", "agent2", str(port2), str(server_port)],
        ["--floor-relay", "agent1", str(port1), str(server_port)],
    ]
    procs: list[subprocess.Popen[bytes]] = []
    samples: list[float] = []
    try:
        for argv in roles:
            procs.append(subprocess.Popen([sys.executable, HEDGE_LATENCY, *argv]))  # noqa: ASYNC220 - before timing
            await _listening(int(argv[2]))
        async with connect(f"ws://127.0.0.1:{port1}") as ea1, connect(f"ws://127.0.0.1:{port2}") as ea2:
            for n in range(triggers + 10):
                started = time.monotonic_ns()
                await ea1.send(json.dumps({"type": "PRICE", "positionId": f"p{n}", "bid": 150.02}))
                frame = json.loads(await asyncio.wait_for(ea2.recv(), 10))
                assert frame["positionId"] == f"p{n}"
                if n >= 10:  # the first few warm the relays' caches up
                    samples.append((time.monotonic_ns() - started) / 1e6)
    finally:
        for proc in reversed(procs):  # the agents first, then the server they talk to
            proc.terminate()
            proc.wait(5)
    return samples


async def _listening(port: int) -> None:
    for _ in range(200):  # a separate process offers no readiness event
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"relay on port {port} did not listen")
