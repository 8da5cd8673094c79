"""Deadlines of triggered actions, on both engines: expiresAt = EXECUTING + HEDGE_ACTION_TTL_S;
the sweep fails what was not taken up; a late agent cannot take it up."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from tests.store.record_helpers import agent, alerts_logged, entry, fired_hedge, hedge, open_, record_world

from hedge.domain.clock import ManualClock
from hedge.domain.enums import ActionStatus, PositionStatus
from hedge.domain.errors import InvalidTransition


def test_trigger_sets_expires_at_ttl_after_executing(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        head, leg_action, _ = hedge(world)
        _, started = world.store.trigger_actions(head.id, "TRAIL", "150.2")
        assert [a.id for a in started] == [leg_action.id]
        assert (started[0].expires_at - clock.now()).total_seconds() == 30  # type: ignore[operator]


def test_sweep_before_the_deadline_leaves_the_action_executing(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        _, leg_action, _ = fired_hedge(world)
        clock.advance(30)  # at the deadline: not past it
        assert world.store.expire_actions() == []
        assert world.store.get_action(leg_action.id).status is ActionStatus.EXECUTING  # type: ignore[union-attr]


def test_sweep_past_the_deadline_fails_action_cancels_leg_and_alerts_both_owners(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        head, leg_action, leg = fired_hedge(world)
        clock.advance(31)
        with caplog.at_level(logging.WARNING, logger="hedge.store.record_alerts"):
            expired = world.store.expire_actions()
        assert [a.id for a in expired] == [leg_action.id]
        failed = world.store.get_action(leg_action.id)
        assert failed is not None and failed.status is ActionStatus.FAILED
        assert failed.error_message is not None and "deadline passed" in failed.error_message
        assert world.store.get_position(leg.id).status is PositionStatus.CANCELED  # type: ignore[union-attr]
        alerted = set(alerts_logged(caplog.records))
        assert ("ACTION_EXPIRED", world.other.user_id) in alerted
        assert ("ACTION_EXPIRED", world.client.user_id) in alerted
        assert ("HEDGE_LEG_FAILED", world.other.user_id) in alerted
        stored = {(a.kind.value, a.user_id, a.action_id) for a in world.store.list_alerts(open_only=True)}
        assert ("ACTION_EXPIRED", world.other.user_id, leg_action.id) in stored
        assert ("ACTION_EXPIRED", world.client.user_id, leg_action.id) in stored
        legs = [a for a in world.store.list_alerts() if a.kind.value == "HEDGE_LEG_FAILED"]
        assert legs and all(set(a.related_position_ids) == {head.id, leg.id} for a in legs)
        # the late agent comes back: it cannot take it up
        with pytest.raises(InvalidTransition):
            world.store.update_position(agent(leg.user_id), leg.id, {"status": "OPENING"})
        assert world.store.expire_actions() == []  # a second sweep finds nothing


def test_late_opening_before_the_sweep_is_refused_and_fails_the_action(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        _, leg_action, leg = fired_hedge(world)
        clock.advance(45)
        with pytest.raises(InvalidTransition, match=f"action {leg_action.id} expired at"):
            world.store.update_position(agent(leg.user_id), leg.id, {"status": "OPENING"})
        assert world.store.get_position(leg.id).status is PositionStatus.CANCELED  # type: ignore[union-attr]
        failed = world.store.get_action(leg_action.id)
        assert failed is not None and failed.status is ActionStatus.FAILED


def test_action_taken_up_in_time_is_not_expired_later(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        _, leg_action, leg = fired_hedge(world)
        clock.advance(29)
        world.store.update_position(agent(leg.user_id), leg.id, {"status": "OPENING"})
        clock.advance(600)  # the fill takes long: the OPENING committed in time, so it stands
        assert world.store.expire_actions() == []
        assert world.store.get_action(leg_action.id).status is ActionStatus.EXECUTING  # type: ignore[union-attr]


def test_expired_leg_retried_gets_a_fresh_position_and_names_it_on_the_old_one(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        _, leg_action, leg = fired_hedge(world)
        clock.advance(31)
        world.store.expire_actions()
        retried = world.store.update_action(leg_action.id, {"status": "PENDING"}, actor=world.admin)
        assert retried.status is ActionStatus.PENDING and retried.position_id != leg.id
        assert retried.expires_at is None and retried.retry_count == 1
        old, fresh = world.store.get_position(leg.id), world.store.get_position(retried.position_id)
        assert old is not None and fresh is not None
        assert old.status is PositionStatus.CANCELED and old.retried_as_position_id == fresh.id
        assert fresh.status is PositionStatus.PENDING
        assert (fresh.account_id, fresh.symbol, fresh.side, fresh.volume) == (
            leg.account_id, leg.symbol, leg.side, leg.volume
        )  # fmt: skip
        # started by hand, its deadline counts from its own EXECUTING
        started = world.store.update_action(leg_action.id, {"status": "EXECUTING"}, actor=world.admin)
        assert (started.expires_at - clock.now()).total_seconds() == 30  # type: ignore[operator]


def test_leg_left_open_after_the_other_leg_closed_is_alerted_once_after_the_ttl(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        head, _, leg = fired_hedge(world)
        open_(world, leg)
        world.store.update_position(world.client, head.id, {"status": "CLOSING"})
        world.store.update_position(agent(head.user_id), head.id, {"status": "CLOSED", "exit_price": "150.3"})
        clock.advance(30)
        assert world.store.check_unpaired_legs() == []  # not longer than the TTL yet
        clock.advance(1)
        assert world.store.check_unpaired_legs() == [leg.id]
        assert world.store.check_unpaired_legs() == []  # once while the alert is open
        alone = [a for a in world.store.list_alerts(open_only=True) if a.kind.value == "HEDGE_LEG_FAILED"]
        assert {a.user_id for a in alone} == {world.client.user_id, world.other.user_id}
        assert all(a.count == 1 and set(a.related_position_ids) == {head.id, leg.id} for a in alone)


def test_the_leg_check_reads_only_the_hedges_and_finds_the_unpaired_legs_the_whole_exposure_finds(
    store_url: str,
) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        head, _, leg = fired_hedge(world)
        open_(world, leg)
        paired_head, _, paired_leg = fired_hedge(world)
        open_(world, paired_leg)  # a second hedge, both legs OPEN: paired
        loners = [
            open_(world, entry(world, world.account_id, side=side)[1]) for side in ("BUY", "SELL", "BUY")
        ]
        world.store.update_position(world.client, head.id, {"status": "CLOSING"})
        world.store.update_position(agent(head.user_id), head.id, {"status": "CLOSED", "exit_price": "150.3"})
        whole, hedges = world.store.exposure(None), world.store.hedge_exposure()
        assert [p.id for p in hedges.unpaired_legs] == [p.id for p in whole.unpaired_legs] == [leg.id]
        assert hedges.by_hedge == whole.by_hedge and len(hedges.by_hedge) == 2
        counted = {line.symbol: line for line in hedges.overall}
        assert counted["USDJPY"].long_lots + counted["USDJPY"].short_lots == 3 * Decimal("0.1")  # 3 legs live
        assert not {p.id for p in loners} & {i for h in hedges.by_hedge for i in h.position_ids}
        assert not {paired_head.id, paired_leg.id} & {p.id for p in hedges.unpaired_legs}
