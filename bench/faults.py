"""The fault campaign: OPEN / CLOSE / trigger work on paper EAs while, at a random moment of each
trial, one fault is injected; after the trial settles, the order-truth invariants are checked.

Faults: kill -9 of an agent (started again), kill -9 of the server (started again), the EA link
cut for a random time (a TCP proxy between agent and EA), the paper EA killed and started again
with its unsent events kept or lost (`--state-file`, `--drop-unsent-on-restart`).

Invariants, over every position of the campaign (the paper terminals read from their state files):
  held     every position a terminal holds is OPEN on the server with that ticket
  ghost    every position the server has OPEN is held by its terminal
  closed   every close at a terminal is CLOSED/STOPPED on the server with the terminal's price
  tickets  no positionId has two tickets
  fired    every trigger fired at most once (its hedge filled at most once)
  settled  no position is left OPENING/CLOSING
A difference that has an open alert about its position (or account) is reported as alerted, not
as a violation. "After the trial settles" = the invariants hold, or `--settle-s` has passed.

Run: `uv run python bench/faults.py [--trials 200] [--seed 1]`. Prints one JSON line per trial and
a summary line: {"trials", "faults": {kind: n}, "violations": n, "alerted": n, ...}.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the harness and the proxy in tests/

from tests.e2e.harness import SERVER_NAME, Account, Agent, Proc, System, User
from tests.e2e.proxy import CutProxy

FAULTS = ("agent_kill", "server_kill", "link_cut", "ea_restart_keep", "ea_restart_drop")
WORK = ("open", "close", "trigger")
FILL_DELAY_MS = 150  # an order is in flight this long: a fault lands inside the window or after it
AGENT_ENV = {
    "HEDGE_AGENT_EA_WAIT_S": "1",  # shorter than most cuts: the case of issue 8's problem 1
    "HEDGE_AGENT_LEASE_TTL_S": "2",  # a killed agent's successor waits at most this long
    "HEDGE_AGENT_COMMAND_TIMEOUT_S": "3",
    "HEDGE_AGENT_RECONNECT_MAX_S": "0.3",
    "HEDGE_AGENT_RETRY_BACKOFF_S": "0.05",
    "HEDGE_AGENT_RECONCILE_INTERVAL_S": "2",
}
LIST_POSITIONS = """query($u: ID) { listPositions(userId: $u) {
  id accountId status mtTicket exitPrice triggerActionIds } }"""
LIST_ALERTS = "query { listAlerts(open: true) { id kind accountId positionId } }"
TRIGGER = """mutation($i: TriggerActionsInput!) { triggerActions(input: $i) { actions { id } } }"""
SET_TRIGGERS = """mutation($i: UpdatePositionInput!) { updatePosition(input: $i) { id } }"""


def paper_ea_knobs() -> set[str]:
    """Which of the paper EA's fault knobs this tree has (older trees: none)."""
    out = subprocess.run(
        [sys.executable, "-m", "hedge.cli", "paper-ea", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    return {k for k in ("--state-file", "--drop-unsent-on-restart") if k in out}


@dataclass
class Desk:
    """One user's trading desk: account, agent, the cuttable link, the paper EA and its state file."""

    name: str
    user: User
    account: Account
    agent: Agent
    proxy: CutProxy
    ea: Proc
    state_file: Path

    def start_ea(self, drop_unsent: bool = False) -> None:
        args = ["paper-ea", "--agent", self.proxy.url, f"--ea-token={self.agent.ea_token}",
                "--account-number", self.account.number, "--server-name", SERVER_NAME,
                "--symbols", "USDJPY", "--seed", "1", "--feed", "static", "--tick-interval-ms", "0",
                "--state-file", str(self.state_file), "--fill-delay-ms", str(FILL_DELAY_MS)]  # fmt: skip
        if drop_unsent:
            args.append("--drop-unsent-on-restart")
        self.ea.args = args
        self.ea.start()

    def terminal(self) -> dict[str, Any]:
        """The paper terminal's books: {"held": [...], "closes": [...]} (empty before its first save)."""
        try:
            books: dict[str, Any] = json.loads(self.state_file.read_text())
        except (FileNotFoundError, ValueError):
            return {"held": [], "closes": []}
        return books


@dataclass
class Trial:
    number: int
    work: str
    fault: str
    desk: str
    position_ids: list[str] = field(default_factory=list)


class Campaign:
    def __init__(self, workdir: Path, seed: int, max_outage_s: float, settle_s: float) -> None:
        self.plan = random.Random(seed)  # work and fault kinds: the same sequence for a seed, always
        self.random = random.Random(seed + 1)  # moments, outages, targets
        self.max_outage_s = max_outage_s
        self.settle_s = settle_s
        self.system = System(workdir)
        self.desks = {name: self._desk(name) for name in ("a", "b")}
        self.triggers: dict[str, str] = {}  # trigger position -> hedge position
        self.crashes: Counter[str] = Counter()  # processes that died by themselves
        self.seen: set[tuple[str, str]] = set()

    def _desk(self, name: str) -> Desk:
        system = self.system
        user = system.user(f"desk-{name}")
        account = system.account(user, leverage=500)
        agent = system.agent(user, AGENT_ENV)
        proxy = CutProxy(agent.port).start()
        ea = Proc(f"ea-{name}", [], system.workdir / f"ea-{name}.log")
        system.procs.append(ea)
        desk = Desk(name, user, account, agent, proxy, ea, system.workdir / f"ea-{name}.state.json")
        desk.start_ea()
        agent.wait_ea(account.number)
        return desk

    def close(self) -> None:
        for desk in self.desks.values():
            desk.proxy.close()
        self.system.close()

    # ------------------------------------------------------------------------------------ trials

    def run_trial(self, number: int) -> dict[str, Any]:
        work = self.plan.choice(WORK)
        fault = self.plan.choice(FAULTS)
        desk = self.desks["b" if work == "trigger" else "a"]
        trial = Trial(number, work, fault, desk.name)
        started = time.monotonic()
        self._until_ready()
        ready = time.monotonic()
        getattr(self, f"_work_{work}")(trial)
        time.sleep(self.random.uniform(0.0, 2.5 * FILL_DELAY_MS / 1000))  # the random moment
        self._inject(fault, desk)
        injected = time.monotonic()
        violations, alerted = self._settle()
        return {"trial": number, "work": trial.work, "fault": fault, "desk": desk.name,
                "violations": violations, "alerted": alerted,
                "seconds": {"ready": round(ready - started, 2), "fault": round(injected - ready, 2),
                            "settle": round(time.monotonic() - injected, 2)}}  # fmt: skip

    def _work_open(self, trial: Trial) -> None:
        api = self.desks["a"].user.api
        action, position = api.entry(self.desks["a"].account.id, volume=0.1)
        api.update_action(action["id"], status="EXECUTING")
        trial.position_ids.append(position["id"])

    def _work_close(self, trial: Trial) -> None:
        desk = self.desks[self.random.choice("ab")]
        candidates = [p for p in self._positions(desk) if p["status"] == "OPEN"]
        if not candidates:
            trial.work = "open"
            self._work_open(trial)
            return
        target = self.random.choice(candidates)
        action = desk.user.api.close_action(desk.account.id, target["id"])
        desk.user.api.update_action(action["id"], status="EXECUTING")
        trial.position_ids.append(target["id"])

    def _work_trigger(self, trial: Trial) -> None:
        a, b = self.desks["a"], self.desks["b"]
        untriggered = [p for p in self._positions(a) if p["status"] == "OPEN" and not p["triggerActionIds"]]
        if not untriggered:
            trial.work = "open"
            self._work_open(trial)
            return
        trigger = self.random.choice(untriggered)
        hedge, hedge_position = b.user.api.entry(b.account.id, side="SELL", volume=0.1)
        self.system.admin.execute(
            SET_TRIGGERS, {"i": {"id": trigger["id"], "triggerActionIds": [hedge["id"]]}}
        )
        a.user.api.execute(TRIGGER, {"i": {"positionId": trigger["id"], "reason": "TRAIL", "price": 150.0}})
        self.triggers[trigger["id"]] = hedge_position["id"]
        trial.position_ids += [trigger["id"], hedge_position["id"]]

    # ------------------------------------------------------------------------------------ faults

    def _outage(self) -> float:
        return self.random.uniform(0.2, self.max_outage_s)

    def _inject(self, fault: str, desk: Desk) -> None:
        if fault == "agent_kill":
            desk.agent.proc.kill()
            time.sleep(self._outage() / 2)
            desk.agent.proc.start()
        elif fault == "server_kill":
            self.system.server.kill()
            time.sleep(self._outage() / 2)
            self.system.start_server()
        elif fault == "link_cut":
            desk.proxy.cut()
            time.sleep(self._outage())
            desk.proxy.restore()
        else:
            desk.ea.kill()
            time.sleep(self._outage() / 2)
            desk.start_ea(drop_unsent=fault == "ea_restart_drop")

    def _revive(self) -> None:
        """Start again what died by itself (not by a fault): counted in `crashes`, a finding."""
        if not self.system.server.running:
            self.crashes["server"] += 1
            self.system.start_server()
        for desk in self.desks.values():
            if not desk.agent.proc.running:
                self.crashes["agent"] += 1
                desk.agent.proc.start()
            if not desk.ea.running:
                self.crashes["paper-ea"] += 1
                desk.start_ea()

    def _until_ready(self) -> None:
        """Every process up, every agent acting and linked, every EA connected."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self._revive()
            try:
                if all(self._ready(d) for d in self.desks.values()):
                    return
            except (httpx.HTTPError, OSError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        raise RuntimeError("the system did not come back within 60 s:\n" + self.system.logs_tail(15))

    @staticmethod
    def _ready(desk: Desk) -> bool:
        health = desk.agent.health()
        accounts = {a["accountNumber"] for a in health["accounts"]}
        return (
            health.get("role") != "STANDBY"
            and bool(health["serverConnected"])
            and desk.account.number in accounts
        )

    # ------------------------------------------------------------------------------------ checks

    def _positions(self, desk: Desk) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.system.admin.execute(LIST_POSITIONS, {"u": desk.user.id})[
            "listPositions"
        ]
        return found

    def _settle(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        self._until_ready()  # the settle window starts once everything is back (a slow start is no fault)
        deadline = time.monotonic() + self.settle_s
        while True:
            try:
                differences = self.differences()
            except (httpx.HTTPError, OSError, ValueError, KeyError, AssertionError):
                differences = None  # the server is still coming back
            if differences is not None and (
                time.monotonic() >= deadline
                or all((d["invariant"], d["positionId"]) in self.seen for d in differences)
            ):
                break  # settled: nothing new is wrong (what was wrong before stays counted once)
            if time.monotonic() >= deadline + 30:
                raise RuntimeError("the server did not answer after the trial:\n" + self.system.logs_tail(15))
            time.sleep(0.2)
        alerts = self.system.admin.execute(LIST_ALERTS)["listAlerts"]
        flagged = {a["positionId"] for a in alerts} | {a["accountId"] for a in alerts if not a["positionId"]}
        violations, alerted = [], []
        for difference in differences:
            key = (difference["invariant"], difference["positionId"])
            if difference["positionId"] in flagged or difference["accountId"] in flagged:
                alerted.append(difference)
            elif key not in self.seen:  # a violation counts once, in the trial that made it
                self.seen.add(key)
                violations.append(difference)
        return violations, alerted

    def differences(self) -> list[dict[str, str]]:
        found: list[dict[str, str]] = []
        for desk in self.desks.values():
            server = {p["id"]: p for p in self._positions(desk)}
            books = desk.terminal()
            held = {h["position_id"]: h for h in books["held"]}
            closes = {c["position_id"]: c for c in books["closes"]}

            def note(invariant: str, position_id: str, detail: str, account: str = desk.account.id) -> None:
                found.append({"invariant": invariant, "positionId": position_id, "accountId": account,
                              "detail": detail})  # fmt: skip

            for pid, h in held.items():
                row = server.get(pid)
                if row is None or row["status"] != "OPEN" or row["mtTicket"] != str(h["ticket"]):
                    note("held", pid, f"terminal holds ticket {h['ticket']}, server has {_brief(row)}")
            for pid, row in server.items():
                if row["status"] == "OPEN" and pid not in held:
                    note(
                        "ghost", pid, f"server has it OPEN (ticket {row['mtTicket']}), the terminal does not"
                    )
                if row["status"] in ("OPENING", "CLOSING"):
                    note("settled", pid, f"left {row['status']}")
            for pid, c in closes.items():
                row = server.get(pid)
                ok = row is not None and row["status"] in ("CLOSED", "STOPPED")
                if not ok or Decimal(str(row["exitPrice"])) != Decimal(str(c["price"])):  # type: ignore[index]
                    note("closed", pid, f"terminal closed it at {c['price']}, server has {_brief(row)}")
            tickets: dict[str, set[str]] = {}
            for record in [*books["held"], *books["closes"]]:
                tickets.setdefault(record["position_id"], set()).add(str(record["ticket"]))
            for pid, seen in tickets.items():
                if len(seen) > 1:
                    note("tickets", pid, f"tickets {sorted(seen)}")
        b_books = self.desks["b"].terminal()
        filled = Counter(r["position_id"] for r in [*b_books["held"], *b_books["closes"]])
        for trigger, hedge in self.triggers.items():
            if filled[hedge] > 1:
                found.append({"invariant": "fired", "positionId": trigger, "accountId": "",
                              "detail": f"hedge {hedge} filled {filled[hedge]} times"})  # fmt: skip
        return found


def _brief(row: dict[str, Any] | None) -> str:
    return "nothing" if row is None else f"{row['status']} ticket {row['mtTicket']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-outage-s", type=float, default=3.0, help="longest cut / restart pause")
    parser.add_argument("--settle-s", type=float, default=15.0, help="how long a trial may take to settle")
    parser.add_argument("--workdir", default=None, help="keep the processes' logs here")
    parser.add_argument("--quiet", action="store_true", help="print the summary line only")
    args = parser.parse_args(argv)
    knobs = paper_ea_knobs()
    if "--state-file" not in knobs:
        print(json.dumps({"error": "this paper EA has no --state-file: the campaign cannot read terminals"}))
        return 2
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="hedge-faults-"))
    workdir.mkdir(parents=True, exist_ok=True)
    campaign = Campaign(workdir, args.seed, args.max_outage_s, args.settle_s)
    faults: Counter[str] = Counter()
    work: Counter[str] = Counter()
    violations: list[dict[str, Any]] = []
    alerted = 0
    started = time.monotonic()
    try:
        for number in range(1, args.trials + 1):
            result = campaign.run_trial(number)
            faults[result["fault"]] += 1
            work[result["work"]] += 1
            violations += [{"trial": number, **v} for v in result["violations"]]
            alerted += len(result["alerted"])
            if not args.quiet:
                print(json.dumps(result), flush=True)
    finally:
        campaign.close()
    summary = {
        "summary": True,
        "trials": args.trials,
        "seed": args.seed,
        "faults": dict(sorted(faults.items())),
        "work": dict(sorted(work.items())),
        "violations": len(violations),
        "violationsByInvariant": dict(Counter(v["invariant"] for v in violations)),
        "alertedDifferences": alerted,
        "crashes": dict(campaign.crashes),
        "firstViolations": violations[:5],
        "seconds": round(time.monotonic() - started, 1),
        "workdir": str(workdir),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
