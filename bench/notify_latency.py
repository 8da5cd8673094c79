"""Benchmark of alert delivery: from raiseAlert's answer to the webhook receiving it (§6-2: a
stop-out notice is immediate; the goal is under 1 s). Prints one JSON line.

One `hedge server` process (SQLite) with HEDGE_NOTIFY pointing at a local HTTP receiver. The
bench raises CRITICAL alerts one after the other (each a new condition, so each is a new raise)
and measures the time until the receiver has it. The baseline, in the same run, is a direct
POST of the same size from the bench to the receiver.

    uv run python bench/notify_latency.py [--alerts 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from hedge.client.graphql import GraphQLClient
from hedge.localservices import start_hedge_server

ADMIN = "bench-admin-token-for-notify-latency"
RAISE = """mutation($u: ID!, $a: ID!) { raiseAlert(input: {userId: $u, accountId: $a, kind: STOPPED_OUT,
  severity: CRITICAL, message: "stopped out"}) { id } }"""
CREATE_ACCOUNT = """mutation($u: ID!, $n: String!) { createAccount(input: {userId: $u, brokerType: MT5,
  accountNumber: $n, serverName: "Bench", displayName: "b"}) { id } }"""


class Arrivals:
    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.changed = threading.Condition()

    def wait_for(self, key: str, timeout_s: float = 30.0) -> float:
        with self.changed:
            self.changed.wait_for(lambda: key in self.seen, timeout_s)
            return self.seen[key]


def receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            key = body.get("alert", {}).get("id") or body.get("probe")
            with arrivals.changed:
                arrivals.seen[str(key)] = time.perf_counter()
                arrivals.changed.notify_all()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def main(count: int) -> dict[str, object]:
    arrivals = Arrivals()
    hook = receiver(arrivals)
    url = f"http://127.0.0.1:{hook.server_address[1]}/hook"
    baseline: list[float] = []
    async with httpx.AsyncClient() as http:
        for index in range(count):
            sent = time.perf_counter()
            await http.post(url, json={"probe": f"p{index}", "text": "x" * 400})
            baseline.append((await asyncio.to_thread(arrivals.wait_for, f"p{index}") - sent) * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        server = await asyncio.to_thread(
            start_hedge_server, f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp),
            admin_token=ADMIN, env={"HEDGE_NOTIFY": url},
        )  # fmt: skip
        base = server.url
        try:
            async with GraphQLClient(base, ADMIN) as admin:
                me = (await admin.execute("{ me { id } }"))["me"]["id"]
                latencies: list[float] = []
                for index in range(count):
                    account = (await admin.execute(CREATE_ACCOUNT, {"u": me, "n": f"N{index}"}))[
                        "createAccount"
                    ]["id"]
                    sent = time.perf_counter()
                    alert = (await admin.execute(RAISE, {"u": me, "a": account}))["raiseAlert"]["id"]
                    latencies.append((await asyncio.to_thread(arrivals.wait_for, alert) - sent) * 1000)
        finally:
            server.stop()
            hook.shutdown()
    return {
        "bench": "notify_latency",
        "alerts": count,
        "raise_to_webhook_p50_ms": round(statistics.median(latencies), 2),
        "raise_to_webhook_p99_ms": round(statistics.quantiles(latencies, n=100, method="inclusive")[98], 2),
        "raise_to_webhook_max_ms": round(max(latencies), 2),
        "baseline_direct_post_p50_ms": round(statistics.median(baseline), 2),
        "goal_ms": 1000,
        "load_average_1m": os.getloadavg()[0],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=50)
    print(json.dumps(asyncio.run(main(parser.parse_args().alerts))))
