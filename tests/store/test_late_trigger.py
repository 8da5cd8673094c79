"""A trigger whose actions start long after the price that met it (an agent that fired while
cut off from the server and asked again after a restart, a stop-out reported after an outage):
the actions start all the same (the plan stands), and LATE_TRIGGER tells the trigger's owner and
every started action's owner, naming the trigger and the positions its actions open."""

from __future__ import annotations

from tests.store.conftest import World
from tests.store.record_helpers import agent, hedge, record_world

from hedge.domain.clock import ManualClock
from hedge.domain.enums import ActionStatus, AlertKind
from hedge.domain.models import Alert
from hedge.domain.values import iso_ms

TTL_S = 30.0  # the store's default HEDGE_ACTION_TTL_S


def late_alerts(world: World) -> list[Alert]:
    return [a for a in world.store.list_alerts(open_only=True) if a.kind is AlertKind.LATE_TRIGGER]


def test_a_trail_met_ten_minutes_ago_starts_its_hedge_and_tells_both_owners(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        head, leg_action, leg = hedge(world)
        met_at = clock.now()
        clock.advance(600)
        fired, started = world.store.trigger_actions(head.id, "TRAIL", "150.2", price_time=iso_ms(met_at))
        assert [a.id for a in started] == [leg_action.id] and started[0].status is ActionStatus.EXECUTING
        assert fired.trail_triggered_at == met_at
        raised = late_alerts(world)
        assert {a.user_id for a in raised} == {world.client.user_id, world.other.user_id}
        for alert in raised:
            assert alert.position_id == head.id and set(alert.related_position_ids) == {head.id, leg.id}
            assert alert.severity.value == "WARNING" and "600 s later" in alert.message
        assert {a.account_id for a in raised} == {world.account_id, None}  # the trigger's account, its owner


def test_a_trail_that_reaches_the_server_within_the_deadline_raises_nothing(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        head, _, _ = hedge(world)
        met_at = clock.now()
        clock.advance(TTL_S - 1)
        _, started = world.store.trigger_actions(head.id, "TRAIL", "150.2", price_time=iso_ms(met_at))
        assert len(started) == 1 and late_alerts(world) == []


def test_a_late_repeat_of_a_recorded_trigger_changes_nothing_and_raises_nothing(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        head, _, _ = hedge(world)
        met_at = clock.now()
        world.store.trigger_actions(head.id, "TRAIL", "150.2", price_time=iso_ms(met_at))
        clock.advance(3600)  # the agent, restarted, asks again an hour later
        again, started = world.store.trigger_actions(head.id, "TRAIL", "150.2", price_time=iso_ms(met_at))
        assert started == [] and again.trail_triggered_at == met_at and late_alerts(world) == []


def test_a_stop_out_reported_long_after_it_happened_fires_its_chain_and_says_it_is_late(
    store_url: str,
) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        head, leg_action, _ = hedge(world)
        stopped_at = clock.now()
        clock.advance(900)
        facts = {"status": "STOPPED", "exit_price": "149.2", "exit_time": iso_ms(stopped_at)}
        world.store.update_position(agent(head.user_id), head.id, {**facts, "exit_reason": "STOP_OUT"})
        assert world.store.get_action(leg_action.id).status is ActionStatus.EXECUTING  # type: ignore[union-attr]
        raised = late_alerts(world)
        assert {a.user_id for a in raised} == {world.client.user_id, world.other.user_id}
        assert all("STOP_OUT of position" in a.message and "900 s later" in a.message for a in raised)
