"""The pieces of `bench/scale.py`: the agent host process, the bench's paper EA and its market,
and the CPU/memory sampler.

- `run_agent_host(spec_file)`: many `AgentRuntime`s in one process and one event loop, each with
  its own server link (its own WebSocket, token, lease), EA port and state folder, as the issue
  allows ("agents may share processes for the run if each keeps its own server link").
- `ScaleEA`: the paper EA (`hedge.ea.paper.PaperEA`, the real terminal simulation) with a market
  that jitters USDJPY and EURUSD within a few pips (so the background trails never fire) and a
  trigger symbol (GBPUSD) that moves only when the bench bumps it; it stamps each OPEN's arrival.
  Bench-only deviation: on the jittered ticks it checks SL/TP on every tick but the stop-out rule
  only once every STOP_OUT_EVERY_MS (the paper EA checks it on every tick; at 100 positions that
  check was ~870 of ~950 us per tick, so the bench's tick source could not stream 1,000 ticks/s).
  The bench's balance keeps every margin level far above the stop-out level, so no close moves.
- `Sampler`: CPU seconds and resident memory of processes from /proc (Linux), once a second.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass, field, replace
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
BALANCE = Decimal("10000000")
STARTING_TOGETHER = 4  # agents of a host that start (and load their rows) at once
STOP_OUT_EVERY_MS = 1000  # bench-only: the stop-out rule once a second on the jittered ticks
MAGIC = 7077001  # PaperConfig's default: the terminal reports these positions as the system's


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
        """Start the agents STARTING_TOGETHER at a time, each group once the one before is linked:
        100 agents loading their rows at once time out on a loaded 2-core machine, reconnect and
        load again (docs/performance.md, the scale run)."""
        running = [asyncio.create_task(loop_lag())]
        for k in range(0, len(runtimes), STARTING_TOGETHER):
            group = runtimes[k : k + STARTING_TOGETHER]
            running += [asyncio.create_task(runtime.run()) for runtime in group]
            deadline = time.monotonic() + 120
            linked = all(r.link.connected for r in group)  # the runtime offers no event for it
            while not linked and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                linked = all(r.link.connected for r in group)
        await asyncio.gather(*running)

    eventloop.tune_threads()
    eventloop.run(serve())


async def loop_lag() -> None:
    """Every 10 s, log how late a 100 ms sleep of this host's event loop woke (p50/max): a loop
    that all its agents keep busy shows here before anything else."""
    log = logging.getLogger("bench.scale.host")
    late: list[float] = []
    while True:
        asked = time.monotonic()
        await asyncio.sleep(0.1)
        late.append((time.monotonic() - asked - 0.1) * 1000)
        if len(late) == 100:
            late.sort()
            log.warning("event loop lag over 10 s: p50 %.1f ms, max %.1f ms", late[50], late[-1])
            late.clear()


# ---------------------------------------------------------------- the background positions


def plan(m: int) -> tuple[str, str, float, str]:
    """A user's m-th background position: symbol, side, trail width (pips) and trail mode."""
    trail = (100.0, "FROM_ENTRY") if m % 2 == 0 else (50.0, "TRAILING_STOP")
    return JITTERED[(m // 2) % 2], "BUY" if m % 8 < 4 else "SELL", *trail


def seed_store(
    database_url: str, accounts: list[tuple[str, str]], total: int, folder: Path
) -> dict[str, Path]:
    """`total` OPEN positions, round robin over `accounts` ((userId, accountId)), in the store and in
    each account's paper terminal books (the state file of each is returned). The agents then load
    them and reconcile them with SYNC, as at any start.

    One position of each kind (plan's symbol x side x trail mode) is made by the moves its agent
    would make (ENTRY EXECUTING, OPENING, OPEN with its ticket, EXECUTED); the others are copies of
    these rows with their own ids, account and ticket, written in one transaction through the
    store's table definitions (the store's own path takes minutes for 10,000 on a loaded machine)."""
    from sqlalchemy import select

    from hedge.domain.authz import Actor
    from hedge.domain.creation import EntryRequest
    from hedge.domain.enums import Side, UserRole
    from hedge.domain.ids import new_id
    from hedge.ea.paper_account import HeldPosition
    from hedge.ea.paper_state import Books, save_state
    from hedge.store.repository import Store
    from hedge.store.tables import actions, positions

    store = Store(database_url)
    held: dict[str, list[HeldPosition]] = {account_id: [] for _, account_id in accounts}
    opened_ms = int(time.time() * 1000) // 1000 * 1000
    opened = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(opened_ms / 1000))
    templates: dict[tuple[str, str, float, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    copies: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    volume = Decimal("0.01")
    try:
        user_id, account_id = accounts[0]
        actor = Actor(user_id, UserRole.CLIENT)  # type: ignore[arg-type]
        for m in range(8):  # the first account's first 8 positions, one of each kind
            symbol, side, width, mode = kind = plan(m)
            action, position = store.create_action(
                user_id, account_id, "ENTRY", entry=EntryRequest(symbol, side, str(volume), width, mode)
            )
            store.update_action(action.id, {"status": "EXECUTING"}, None, actor)
            store.update_position(actor, position.id, {"status": "OPENING"})
            ticket, price = str(59_000_000_001 + m), entry_price(symbol, side)
            facts = {"status": "OPEN", "mt_ticket": ticket, "entry_price": str(price), "entry_time": opened}
            store.update_position(actor, position.id, facts)
            store.update_action(action.id, {"status": "EXECUTED"}, None, actor)
            with store.engine.connect() as conn:
                made = conn.execute(select(positions).where(positions.c.id == position.id)).mappings().one()
                act = conn.execute(select(actions).where(actions.c.id == action.id)).mappings().one()
            templates[kind] = (dict(made), dict(act))
            held[account_id].append(
                HeldPosition(ticket, position.id, symbol, Side(side), volume, price, opened_ms, "", MAGIC)
            )
        for k in range(8, total):
            user_id, account_id = accounts[k % len(accounts)]
            symbol, side, _, _ = kind = plan(k // len(accounts))
            row, entry_row = templates[kind]
            ticket, position_id, price = str(60_000_000_001 + k), new_id(), entry_price(symbol, side)
            copies[0].append({**row, "id": position_id, "user_id": user_id, "account_id": account_id,
                              "mt_ticket": ticket})  # fmt: skip
            copies[1].append({**entry_row, "id": new_id(), "user_id": user_id, "account_id": account_id,
                              "position_id": position_id, "client_request_id": None})  # fmt: skip
            held[account_id].append(
                HeldPosition(ticket, position_id, symbol, Side(side), volume, price, opened_ms, "", MAGIC)
            )
        if copies[0]:
            with store.engine.begin() as conn:
                conn.execute(positions.insert(), copies[0])
                conn.execute(actions.insert(), copies[1])
    finally:
        store.close()
    files = {}
    for account_id, mine in held.items():
        books = Books(balance=BALANCE, next_ticket=70_000_000_001, held={p.ticket: p for p in mine},
                      journal={p.position_id or "": p for p in mine})  # fmt: skip
        files[account_id] = folder / f"terminal-{account_id}.json"
        save_state(files[account_id], books)
    return files


def entry_price(symbol: str, side: str) -> Decimal:
    """Where a background position filled: at the start price's ask (BUY) or bid (SELL)."""
    return START_PRICES[symbol] + (default_spec(symbol).price_offset(Decimal(1)) if side == "BUY" else 0)


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
    """The paper EA, counting the PRICE frames it streams and stamping each OPEN on arrival.

    Deviation from PaperEA, for the bench only: a jittered tick checks SL/TP at once but the
    stop-out rule at most once every STOP_OUT_EVERY_MS (`bump` goes through `set_price`, which
    checks both at once)."""

    def __init__(self, config: PaperConfig, seed: int) -> None:
        super().__init__(config, feed=JitterFeed(seed))  # the books from config.state_file, if any
        self.config = replace(config, state_file=None)  # no file written on every change
        self.prices_sent = 0
        self.open_at: dict[str, int] = {}  # positionId -> monotonic_ns of the first OPEN for it
        self.opens: dict[str, int] = {}  # positionId -> OPEN frames received (a resend counts)
        self.waiters: dict[str, asyncio.Future[int]] = {}
        self._bumping = False
        self.ticking = False  # the bench starts the ticks once the positions are open
        self._stop_out_checked_ms = 0

    async def _tick_loop(self) -> None:
        """The paper EA's ticks on a fixed schedule: the work of a tick does not stretch the interval
        (the jittered symbols close nothing, so there is no stop-out to persist)."""
        due = time.monotonic()
        while True:
            due = max(due + self.config.tick_interval_ms / 1000, time.monotonic() - 0.05)
            await asyncio.sleep(due - time.monotonic())
            if not self.ticking:
                continue
            self._apply_quotes(self._feed.next_quotes())
            for symbol in self.subscribed:
                self._send_price(symbol)

    def _apply_quotes(self, quotes: list[FeedQuote]) -> None:
        """`Terminal.apply_quotes` with the stop-out rule at most once every STOP_OUT_EVERY_MS."""
        terminal = self.terminal
        now = terminal.now_ms()
        for quote in quotes:
            terminal.market.set_price(quote.symbol, quote.bid, quote.ask, now)
        terminal.check_stops()
        if now - self._stop_out_checked_ms >= STOP_OUT_EVERY_MS:
            self._stop_out_checked_ms = now
            terminal.check_stop_out()

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


def machine_cpu() -> tuple[int, int]:
    """All cores' (busy, total) jiffies since boot, from /proc/stat (idle and iowait are not busy)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def busy_pct(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of all cores busy between two `machine_cpu` readings, in % (100 = every core)."""
    total = after[1] - before[1]
    return round(100 * (after[0] - before[0]) / total, 1) if total else 0.0


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


# a role whose processes average this much of one core each is at its limit (one Python thread
# of work per process: the event loop)
BUSY_PCT = 90.0


def saturation(line: dict[str, Any], p99_goal: float) -> dict[str, Any]:
    """What gave way first at this step, read from its figures, in the order a load reaches
    them: the machine (its cores busy over the step), the tick source, a process at a
    whole core, the agents' liveness (trigger positions not OPEN in time, OPENs late), the hedge
    latency against its goal; and each role's share of a core beside it."""
    processes = line.get("processes", {})
    per_process = {
        role: round(figures["cpu_pct_of_one_core"] / max(figures["processes"], 1), 1)
        for role, figures in processes.items()
    }
    busiest = max(per_process, key=lambda role: per_process[role], default=None)
    cpus = line.get("cpus") or 1
    target, ticks = line.get("target_ticks_per_s", 0), line.get("ticks_per_s", 0.0)
    found: list[str] = []
    # the cores' busy share over the step itself: the 1-minute load average also counts the
    # minute before the step and threads waiting on I/O, so it is reported beside, not judged
    busy = line.get("machine_cpu_busy_pct", 0.0)
    if busy >= BUSY_PCT:
        found.append(f"the machine: {busy}% of its {cpus} cores busy over the step")
    if target and ticks < 0.9 * target:
        found.append(f"the tick source: {ticks} of {target} ticks/s streamed")
    if busiest is not None and per_process[busiest] >= BUSY_PCT:
        found.append(f"{busiest}: {per_process[busiest]}% of one core per process")
    if line.get("trigger_positions_stalled") or line.get("late"):
        found.append(
            f"liveness: {line.get('trigger_positions_stalled', 0)} trigger positions not OPEN in time, "
            f"{line.get('late', 0)} OPENs late"
        )
    if line.get("p99_vs_floor", 0) > p99_goal:
        found.append(f"hedge latency: p99 {line['p99_vs_floor']}x the floor (goal {p99_goal}x)")
    return {
        "first": found[0] if found else "nothing: every figure of this step within its goal",
        "all": found,
        "cpu_pct_of_one_core_per_process": per_process,
    }
