"""The guarded moves' reads (hedge.store.guard_reads), on both engines: on PostgreSQL the move to
OPENING reads its position, actions, account, the trigger's position and the trading controls in
two statements, taking the row locks the separate reads took; the outcome is the same."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError
from tests.store.conftest import World
from tests.store.record_helpers import agent, entry, hedge, record_world

from hedge.domain.clock import ManualClock
from hedge.domain.enums import PositionStatus, TradingScope
from hedge.domain.errors import InvalidTransition
from hedge.domain.trading import control_id
from hedge.store.guard_reads import guard_rows, position_with_actions


@contextmanager
def statements_sent(world: World) -> Iterator[list[str]]:
    """Every statement the store sends meanwhile, on the raw path and through SQLAlchemy."""
    sent: list[str] = []

    def through_sqlalchemy(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        sent.append(sql)

    def raw(sql: str, _params: Any) -> None:
        sent.append(sql)

    assert world.store.raw is not None
    world.store.raw.listen(raw)
    event.listen(world.store.engine, "before_cursor_execute", through_sqlalchemy)
    try:
        yield sent
    finally:
        event.remove(world.store.engine, "before_cursor_execute", through_sqlalchemy)
        world.store.raw.unlisten(raw)


def test_opening_of_a_triggered_leg_reads_everything_its_guards_need_in_two_statements_on_postgres(
    store_url: str,
) -> None:
    with record_world(store_url, ManualClock()) as world:
        head, _, leg = hedge(world)
        world.store.trigger_actions(head.id, "TRAIL", "150.2")
        with statements_sent(world) as sent:
            opening = world.store.update_position(agent(leg.user_id), leg.id, {"status": "OPENING"})
        assert opening.status is PositionStatus.OPENING
        update = next(i for i, sql in enumerate(sent) if sql.startswith("UPDATE positions"))
        reads = sent[:update]  # what the move and its guards read before it writes
        if world.store.postgres:
            # the position with its actions; the account with the trigger's position and controls
            assert len(reads) == 2, reads
            assert "FROM positions" in reads[0] and "JOIN LATERAL" in reads[0] and "FROM actions" in reads[0]
            assert "FROM accounts" in reads[1] and "AS paired" in reads[1] and "trading_controls" in reads[1]
        else:  # one by one, as before: position, actions, account, trigger's position, controls
            assert [re.findall(r"FROM (\w+)", sql)[0] for sql in reads] == [
                "positions", "actions", "accounts", "positions", "trading_controls"
            ]  # fmt: skip


def test_opening_on_postgres_holds_the_locks_of_the_separate_reads_and_no_others(store_url: str) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's (SQLite holds its one write lock)")
    with record_world(store_url, ManualClock()) as world:
        head, leg_action, leg = hedge(world)
        world.store.trigger_actions(head.id, "TRAIL", "150.2")
        control = control_id(TradingScope.ACCOUNT, leg.account_id)
        world.store.set_trading_state(world.admin, "ACCOUNT", leg.account_id, "ACTIVE", "set, to be locked")
        other = create_engine(store_url)
        try:
            with world.store.transaction() as unit:
                position, found = position_with_actions(unit, leg.id)
                assert found is not None and [a.id for a in found] == [leg_action.id]
                read = guard_rows(unit, position, head.id)
                assert read.paired is not None and read.paired.id == head.id

                def try_lock(sql: str) -> bool:
                    with other.connect() as conn:
                        try:
                            conn.execute(text(sql + " NOWAIT"))
                            return True
                        except OperationalError:
                            return False

                assert not try_lock(f"SELECT 1 FROM positions WHERE id = '{leg.id}' FOR UPDATE")
                assert not try_lock(f"SELECT 1 FROM actions WHERE id = '{leg_action.id}' FOR UPDATE")
                assert not try_lock(f"SELECT 1 FROM trading_controls WHERE id = '{control}' FOR UPDATE")
                assert try_lock(f"SELECT 1 FROM trading_controls WHERE id = '{control}' FOR SHARE")
                assert try_lock(f"SELECT 1 FROM accounts WHERE id = '{leg.account_id}' FOR UPDATE")
                assert try_lock(f"SELECT 1 FROM positions WHERE id = '{head.id}' FOR UPDATE")
        finally:
            other.dispose()


def test_halted_by_the_accounts_owner_refuses_an_opening_even_when_the_position_names_another_user(
    store_url: str,
) -> None:
    with record_world(store_url, ManualClock()) as world:
        _, pending = entry(world, world.account_id)
        world.store.set_trading_state(world.admin, "USER", world.client.user_id, "HALTED", "owner halted")
        with world.store.engine.begin() as conn:  # a row no write makes: the controls are the account's
            conn.execute(
                text("UPDATE positions SET user_id = :other WHERE id = :id"),
                {"other": world.other.user_id, "id": pending.id},
            )
        with pytest.raises(
            InvalidTransition, match=f"HALTED by the USER {world.client.user_id} control: owner halted"
        ):
            world.store.update_position(world.admin, pending.id, {"status": "OPENING"})


def test_equally_restrictive_controls_are_named_by_the_broadest_scope(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        _, pending = entry(world, world.account_id)
        world.store.set_trading_state(world.admin, "ACCOUNT", world.account_id, "HALTED", "account stop")
        world.store.set_trading_state(world.admin, "GLOBAL", None, "HALTED", "global stop")
        with pytest.raises(InvalidTransition, match="HALTED by the GLOBAL control: global stop"):
            world.store.update_position(world.admin, pending.id, {"status": "OPENING"})
