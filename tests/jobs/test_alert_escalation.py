"""The server's escalation round: one store call per round, on a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.store.conftest import seed

from hedge.domain.alerts import AlertDraft
from hedge.domain.clock import ManualClock
from hedge.domain.enums import AlertKind, AlertSeverity
from hedge.jobs.alert_escalation import escalate_once, escalation_interval_s
from hedge.store.repository import Store


@pytest.mark.parametrize(("after_s", "interval_s"), [(900.0, 60.0), (100.0, 10.0), (2.0, 1.0)])
def test_escalation_interval_is_a_tenth_of_the_period_within_bounds(
    after_s: float, interval_s: float
) -> None:
    assert escalation_interval_s(after_s) == interval_s


@pytest.fixture
def away(sqlite_url: str) -> Iterator[tuple[Store, ManualClock]]:
    """A store on a clock the test moves, holding one WARNING alert: a client's agent away."""
    clock = ManualClock()
    store = Store(sqlite_url, clock=clock)
    try:
        world = seed(store)
        store.raise_alert(
            AlertDraft(world.client.user_id, AlertKind.AGENT_OFFLINE, AlertSeverity.WARNING, "agent away")
        )
        yield store, clock
    finally:
        store.close()


async def test_escalate_once_escalates_what_is_due_and_counts_it(away: tuple[Store, ManualClock]) -> None:
    store, clock = away
    assert await escalate_once(store, 900.0) == 0
    clock.advance(900)
    assert await escalate_once(store, 900.0) == 1
    (alert,) = store.list_alerts()
    assert alert.severity is AlertSeverity.CRITICAL and alert.escalated_at == clock.now()


async def test_escalation_runs_as_a_scheduler_job_when_due(away: tuple[Store, ManualClock]) -> None:
    from hedge.jobs.alert_escalation import alert_escalation_job
    from hedge.jobs.scheduler import Scheduler

    store, clock = away
    scheduler = Scheduler(store.engine, [alert_escalation_job(store, 100.0)], clock)
    first = await scheduler.run_due()
    clock.advance(100)
    second = await scheduler.run_due()

    assert [r.detail for r in first] == ["0 alerts escalated"]
    assert [r.detail for r in second] == ["1 alerts escalated"]
