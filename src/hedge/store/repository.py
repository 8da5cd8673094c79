"""The repository: every read and write of the system, on SQLite or PostgreSQL.

Writes run in one transaction each, with their side effects and their change events; reads
return frozen domain values. Authorization that needs other rows (who owns the actions a
position lists) is checked here, inside the transaction; the rest is the API's.

`Store` holds the connections, the transactions, the reads and the change feed, and the trading
writes (actions, positions, triggers); the other concerns are its parts, one module each:
users and accounts (account_store), presence (presence_store), the trade record (record),
alerts (alert_store), the agent lease (lease).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, delete, func, select
from sqlalchemy.exc import OperationalError

from hedge.domain import correlation
from hedge.domain.authz import Actor
from hedge.domain.clock import Clock, SystemClock
from hedge.domain.enums import ActionStatus, PositionStatus, TriggerReason
from hedge.domain.models import Account, Action, Position, User
from hedge.domain.pretrade import TradeLimits
from hedge.domain.rows import from_mapping
from hedge.domain.symbols import SymbolCatalog
from hedge.domain.values import enum_value, parse_iso
from hedge.domain.values import price as checked
from hedge.store import moves
from hedge.store.account_store import AccountStore, hash_token
from hedge.store.alert_store import AlertStore
from hedge.store.checkpoint import Checkpointer
from hedge.store.engine import begin_write, begin_write_now, is_postgres, make_engine
from hedge.store.feed import ChangeEvent, FeedSignal, PgListener, head_seq, listener_dsn, read_events
from hedge.store.guards import GuardRefused, Rules
from hedge.store.history import Cause
from hedge.store.inline import InlineState, WriterBusy, short_write
from hedge.store.lease import LeaseStore
from hedge.store.migrate import upgrade
from hedge.store.presence_store import PresenceStore
from hedge.store.raw import RawStatements
from hedge.store.record import TradeRecord
from hedge.store.tables import accounts, actions, changes, positions, users
from hedge.store.unit import Unit, select_by_id

log = logging.getLogger(__name__)

T = TypeVar("T", User, Account, Position, Action)
WRITER_WAIT_S = 30.0  # as long as SQLite's busy_timeout lets a writer wait for the file lock
R = TypeVar("R")


class Store(TradeRecord, AlertStore, LeaseStore, AccountStore, PresenceStore):
    """The system of record. Thread-safe: each call takes its own connection from the pool."""

    def __init__(
        self,
        url: str,
        *,
        catalog: SymbolCatalog | None = None,
        clock: Clock | None = None,
        retention: timedelta = timedelta(hours=24),
        migrate: bool = True,
        action_ttl: timedelta = timedelta(seconds=30),
        limits: TradeLimits | None = None,
        raw_writes: bool = True,
    ) -> None:
        self.engine: Engine = make_engine(url)
        self.postgres = is_postgres(self.engine)
        # the hot statements of each write on the driver's connection (store.raw); False sends
        # them through SQLAlchemy (the reference the equivalence tests compare with)
        self.raw = RawStatements(self.engine.dialect) if raw_writes else None
        self._writer: Connection | None = None  # SQLite: the one write connection (_write_connection)
        self._writer_lock = threading.Lock()
        self._inline = InlineState()
        self.catalog = catalog or SymbolCatalog()
        self.rules = Rules(self.catalog, action_ttl, limits or TradeLimits())
        self.clock = clock or SystemClock()
        self.retention = retention
        if migrate:
            upgrade(self.engine)
        self.signal = FeedSignal()
        self.signal.advance(head_seq(self.engine))
        dsn = listener_dsn(self.engine)
        self._commit_hooks: list[Callable[[list[ChangeEvent]], None]] = []
        self._claim_hooks: list[Callable[[int, int], None]] = []
        self._listener = PgListener(dsn, self.signal) if dsn else None
        if self._listener is not None:
            self._listener.start()
        self.checkpointer = None if self.postgres else Checkpointer(self.engine)
        if self.checkpointer is not None:
            self.checkpointer.start()

    def close(self) -> None:
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        if self._listener is not None:
            self._listener.stop()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()

    def now(self) -> datetime:
        moment = self.clock.now()
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    @contextmanager
    def _write_connection(self) -> Iterator[Connection]:
        """The connection of one write transaction. On SQLite with the raw path, one connection
        kept open for all of this Store's writes, taken in turn: SQLite lets one writer at a time
        in anyway (BEGIN IMMEDIATE), so the writers of this process queue on a lock instead of on
        the file lock, and none pays the pool's checkout and return (a tenth of a write's CPU)."""
        if self.postgres or self.raw is None:
            with self.engine.connect() as conn:
                yield conn
            return
        if self._inline.must_not_wait():
            if not self._writer_lock.acquire(blocking=False):
                raise WriterBusy("this process's writer connection is in use")
        elif not self._writer_lock.acquire(timeout=WRITER_WAIT_S):
            raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
        try:
            if self._writer is None or self._writer.closed or self._writer.invalidated:
                self._writer = self.engine.connect()
            yield self._writer
        finally:
            self._writer_lock.release()

    @contextmanager
    def _unit(self, cause: Cause | None = None) -> Iterator[Unit]:
        with self._write_connection() as conn, conn.begin():
            if self._inline.must_not_wait():
                begin_write_now(conn)
            else:
                begin_write(conn)
            driver = None if self.raw is None else conn.connection.driver_connection
            unit = Unit(conn, self.now(), self.postgres, raw=self.raw, driver=driver)
            if cause is not None:
                unit.cause = cause
            yield unit
            unit.flush_events()
            if unit.last_seq:
                for claim in self._claim_hooks:
                    claim(unit.appended[0].seq, unit.last_seq)
        if self._inline.active:
            self._inline.committed = True
        if self.checkpointer is not None:
            self.checkpointer.wrote()
        if unit.last_seq:
            # the hooks first: the broker's applies its own commit before the signal wakes its tail
            # thread, which then has nothing to read back (api/broker.py)
            try:
                for hook in self._commit_hooks:
                    hook(unit.appended)
            finally:
                self.signal.advance(unit.last_seq)

    @property
    def inline_writes(self) -> bool:
        """Whether `run_inline` can run here: SQLite with the raw path (its one writer connection)."""
        return not self.postgres and self.raw is not None

    def run_inline(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run the short write `fn` in this thread, if its first transaction can start without
        waiting; otherwise raise WriterBusy with nothing written (hedge.store.inline)."""
        if not self.inline_writes:
            raise WriterBusy("inline writes need SQLite with the raw write path")
        if self.checkpointer is not None and self.checkpointer.wal_restart_due:
            raise WriterBusy("this write starts the WAL over and syncs its header: not on the loop")
        state = self._inline
        state.active, state.committed = True, False
        try:
            return fn(*args, **kwargs)
        finally:
            state.active = False

    def inline_here(self) -> bool:
        """Whether this thread is running an inline write now (its commit hooks run in it)."""
        return self._inline.active

    def transaction(self) -> AbstractContextManager[Unit]:
        """One write transaction, for store functions kept in other modules (store/users.py)."""
        return self._unit()

    def add_commit_hook(self, hook: Callable[[list[ChangeEvent]], None]) -> None:
        """Call `hook` with the feed events of every transaction this Store commits, right after
        the commit and before `signal` advances, in the committing thread (so that this process
        can deliver them without reading them back; other processes' commits still arrive
        through the feed)."""
        self._commit_hooks.append(hook)

    def add_claim_hook(self, hook: Callable[[int, int], None]) -> None:
        """Call `hook(first_seq, last_seq)` with the feed numbers a transaction took, before its
        COMMIT is sent: this process's commit hooks will announce them (unless the commit
        fails), so a reader may skip waking for them when their NOTIFY comes first."""
        self._claim_hooks.append(hook)

    # ---------------------------------------------------------------- reads

    def _get(self, cls: type[T], entity_id: str) -> T | None:
        with self.engine.connect() as conn:
            row = conn.execute(select_by_id(cls), {"by_id": entity_id}).mappings().first()
        return None if row is None else from_mapping(cls, row)

    def get_user(self, user_id: str) -> User | None:
        return self._get(User, user_id)

    def get_account(self, account_id: str) -> Account | None:
        return self._get(Account, account_id)

    def get_position(self, position_id: str) -> Position | None:
        return self._get(Position, position_id)

    def get_action(self, action_id: str) -> Action | None:
        return self._get(Action, action_id)

    def user_by_token(self, token: str) -> User | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(users).where(users.c.token_hash == hash_token(token))).mappings().first()
            )
        return None if row is None else from_mapping(User, row)

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.created_at, users.c.id)).mappings().all()
        return [from_mapping(User, r) for r in rows]

    def list_accounts(self, user_id: str | None = None) -> list[Account]:
        return self._listed(accounts, Account, user_id=user_id)

    def account_by_number(self, account_number: str, server_name: str) -> Account | None:
        query = select(accounts).where(
            accounts.c.account_number == account_number, accounts.c.server_name == server_name
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else from_mapping(Account, row)

    def list_positions(
        self, user_id: str | None = None, account_id: str | None = None, status: PositionStatus | None = None
    ) -> list[Position]:
        state = None if status is None else status.value
        return self._listed(positions, Position, user_id=user_id, account_id=account_id, status=state)

    def list_actions(
        self, user_id: str | None = None, position_id: str | None = None, status: ActionStatus | None = None
    ) -> list[Action]:
        state = None if status is None else status.value
        return self._listed(actions, Action, user_id=user_id, position_id=position_id, status=state)

    def _listed(self, table: Table, model: type[T], **equal: str | None) -> list[T]:
        """The rows of `table` whose columns equal the given values (None: any), oldest first."""
        query = select(table).order_by(table.c.created_at, table.c.id)
        for column, value in equal.items():
            if value is not None:
                query = query.where(table.c[column] == value)
        with self.engine.connect() as conn:
            return [from_mapping(model, r) for r in conn.execute(query).mappings()]

    # ---------------------------------------------------------------- feed

    def read_changes(self, after_seq: int, limit: int = 1000) -> list[ChangeEvent]:
        return read_events(self.engine, after_seq, limit)

    def wait_changes(self, after_seq: int, timeout_s: float) -> list[ChangeEvent]:
        """The events after `after_seq`, waiting up to `timeout_s` for the first one."""
        found = self.read_changes(after_seq)
        if found or not self.signal.wait_beyond(after_seq, timeout_s):
            return found
        return self.read_changes(after_seq)

    def prune_changes(self) -> int:
        """Delete feed events older than the retention; returns how many went."""
        cutoff = self.now() - self.retention
        # The newest event always stays: it tells a reader with an old cursor that it missed some.
        newest = select(func.max(changes.c.seq)).scalar_subquery()
        with self.engine.connect() as conn, conn.begin():
            begin_write(conn)
            result = conn.execute(
                delete(changes).where(changes.c.committed_at < cutoff, changes.c.seq < newest)
            )
        return int(result.rowcount)

    # ---------------------------------------------------------------- actions and positions

    @short_write
    def update_action(
        self,
        action_id: str,
        changes_: Mapping[str, Any],
        expected_version: int | None = None,
        actor: Actor | None = None,
    ) -> Action:
        return self._guarded(
            actor,
            lambda unit: moves.update_action(unit, self.rules, actor, action_id, changes_, expected_version),
        )

    @short_write
    def update_position(
        self, actor: Actor, position_id: str, changes_: Mapping[str, Any], expected_version: int | None = None
    ) -> Position:
        return self._guarded(
            actor,
            lambda unit: moves.update_position(
                unit, self.rules, actor, position_id, changes_, expected_version
            ),
        )

    def _guarded(self, actor: Actor | None, write: Callable[[Unit], R]) -> R:
        """Run `write` in a transaction; when a guard refuses a move that takes up a triggered
        action, fail that action (and alert) in a transaction of its own, then refuse."""
        try:
            with self._unit(Cause.of(actor)) as unit:
                return write(unit)
        except GuardRefused as refusal:
            with self._unit(Cause.of(None, refusal.error.message)) as unit:
                moves.fail_refused(unit, refusal)
            raise refusal.error from None

    @short_write
    def trigger_actions(
        self,
        position_id: str,
        reason: Any,
        price: Any = None,
        actor: Actor | None = None,
        price_time: Any = None,
        correlation_id: Any = None,
    ) -> tuple[Position, list[Action]]:
        """Stamp the trigger once and move the position's PENDING trigger actions to EXECUTING."""
        trigger_reason = enum_value(TriggerReason, reason, "reason")
        checked_price = None if price is None else checked(price)
        at = None if price_time is None else parse_iso(price_time, "priceTime")
        cid = correlation.checked(correlation_id)
        with self._unit(Cause.of(actor, f"{trigger_reason.value} at {checked_price}")) as unit:
            return moves.trigger_actions(
                unit, self.rules, actor, position_id, trigger_reason, checked_price, at, cid
            )
