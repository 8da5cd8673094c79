"""The agent's decisions, as a synchronous core: fed rows, EA events and time; returns intents.

The shell (runtime.py) feeds it and carries out what it returns. Each position's orders at its
terminal live in one `OrderTracker` (hedge.domain.orders, one transition table); the server's
row says what is wanted, the tracker what the terminal has said. Decisions (decide.py) read
both; reconciliation with the terminal's word (POSITIONS, HISTORY_RESULT) is in reconcile.py.
A restart or a repeat leads to the same decisions: a command that may have reached the terminal
is never given up or sent again until the terminal has said what became of it.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hedge.agent import answers, reconcile, saved_trigger, views
from hedge.agent.alerts import AlertBook
from hedge.agent.controls import ControlBook
from hedge.agent.decide import decide
from hedge.agent.intents import AlertKey, Intent, SendToEA, TriggerActions, UpdateAccount
from hedge.agent.order_guards import pip_size
from hedge.agent.state import LocalState, Quote, Row
from hedge.agent.terminals import Terminal
from hedge.config import AgentSettings
from hedge.domain import correlation
from hedge.domain.clock import Clock, SystemClock
from hedge.domain.enums import ActionStatus, ActionType, PositionStatus, TrailMode, TriggerReason
from hedge.domain.models import Position
from hedge.domain.orders import Fill, OrderState, OrderTracker, OrderTrigger
from hedge.domain.symbols import SymbolCatalog, canonical_symbol
from hedge.domain.trail import TrailBook, closing_price
from hedge.domain.transitions import FINAL_POSITION_STATES
from hedge.ea import protocol as wire

log = logging.getLogger(__name__)

P = PositionStatus
S = OrderState


class AgentCore:
    def __init__(
        self,
        settings: AgentSettings,
        catalog: SymbolCatalog | None = None,
        clock: Clock | None = None,
        on_fired: Callable[[TriggerActions], None] | None = None,
    ) -> None:
        self.settings = settings
        self.on_fired = on_fired  # told each trigger as it is decided (the shell journals it)
        self.clock: Clock = clock or SystemClock()  # wall time, for the actions' deadlines
        self.catalog = catalog or SymbolCatalog()
        self.state = LocalState()
        self.orders: dict[str, OrderTracker] = {}  # one per position the agent has work or word for
        # kept as trackers are made and moved, so a decision pass does not scan every position:
        self._unsettled: dict[str, OrderTracker] = {}  # trackers that were not HELD when last moved
        self._made: dict[str, int] = {}  # positionId -> when its tracker was made (the orders' order)
        self._tracker_accounts: dict[str, int] = {}  # accountId -> trackers of it
        self.terminals: dict[str, Terminal] = {}  # one per account
        self.alerts = AlertBook()
        self.book = TrailBook()
        self.expired: set[str] = set()  # actions seen past their deadline (logged once)
        self.triggers: dict[str, TriggerActions] = {}  # fired, not yet recorded by the server
        self.quotes: dict[tuple[str, str], Quote] = {}
        self.account_outbox: dict[str, dict[str, Any]] = {}  # account changes until recorded
        self.journal: dict[str, tuple[str, str]] = {}  # restored: positionId -> (OPEN|CLOSE, commandId)
        self.saved_bests: dict[str, Decimal] = {}  # restored TRAILING_STOP best prices
        # the kill switch as last heard; unheard since now, until the first read of the controls
        self.controls = ControlBook(settings.offline_reducing_s, time.monotonic())
        self.slippage_noted: set[str] = set()  # actions logged as having no triggering price
        self._instance = secrets.token_hex(4)
        self._ids = itertools.count(1)
        self._ids_made = itertools.count(1)

    def next_command_id(self) -> str:
        return f"{self._instance}-{next(self._ids)}"

    def terminal(self, account_id: str) -> Terminal:
        found = self.terminals.get(account_id)
        if found is None:
            found = self.terminals[account_id] = Terminal(account_id)
        return found

    # ------------------------------------------------------------------ the order trackers

    def tracker(self, pos: Position, now: float) -> OrderTracker:
        """The position's tracker, made from its row (and the saved journal) when first needed."""
        found = self.orders.get(pos.id)
        if found is not None:
            return found
        tracker = self._new_tracker(pos.id, pos.account_id, now)
        sent = self.journal.pop(pos.id, None)
        if pos.status in (P.OPEN, P.CLOSING):
            tracker.filled(_fill_of(pos), now)
            if pos.status is P.CLOSING and sent is not None and sent[0] == "CLOSE":
                tracker.send(OrderTrigger.SEND_CLOSE, sent[1], now)  # an earlier run sent it
                tracker.link_lost(now)
        elif pos.status is P.OPENING and sent is not None and sent[0] == "OPEN":
            tracker.send(OrderTrigger.SEND_OPEN, sent[1], now)
            tracker.link_lost(now)
        held = self.terminal(pos.account_id).held.get(pos.id)
        if pos.status is P.OPENING and held is not None and tracker.can(OrderTrigger.FILL):
            tracker.filled(held, now)
        self._add_tracker(tracker)
        return tracker

    def _new_tracker(self, position_id: str, account_id: str, now: float) -> OrderTracker:
        return OrderTracker(position_id, account_id, moved_at=now, on_move=self._tracker_moved)

    def _add_tracker(self, tracker: OrderTracker) -> None:
        self.orders[tracker.position_id] = tracker
        self._made[tracker.position_id] = next(self._ids_made)
        self._tracker_accounts[tracker.account_id] = self._tracker_accounts.get(tracker.account_id, 0) + 1
        self._tracker_moved(tracker)

    def _drop_tracker(self, position_id: str) -> None:
        tracker = self.orders.pop(position_id)
        self._made.pop(position_id, None)
        self._unsettled.pop(position_id, None)
        left = self._tracker_accounts[tracker.account_id] - 1
        if left:
            self._tracker_accounts[tracker.account_id] = left
        else:
            del self._tracker_accounts[tracker.account_id]

    def _tracker_moved(self, tracker: OrderTracker) -> None:
        if tracker.state is not S.HELD and self.orders.get(tracker.position_id) is tracker:
            self._unsettled[tracker.position_id] = tracker

    def unsettled(self) -> list[OrderTracker]:
        """The trackers not HELD, in the order of `orders` (what a scan of every tracker kept)."""
        for pid in [pid for pid, t in self._unsettled.items() if t.state is S.HELD]:
            del self._unsettled[pid]  # HELD again since: nothing to do for it
        return sorted(self._unsettled.values(), key=lambda t: self._made[t.position_id])

    def tracker_accounts(self) -> list[str]:
        """The accounts with a tracker, in the order their first one was made."""
        return list(self._tracker_accounts)

    def saved_state(self) -> dict[str, Any]:
        """What must survive a restart of the agent: commands that may be at a terminal, trail
        bests, and triggers decided that the server has not recorded yet."""
        sent = {}
        for pid, t in self.orders.items():
            if t.command_id and t.state in (S.OPEN_SENT, S.OPEN_UNKNOWN, S.OPEN_SEARCHING):
                sent[pid] = {"kind": "OPEN", "commandId": t.command_id}
            elif t.command_id and t.state in (S.CLOSE_SENT, S.CLOSE_UNKNOWN):
                sent[pid] = {"kind": "CLOSE", "commandId": t.command_id}
        for pid, (kind, command_id) in self.journal.items():
            sent.setdefault(pid, {"kind": kind, "commandId": command_id})
        bests = dict(self.saved_bests)
        for pos in self.state.positions_in(P.OPEN):
            best = self.book.best_price(pos.id)
            if best is not None:
                bests[pos.id] = best
        return {
            "sent": sent,
            "trailBest": {pid: str(price) for pid, price in bests.items()},
            "fired": {pid: saved_trigger.image(intent) for pid, intent in self.triggers.items()},
        }

    def restore(self, saved: dict[str, Any]) -> None:
        for pid, item in dict(saved.get("sent") or {}).items():
            self.journal[str(pid)] = (str(item["kind"]), str(item["commandId"]))
        for pid, price in dict(saved.get("trailBest") or {}).items():
            self.saved_bests[str(pid)] = Decimal(str(price))
        for pid, item in dict(saved.get("fired") or {}).items():
            self.trigger_restored(str(pid), item)

    def trigger_restored(self, position_id: str, item: Any) -> None:
        """A trigger an earlier run decided (its saved image): asked again, as it was, until the
        server records it; the trail is not watched again. An unreadable one is skipped, saying so."""
        try:
            self.triggers[position_id] = saved_trigger.from_image(position_id, item)
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            log.warning("ignoring an unreadable saved trigger of position %s: %s", position_id, exc)
            return
        self.saved_bests.pop(position_id, None)  # the trail is over: it fired (not watched again)

    # ------------------------------------------------------------------ rows from the server

    def apply_row(self, row: Row, now: float = 0.0) -> list[Intent]:
        """A row from a subscription, a reload or a mutation answer; intents if a trail fires at once."""
        if not self.state.apply(row):
            return []
        if not isinstance(row, Position):
            return []
        tracker = self.orders.get(row.id)
        if row.status in FINAL_POSITION_STATES:
            self.saved_bests.pop(row.id, None)
            self.journal.pop(row.id, None)
            # a command still in doubt keeps its tracker: the terminal's word may come yet
            if tracker is not None and not (tracker.in_doubt or tracker.state in (S.OPEN_SENT, S.CLOSE_SENT)):
                self._drop_tracker(row.id)
        elif row.status is not P.PENDING:
            self.tracker(row, now)  # from now on, a SYNC asked later judges it
        if row.trail_triggered_at is not None:
            self.triggers.pop(row.id, None)
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
        best = self.saved_bests.get(pos.id) if pos.trail_mode is TrailMode.TRAILING_STOP else None
        fired = self.book.add(
            pos.id,
            _quote_key(pos.account_id, pos.symbol),
            pos.side,
            pos.trail_mode,
            pos.entry_price,
            pos.trail_width,
            pip_size(self, pos.account_id, pos.symbol),  # the account's own (its terminal's digits)
            best_price=best,
        )
        return [self._fire(f.position_id, f.price) for f in fired]

    def _fire(self, position_id: str, price: Decimal, time_ms: int | None = None) -> Intent:
        at_ms = time_ms if time_ms is not None else int(self.clock.now().timestamp() * 1000)
        cid = correlation.made(correlation.TRIGGER, position_id, at_ms)
        intent = TriggerActions(position_id, TriggerReason.TRAIL, price, time_ms, correlation_id=cid)
        self.triggers[position_id] = intent
        self.saved_bests.pop(position_id, None)
        if self.on_fired is not None:
            self.on_fired(intent)  # on disk before the server is asked: a restart asks it again
        log.info("trail condition met for position %s at %s", position_id, price,
                 extra={"correlation_id": cid})  # fmt: skip
        return intent

    def fill_heard(self, position_id: str) -> None:
        """A TRAILING_STOP's best price starts from the bid (SELL: the ask) at the fill."""
        row = self.state.positions.get(position_id)
        if row is None or row.trail_mode is not TrailMode.TRAILING_STOP or position_id in self.saved_bests:
            return
        quote = self.quotes.get((row.account_id, row.symbol))
        if quote is not None:
            self.saved_bests[position_id] = closing_price(row.side, quote.bid, quote.ask)

    def trigger_settled(self, position_id: str) -> None:
        """The server recorded (or refused for good) the trigger of this position."""
        self.triggers.pop(position_id, None)

    def opening_refused(self, position_id: str, message: str, now: float) -> None:
        """The server refused the move to OPENING (a pre-trade check): the ENTRY fails, nothing was sent."""
        self.refuse_pending(position_id, f"the server refused to open it: {message}", now)

    def refuse_pending(self, position_id: str, message: str, now: float) -> None:
        """A PENDING position is not to be opened (nothing was sent): its ENTRY fails saying why."""
        pos = self.state.positions.get(position_id)
        if pos is None or pos.status is not P.PENDING:
            return
        tracker = self.orders.get(position_id) or self._new_tracker(position_id, pos.account_id, now)
        if position_id not in self.orders:
            self._add_tracker(tracker)
        if tracker.can(OrderTrigger.REFUSE):
            log.warning("position %s is not opened: %s", position_id, message)
            tracker.refused(message, now)

    def server_linked(self) -> None:
        """The server link is (back) up: reconcile every EA now."""
        for term in self.terminals.values():
            term.resync = True

    # ------------------------------------------------------------------ server answers

    def account_recorded(self, account_id: str, changes: dict[str, Any]) -> None:
        pending = self.account_outbox.get(account_id)
        if pending is None:
            return
        for name, value in changes.items():
            if name in pending and pending[name] == value:
                del pending[name]
        if not pending:
            del self.account_outbox[account_id]

    def alert_raised(self, key: AlertKey, alert_id: str) -> None:
        self.alerts.raised(key, alert_id)

    def alert_resolved(self, key: AlertKey, alert_id: str) -> None:
        self.alerts.resolved(key, alert_id)

    def adopt_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Open alerts on the server (an earlier run's): resolved here once their condition is gone."""
        for alert in alerts:
            key = (str(alert["kind"]), alert.get("accountId"), alert.get("positionId"))
            self.alerts.adopt(key, str(alert["id"]))

    def _outbox(self, account_id: str, changes: dict[str, Any]) -> None:
        self.account_outbox.setdefault(account_id, {}).update(changes)

    # ------------------------------------------------------------------ EA connections and events

    def ea_connected(self, account_id: str, now: float, margin_mode: str | None = None) -> list[Intent]:
        term = self.terminal(account_id)
        term.connected, term.away_since, term.margin_mode = True, None, margin_mode
        term.priced, term.connected_at = set(), now  # prices from before are no word of its terminal now
        term.synced_at, term.sync, term.history, term.history_unsupported = None, None, None, False
        term.subscribed, term.pushed = None, None
        if not term.hedging:
            log.warning(
                "EA of account %s reports marginMode %s: the agent opens nothing on it",
                account_id,
                margin_mode,
            )
        self._outbox(account_id, {"connectionStatus": "CONNECTED"})
        if margin_mode is not None:
            self._outbox(account_id, {"marginMode": margin_mode})
        return [*self.outbox_intents(), *self.sync_request(account_id, now)]

    def ea_disconnected(self, account_id: str, now: float = 0.0) -> list[Intent]:
        term = self.terminal(account_id)
        term.connected, term.away_since = False, now
        term.sync, term.synced_at, term.history = None, None, None
        for tracker in self.orders.values():
            if tracker.account_id == account_id and tracker.can(OrderTrigger.LINK_LOST):
                log.warning(
                    "EA of account %s went away with %s of position %s unanswered: outcome unknown",
                    account_id,
                    tracker.kind,
                    tracker.position_id,
                )
                tracker.link_lost(now)
        self._outbox(account_id, {"connectionStatus": "DISCONNECTED"})
        return self.outbox_intents()

    def sync_request(self, account_id: str, now: float) -> list[Intent]:
        command_id = self.next_command_id()
        self.terminal(account_id).sync = (command_id, now)
        return [SendToEA(account_id, wire.Sync(command_id), "reconcile with the terminal's positions")]

    def foreign(self, account_id: str, position_id: str, what: str) -> bool:
        """True (and logged) when the event names a position of another account: it is ignored."""
        held = self.state.positions.get(position_id)
        if held is None or held.account_id == account_id:
            return False
        log.warning(
            "EA of account %s sent %s for position %s of account %s; ignored",
            account_id,
            what,
            position_id,
            held.account_id,
        )
        return True

    def on_opened(self, account_id: str, msg: wire.Opened, now: float) -> list[Intent]:
        return answers.on_opened(self, account_id, msg, now)

    def on_closed(self, account_id: str, msg: wire.Closed, now: float) -> list[Intent]:
        return answers.on_closed(self, account_id, msg, now)

    def on_stopped(self, account_id: str, msg: wire.Stopped, now: float = 0.0) -> list[Intent]:
        return answers.on_stopped(self, account_id, msg, now)

    def on_positions(self, account_id: str, msg: wire.Positions, now: float = 0.0) -> list[Intent]:
        return reconcile.apply_positions(self, account_id, msg, now)

    def on_history(self, account_id: str, msg: wire.HistoryResult, now: float = 0.0) -> list[Intent]:
        return reconcile.apply_history(self, account_id, msg, now)

    def on_error(self, account_id: str, msg: wire.Error) -> None:
        """An EA's ERROR frame: one naming our HISTORY means an older EA that cannot answer it."""
        term = self.terminal(account_id)
        if term.history is not None and msg.command_id == term.history[0]:
            log.warning(
                "EA of account %s cannot answer HISTORY (%s): what it no longer holds stays "
                "unsettled until a person settles it",
                account_id,
                msg.message,
            )
            term.history, term.history_unsupported = None, True

    def on_price(self, account_id: str, msg: wire.Price) -> list[Intent]:
        account = self.state.accounts.get(account_id)
        symbol = canonical_symbol(msg.symbol, account.symbol_map if account else None)
        key = _quote_key(account_id, symbol)
        self.quotes[(account_id, symbol)] = Quote(msg.bid, msg.ask, msg.time_ms)
        self.terminal(account_id).priced.add(symbol)
        fired = self.book.on_price(key, msg.bid, msg.ask)
        return [self._fire(f.position_id, f.price, msg.time_ms) for f in fired]

    def on_symbols(self, account_id: str, msg: wire.Symbols) -> list[Intent]:
        """SYMBOLS: the terminal's figures for its symbols (kept under their canonical names)."""
        account = self.state.accounts.get(account_id)
        mapping = account.symbol_map if account else None
        term = self.terminal(account_id)
        for info in msg.symbols:
            term.symbols[canonical_symbol(info.symbol, mapping)] = info
        self._outbox(account_id, {"symbolSpecs": [_spec_input(symbol, info) for symbol, info in
                                                  sorted(term.symbols.items())]})  # fmt: skip
        return []

    def on_account(self, account_id: str, msg: wire.AccountUpdate) -> list[Intent]:
        term = self.terminal(account_id)
        term.snapshot = msg
        if term.pushed is None:  # the first snapshot after connecting goes at once
            return self.push_accounts()
        return []

    def push_accounts(self) -> list[Intent]:
        """The latest snapshot of each EA that changed since it was last handed over (every 30 s)."""
        for account_id, term in self.terminals.items():
            snap = term.snapshot
            if snap is None or term.pushed == snap or not term.connected:
                continue
            term.pushed = snap
            self._outbox(
                account_id,
                {
                    "balance": snap.balance,
                    "credit": snap.credit,
                    "equity": snap.equity,
                    "margin": snap.margin,
                    "marginLevel": max(snap.margin_level, Decimal(0)),
                },
            )
        return self.outbox_intents()

    def outbox_intents(self) -> list[Intent]:
        """Account changes not yet recorded by the server, asked again on every pass until they are."""
        return [UpdateAccount(a, dict(changes)) for a, changes in self.account_outbox.items() if changes]

    # ------------------------------------------------------------------ decisions

    def decide(self, now: float) -> list[Intent]:
        """Everything that should happen now, given the rows, the terminals' word and the time."""
        return decide(self, now)

    def executing(self, position_id: str, type_: ActionType) -> list[Any]:
        return [a for a in self.state.action_for(position_id, ActionStatus.EXECUTING) if a.type is type_]

    # ------------------------------------------------------------------ views

    def unrealized(self, pos: Position) -> tuple[Decimal, Decimal, str | None] | None:
        return views.unrealized(self, pos)

    def open_positions(self) -> list[dict[str, object]]:
        return views.open_positions(self)

    def orders_view(self) -> list[dict[str, object]]:
        return views.orders_view(self)


def _fill_of(pos: Position) -> Fill:
    """The fill facts the server already holds for an OPEN/CLOSING row."""
    time_ms = int(pos.entry_time.timestamp() * 1000) if pos.entry_time is not None else 0
    return Fill(pos.mt_ticket or "", pos.entry_price or Decimal(0), time_ms, pos.filled_volume)


def _spec_input(symbol: str, info: wire.SymbolInfo) -> dict[str, object]:
    """A SymbolSpecInput (canonical symbol name) from the terminal's SYMBOLS item."""
    return {
        "symbol": symbol, "digits": info.digits, "point": float(info.point),
        "contractSize": float(info.contract_size), "volumeMin": float(info.volume_min),
        "volumeStep": float(info.volume_step), "volumeMax": float(info.volume_max),
        "marginPerLot": None if info.margin_per_lot is None else float(info.margin_per_lot),
        "tickValue": None if info.tick_value is None else float(info.tick_value),
    }  # fmt: skip


def _quote_key(account_id: str, symbol: str) -> str:
    """Trail rules read the prices of the position's own account (brokers quote differently)."""
    return f"{account_id}|{symbol}"
