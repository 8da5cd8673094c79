"""Benchmark of the kill switch's reach: from setTradingState's answer to the agent holding the new
state (the contract: a change reaches every agent within 1 s). Prints one JSON line.

One `hedge server` (SQLite) and one `hedge agent` process. The bench flips an ACCOUNT control
between HALTED and ACTIVE and polls the agent's /healthz (its `trading.controls`) until it shows
the new state. The baseline, in the same run, is one /healthz round trip: the resolution of the
measurement itself.

    uv run python bench/control_latency.py [--flips 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from hedge.localservices import free_ports

ADMIN = "bench-admin-token-for-control-latency"
GOAL_MS = 1000.0
CREATE_USER = """mutation { createUser(input: {email: "bench@control.local", name: "bench", role: CLIENT}) {
  user { id } token } }"""
CREATE_ACCOUNT = """mutation($u: ID!) { createAccount(input: {userId: $u, brokerType: MT5,
  accountNumber: "77001", serverName: "Bench", displayName: "b"}) { id } }"""
SET_STATE = """mutation($a: ID!, $s: TradingState!) { setTradingState(input: {scope: ACCOUNT,
  targetId: $a, state: $s, reason: "bench"}) { state } }"""


def _gql(http: httpx.Client, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = http.post("/graphql", json={"query": query, "variables": variables or {}},
                     headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


def _wait(check: Any, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, KeyError):
            if check():
                return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def _held(health: httpx.Client, control_id: str) -> str | None:
    for control in health.get("/healthz").json()["trading"]["controls"]:
        if control["id"] == control_id:
            return str(control["state"])
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flips", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-control-"))
    port, agent_port = free_ports(2)  # distinct, chosen at once
    env = {**os.environ, "HEDGE_ADMIN_TOKEN": ADMIN}
    procs: list[subprocess.Popen[bytes]] = []
    log = (work / "procs.log").open("wb")
    try:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "hedge.cli", "server", "--port", str(port), "--database-url",
             f"sqlite:///{work / 'hedge.db'}", "--log-level", "warning"], env=env, stdout=log, stderr=log,
        ))  # fmt: skip
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        _wait(lambda: http.get("/healthz").status_code == 200, "the server")
        made = _gql(http, ADMIN, CREATE_USER)["createUser"]
        account = _gql(http, ADMIN, CREATE_ACCOUNT, {"u": made["user"]["id"]})["createAccount"]["id"]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "hedge.cli", "agent", "--server", f"http://127.0.0.1:{port}",
             f"--token={made['token']}", "--ea-token=bench-ea", "--ea-port", str(agent_port),
             "--state-dir", str(work / "agent")], env=env, stdout=log, stderr=log,
        ))  # fmt: skip
        health = httpx.Client(  # the EA port answers one request per connection
            base_url=f"http://127.0.0.1:{agent_port}",
            timeout=5,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        _wait(lambda: health.get("/healthz").json()["serverConnected"], "the agent's server link")
        control_id = f"ACCOUNT:{account}"
        baseline = []
        for _ in range(20):
            started = time.perf_counter()
            health.get("/healthz")
            baseline.append((time.perf_counter() - started) * 1000)
        latencies = []
        for flip in range(args.flips):
            state = "HALTED" if flip % 2 == 0 else "ACTIVE"
            _gql(http, ADMIN, SET_STATE, {"a": account, "s": state})
            answered = time.perf_counter()
            while _held(health, control_id) != state:
                if time.perf_counter() - answered > 10:
                    raise RuntimeError(f"the agent did not hold {state} within 10 s")
            latencies.append((time.perf_counter() - answered) * 1000)
        latencies.sort()
        print(json.dumps({
            "bench": "control_latency", "flips": args.flips, "goal_ms": GOAL_MS,
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 1),
            "max_ms": round(latencies[-1], 1), "within_goal": latencies[-1] < GOAL_MS,
            "baseline_healthz_round_trip_ms": round(statistics.median(baseline), 1),
        }))  # fmt: skip
    finally:
        for proc in reversed(procs):
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        log.close()


if __name__ == "__main__":
    main()
