"""The agent's local copy of its user's rows: the newest version of each, nothing older.

Pure and synchronous. `apply` is fed by subscriptions, mutation answers and full reloads, in any
order and with repeats: a value replaces the kept one only when its version is higher. `apply` is
the only writer: it also keeps the positions by status, the EXECUTING actions, each position's
actions and each account's live symbols (counted), which every decision pass asks for (a scan of
every row per pass grew with the user's positions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hedge.domain.enums import ActionStatus, PositionStatus
from hedge.domain.models import Account, Action, Position

Row = Position | Action | Account
LIVE = frozenset(
    {PositionStatus.PENDING, PositionStatus.OPENING, PositionStatus.OPEN, PositionStatus.CLOSING}
)  # the statuses whose symbols an account's EA streams


@dataclass
class LocalState:
    positions: dict[str, Position] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    loaded: bool = False  # a full load from the server (or the saved copy) has been applied
    position_revision: int = 0  # counts the positions applied (what a cached judgement was made from)
    _by_status: dict[PositionStatus, dict[str, Position]] = field(default_factory=dict, repr=False)
    _executing: dict[str, Action] = field(default_factory=dict, repr=False)
    _actions_of: dict[str, dict[str, Action]] = field(default_factory=dict, repr=False)  # by position
    _live_symbols: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)  # account: counts

    def apply(self, row: Row) -> bool:
        """Keep `row` if it is new or newer; True when it changed what we hold."""
        table: dict[str, Row] = self._table(row)  # type: ignore[assignment]
        held = table.get(row.id)
        if held is not None and held.version >= row.version:
            return False
        table[row.id] = row
        if isinstance(row, Position):
            self.position_revision += 1
            if isinstance(held, Position):
                self._by_status.get(held.status, {}).pop(row.id, None)
                self._count_live(held, -1)
            self._by_status.setdefault(row.status, {})[row.id] = row
            self._count_live(row, +1)
        elif isinstance(row, Action):
            if row.status is ActionStatus.EXECUTING:
                self._executing[row.id] = row
            else:
                self._executing.pop(row.id, None)
            if isinstance(held, Action) and held.position_id != row.position_id:
                self._actions_of.get(held.position_id, {}).pop(row.id, None)
            self._actions_of.setdefault(row.position_id, {})[row.id] = row
        return True

    def _count_live(self, pos: Position, step: int) -> None:
        if pos.status not in LIVE:
            return
        counts = self._live_symbols.setdefault(pos.account_id, {})
        left = counts.get(pos.symbol, 0) + step
        if left > 0:
            counts[pos.symbol] = left
        else:
            counts.pop(pos.symbol, None)

    def _table(self, row: Row) -> dict[str, Position] | dict[str, Action] | dict[str, Account]:
        if isinstance(row, Position):
            return self.positions
        if isinstance(row, Action):
            return self.actions
        return self.accounts

    def account_by_number(self, account_number: str, server_name: str) -> Account | None:
        for account in self.accounts.values():
            if account.account_number == account_number and account.server_name == server_name:
                return account
        return None

    def positions_in(self, *statuses: PositionStatus) -> list[Position]:
        found = [p for s in statuses for p in self._by_status.get(s, {}).values()]
        return sorted(found, key=lambda p: (p.created_at, p.id))

    def executing_actions(self) -> list[Action]:
        """EXECUTING actions in createdAt order (the order they are carried out in)."""
        return sorted(self._executing.values(), key=lambda a: (a.created_at, a.id))

    def actions_of(self, position_id: str) -> list[Action]:
        """The position's actions, in the order they were first applied."""
        return list(self._actions_of.get(position_id, {}).values())

    def action_for(self, position_id: str, status: ActionStatus) -> list[Action]:
        return [a for a in self._actions_of.get(position_id, {}).values() if a.status is status]

    def symbols_of(self, account_id: str) -> list[str]:
        """Symbols to stream from an account's EA: those of its live positions."""
        return sorted(self._live_symbols.get(account_id, {}))


@dataclass
class Quote:
    bid: Decimal
    ask: Decimal
    time_ms: int
