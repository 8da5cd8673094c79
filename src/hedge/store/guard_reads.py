"""The reads of the guarded moves (PENDING -> OPENING, OPEN -> CLOSING) in as few statements as
keep their locks and their order: on PostgreSQL's raw path, the position with its actions (both
FOR UPDATE, the position first, the actions in id order) in one statement, then the account, the
trigger's position and the trading controls (FOR SHARE) in a second one, two round trips where
there were five. The second statement starts after every row lock of the first is held, so it
sees what a writer that held one of them committed, as the separate reads did. SQLite, and the
path without raw statements, read them one by one as before (on SQLite a read is no round trip).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, true

from hedge.domain.enums import PositionStatus
from hedge.domain.errors import NotFound
from hedge.domain.models import Account, Action, Position, TradingControl
from hedge.domain.rows import from_mapping
from hedge.domain.trading import Effective, control_ids, effective, governing_ids
from hedge.store.tables import accounts, actions, positions, trading_controls
from hedge.store.unit import Unit

GUARDED = frozenset({PositionStatus.OPENING.value, PositionStatus.CLOSING.value})

_locked_position = (
    select(positions).where(positions.c.id == bindparam("by_id")).with_for_update().subquery("p")
)
_its_actions = (
    select(actions)
    .where(actions.c.position_id == _locked_position.c.id)
    .order_by(actions.c.id)
    .with_for_update()
    .lateral("a")
)
# one row per action (one row with NULL actions when it has none); the lateral subquery runs
# after the position's row is locked, so the locks are taken in the order of the separate reads;
# the rows in the order actions_of gives (the database's order of ids, its collation's)
POSITION_WITH_ACTIONS = (
    select(*_locked_position.c, *_its_actions.c)
    .select_from(_locked_position.outerjoin(_its_actions, true()))
    .order_by(_its_actions.c.id)
)

_paired = positions.alias("paired")
_controls = (
    select(trading_controls)
    .where(trading_controls.c.id.in_([bindparam(f"control_{i}") for i in range(3)]))
    .order_by(trading_controls.c.id)
    .with_for_update(read=True)  # a concurrent setTradingState waits, or we do
    .lateral("tc")
)
# one row per control found (one with NULL controls when none is set); the paired position is
# read without a lock, as before (binds: account_id, paired_id (NULL: none), control_0..2)
ACCOUNT_PAIRED_CONTROLS = (
    select(*accounts.c, *_paired.c, *_controls.c)
    .select_from(
        accounts.outerjoin(_paired, _paired.c.id == bindparam("paired_id")).outerjoin(_controls, true())
    )
    .where(accounts.c.id == bindparam("account_id"))
)


def names_guarded_move(changes: Mapping[str, Any]) -> bool:
    """Whether `changes` ask for one of the guarded statuses (validated later, as every change)."""
    status = changes.get("status")
    return str(getattr(status, "value", status)) in GUARDED


def position_with_actions(unit: Unit, position_id: str) -> tuple[Position, list[Action] | None]:
    """The position (locked) and, on PostgreSQL's raw path, its actions (locked, in id order)
    read in the same statement; None: not read here (the caller reads them if it needs them)."""
    if unit.raw is None or not unit.postgres:
        return unit.require(Position, position_id), None
    reader = unit.raw.joined((positions, actions), POSITION_WITH_ACTIONS)
    rows = unit.raw.execute(unit.conn, unit.driver, reader.compiled, {"by_id": position_id}).fetchall()
    position = None if not rows else reader.part(0, Position, rows[0])
    if position is None:
        raise NotFound("Position", position_id)
    return position, [a for a in (reader.part(1, Action, row) for row in rows) if a is not None]


@dataclass(frozen=True, slots=True)
class GuardRows:
    """What a guard reads besides the position and its actions."""

    account: Account
    paired: Position | None  # the position whose trigger started the action taken up
    trading: Effective  # the account's effective trading state


def guard_rows(unit: Unit, position: Position, paired_id: str | None) -> GuardRows:
    """The position's account (NotFound if gone), the paired position and the trading state."""
    if unit.raw is None or not unit.postgres:
        account = unit.require(Account, position.account_id, lock=False)
        paired = None if paired_id is None else unit.get(Position, paired_id, lock=False)
        return GuardRows(account, paired, trading_state(unit, account))
    # the account is not read yet: its controls are named after the position's owner, and read
    # again below should the account's owner be another user
    ids = governing_ids(position.user_id, position.account_id)
    reader = unit.raw.joined((accounts, positions, trading_controls), ACCOUNT_PAIRED_CONTROLS)
    params = {"account_id": position.account_id, "paired_id": paired_id}
    params.update({f"control_{i}": control for i, control in enumerate(ids)})
    rows = unit.raw.execute(unit.conn, unit.driver, reader.compiled, params).fetchall()
    owned = None if not rows else reader.part(0, Account, rows[0])
    if owned is None:
        raise NotFound("Account", position.account_id)
    paired = reader.part(1, Position, rows[0])
    if control_ids(owned) != ids:
        return GuardRows(owned, paired, trading_state(unit, owned))
    found = {c.id: c for c in (reader.part(2, TradingControl, row) for row in rows) if c is not None}
    return GuardRows(owned, paired, effective(found[i] for i in ids if i in found))


def trading_state(unit: Unit, account: Account) -> Effective:
    """The account's effective trading state (the most restrictive of its three controls; the
    broadest scope first, so that it names the broadest of equals)."""
    ids = control_ids(account)
    if unit.raw is not None and not unit.postgres:  # SQLite: the prepared by-ids read (no row
        found = unit.get_many(TradingControl, ids)  # locks there: the write lock is held already)
        return effective(found[i] for i in ids if i in found)
    query = select(trading_controls).where(trading_controls.c.id.in_(ids)).order_by(trading_controls.c.id)
    if unit.postgres:
        query = query.with_for_update(read=True)  # a concurrent setTradingState waits, or we do
    read = {row["id"]: from_mapping(TradingControl, row) for row in unit.conn.execute(query).mappings()}
    return effective(read[i] for i in ids if i in read)
