"""Helpers for the trade-record store tests: a seeded store with a hand-moved clock and chosen
limits and symbol specs, and the moves an agent makes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.store.conftest import World, seed

from hedge.domain.authz import Actor
from hedge.domain.clock import ManualClock
from hedge.domain.creation import EntryRequest
from hedge.domain.enums import UserRole
from hedge.domain.models import Action, Position
from hedge.domain.pretrade import TradeLimits, limits_from_config
from hedge.domain.symbols import SymbolCatalog
from hedge.store.repository import Store

OPEN_FACTS = {"status": "OPEN", "entry_price": "150", "mt_ticket": "T1"}


@contextmanager
def record_world(
    url: str, clock: ManualClock, limits: dict[str, Any] | None = None, catalog: SymbolCatalog | None = None
) -> Iterator[World]:
    checked: TradeLimits = limits_from_config(limits or {})
    store = Store(url, clock=clock, limits=checked, catalog=catalog)
    try:
        yield seed(store)
    finally:
        store.close()


def alerts_logged(records: list[logging.LogRecord]) -> list[tuple[str, str]]:
    """(kind, user id) of each alert the record's rules raised, from their log lines."""
    found = []
    for record in records:
        if record.name == "hedge.store.record_alerts" and isinstance(record.args, tuple):
            found.append((str(record.args[0]), str(record.args[1])))
    return found


def agent(user_id: str) -> Actor:
    return Actor(user_id, UserRole.CLIENT)  # type: ignore[arg-type]


def entry(world: World, account_id: str, symbol: str = "USDJPY", side: str = "BUY", volume: str = "0.1",
          ) -> tuple[Action, Position]:  # fmt: skip
    account = world.store.get_account(account_id)
    assert account is not None
    return world.store.create_action(
        account.user_id, account_id, "ENTRY", entry=EntryRequest(symbol, side, volume)
    )


def open_(world: World, position: Position) -> Position:
    store = world.store
    store.update_position(agent(position.user_id), position.id, {"status": "OPENING"})
    return store.update_position(agent(position.user_id), position.id, OPEN_FACTS)


def hedge(world: World) -> tuple[Position, Action, Position]:
    """The client's OPEN position whose trigger opens a SELL on the other user's account."""
    _, head = entry(world, world.account_id)
    leg_action, leg = entry(world, world.other_account_id, side="SELL")
    head = world.store.update_position(world.admin, head.id, {"trigger_action_ids": [leg_action.id]})
    return open_(world, head), leg_action, leg


def fired_hedge(world: World) -> tuple[Position, Action, Position]:
    """`hedge` with its trail trigger fired at 150.2: the leg's action EXECUTING, its deadline running."""
    head, leg_action, leg = hedge(world)
    world.store.trigger_actions(head.id, "TRAIL", "150.2")
    return head, leg_action, leg
