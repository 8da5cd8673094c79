"""What the server keeps for the agent's guards, on both engines: the triggering price an action
carries (Action.triggerPrice, for maxSlippagePips), and the HEDGE_LEG_FAILED an agent's report of a
failed hedge leg raises for every leg's owner, once (the sweep for legs left alone adds none)."""

from __future__ import annotations

from decimal import Decimal

from tests.store.record_helpers import agent, entry, hedge, open_, record_world

from hedge.domain.clock import ManualClock
from hedge.domain.enums import ActionStatus, PositionStatus


def _leg_alerts(world: object) -> list[object]:
    return [a for a in world.store.list_alerts(open_only=True) if a.kind.value == "HEDGE_LEG_FAILED"]  # type: ignore[attr-defined]


def test_trigger_gives_each_started_action_the_triggering_price(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        head, leg_action, _ = hedge(world)
        _, started = world.store.trigger_actions(head.id, "TRAIL", "150.2")
        assert [a.trigger_price for a in started] == [Decimal("150.2")]
        stored = world.store.get_action(leg_action.id)
        assert stored is not None and stored.trigger_price == Decimal("150.2")


def test_trigger_reads_its_actions_with_their_positions_symbol_in_one_statement(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        head, _, _ = hedge(world)
        sent: list[str] = []
        assert world.store.raw is not None
        world.store.raw.listen(lambda sql, _params: sent.append(sql))
        world.store.trigger_actions(head.id, "TRAIL", "150.2")
        reads = [sql for sql in sent if sql.startswith("SELECT")]
        # the position, then the hedge action joined to its own position (no read per action)
        assert len(reads) == 2 and "JOIN positions" in reads[1]
        # the feed and the history: one statement on PostgreSQL, two on SQLite
        assert len(sent) == (5 if world.store.raw.postgres else 6)


def test_trigger_on_another_symbol_gives_no_triggering_price(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        _, head = entry(world, world.account_id)
        leg_action, _ = entry(world, world.other_account_id, symbol="EURUSD", side="SELL")
        head = world.store.update_position(world.admin, head.id, {"trigger_action_ids": [leg_action.id]})
        open_(world, head)
        _, started = world.store.trigger_actions(head.id, "TRAIL", "150.2")
        assert [(a.status, a.trigger_price) for a in started] == [(ActionStatus.EXECUTING, None)]


def test_manual_start_and_retry_carry_no_triggering_price(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        head, leg_action, _ = hedge(world)
        world.store.trigger_actions(head.id, "TRAIL", "150.2")
        clock.advance(31)
        world.store.expire_actions()
        retried = world.store.update_action(leg_action.id, {"status": "PENDING"}, actor=world.admin)
        assert retried.trigger_price is None
        started = world.store.update_action(leg_action.id, {"status": "EXECUTING"}, actor=world.admin)
        assert started.trigger_price is None


def test_agent_reporting_its_leg_failed_alerts_every_legs_owner_naming_all_legs(store_url: str) -> None:
    clock = ManualClock()
    with record_world(store_url, clock) as world:
        head, leg_action, leg = hedge(world)
        world.store.trigger_actions(head.id, "TRAIL", "150.2")
        leg_agent = agent(leg.user_id)
        world.store.update_position(leg_agent, leg.id, {"status": "OPENING"})
        world.store.update_position(leg_agent, leg.id, {"status": "CANCELED"})
        why = "the terminal's BUY price 150.250 is 5 pips worse than the triggering price 150.200"
        world.store.update_action(leg_action.id, {"status": "FAILED", "error_message": why}, actor=leg_agent)
        alerts = _leg_alerts(world)
        assert {a.user_id for a in alerts} == {world.client.user_id, world.other.user_id}  # type: ignore[attr-defined]
        for alert in alerts:
            assert set(alert.related_position_ids) == {head.id, leg.id}  # type: ignore[attr-defined]
            assert alert.position_id == leg.id and why in alert.message  # type: ignore[attr-defined]
        # the head stays OPEN alone past the TTL: the failure is alerted already, not again
        clock.advance(60)
        assert world.store.check_unpaired_legs() == []
        assert len(_leg_alerts(world)) == 2


def test_agent_failing_an_action_no_trigger_started_raises_no_leg_alert(store_url: str) -> None:
    with record_world(store_url, ManualClock()) as world:
        action, position = entry(world, world.account_id)
        client_agent = agent(position.user_id)
        world.store.update_position(client_agent, position.id, {"status": "OPENING"})
        world.store.update_position(client_agent, position.id, {"status": "CANCELED"})
        taken_up = world.store.get_action(action.id)
        assert taken_up is not None and taken_up.status is ActionStatus.EXECUTING
        world.store.update_action(
            action.id, {"status": "FAILED", "error_message": "refused"}, actor=client_agent
        )
        assert _leg_alerts(world) == []
        assert world.store.get_position(position.id).status is PositionStatus.CANCELED  # type: ignore[union-attr]
