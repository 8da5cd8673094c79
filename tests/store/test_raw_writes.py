"""The raw write path (hedge.store.raw) against the ordinary SQLAlchemy path: one scenario of
writes, good and bad, run on a Store of each kind with the same ids and clock, must leave every
table byte for byte the same (rows, versions, feed entries, row history, audit), return the same
values and raise the same errors."""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Text, cast, select
from sqlalchemy.exc import IntegrityError

from hedge.domain.authz import Actor
from hedge.domain.clock import ManualClock
from hedge.domain.creation import EntryRequest
from hedge.domain.errors import Conflict, DomainError
from hedge.domain.models import Position, User
from hedge.store.feed import ChangeEvent
from hedge.store.plans import LegRequest
from hedge.store.repository import Store
from hedge.store.tables import metadata

from .conftest import World, seed

Outcome = tuple[str, Any]


@contextmanager
def counted_ids() -> Iterator[None]:
    """Ids and tokens from a counter instead of the system's randomness, so that two runs of one
    scenario mint the same ids (their length as token_urlsafe's)."""
    counter = itertools.count(1)
    real = secrets.token_urlsafe

    def fake(nbytes: int | None = None) -> str:
        length = len(real(nbytes))
        return f"{next(counter):0{length}d}"

    secrets.token_urlsafe = fake
    try:
        yield
    finally:
        secrets.token_urlsafe = real


def outcome(call: Callable[[], Any]) -> Outcome:
    """What a call returned, or which error it raised with which message."""
    try:
        return "ok", call()
    except DomainError as exc:
        return type(exc).__name__, exc.message


def scenario(world: World, clock: ManualClock) -> list[Outcome]:
    """Every kind of write the raw path carries, with bad inputs in between."""
    store = world.store
    agent = Actor(world.client.user_id, world.client.role)
    out: list[Outcome] = []
    action, position = world.entry()
    _, hedge_position = world.entry(world.other_account_id)
    hedge_action = store.create_action(
        world.other.user_id, world.other_account_id, "ENTRY", entry=EntryRequest("USDJPY", "SELL", "0.1", "5")
    )[0]
    clock.advance(1)
    out.append(outcome(lambda: store.update_position(agent, position.id, {"memo": "first"}, 1)))
    out.append(outcome(lambda: store.update_position(agent, position.id, {"memo": "stale"}, 1)))  # Conflict
    out.append(outcome(lambda: store.update_position(agent, "no-such-position", {"memo": "x"})))  # NotFound
    out.append(outcome(lambda: store.update_position(world.other, position.id, {"memo": "x"})))  # Forbidden
    out.append(outcome(lambda: store.update_position(agent, position.id, {"volume": "1"})))  # not a field
    out.append(outcome(lambda: store.update_position(agent, position.id, {"memo": 5})))  # wrong type
    out.append(outcome(lambda: store.update_position(agent, position.id, {"status": "CLOSED"})))  # illegal
    out.append(outcome(lambda: store.update_position(agent, position.id, {"memo": "first"})))  # no change
    out.append(
        outcome(
            lambda: store.update_position(world.admin, position.id, {"trigger_action_ids": [hedge_action.id]})
        )
    )
    out.append(outcome(lambda: store.update_position(agent, position.id, {"trigger_action_ids": ["nope"]})))
    clock.advance(1)
    out.append(outcome(lambda: store.update_position(agent, position.id, {"status": "OPENING"})))
    out.append(outcome(lambda: store.update_position(agent, position.id, {"status": "OPENING"})))  # repeat
    out.append(outcome(lambda: store.update_position(agent, position.id, {"status": "OPEN"})))  # no fill
    facts = {
        "status": "OPEN",
        "entry_price": "150.050",
        "mt_ticket": "T1",
        "entry_time": "2026-01-05T09:00:01Z",
    }
    out.append(outcome(lambda: store.update_position(agent, position.id, facts)))
    out.append(outcome(lambda: store.update_position(agent, position.id, {"trail_width": "12.5"})))
    clock.advance(1)
    out.append(outcome(lambda: store.trigger_actions(position.id, "TRAIL", "150.2", world.admin)))
    out.append(outcome(lambda: store.trigger_actions(position.id, "TRAIL", "150.3", world.admin)))  # repeat
    out.append(outcome(lambda: store.trigger_actions(position.id, "BOGUS", "150.3", world.admin)))
    out.append(outcome(lambda: store.update_action(hedge_action.id, {"status": "FAILED"}, None, world.other)))
    out.append(outcome(lambda: store.update_action(action.id, {"retry_count": 1}, 99, world.client)))
    out.append(
        outcome(lambda: store.update_account(world.account_id, {"balance": "1000.50"}, 1, world.client))
    )
    out.append(outcome(lambda: store.update_account(world.account_id, {"display_name": "renamed"})))
    out.append(outcome(lambda: store.update_position(world.other, hedge_position.id, {"status": "CANCELED"})))
    plan = [LegRequest(world.second_account_id, "USDJPY", "SELL", "0.1", "2")]
    out.append(
        outcome(
            lambda: store.create_hedge_plan(
                world.client, world.account_id, EntryRequest("USDJPY", "BUY", "0.2"), plan, "p1"
            )
        )
    )
    out.append(
        outcome(lambda: store.set_trading_state(world.admin, "USER", world.client.user_id, "HALTED", "test"))
    )
    out.append(outcome(lambda: store.presence_join(world.client.user_id, "proc-1", 1, timedelta(seconds=30))))
    out.append(
        outcome(lambda: store.create_user("client@example.com", "Again", "CLIENT"))
    )  # taken: IntegrityError
    return out


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, each column as the text the database holds."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [cast(column, Text) for column in table.c]
            order = list(table.primary_key.columns) or list(table.c)
            tables[table.name] = [tuple(row) for row in conn.execute(select(*columns).order_by(*order))]
    return tables


def run(
    url: str, raw_writes: bool
) -> tuple[list[Outcome], list[ChangeEvent], dict[str, list[tuple[Any, ...]]]]:
    clock = ManualClock()
    with counted_ids():
        store = Store(url, clock=clock, raw_writes=raw_writes)
        announced: list[ChangeEvent] = []
        store.add_commit_hook(announced.extend)
        try:
            outcomes = scenario(seed(store), clock)
            return outcomes, announced, dump(store)
        finally:
            store.close()


@pytest.fixture
def second_url(store_url: str, request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """Another empty store on the same engine as `store_url`."""
    if store_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'ordinary.db'}"
    server = request.getfixturevalue("postgres_server")
    return str(server.create_database(f"t_{secrets.token_hex(6)}"))


def test_raw_writes_scenario_leaves_the_same_tables_results_and_errors_as_the_ordinary_path(
    store_url: str, second_url: str
) -> None:
    raw_outcomes, raw_announced, raw_tables = run(store_url, raw_writes=True)
    outcomes, announced, tables = run(second_url, raw_writes=False)
    assert raw_outcomes == outcomes
    assert raw_announced == announced
    for name in tables:
        assert raw_tables[name] == tables[name], name
    # the scenario did reach every kind of row and every error it means to try
    kinds = {kind for kind, _ in outcomes}
    assert {"ok", "Conflict", "NotFound", "Forbidden", "ValidationError", "InvalidTransition"} <= kinds
    assert all(
        tables[name] for name in ("positions", "actions", "changes", "row_history", "audit_log", "alerts")
    )


def test_raw_writes_send_the_hot_statements_past_sqlalchemy(store: Store) -> None:
    """The equivalence above means something only if the raw path ran: its listener sees them."""
    sent: list[str] = []
    assert store.raw is not None
    store.raw.listen(lambda sql, _params: sent.append(sql))
    world = seed(store)
    _, position = world.entry()
    sent.clear()
    store.update_position(world.client, position.id, {"memo": "m"}, expected_version=1)
    assert sent[0].startswith("SELECT positions.id,") and sent[1].startswith("UPDATE positions SET")
    if store.raw.postgres:  # the feed and the history in one statement (one round trip)
        assert len(sent) == 3
        assert "INSERT INTO changes" in sent[2] and "INSERT INTO row_history" in sent[2]
    else:
        assert len(sent) == 4
        assert "INSERT INTO changes" in sent[2] and sent[3].startswith("INSERT INTO row_history")


def test_raw_insert_of_a_taken_key_raises_sqlalchemys_integrity_error_and_writes_nothing(
    store: Store,
) -> None:
    world = seed(store)
    user = store.get_user(world.client.user_id)
    assert user is not None
    before = dump(store)
    with pytest.raises(IntegrityError), store.transaction() as unit:
        unit.insert(user, token_hash="another")  # the same id
    assert dump(store) == before


def test_raw_stale_update_raises_conflict_naming_both_versions_and_writes_nothing(store: Store) -> None:
    world = seed(store)
    _, position = world.entry()
    store.update_position(world.client, position.id, {"memo": "moved on"})
    before = dump(store)
    with pytest.raises(Conflict) as raised, store.transaction() as unit:
        unit.update(position, Position(**{**_fields(position), "memo": "late", "version": 2}))
    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert dump(store) == before


def test_raw_transaction_that_fails_midway_rolls_back_its_raw_statements(store: Store) -> None:
    world = seed(store)
    _, position = world.entry()
    before = dump(store)
    with pytest.raises(RuntimeError), store.transaction() as unit:
        current = unit.require(Position, position.id)
        unit.update(current, Position(**{**_fields(current), "memo": "never", "version": 2}))
        raise RuntimeError("a failure after the raw UPDATE, before the commit")
    assert dump(store) == before
    assert store.get_position(position.id) == position


def test_raw_events_of_one_transaction_over_one_insert_statement_keep_their_order(store: Store) -> None:
    """More events than one multi-row INSERT carries: consecutive sequence numbers, in order."""
    world = seed(store)
    user = store.get_user(world.client.user_id)
    assert user is not None
    announced: list[ChangeEvent] = []
    store.add_commit_hook(announced.extend)
    with store.transaction() as unit:
        current: User = unit.require(User, user.id)
        for i in range(150):
            current = unit.update(
                current, User(**{**_fields(current), "name": f"n{i}", "version": current.version + 1})
            )
    assert [e.version for e in announced] == list(range(user.version + 1, user.version + 151))
    assert [e.seq for e in announced] == list(range(announced[0].seq, announced[0].seq + 150))
    assert store.read_changes(announced[0].seq - 1, limit=200) == announced


def test_raw_writes_from_many_threads_take_turns_and_lose_no_version(store: Store) -> None:
    world = seed(store)
    _, position = world.entry()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                store.update_position(world.client, position.id, {"memo": f"t{n}-{i}"})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    final = store.get_position(position.id)
    assert final is not None and final.version == position.version + 80
    history = store.position_history(world.client, position.id)
    assert [p.version for p in history] == list(range(1, final.version + 1))


def _fields(entity: Any) -> dict[str, Any]:
    return {name: getattr(entity, name) for name in entity.__dataclass_fields__}


def test_decimal_text_written_by_the_raw_path_reads_back_as_written(store: Store) -> None:
    world = seed(store)
    _, position = world.entry()
    store.update_position(world.client, position.id, {"trail_width": "12.50"})
    again = store.get_position(position.id)
    assert again is not None and str(again.trail_width) == "12.50" and again.trail_width == Decimal("12.5")
