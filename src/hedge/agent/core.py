"""The agent's decisions, as a synchronous core: fed rows, EA events and time; returns intents.

The shell (runtime.py) feeds it and carries out what it returns. Every decision is a function of
the server's state (the local copy) plus the facts heard from the EAs, so a restart or a repeat
can only lead to the same decisions: an action whose position is already OPENING is not opened
again, a fill already recorded is not recorded twice.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from decimal import Decimal

from hedge.agent.decide import decide
from hedge.agent.facts import Exit, Failure, Fill, InFlight
from hedge.agent.intents import Intent, SendToEA, TriggerActions, UpdateAccount, UpdateAction
from hedge.agent.state import LocalState, Quote, Row
from hedge.config import AgentSettings
from hedge.domain.enums import ActionStatus, ActionType, PositionStatus, Side, TriggerReason
from hedge.domain.models import Position
from hedge.domain.symbols import SymbolCatalog, canonical_symbol
from hedge.domain.trail import TrailBook, closing_price
from hedge.ea.protocol import Sync
from hedge.ea.protocol_messages import (
    AccountUpdate,
    Closed,
    CommandStatus,
    ErrorCode,
    Opened,
    Positions,
    Price,
    Stopped,
)

log = logging.getLogger(__name__)

P = PositionStatus
FINAL = (P.CLOSED, P.STOPPED, P.CANCELED)


class AgentCore:
    def __init__(self, settings: AgentSettings, catalog: SymbolCatalog | None = None) -> None:
        self.settings = settings
        self.catalog = catalog or SymbolCatalog()
        self.state = LocalState()
        self.inflight: dict[str, InFlight] = {}
        self.fills: dict[str, Fill] = {}
        self.exits: dict[str, Exit] = {}
        self.failures: dict[str, Failure] = {}
        self.retries: dict[str, int] = {}
        self.retry_at: dict[str, float] = {}
        self.ea_wait_since: dict[str, float] = {}
        self.connected: set[str] = set()
        self.synced: set[str] = set()
        self.sync_sent: dict[str, tuple[str, float]] = {}
        self.subscribed: dict[str, tuple[str, ...]] = {}
        self.book = TrailBook()
        self.triggers: dict[str, TriggerActions] = {}  # fired, not yet recorded by the server
        self.quotes: dict[tuple[str, str], Quote] = {}
        self.snapshots: dict[str, AccountUpdate] = {}
        self.pushed: dict[str, AccountUpdate] = {}
        self._instance = secrets.token_hex(4)
        self._ids = itertools.count(1)

    def next_command_id(self) -> str:
        return f"{self._instance}-{next(self._ids)}"

    # ------------------------------------------------------------------ rows from the server

    def apply_row(self, row: Row) -> list[Intent]:
        """A row from a subscription, a reload or a mutation answer; intents if a trail fires at once."""
        if not self.state.apply(row):
            return []
        if not isinstance(row, Position):
            return []
        pid = row.id
        if row.status not in (P.PENDING, P.OPENING):
            self.fills.pop(pid, None)
        if row.status is P.OPEN and pid in self.failures and self.failures[pid].kind == "CLOSE":
            del self.failures[pid]
        if row.status in FINAL:
            for table in (self.inflight, self.exits, self.retries, self.retry_at, self.ea_wait_since):
                table.pop(pid, None)
            if row.status is not P.CANCELED:
                self.failures.pop(pid, None)
        if row.trail_triggered_at is not None:
            self.triggers.pop(pid, None)
        return self._sync_watch(row)

    def _sync_watch(self, pos: Position) -> list[Intent]:
        """Watch OPEN positions with a trail width that have not fired; stop watching the rest."""
        wanted = (
            pos.status is P.OPEN
            and pos.trail_width is not None
            and pos.entry_price is not None
            and pos.trail_triggered_at is None
            and pos.id not in self.triggers
        )
        if not wanted:
            self.book.remove(pos.id)
            return []
        if pos.id in self.book:
            return []
        assert pos.trail_width is not None and pos.entry_price is not None
        fired = self.book.add(
            pos.id,
            _quote_key(pos.account_id, pos.symbol),
            pos.side,
            pos.trail_mode,
            pos.entry_price,
            pos.trail_width,
            self.catalog.spec(pos.symbol).pip_size,
        )
        return [self._fire(f.position_id, f.price) for f in fired]

    def _fire(self, position_id: str, price: Decimal) -> Intent:
        intent = TriggerActions(position_id, TriggerReason.TRAIL, price)
        self.triggers[position_id] = intent
        log.info("trail condition met for position %s at %s", position_id, price)
        return intent

    def trigger_settled(self, position_id: str) -> None:
        """The server recorded (or refused for good) the trigger of this position."""
        self.triggers.pop(position_id, None)

    # ------------------------------------------------------------------ EA connections and events

    def ea_connected(self, account_id: str, now: float) -> list[Intent]:
        self.connected.add(account_id)
        self.synced.discard(account_id)
        self.subscribed.pop(account_id, None)
        self.pushed.pop(account_id, None)
        return [
            UpdateAccount(account_id, {"connectionStatus": "CONNECTED"}),
            *self.sync_request(account_id, now),
        ]

    def ea_disconnected(self, account_id: str) -> list[Intent]:
        self.connected.discard(account_id)
        self.synced.discard(account_id)
        self.sync_sent.pop(account_id, None)
        return [UpdateAccount(account_id, {"connectionStatus": "DISCONNECTED"})]

    def sync_request(self, account_id: str, now: float) -> list[Intent]:
        command_id = self.next_command_id()
        self.sync_sent[account_id] = (command_id, now)
        return [SendToEA(account_id, Sync(command_id), "reconcile with the EA's positions")]

    def _foreign(self, account_id: str, position_id: str, what: str) -> bool:
        """True (and logged) when the event names a position of another account: it is ignored."""
        held = self.state.positions.get(position_id)
        if held is None or held.account_id == account_id:
            return False
        log.warning(
            "EA of account %s sent %s for position %s of account %s; ignored",
            account_id, what, position_id, held.account_id,
        )  # fmt: skip
        return True

    def on_opened(self, account_id: str, msg: Opened, now: float) -> list[Intent]:
        pid = msg.position_id
        if self._foreign(account_id, pid, "OPENED"):
            return []
        flight = self.inflight.get(pid)
        if msg.status is CommandStatus.SUCCESS:
            assert msg.mt_ticket is not None and msg.price is not None and msg.time_ms is not None
            held = self.state.positions.get(pid)
            # an unknown position may be one the server has not told us of yet (a restart): keep it
            if held is None or held.status in (P.PENDING, P.OPENING):
                self.fills[pid] = Fill(msg.mt_ticket, msg.price, msg.time_ms, account_id)
            if flight is not None and flight.kind == "OPEN":
                del self.inflight[pid]
            return []
        if flight is None or flight.command_id != msg.command_id:
            return []  # an answer to a command we no longer wait for (a repeat)
        return self._failed(flight, pid, msg.error_code, msg.message or "", now)

    def on_closed(self, account_id: str, msg: Closed, now: float) -> list[Intent]:
        pid = msg.position_id
        if self._foreign(account_id, pid, "CLOSED") or self._settled(pid):
            return []
        flight = self.inflight.get(pid)
        if msg.status is CommandStatus.SUCCESS:
            assert msg.price is not None and msg.time_ms is not None and msg.profit is not None
            self.exits[pid] = Exit(msg.mt_ticket, msg.price, msg.time_ms, msg.profit, account_id=account_id)
            if flight is not None and flight.kind == "CLOSE":
                del self.inflight[pid]
            return []
        if flight is None or flight.command_id != msg.command_id:
            return []
        return self._failed(flight, pid, msg.error_code, msg.message or "", now)

    def _settled(self, position_id: str) -> bool:
        """The position is CLOSED, STOPPED or CANCELED here: a late or repeated event changes nothing."""
        held = self.state.positions.get(position_id)
        return held is not None and held.status in FINAL

    def _failed(self, flight: InFlight, pid: str, code: object, message: str, now: float) -> list[Intent]:
        del self.inflight[pid]
        retryable = getattr(code, "retryable", False)
        wanted = ActionType.ENTRY if flight.kind == "OPEN" else ActionType.CLOSE
        actions = [a for a in self.state.action_for(pid, ActionStatus.EXECUTING) if a.type is wanted]
        # retries already recorded on the server count too (this agent may have restarted since)
        done = max([self.retries.get(pid, 0), *(a.retry_count for a in actions)])
        if retryable and done < self.settings.max_retries:
            self.retries[pid] = done + 1
            self.retry_at[pid] = now + self.settings.retry_backoff_s * (2**done)
            log.info("%s of position %s failed (%s); retry %d in %.2f s", flight.kind, pid, code, done + 1,
                     self.retry_at[pid] - now)  # fmt: skip
            return [
                UpdateAction(a.id, {"retryCount": done + 1}, f"retry {done + 1} after {code}")
                for a in actions
            ]
        text = f"{flight.kind} failed: {code}: {message}" if code else f"{flight.kind} failed: {message}"
        if retryable:
            text += f" (after {done} retries)"
        self.failures[pid] = Failure(flight.kind, code if isinstance(code, ErrorCode) else None, text)
        return []

    def on_stopped(self, account_id: str, msg: Stopped) -> list[Intent]:
        pid = msg.position_id
        if self._foreign(account_id, pid, "STOPPED") or self._settled(pid):
            return []
        self.exits[pid] = Exit(
            msg.mt_ticket, msg.price, msg.time_ms, msg.profit, msg.reason or "STOPPED", account_id
        )
        return []

    def on_positions(self, account_id: str, msg: Positions) -> list[Intent]:
        sent = self.sync_sent.get(account_id)
        if sent is None or sent[0] != msg.command_id:
            return []
        del self.sync_sent[account_id]
        self.synced.add(account_id)
        held = {
            report.position_id: report
            for report in msg.positions
            if not self._foreign(account_id, report.position_id, "POSITIONS")
        }
        for pid, report in held.items():
            pos = self.state.positions.get(pid)
            wanted = pos is None or pos.status in (P.PENDING, P.OPENING)  # unknown: maybe not loaded yet
            if wanted and pid not in self.fills:
                self.fills[pid] = Fill(report.mt_ticket, report.open_price, report.open_time_ms, account_id)
        for pid, flight in list(self.inflight.items()):
            if flight.account_id == account_id:
                del self.inflight[pid]  # unanswered: decide() sends it again (the EA is idempotent)
        for pos in self.state.positions_in(P.OPEN):
            if pos.account_id == account_id and pos.id not in held and pos.id not in self.exits:
                log.warning(
                    "position %s is OPEN here but the EA does not hold it; waiting for its STOPPED", pos.id
                )
        return []

    def on_price(self, account_id: str, msg: Price) -> list[Intent]:
        account = self.state.accounts.get(account_id)
        symbol = canonical_symbol(msg.symbol, account.symbol_map if account else None)
        key = _quote_key(account_id, symbol)
        self.quotes[(account_id, symbol)] = Quote(msg.bid, msg.ask, msg.time_ms)
        return [self._fire(f.position_id, f.price) for f in self.book.on_price(key, msg.bid, msg.ask)]

    def on_account(self, account_id: str, msg: AccountUpdate) -> list[Intent]:
        self.snapshots[account_id] = msg
        if account_id not in self.pushed:  # the first snapshot after connecting goes at once
            return self.push_accounts()
        return []

    def push_accounts(self) -> list[Intent]:
        """The latest snapshot of each EA that changed since it was last sent (every 30 s)."""
        intents: list[Intent] = []
        for account_id, snap in self.snapshots.items():
            if self.pushed.get(account_id) == snap or account_id not in self.connected:
                continue
            self.pushed[account_id] = snap
            changes = {
                "balance": snap.balance,
                "credit": snap.credit,
                "equity": snap.equity,
                "margin": snap.margin,
                "marginLevel": max(snap.margin_level, Decimal(0)),
            }
            intents.append(UpdateAccount(account_id, changes))
        return intents

    # ------------------------------------------------------------------ decisions

    def decide(self, now: float) -> list[Intent]:
        """Everything that should happen now, given the rows, the facts and the time."""
        return decide(self, now)

    # ------------------------------------------------------------------ views

    def unrealized(self, pos: Position) -> tuple[Decimal, Decimal] | None:
        """(currentPrice, unrealizedPL in the quote currency) of an OPEN position, from the last quote.

        Kept locally and worked out when asked, never written per tick (the seed's LocalCache)."""
        quote = self.quotes.get((pos.account_id, pos.symbol))
        if quote is None or pos.entry_price is None:
            return None
        current = closing_price(pos.side, quote.bid, quote.ask)
        sign = 1 if pos.side is Side.BUY else -1
        spec = self.catalog.spec(pos.symbol)
        return current, (current - pos.entry_price) * sign * pos.volume * spec.contract_size

    def open_positions(self) -> list[dict[str, object]]:
        """The OPEN positions with their current price and unrealized P/L, for the agent's /healthz."""
        shown: list[dict[str, object]] = []
        for pos in self.state.positions_in(PositionStatus.OPEN):
            marked = self.unrealized(pos)
            shown.append(
                {
                    "positionId": pos.id,
                    "accountId": pos.account_id,
                    "symbol": pos.symbol,
                    "side": pos.side.value,
                    "volume": str(pos.volume),
                    "entryPrice": None if pos.entry_price is None else str(pos.entry_price),
                    "currentPrice": None if marked is None else str(marked[0]),
                    "unrealizedPL": None if marked is None else str(marked[1]),
                    "quoteCurrency": pos.symbol[3:] if len(pos.symbol) == 6 else None,
                }
            )
        return shown


def _quote_key(account_id: str, symbol: str) -> str:
    """Trail rules read the prices of the position's own account (brokers quote differently)."""
    return f"{account_id}|{symbol}"
