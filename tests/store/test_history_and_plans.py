"""The row history, settlePosition, idempotent creation, atomic hedge plans, symbols per account
and exposure, on both engines."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.store.conftest import row_counts
from tests.store.record_helpers import agent, entry, fired_hedge, hedge, open_, record_world

from hedge.domain.alerts import AlertDraft
from hedge.domain.clock import ManualClock
from hedge.domain.creation import EntryRequest
from hedge.domain.enums import AlertKind, AlertSeverity, ChangeSource, PositionStatus
from hedge.domain.errors import Forbidden, InvalidTransition, ValidationError
from hedge.domain.symbols import catalog_from_config
from hedge.store.plans import LegRequest


def test_history_keeps_every_version_with_who_what_and_why(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        action, position = world.store.create_action(
            world.client.user_id,
            world.account_id,
            "ENTRY",
            entry=EntryRequest("USDJPY", "BUY", "0.1"),
            actor=world.client,
        )
        world.store.update_position(world.admin, position.id, {"memo": "planned"})
        open_(world, position)
        versions = world.store.position_history(world.client, position.id)
        assert [p.version for p in versions] == [1, 2, 3, 4]
        assert [p.status for p in versions] == [PositionStatus.PENDING, PositionStatus.PENDING,
                                                PositionStatus.OPENING, PositionStatus.OPEN]  # fmt: skip
        made = world.store.changes(world.client, position.id, action.id)
        rows = [(c.entity, c.version, c.source, c.by, sorted(c.fields)) for c in made]
        assert rows[0][:4] == ("Position", 1, ChangeSource.AGENT, world.client.user_id)
        assert ("Position", 2, ChangeSource.USER, world.admin.user_id, ["memo"]) in rows
        assert ("Position", 3, ChangeSource.AGENT, world.client.user_id, ["status"]) in rows
        follow = next(c for c in made if c.entity == "Action" and c.version == 2)
        assert (
            follow.source is ChangeSource.SERVER
            and follow.reason == f"follows position {position.id} to OPENING"
        )
        assert sorted(follow.fields) == [
            "correlation_id",
            "expires_at",
            "status",
        ]  # the server gives it an id
        with pytest.raises(Forbidden):
            world.store.changes(world.other, position.id, None)
        with pytest.raises(Forbidden):
            world.store.position_history(world.other, position.id)


def test_history_outlives_the_feed_retention(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        _, position = entry(world, world.account_id)
        open_(world, position)
        world.store.retention = timedelta(seconds=1)
        clock.advance(3600)
        entry(world, world.account_id)  # the newest event always stays; the old ones go
        assert world.store.prune_changes() > 0
        assert [p.version for p in world.store.position_history(world.admin, position.id)] == [1, 2, 3]


def test_refused_write_adds_no_history(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        _, position = entry(world, world.account_id)
        with pytest.raises(Forbidden):
            world.store.update_position(world.admin, position.id, {"mt_ticket": "1"})
        assert len(world.store.changes(world.admin, position.id, None)) == 1


def test_settle_position_is_admin_only_needs_a_reason_and_is_kept_as_that_persons(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        _, position = entry(world, world.account_id)
        world.store.update_position(agent(position.user_id), position.id, {"status": "OPENING"})
        facts = {"mt_ticket": "777", "entry_price": "150.5", "filled_volume": "0.1"}
        with pytest.raises(Forbidden):
            world.store.settle_position(world.client, position.id, "OPEN", facts, "read off the terminal")
        with pytest.raises(ValidationError, match="reason must not be empty"):
            world.store.settle_position(world.admin, position.id, "OPEN", facts, "")
        with pytest.raises(ValidationError, match="mtTicket are required"):
            world.store.settle_position(world.admin, position.id, "OPEN", {}, "no facts")
        settled = world.store.settle_position(
            world.admin, position.id, "OPEN", facts, "read off the terminal"
        )
        assert (settled.status, settled.mt_ticket, settled.entry_price) == (
            PositionStatus.OPEN,
            "777",
            Decimal("150.5"),
        )
        last = world.store.changes(world.admin, position.id, None)[-1]
        assert (last.source, last.by) == (ChangeSource.USER, world.admin.user_id)
        assert last.reason == "settled by a person: read off the terminal"
        closed = world.store.settle_position(
            world.admin,
            position.id,
            "CLOSED",
            {"exit_price": "150.9", "realized_pl": "4"},
            "broker statement",
        )
        with pytest.raises(InvalidTransition):
            world.store.settle_position(world.admin, closed.id, "OPEN", {}, "again")


def test_create_action_with_the_same_client_request_id_returns_the_first_and_creates_nothing(
    store_url: str,
) -> None:
    with record_world(store_url, ManualClock()) as world:
        request = EntryRequest("EURUSD", "SELL", "0.2")

        def create(actor: object) -> tuple[object, object]:
            return world.store.create_action(
                world.client.user_id, world.account_id, "ENTRY", entry=request, actor=actor,  # type: ignore[arg-type]
                client_request_id="req-1",
            )  # fmt: skip

        first = create(world.client)
        counts = row_counts(world.store)
        assert create(world.client) == first
        assert row_counts(world.store) == counts
        other = create(world.admin)  # another caller's key is its own
        assert other != first and row_counts(world.store) != counts


def test_create_action_symbols_without_a_spec_are_refused_never_guessed(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        for symbol in ("BTCUSD", "US30", "ZZZZZZ", "XAUXAG", "USDUSD"):
            with pytest.raises(ValidationError, match="has no spec"):
                entry(world, world.account_id, symbol=symbol)
        for symbol in ("USDJPY", "EURGBP", "USDZAR", "XAUUSD", "XPDUSD", "XAGEUR"):
            entry(world, world.account_id, symbol=symbol)


def test_symbol_specs_terminal_first_then_config_then_built_in(store_url: str) -> None:
    catalog = catalog_from_config(
        {"BTCUSD": {"digits": 2, "contractSize": "1"}, "XAUUSD": {"contractSize": "10"}}
    )
    with record_world(store_url, ManualClock(), catalog=catalog) as world:
        gold = {"symbol": "XAUUSD", "digits": 3, "point": "0.001", "contract_size": "100",
                "volume_min": "0.01", "volume_step": "0.01", "volume_max": "50"}  # fmt: skip
        world.store.update_account(world.account_id, {"symbol_specs": [gold]}, actor=world.client)
        mine = {s.symbol: s for s in world.store.symbol_specs(world.client, world.account_id)}
        assert (mine["XAUUSD"].source, mine["XAUUSD"].pip_size, mine["XAUUSD"].contract_size) == (
            "TERMINAL", Decimal("0.010"), Decimal("100")
        )  # fmt: skip
        assert (mine["BTCUSD"].source, mine["BTCUSD"].pip_size) == ("CONFIG", Decimal("0.01"))
        assert mine["EURUSD"].source == "BUILTIN"
        theirs = {s.symbol: s for s in world.store.symbol_specs(world.other, world.other_account_id)}
        assert (theirs["XAUUSD"].source, theirs["XAUUSD"].contract_size) == ("CONFIG", Decimal("10"))
        with pytest.raises(Forbidden):
            world.store.symbol_specs(world.other, world.account_id)
        entry(world, world.account_id, symbol="BTCUSD")


def test_hedge_plan_is_created_whole_and_linked(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        legs = [LegRequest(world.other_account_id, "USDJPY", "SELL", "0.1", "2")]
        plan = world.store.create_hedge_plan(
            world.admin, world.account_id, EntryRequest("USDJPY", "BUY", "0.1", "3"), legs, "plan-1"
        )
        assert plan.entry_position.trigger_action_ids == (plan.hedge_actions[0].id,)
        assert plan.hedge_actions[0].trigger_position_id == plan.entry_position.id
        assert plan.hedge_actions[0].max_slippage_pips == Decimal("2")
        assert plan.hedge_positions[0].user_id == world.other.user_id
        counts = row_counts(world.store)
        again = world.store.create_hedge_plan(
            world.admin, world.account_id, EntryRequest("USDJPY", "BUY", "0.1", "3"), legs, "plan-1"
        )
        assert again == plan and row_counts(world.store) == counts


def test_hedge_plan_with_a_bad_leg_creates_nothing(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        counts = row_counts(world.store)
        legs = [LegRequest(world.second_account_id, "USDJPY", "SELL", "0.1"),
                LegRequest(world.second_account_id, "BTCUSD", "SELL", "0.1")]  # fmt: skip
        with pytest.raises(ValidationError, match=r"hedges\[1\].symbol"):
            world.store.create_hedge_plan(
                world.client, world.account_id, EntryRequest("USDJPY", "BUY", "0.1"), legs
            )
        with pytest.raises(Forbidden):  # a leg on another user's account needs ADMIN
            world.store.create_hedge_plan(
                world.client, world.account_id, EntryRequest("USDJPY", "BUY", "0.1"),
                [LegRequest(world.other_account_id, "USDJPY", "SELL", "0.1")],
            )  # fmt: skip
        assert row_counts(world.store) == counts


def test_exposure_nets_lots_per_user_per_hedge_and_overall_and_finds_unpaired_legs(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        head, _, leg = fired_hedge(world)
        open_(world, leg)
        paired = world.store.exposure(world.admin)
        assert [(line.symbol, line.net_lots) for line in paired.overall] == [("USDJPY", Decimal("0"))]
        assert paired.unpaired_legs == ()
        assert [h.position_ids for h in paired.by_hedge] == [(head.id, leg.id)]
        by_hand = {"status": "STOPPED", "exit_price": "149", "exit_reason": "TERMINAL_CLOSE"}
        world.store.update_position(agent(head.user_id), head.id, by_hand)
        alone = world.store.exposure(world.admin)
        assert [p.id for p in alone.unpaired_legs] == [leg.id]
        assert [(line.symbol, line.net_lots) for line in alone.overall] == [("USDJPY", Decimal("-0.1"))]
        own = world.store.exposure(world.client)
        assert (
            own.by_user == () and own.unpaired_legs == ()
        )  # the client's head is gone; the leg is not its own


def test_trigger_price_time_is_kept_and_a_trigger_after_the_exit_is_refused(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        head, _, _ = hedge(world)
        priced = clock.now() - timedelta(seconds=11)
        fired, _ = world.store.trigger_actions(head.id, "TRAIL", "150.2", price_time=priced.isoformat())
        assert fired.trail_triggered_at == priced
        other, _, _ = hedge(world)
        exit_time = clock.now() - timedelta(seconds=5)
        by_hand = {"status": "STOPPED", "exit_price": "149", "exit_reason": "TERMINAL_CLOSE"}
        world.store.update_position(
            agent(other.user_id), other.id, {**by_hand, "exit_time": exit_time.isoformat()}
        )
        with pytest.raises(InvalidTransition, match="after the position's exit"):
            world.store.trigger_actions(other.id, "TRAIL", "150.2", price_time=clock.now().isoformat())
        late_but_true, _ = world.store.trigger_actions(
            other.id, "TRAIL", "150.2", price_time=(exit_time - timedelta(seconds=1)).isoformat()
        )
        assert late_but_true.trail_triggered_at is not None
        with pytest.raises(ValidationError, match="priceTime must not be in the future"):
            world.store.trigger_actions(
                hedge(world)[0].id, "TRAIL", "1", price_time=(clock.now() + timedelta(hours=1)).isoformat()
            )


def test_settle_position_resolves_the_alerts_that_asked_for_a_person_as_theirs(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        _, _, leg = fired_hedge(world)
        world.store.update_position(agent(leg.user_id), leg.id, {"status": "OPENING"})
        world.store.raise_alert(
            AlertDraft(
                leg.user_id,
                AlertKind.OUTCOME_UNKNOWN,
                AlertSeverity.CRITICAL,
                "no answer to OPEN",
                position_id=leg.id,
                requires_action=True,
            )
        )
        facts = {"mt_ticket": "55", "entry_price": "150.1"}
        world.store.settle_position(world.admin, leg.id, "OPEN", facts, "the terminal shows ticket 55")
        about = [a for a in world.store.list_alerts() if a.position_id == leg.id]
        assert about and all(
            a.resolved_at is not None and a.resolved_by == world.admin.user_id for a in about
        )
