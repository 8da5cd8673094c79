"""`hedge demo`: the whole system on one machine, running the seed's §5-1 example.

Starts the server (SQLite in a temporary directory unless told otherwise), two users with one
account each, their agents and paper EAs; then position A of user 1 is opened with a trail
whose trigger action opens a hedge (position B) on user 2's account. Every change is printed as
it happens. `--scenario-only` exits 0 once the hedge is open, non-zero with the reason if not.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hedge import eventloop
from hedge.agent.runtime import AgentRuntime
from hedge.api.runner import serve
from hedge.client.graphql import GraphQLClient
from hedge.config import AgentSettings, ServerSettings
from hedge.domain.tokens import new_token
from hedge.ea.paper import PaperEA
from hedge.ea.paper_config import PaperConfig
from hedge.ea.paper_shared_market import set_shared_bid

SYMBOL = "USDJPY"
START_BID, START_ASK = Decimal("150.000"), Decimal("150.010")
SPREAD_PIPS = Decimal("1")  # ask = bid + 0.010, as START_ASK
BROKER_OFFSET_PIPS = {1: Decimal("0"), 2: Decimal("0.3")}  # user 2's broker quotes 0.3 pips higher
TICK_MS = 50  # how often each paper EA reads the shared market


def market_file(workdir: Path) -> Path:
    return workdir / "market.json"


TRAIL_PIPS = Decimal("10")


def run_demo(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return eventloop.run(_demo(args))
    except KeyboardInterrupt:
        return 0


@dataclass
class Party:
    """A demo user: its name, its account, its GraphQL client (with its token), agent and paper EA."""

    name: str
    account_id: str
    client: GraphQLClient
    agent: AgentRuntime | None = None
    ea: PaperEA | None = None


class Narrator:
    """Prints one line per change a person can follow, with short names for the rows."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # row id -> the scenario's name for it (A, B, act-001)
        self.users: dict[str, str] = {}  # user id -> "user 1"
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:7.3f}s] {text}", flush=True)

    def name(self, row: dict[str, Any]) -> str:
        owner = self.users.get(row.get("userId", ""), "admin")
        return self.names.get(row["id"], f"{row['id']} of {owner}")

    def change(self, kind: str, row: dict[str, Any]) -> None:
        label = self.name(row)
        if kind.endswith("Position"):
            extra = ""
            if row.get("status") == "OPEN" and row.get("entryPrice"):
                extra = f" at {row['entryPrice']} (ticket {row.get('mtTicket')})"
            if row.get("trailTriggeredAt") and row.get("status") == "OPEN":
                extra += " — trail condition met, trigger actions fired"
            what = f"{row['side']} {row['volume']} {row['symbol']}"
            self.say(f"position {label}: {what} {row['status']}{extra} (v{row['version']})")
        else:
            extra = f" — {row['errorMessage']}" if row.get("errorMessage") else ""
            self.say(f"action {label}: {row['type']} {row['status']}{extra} (v{row['version']})")


async def _demo(args: argparse.Namespace) -> int:
    # everything the demo writes (store, agents' state, the shared market, the tokens) goes in one
    # folder of its own, removed when the demo stops
    with tempfile.TemporaryDirectory(prefix="hedge-demo-", ignore_cleanup_errors=True) as folder:
        return await _demo_in(args, Path(folder))


async def _demo_in(args: argparse.Namespace, workdir: Path) -> int:
    database_url = args.database_url or f"sqlite:///{workdir / 'hedge.db'}"
    admin_token = new_token()
    port = args.port if args.port == 0 or _port_free(args.port) else 0
    settings = ServerSettings.from_env({}, database_url=database_url, port=port, admin_token=admin_token)
    narrator = Narrator()
    async with serve(settings) as url:
        tokens = _write_tokens(workdir / "tokens.txt", admin_token, [])  # the users' join it later
        print(
            f"Console (watch the scenario live): {url}/   sign in with the admin token in {tokens}",
            flush=True,
        )
        narrator.say(f"server up at {url}/graphql (database {database_url})")
        async with (
            GraphQLClient(url, admin_token) as admin,
            _parties(url, admin, workdir, narrator) as parties,
        ):
            watcher = asyncio.create_task(_watch(admin, narrator))
            try:
                ok, reason = await _scenario(admin, parties, narrator, args.timeout_s, workdir)
                if ok:
                    narrator.say("scenario complete: the hedge of position A is open on user 2's account")
                else:
                    narrator.say(f"scenario FAILED: {reason}")
                if args.scenario_only:
                    return 0 if ok else 1
                _print_urls(url, _write_tokens(tokens, admin_token, parties), parties)
                await _interrupted()
                print("\nstopping: agents and EAs, then the server")
            finally:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
    return 0


async def _interrupted() -> None:
    """Wait for Ctrl-C (SIGINT) or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _write_tokens(path: Path, admin_token: str, parties: list[Party]) -> Path:
    """The demo's throwaway tokens in a file only this user can read (never on the screen)."""
    lines = [f"admin (admin@hedge.local): {admin_token}"]
    lines += [
        f"{party.name} (trader{i}@demo.local): {party.client.token}" for i, party in enumerate(parties, 1)
    ]
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n")
    return path


def _print_urls(url: str, tokens: Path, parties: list[Party]) -> None:
    print("\nThe system keeps running; press Ctrl-C to stop (the demo's folder is removed then).")
    print(f"  console:                  {url}/   sign in with a token from {tokens}")
    print(f"  GraphQL API and GraphiQL: {url}/graphql   (Authorization: Bearer <a token from that file>)")
    print(f"  server health:            {url}/healthz    metrics: {url}/metrics")
    for party in parties:
        assert party.agent is not None
        print(f"  {party.name}: agent EA port ws://127.0.0.1:{party.agent.ea_port}/  health: "
              f"http://127.0.0.1:{party.agent.ea_port}/healthz")  # fmt: skip
    print("  Tokens are secrets: the server shows each one once (createUser, rotateToken) and never logs it;")
    print("  this demo keeps its throwaway ones in that file, readable only by you, not on the screen.")
    sys.stdout.flush()


@asynccontextmanager
async def _parties(
    url: str, admin: GraphQLClient, workdir: Path, narrator: Narrator
) -> AsyncIterator[list[Party]]:
    parties: list[Party] = []
    tasks: list[asyncio.Task[None]] = []
    set_shared_bid(market_file(workdir), SYMBOL, START_BID)  # one market, quoted by both brokers
    for index, name in ((1, "user 1"), (2, "user 2")):
        created = await admin.execute(
            "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } token } }",
            {"i": {"email": f"trader{index}@demo.local", "name": f"Trader {index}", "role": "CLIENT"}},
        )
        user_id, token = created["createUser"]["user"]["id"], created["createUser"]["token"]
        number = f"{index}000{index}"
        account = await admin.execute(
            "mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }",
            {"i": {"userId": user_id, "brokerType": "MT5", "accountNumber": number,
                   "serverName": "Paper-Demo", "displayName": f"{name} demo account", "leverage": 100}},
        )  # fmt: skip
        ea_token = secrets.token_urlsafe(16)
        agent = AgentRuntime(
            AgentSettings(server_url=url, token=token, ea_token=ea_token, ea_port=0,
                          state_dir=str(workdir / f"agent{index}"))
        )  # fmt: skip
        tasks.append(asyncio.create_task(agent.run()))
        await agent.listening.wait()
        ea = PaperEA(
            PaperConfig(account_number=number, server_name="Paper-Demo", ea_token=ea_token,
                        agent_url=f"ws://127.0.0.1:{agent.ea_port}", symbols=(SYMBOL,), feed="static",
                        tick_interval_ms=TICK_MS, seed=index, auth_retry_delay_s=0.2,
                        reconnect_initial_delay_s=0.1, market_file=market_file(workdir),
                        market_offset_pips=BROKER_OFFSET_PIPS[index], spread_pips=SPREAD_PIPS)
        )  # fmt: skip
        tasks.append(asyncio.create_task(ea.run()))
        await asyncio.wait_for(ea.online.wait(), 15)
        narrator.users[user_id] = name
        narrator.say(f"{name}: agent and paper EA connected (account {number})")
        parties.append(Party(name, account["createAccount"]["id"], GraphQLClient(url, token), agent, ea))
    try:
        yield parties
    finally:
        logging.getLogger("hedge.ea.paper").setLevel(logging.ERROR)  # losing the agent is the plan now
        for group in (tasks[0::2], tasks[1::2]):  # the agents first: nobody left to report the EAs gone
            for task in group:
                task.cancel()
            await asyncio.gather(*group, return_exceptions=True)
        for party in parties:
            await party.client.close()


async def _watch(admin: GraphQLClient, narrator: Narrator) -> None:
    async with admin.connection() as conn:
        names = {}
        for field in ("onCreatePosition", "onUpdatePosition", "onCreateAction", "onUpdateAction"):
            fields = ("id userId side volume symbol status entryPrice mtTicket trailTriggeredAt version"
                      if "Position" in field else "id userId type status errorMessage version")  # fmt: skip
            names[await conn.start(f"subscription {{ {field} {{ {fields} }} }}")] = field
        while True:
            message = await conn.next_message()
            if message.get("type") == "next":
                for field, row in message["payload"]["data"].items():
                    narrator.change(field, row)


async def _scenario(
    admin: GraphQLClient, parties: list[Party], narrator: Narrator, timeout_s: float, workdir: Path
) -> tuple[bool, str]:
    user1, user2 = parties
    assert user1.ea is not None
    hedge = await user2.client.execute(
        "mutation($i: CreateActionInput!) { createAction(input: $i) { action { id } position { id } } }",
        {
            "i": {
                "type": "ENTRY",
                "accountId": user2.account_id,
                "symbol": SYMBOL,
                "side": "SELL",
                "volume": 0.1,
            }
        },
    )
    act_id, b_id = hedge["createAction"]["action"]["id"], hedge["createAction"]["position"]["id"]
    narrator.names.update({act_id: "act-001", b_id: "B"})
    narrator.say("user 2 planned the hedge: ENTRY action act-001 (SELL 0.1 USDJPY), position B PENDING")
    entry = await user1.client.execute(
        "mutation($i: CreateActionInput!) { createAction(input: $i) { action { id } position { id } } }",
        {"i": {"type": "ENTRY", "accountId": user1.account_id, "symbol": SYMBOL, "side": "BUY", "volume": 0.1,
               "trailWidth": float(TRAIL_PIPS)}},
    )  # fmt: skip
    a_id = entry["createAction"]["position"]["id"]
    narrator.names.update({a_id: "A", entry["createAction"]["action"]["id"]: "A's entry"})
    narrator.say(f"user 1 planned position A: BUY 0.1 USDJPY with a {TRAIL_PIPS}-pip trail")
    await admin.execute(
        "mutation($i: UpdatePositionInput!) { updatePosition(input: $i) { id } }",
        {"i": {"id": a_id, "triggerActionIds": [act_id]}},
    )
    narrator.say("admin linked act-001 to position A's triggerActionIds (cross-user)")
    await user1.client.execute(
        "mutation($i: UpdatePositionInput!) { updatePosition(input: $i) { id } }",
        {"i": {"id": a_id, "status": "OPENING"}},
    )
    narrator.say("user 1 pressed execute: position A → OPENING")
    deadline = time.monotonic() + timeout_s
    if await _until(user1.client, "Position", a_id, "OPEN", deadline) != "OPEN":
        return False, "position A did not open"
    target_bid = START_ASK + TRAIL_PIPS * Decimal("0.01")  # A was bought at the ask
    for step in range(1, 6):
        bid = START_BID + (target_bid - START_BID) * step / 5
        other = bid + BROKER_OFFSET_PIPS[2] * Decimal("0.01")
        narrator.say(f"market moves: USDJPY bid {bid:.3f} at user 1's broker, {other:.3f} at user 2's")
        set_shared_bid(market_file(workdir), SYMBOL, bid)
        await asyncio.sleep(0.2)
    if await _until(user2.client, "Position", b_id, "OPEN", deadline) != "OPEN":
        return False, "the hedge (position B) did not open on user 2's account"
    action_status = await _until(user2.client, "Action", act_id, "EXECUTED", deadline)
    if action_status != "EXECUTED":
        return False, f"act-001 is {action_status}, expected EXECUTED"
    return True, ""


async def _until(client: GraphQLClient, kind: str, row_id: str, status: str, deadline: float) -> str:
    """Poll a Position or Action until it has `status` or the deadline passes; the last status seen
    ("not checked" when the deadline had already passed)."""
    query = f"query($id: ID!) {{ get{kind}(id: $id) {{ status }} }}"
    found = "not checked"
    while time.monotonic() < deadline:
        found = (await client.execute(query, {"id": row_id}))[f"get{kind}"]["status"]
        if found == status:
            break
        await asyncio.sleep(0.05)
    return found
