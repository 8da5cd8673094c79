"""The pieces of `bench/scale.py`: the agent host process, the bench's paper EA and its market,
and the CPU/memory sampler.

- `run_agent_host(spec_file)`: many `AgentRuntime`s in one process and one event loop, each with
  its own server link (its own WebSocket, token, lease), EA port and state folder, as the issue
  allows ("agents may share processes for the run if each keeps its own server link").
- `ScaleEA`: the paper EA (`hedge.ea.paper.PaperEA`, the real terminal simulation) with a market
  that jitters USDJPY and EURUSD within a few pips (so the background trails never fire) and a
  trigger symbol (GBPUSD) that moves only when the bench bumps it; it stamps each OPEN's arrival.
- `Sampler`: CPU seconds and resident memory of processes from /proc (Linux), once a second.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from hedge import eventloop, logs
from hedge.domain.symbols import default_spec
from hedge.ea.paper import PaperEA
from hedge.ea.paper_config import PaperConfig
from hedge.ea.paper_feed import START_PRICES, FeedQuote
from hedge.ea.protocol import Open

JITTERED = ("USDJPY", "EURUSD")  # the background positions' symbols: ticks on every EA tick
TRIGGER = "GBPUSD"  # the hedges' trigger positions: quoted only when the bench bumps it
JITTER_PIPS = 3  # background prices stay within +-3 pips of the start: 50/100-pip trails never fire
BUMP_PIPS = Decimal(3)  # a bump lifts the trigger symbol 3 pips: meets a 1-pip FROM_ENTRY trail


# ---------------------------------------------------------------- the agent host


def run_agent_host(spec_file: str, log_level: str) -> None:
    """Run the agents listed in `spec_file` (JSON: [{server, token, eaToken, eaPort, stateDir}])."""
    from hedge.agent.runtime import AgentRuntime
    from hedge.config import AgentSettings

    logs.configure(log_level)
    specs: list[dict[str, Any]] = json.loads(Path(spec_file).read_text())
    runtimes = [
        AgentRuntime(
            AgentSettings(
                server_url=s["server"],
                token=s["token"],
                ea_token=s["eaToken"],
                ea_port=int(s["eaPort"]),
                state_dir=s["stateDir"],
            )
        )
        for s in specs
    ]

    async def serve() -> None:
        await asyncio.gather(*(runtime.run() for runtime in runtimes))

    eventloop.tune_threads()
    eventloop.run(serve())


# ---------------------------------------------------------------- the paper EA of the bench


class JitterFeed:
    """USDJPY and EURUSD within +-JITTER_PIPS of their start prices (seeded); the trigger symbol
    still (the bench moves it with `ScaleEA.bump`)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._spread = {s: default_spec(s).price_offset(Decimal(1)) for s in (*JITTERED, TRIGGER)}

    def initial(self) -> list[FeedQuote]:
        return [
            FeedQuote(s, START_PRICES[s], START_PRICES[s] + self._spread[s]) for s in (*JITTERED, TRIGGER)
        ]

    def next_quotes(self) -> list[FeedQuote]:
        quotes = []
        for symbol in JITTERED:
            offset = default_spec(symbol).price_offset(
                Decimal(self._random.randint(-JITTER_PIPS, JITTER_PIPS))
            )
            bid = START_PRICES[symbol] + offset
            quotes.append(FeedQuote(symbol, bid, bid + self._spread[symbol]))
        return quotes


class ScaleEA(PaperEA):
    """The paper EA, counting the PRICE frames it streams and stamping each OPEN on arrival."""

    def __init__(self, config: PaperConfig, seed: int) -> None:
        super().__init__(config, feed=JitterFeed(seed))
        self.prices_sent = 0
        self.open_at: dict[str, int] = {}  # positionId -> monotonic_ns of the first OPEN for it
        self.opens: dict[str, int] = {}  # positionId -> OPEN frames received (a resend counts)
        self.waiters: dict[str, asyncio.Future[int]] = {}
        self._bumping = False
        self.ticking = False  # the bench starts the ticks once the positions are open

    async def _tick_loop(self) -> None:
        """The paper EA's ticks on a fixed schedule: the work of a tick does not stretch the interval
        (the jittered symbols close nothing, so there is no stop-out to persist)."""
        due = time.monotonic()
        while True:
            due = max(due + self.config.tick_interval_ms / 1000, time.monotonic() - 0.05)
            await asyncio.sleep(due - time.monotonic())
            if not self.ticking:
                continue
            quotes = self._feed.next_quotes()
            self.terminal.apply_quotes([(q.symbol, q.bid, q.ask) for q in quotes])
            for symbol in self.subscribed:
                self._send_price(symbol)

    def _send_price(self, symbol: str) -> None:
        if symbol == TRIGGER and not self._bumping:
            return  # the trigger symbol is quoted only when it moves
        if self.online.is_set():
            self.prices_sent += 1
        super()._send_price(symbol)

    def handle_open(self, msg: Open) -> None:
        arrived = time.monotonic_ns()
        self.open_at.setdefault(msg.position_id, arrived)
        self.opens[msg.position_id] = self.opens.get(msg.position_id, 0) + 1
        waiter = self.waiters.pop(msg.position_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(arrived)
        super().handle_open(msg)

    def expect_open(self, position_id: str) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if position_id in self.open_at:
            future.set_result(self.open_at[position_id])
        else:
            self.waiters[position_id] = future
        return future

    def bump(self) -> int:
        """Lift the trigger symbol BUMP_PIPS and stream it now; monotonic_ns just before."""
        quote = self.market.quote(TRIGGER)
        assert quote is not None
        step = default_spec(TRIGGER).price_offset(BUMP_PIPS)
        self._bumping = True
        try:
            sent = time.monotonic_ns()
            self.set_price(TRIGGER, quote.bid + step, quote.ask + step)
        finally:
            self._bumping = False
        return sent

    def held_for(self, position_id: str) -> int:
        """How many positions the terminal holds for `position_id` (1 = opened exactly once)."""
        return sum(1 for p in self.terminal.books.held.values() if p.position_id == position_id)


# ---------------------------------------------------------------- CPU and memory from /proc

CLOCK_TICKS = 100  # os.sysconf("SC_CLK_TCK") on Linux


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Sampler:
    """Once a second: each role's CPU seconds and resident memory (summed over its processes)."""

    roles: dict[str, list[int]]  # role -> pids
    cpu: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # role -> (time, cpu s)
    rss: dict[str, list[float]] = field(default_factory=dict)  # role -> MB per sample

    def sample(self) -> None:
        now = time.monotonic()
        for role, pids in self.roles.items():
            try:
                cpu = sum(cpu_seconds(p) for p in pids)
                rss = sum(rss_mb(p) for p in pids)
            except (FileNotFoundError, ProcessLookupError):
                continue
            self.cpu.setdefault(role, []).append((now, cpu))
            self.rss.setdefault(role, []).append(rss)

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(1.0)

    def report(self) -> dict[str, Any]:
        """Per role: CPU % of one core over the samples, memory first/last/max and its growth."""
        out: dict[str, Any] = {}
        for role, points in self.cpu.items():
            if len(points) < 2:
                continue
            (t0, c0), (t1, c1) = points[0], points[-1]
            mem = self.rss[role]
            half = mem[len(mem) // 2]
            out[role] = {
                "processes": len(self.roles[role]),
                "cpu_pct_of_one_core": round(100 * (c1 - c0) / (t1 - t0), 1),
                "rss_mb_first": round(mem[0], 1),
                "rss_mb_mid": round(half, 1),
                "rss_mb_last": round(mem[-1], 1),
                "rss_mb_max": round(max(mem), 1),
                # second half of the run against its middle: what a leak would show
                "rss_growth_second_half_mb": round(mem[-1] - half, 1),
            }
        return out
