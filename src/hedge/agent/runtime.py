"""The agent's asyncio shell: feeds the core with rows, EA frames and time, and carries out intents.

Intents for the EAs go out at once, in the order the core gave them; mutations run as tasks, one
at a time per row, and their answers go back into the core. A decision pass runs after every
input and on a 100 ms timer (for timeouts and retries).

It acts only while it holds its user's agent lease (`lease.py`): the server link, the decision
loops and the EA events run while the lease is held; a standby agent refuses EAs ("agent not
ready", they retry) and does nothing else. Every long-lived task is supervised (`supervise.py`);
a refused token ends `run()` with TokenRefused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from hedge import hop_probes, hops
from hedge.agent import documents as doc
from hedge.agent import figures
from hedge.agent.controls import TRADING_CONTROLS
from hedge.agent.core import AgentCore
from hedge.agent.gateway import EAGateway
from hedge.agent.intents import (
    Intent,
    SendToEA,
    TriggerActions,
    UpdateAccount,
    UpdatePosition,
    busy_key,
)
from hedge.agent.lease import AgentLease, LeaseState
from hedge.agent.link import LINK_ERRORS, ServerLink
from hedge.agent.local_copy import LocalCopy
from hedge.agent.mutations import send_mutation
from hedge.agent.state import Row
from hedge.agent.supervise import retrieve, supervised
from hedge.agent.tracing import correlation_of, position_correlation
from hedge.agent.wire import from_gql
from hedge.client.graphql import GraphQLClient, GraphQLClientError, TokenRefused
from hedge.config import AgentSettings, load_symbol_specs
from hedge.domain.models import Account, Action, Position
from hedge.ea.protocol import AGENT_NOT_READY, Close, Message, Open
from hedge.ea.protocol_messages import (
    AccountUpdate,
    Closed,
    Error,
    HistoryResult,
    Opened,
    Positions,
    Price,
    Stopped,
    Symbols,
)
from hedge.logs import correlated

log = logging.getLogger(__name__)

REFETCH = {"Position": doc.GET_POSITION, "Action": doc.GET_ACTION}
STOP_TIMEOUT_S = 2.0  # how long a stop waits for each of its steps
CONTROLS_REFRESH_S = 15.0  # the trading controls are read again this often (besides the subscription)
TRIGGER_SETTLED = ("INVALID_TRANSITION", "NOT_FOUND", "FORBIDDEN")  # triggerActions refused for good
CLOSE_STANDBY = 1013  # "try again later": another agent of this user acts now


class AgentRuntime:
    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings
        self._specs = load_symbol_specs(settings.symbol_specs)
        self._local = LocalCopy(settings.state_dir)
        self.core = AgentCore(settings, self._specs, on_fired=self._local.fired)  # journals each trigger
        self.client = GraphQLClient(settings.server_url, settings.token, ca_file=settings.ca_file or None)
        self.link = ServerLink(
            self.client, self._on_rows, self._on_link_state, settings.reconnect_max_s, self._on_controls
        )
        self.agent_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.lease = AgentLease(self.client, self.agent_id, settings.lease_ttl_s, self._on_lease)
        self.gateway = EAGateway(
            self,
            settings.ea_token,
            ping_interval_s=settings.ping_interval_s,
            dead_after_s=settings.dead_after_s,
        )
        self.ea_port = settings.ea_port
        self._dirty = asyncio.Event()
        self.listening = asyncio.Event()  # set once the EA port is bound (ea_port is then known)
        self._loaded = asyncio.Event()
        self._busy: set[str] = set()
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._acting: asyncio.Task[None] | None = None
        self._core_used = False  # the core has acted: a new grant starts from a fresh one
        self._fatal: asyncio.Future[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Serve the EAs and, while holding the lease, act, until cancelled; a refused token
        raises TokenRefused."""
        self._fatal = asyncio.get_running_loop().create_future()
        if hops.ON:
            hop_probes.start(asyncio.get_running_loop())
        self._local.restore_accounts(self.core)
        self._local.restore_orders(self.core)
        self.ea_port = await self.gateway.start(self.settings.ea_host, self.settings.ea_port)
        self.listening.set()
        log.info(
            "EA port listening on ws://%s:%d/ (agent %s)", self.settings.ea_host, self.ea_port, self.agent_id
        )
        lease = self._spawn("agent-lease", self.lease.run)
        try:
            await self._fatal
        finally:
            await self._shutdown(lease)

    async def _shutdown(self, lease: asyncio.Task[None]) -> None:
        """Stop acting at once, give the lease up (another agent may take over now), then close.
        Every step is bounded: a stop never hangs on a slow peer."""
        self._stopping = True  # no more intents; EAs dropped below are not news for the server
        running = [lease, *([self._acting] if self._acting else []), *self._tasks]
        for task in running:
            task.cancel()
        await self.lease.release()
        _, stuck = await asyncio.wait(running, timeout=STOP_TIMEOUT_S) if running else (set(), set())
        if stuck:
            log.warning("stopping without waiting for %s", ", ".join(t.get_name() for t in stuck))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.gateway.close(), STOP_TIMEOUT_S)
        await self.client.close()

    def _spawn(self, name: str, run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """A supervised task; a refused token from it stops the agent."""
        task = asyncio.get_running_loop().create_task(
            supervised(name, run, fatal=(TokenRefused,), max_delay_s=self.settings.reconnect_max_s), name=name
        )
        task.add_done_callback(self._task_ended)
        return task

    def _task_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._fatal is None or self._fatal.done():
            return
        exc = task.exception()
        if exc is not None:
            self._fatal.set_exception(exc)

    async def _act(self) -> None:
        """What the agent does while it holds the lease: the server link and the decision loops."""
        top = self.settings.reconnect_max_s
        loop = asyncio.get_running_loop()
        tasks = [
            loop.create_task(
                supervised("server-link", self.link.run, fatal=(TokenRefused,), max_delay_s=top)
            ),
            loop.create_task(supervised("decide", self._decide_loop, max_delay_s=top)),
            loop.create_task(supervised("account-push", self._push_loop, max_delay_s=top)),
            loop.create_task(supervised("controls-refresh", self._controls_loop, max_delay_s=top)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # a refused token
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _on_lease(self, old: LeaseState, new: LeaseState) -> None:
        acting = new in (LeaseState.HELD, LeaseState.UNSUPPORTED)
        if acting and self._acting is None:
            if self._core_used:
                self._fresh_core()
            self._core_used = True
            self._acting = self._spawn("acting", self._act)
            now = time.monotonic()
            for session in list(self.gateway.sessions.values()):  # EAs that came in while not acting
                self._execute(self.core.ea_connected(session.account.id, now, session.margin_mode))
            self.kick()
        elif not acting and self._acting is not None:
            self._acting.cancel()
            self._acting = None
            for task in list(self._tasks):
                task.cancel()
            self._busy.clear()
            self._loaded.clear()
            if new is LeaseState.STANDBY:
                for session in list(self.gateway.sessions.values()):
                    task = asyncio.get_running_loop().create_task(
                        session.connection.close(CLOSE_STANDBY, "another agent of this user acts now")
                    )
                    task.add_done_callback(retrieve)

    def _fresh_core(self) -> None:
        """A new core for a new grant: what the old one believed in flight may be stale by now."""
        accounts = list(self.core.state.accounts.values())
        # but a command it sent may be at a terminal (kept as such), and a trigger it decided
        # and the server has not recorded is a decision, not a belief: asked again, as it was
        saved = self.core.saved_state()  # (the same state orders.json keeps across a restart)
        controls = self.core.controls
        self.core = AgentCore(self.settings, self._specs, on_fired=self._local.fired)
        self.core.restore(saved)
        self.core.controls.restore(controls)  # the kill switch as last heard, until read again
        for account in accounts:
            self.core.state.apply(account)

    @property
    def acting(self) -> bool:
        return self._acting is not None and self.lease.holds()

    async def _decide_loop(self) -> None:
        period = self.settings.trail_timer_ms / 1000
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), period)
            self._dirty.clear()
            self._execute(self.core.decide(time.monotonic()))
            if time.monotonic() - self._local.orders_saved_at >= 1.0:
                if hops.ON:
                    hops.stamp("p.task", f"{os.getpid()}/save_orders")
                self._local.save_orders(self.core)

    async def _push_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.account_push_interval_s)
            if hops.ON:
                hops.stamp("p.task", f"{os.getpid()}/account_push")
            self._execute(self.core.push_accounts())
            await self._report_figures()

    async def _report_figures(self) -> None:
        """The OPEN positions' figures for the console (best effort: the next report replaces them)."""
        try:
            await figures.report(self.link, self.core)
        except (GraphQLClientError, *LINK_ERRORS) as exc:
            log.warning("position figures not recorded (%s); the next report replaces them", exc)

    async def _controls_loop(self) -> None:
        """Read the trading controls again now and then: the subscription carries each change at
        once, this heals one lost in the moment between subscribing and the first read."""
        while True:
            await asyncio.sleep(CONTROLS_REFRESH_S)
            if not (self.link.connected and self.link.controls_supported):
                continue
            if hops.ON:
                hops.stamp("p.task", f"{os.getpid()}/controls_refresh")
            try:
                data = await self.link.query(TRADING_CONTROLS)
            except (GraphQLClientError, *LINK_ERRORS) as exc:
                log.warning("could not read the trading controls again (%s)", exc)
                continue
            self._on_controls(data["tradingControls"])

    def _on_controls(self, items: list[dict[str, Any]]) -> None:
        """The controls as the server has them now (read on connect, then each change): heard.
        The first read comes before the rows are reloaded, so no row is judged as unheard."""
        self.core.controls.link_up()
        if self.core.controls.apply_data(items):
            self.kick()

    def kick(self) -> None:
        self._dirty.set()

    # ------------------------------------------------------------------ server side

    def _on_rows(self, rows: list[Row]) -> None:
        intents: list[Intent] = []
        now = time.monotonic()
        for row in rows:
            intents += self.core.apply_row(row, now)
        if any(isinstance(r, Account) for r in rows):
            self._local.save_accounts(self.core)
        self._execute(intents)
        self._execute(self.core.decide(time.monotonic()))  # at once: an EXECUTING action is news

    def _on_link_state(self, up: bool) -> None:
        if up:
            self.core.controls.link_up()
        else:
            self.core.controls.link_down(time.monotonic())
        if up:
            self.core.state.loaded = True
            self._loaded.set()
            self.core.server_linked()
            task = asyncio.get_running_loop().create_task(self._adopt_alerts())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.kick()

    async def _adopt_alerts(self) -> None:
        """Open alerts an earlier run raised: resolved here once their condition is gone."""
        try:
            data = await self.client.execute(doc.OPEN_ALERTS)
        except (GraphQLClientError, *LINK_ERRORS) as exc:
            log.warning("could not read the open alerts (%s); raising afresh only", exc)
            return
        self.core.adopt_alerts(
            [a for a in data["listAlerts"] if a.get("userId") in (None, self.link.user_id)]
        )

    def _execute(self, intents: list[Intent]) -> None:
        if self._stopping or not intents:
            return
        if not self.acting:
            log.warning(
                "not acting (agent lease %s): %d intents not carried out", self.lease.state, len(intents)
            )
            return
        for intent in intents:
            if isinstance(intent, SendToEA):
                with correlated(correlation_of(self.core.state, intent)):
                    self._send_to_ea(intent)
                continue
            key = busy_key(intent)
            if key is None or key in self._busy:
                continue
            self._busy.add(key)
            with correlated(correlation_of(self.core.state, intent)):  # the task's log lines carry it
                task = asyncio.get_running_loop().create_task(self._mutate(intent, key), name=f"mutate {key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(self._mutation_ended)

    def _send_to_ea(self, intent: SendToEA) -> None:
        if isinstance(intent.command, Open | Close):  # first on disk: after a crash the
            command = intent.command  # command counts as maybe sent
            self._local.sent(command.TYPE, command.position_id, command.command_id)
        if hops.ON and isinstance(intent.command, Open):
            hops.stamp("a2.open_sent", intent.command.position_id)
        if not self.gateway.send(intent.account_id, intent.command):
            log.warning("no EA connected for account %s to send %s", intent.account_id, intent.command.TYPE)
        else:
            log.info(
                "→ EA %s: %s (%s)", self._account_name(intent.account_id), intent.command.TYPE, intent.why
            )

    def _mutation_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and isinstance(task.exception(), TokenRefused):
            self._task_ended(task)  # the agent stops: its token is refused
        else:
            retrieve(task)  # logged with the task's name; the decision pass tries again

    async def _mutate(self, intent: Intent, key: str) -> None:
        hold_s = 0.0
        try:
            rows = await send_mutation(self.link, self.core, intent)
            if isinstance(intent, TriggerActions):
                self.core.trigger_settled(intent.position_id)
            elif isinstance(intent, UpdateAccount):
                self.core.account_recorded(intent.account_id, intent.changes)
            self._on_rows(rows)
        except GraphQLClientError as exc:
            hold_s = await self._mutation_refused(intent, key, exc)
        except LINK_ERRORS as exc:
            log.warning("mutation for %s failed (%s); will retry", key, exc)
            hold_s = 1.0
        finally:
            if hold_s:
                await asyncio.sleep(hold_s)
            self._busy.discard(key)
            self.kick()

    async def _mutation_refused(self, intent: Intent, key: str, exc: GraphQLClientError) -> float:
        log.warning("server refused %s for %s: %s", type(intent).__name__, key, exc)
        if (
            isinstance(intent, UpdatePosition)
            and intent.changes.get("status") == "OPENING"
            and exc.code == "VALIDATION"
        ):  # a pre-trade check refused it: nothing was sent, the ENTRY fails saying why
            self.core.opening_refused(intent.position_id, exc.message, time.monotonic())
            return 0.0
        if isinstance(intent, TriggerActions) and exc.code in TRIGGER_SETTLED:
            self.core.trigger_settled(intent.position_id)
            return 0.0
        entity, _, entity_id = key.partition(":")
        if entity in REFETCH and exc.code in ("INVALID_TRANSITION", "CONFLICT", "VALIDATION"):
            with contextlib.suppress(*LINK_ERRORS):
                data = await self.client.execute(REFETCH[entity], {"id": entity_id})
                found = next(iter(data.values()))
                if found is not None:
                    row: Row = from_gql(Position, found) if entity == "Position" else from_gql(Action, found)
                    self._on_rows([row])
        return 0.5 if exc.code in ("INVALID_TRANSITION", "CONFLICT") else 5.0

    # ------------------------------------------------------------------ EA side (EAHandler)

    async def find_account(self, account_number: str, server_name: str) -> Account | str:
        if self.lease.state is LeaseState.STANDBY:
            return AGENT_NOT_READY  # another agent of this user acts: the EA retries (maybe there)
        if not self.core.state.accounts:
            try:
                await asyncio.wait_for(self._loaded.wait(), self.settings.auth_wait_s)
            except TimeoutError:
                return AGENT_NOT_READY
        found = self.core.state.account_by_number(account_number, server_name)
        if found is None:
            return f"account {account_number} on {server_name} is not an account of this agent's user"
        return found

    def on_connect(self, account: Account) -> None:
        if not self.acting:
            return  # replayed when the agent starts to act
        session = self.gateway.sessions.get(account.id)
        margin_mode = session.margin_mode if session is not None else None
        self._execute(self.core.ea_connected(account.id, time.monotonic(), margin_mode))
        self.kick()

    def on_disconnect(self, account: Account) -> None:
        if not self.acting:
            return
        self._execute(self.core.ea_disconnected(account.id, time.monotonic()))
        self.kick()

    def on_message(self, account: Account, msg: Message) -> None:
        if not self.acting:
            return  # a standby agent decides nothing; it reads the terminal again when it acts
        now = time.monotonic()
        intents: list[Intent]
        if isinstance(msg, Price):
            intents = self.core.on_price(account.id, msg)
            if hops.ON:
                _stamp_decisions(intents)
        elif isinstance(msg, Opened):
            intents = self.core.on_opened(account.id, msg, now)
        elif isinstance(msg, Closed):
            intents = self.core.on_closed(account.id, msg, now)
        elif isinstance(msg, Stopped):
            intents = self.core.on_stopped(account.id, msg, now)
        elif isinstance(msg, Positions):
            intents = self.core.on_positions(account.id, msg, now)
        elif isinstance(msg, HistoryResult):
            intents = self.core.on_history(account.id, msg, now)
        elif isinstance(msg, Symbols):
            intents = self.core.on_symbols(account.id, msg)
        elif isinstance(msg, AccountUpdate):
            intents = self.core.on_account(account.id, msg)
        else:
            if isinstance(msg, Error):
                log.warning("EA of account %s reported an error: %s", account.account_number, msg)
                self.core.on_error(account.id, msg)
            return
        if not isinstance(msg, Price):
            cid = (
                position_correlation(self.core.state, msg.position_id)
                if isinstance(msg, Opened | Closed)
                else None
            )
            log.info("← EA %s: %s", account.account_number, msg.TYPE, extra={"correlation_id": cid})
        self._execute(intents)
        if isinstance(msg, Price):
            if intents:  # a trail fired: its trigger mutation goes out first, the pass right after
                self.kick()
        else:
            self._execute(self.core.decide(now))

    def health(self) -> dict[str, object]:
        acting = self.acting
        return {
            "serverConnected": self.link.connected if acting else self.lease.reachable,
            "role": "ACTING" if acting else "STANDBY",  # beyond the contract: the agent lease
            "lease": {
                "state": self.lease.state.value,
                "agentId": self.agent_id,
                "holderId": self.lease.holder_id,
            },
            "accounts": [
                {
                    "accountId": s.account.id,
                    "accountNumber": s.account.account_number,
                    "serverName": s.account.server_name,
                }
                for s in self.gateway.sessions.values()
            ],
            "openPositions": self.core.open_positions(),  # beyond the contract: kept locally, per tick
            "orders": self.core.orders_view(),  # what waits for a terminal's word
            "trading": self.core.controls.view(  # beyond the contract: the kill switch as this agent holds it
                [(s.account.user_id, s.account.id) for s in self.gateway.sessions.values()], time.monotonic()
            ),
        }

    # ------------------------------------------------------------------ local copy of the accounts

    def _account_name(self, account_id: str) -> str:
        account = self.core.state.accounts.get(account_id)
        return account.account_number if account else account_id


def _stamp_decisions(intents: list[Intent]) -> None:
    for intent in intents:
        if isinstance(intent, TriggerActions):
            hops.stamp("a1.ea_rx", intent.position_id, hops.frame_ns)
            hops.stamp("a1.decided", intent.position_id)
