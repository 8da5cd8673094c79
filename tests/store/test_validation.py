"""Bad input is refused with a named error before anything is written (no row, no change event)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hedge.domain.creation import EntryRequest
from hedge.domain.errors import DomainError, InvalidTransition, NotFound, ValidationError
from hedge.store.repository import Store

from .conftest import World, row_counts, seed

NAN = float("nan")
INF = float("inf")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One seeded store per engine for the whole module: every case here must leave it unchanged."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('validation') / 'hedge.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(f"v_{uuid.uuid4().hex[:12]}")
    store = Store(url)
    yield seed(store)
    store.close()


def _refused(store: Store, call: Callable[[], object], error: type[DomainError], field: str | None) -> None:
    before = row_counts(store)
    with pytest.raises(error) as caught:
        call()
    if field is not None:
        assert isinstance(caught.value, ValidationError) and caught.value.field == field, caught.value
    assert row_counts(store) == before


def _entry(world: World, **fields: Any) -> Callable[[], object]:
    request = {"symbol": "USDJPY", "side": "BUY", "volume": "0.1", **fields}
    return lambda: world.store.create_action(
        world.client.user_id, world.account_id, "ENTRY", entry=EntryRequest(**request)
    )


@pytest.mark.parametrize(
    "volume", [0, -1, "0.015", "100.01", 0.001, True, [1], "lots", NAN, INF, None], ids=repr
)
def test_create_entry_bad_volume_is_refused_before_writing(world: World, volume: object) -> None:
    _refused(world.store, _entry(world, volume=volume), ValidationError, "volume")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"side": "LONG"}, "side"),
        ({"trail_mode": "SOMETIMES"}, "trailMode"),
        ({"symbol": "usd/jpy"}, "symbol"),
        ({"symbol": "X" * 17}, "symbol"),
        ({"trail_width": -1}, "trailWidth"),
        ({"trail_width": NAN}, "trailWidth"),
    ],
)
def test_create_entry_bad_field_is_refused_before_writing(
    world: World, fields: dict[str, Any], field: str
) -> None:
    _refused(world.store, _entry(world, **fields), ValidationError, field)


def test_create_action_unknown_type_or_account_is_refused(world: World) -> None:
    store, user = world.store, world.client.user_id
    request = EntryRequest("USDJPY", "BUY", "0.1")
    _refused(
        store,
        lambda: store.create_action(user, world.account_id, "OPEN", entry=request),
        ValidationError,
        "type",
    )
    _refused(
        store, lambda: store.create_action(user, "no-such-account", "ENTRY", entry=request), NotFound, None
    )
    _refused(
        store,
        lambda: store.create_action(user, world.other_account_id, "ENTRY", entry=request),
        ValidationError,
        "accountId",
    )
    _refused(
        store,
        lambda: store.create_action(user, world.account_id, "CLOSE", position_id="no-such"),
        NotFound,
        None,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"entry_price": NAN}, "entryPrice"),
        ({"entry_price": INF}, "entryPrice"),
        ({"entry_price": 0}, "entryPrice"),
        ({"entry_price": -150.0}, "entryPrice"),
        ({"exit_price": "NaN"}, "exitPrice"),
        ({"exit_price": "-1"}, "exitPrice"),
        ({"exit_price": False}, "exitPrice"),
        ({"status": "DONE"}, "status"),
        ({"trail_mode": "X"}, "trailMode"),
        ({"exit_reason": "BORED"}, "exitReason"),
        ({"memo": "m" * 2001}, "memo"),
        ({"trigger_action_ids": "a1"}, "triggerActionIds"),
        ({"volume": "1"}, "volume"),
    ],
)
def test_update_position_bad_field_is_refused_before_writing(
    world: World, changes: dict[str, Any], field: str
) -> None:
    _, position = world.entry()
    _refused(
        world.store,
        lambda: world.store.update_position(world.client, position.id, changes),
        ValidationError,
        field,
    )
    assert world.store.get_position(position.id) == position


def test_update_position_unknown_ids_are_refused(world: World) -> None:
    store = world.store
    _, position = world.entry()
    _refused(store, lambda: store.update_position(world.client, "no-such", {"memo": "x"}), NotFound, None)
    listing = {"trigger_action_ids": ["no-such-action"]}
    _refused(store, lambda: store.update_position(world.client, position.id, listing), NotFound, None)


def test_update_action_bad_status_is_refused(world: World) -> None:
    store = world.store
    action, _ = world.entry()
    _refused(store, lambda: store.update_action(action.id, {"status": "DONE"}), ValidationError, "status")
    _refused(store, lambda: store.update_action(action.id, {"status": "EXECUTED"}), InvalidTransition, None)
    _refused(store, lambda: store.update_action("no-such", {"status": "CANCELED"}), NotFound, None)


@pytest.mark.parametrize("price", [0, -1, NAN, INF, "abc", True, [150]], ids=repr)
def test_trigger_actions_bad_price_is_refused(world: World, price: object) -> None:
    _, position = world.entry()
    world.open_position(position)
    _refused(
        world.store,
        lambda: world.store.trigger_actions(position.id, "TRAIL", price),
        ValidationError,
        "price",
    )


def test_trigger_actions_bad_reason_or_unknown_position_is_refused(world: World) -> None:
    store = world.store
    _, position = world.entry()
    world.open_position(position)
    _refused(store, lambda: store.trigger_actions(position.id, "WHY"), ValidationError, "reason")
    _refused(store, lambda: store.trigger_actions("no-such", "TRAIL"), NotFound, None)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"role": "ROOT"}, "role"),
        ({"name": "n" * 257}, "name"),
        ({"name": 42}, "name"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_create_user_bad_field_is_refused(world: World, kwargs: dict[str, Any], field: str) -> None:
    args = {"email": "x@example.com", "name": "X", "role": "CLIENT", **kwargs}
    _refused(world.store, lambda: world.store.create_user(**args), ValidationError, field)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"broker_type": "MT6"}, "brokerType"),
        ({"account_number": "9" * 65}, "accountNumber"),
        ({"currency": "DOLLARS"}, "currency"),
        ({"leverage": True}, "leverage"),
        ({"account_number": "1001"}, "accountNumber"),  # already registered on that server
    ],
)
def test_create_account_bad_field_is_refused(world: World, kwargs: dict[str, Any], field: str) -> None:
    args = {
        "user_id": world.client.user_id,
        "broker_type": "MT5",
        "account_number": "3001",
        "server_name": "Broker-Live",
        "display_name": "new",
        **kwargs,
    }
    _refused(world.store, lambda: world.store.create_account(**args), ValidationError, field)


def test_update_account_bad_field_is_refused(world: World) -> None:
    store = world.store
    _refused(
        store,
        lambda: store.update_account(world.account_id, {"connection_status": "MAYBE"}),
        ValidationError,
        "connectionStatus",
    )
    _refused(
        store, lambda: store.update_account(world.account_id, {"balance": NAN}), ValidationError, "balance"
    )
