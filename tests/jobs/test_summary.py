"""The daily summary: P/L per account, hedges fired and failed, open alerts and the
manual-intervention queue (who resolved what, when, with which note), delivered once per day."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from tests.jobs.receiver import Receiver
from tests.store.conftest import seed

from hedge.domain.alerts import AlertDraft
from hedge.domain.enums import AlertKind, AlertSeverity
from hedge.jobs.notifier import Notifier
from hedge.jobs.notify_config import Channel
from hedge.jobs.summary import enqueue_summary
from hedge.store import outbox
from hedge.store.repository import Store


def test_daily_summary_lists_the_queue_and_goes_once_to_the_channels_that_want_it(tmp_path: Path) -> None:
    receiver = Receiver().start()
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    world = seed(store)
    channels = [Channel("daily", receiver.url + "/daily", events=frozenset({"SUMMARY"})),
                Channel("pager", receiver.url + "/pager", events=frozenset({"RAISED"}))]  # fmt: skip
    try:
        user = world.client.user_id
        orphan = store.raise_alert(AlertDraft(user, AlertKind.ORPHAN_AT_BROKER, AlertSeverity.CRITICAL,
                                              "ticket 9 at the broker", requires_action=True))  # fmt: skip
        ghost = store.raise_alert(AlertDraft(user, AlertKind.GHOST_POSITION, AlertSeverity.WARNING,
                                             "position gone", requires_action=True))  # fmt: skip
        store.resolve_alert(world.admin, ghost.id, note="closed by hand in the terminal")
        first = enqueue_summary(store, channels)
        again = enqueue_summary(store, channels)  # the same day: no second delivery
        notifier = Notifier(store, channels, "")
        notifier.send_due()
        rows = outbox.deliveries(store.engine)
    finally:
        store.close()
        receiver.stop()

    assert first.endswith("queued for 1 channels") and again == first
    assert [(r["channel"], r["event"]) for r in rows] == [("daily", "SUMMARY")]
    (got,) = receiver.accepted()
    body = got.json()
    summary, text = body["summary"], body["text"]
    assert got.path == "/daily" and body["title"].startswith("Hedge System daily summary ")
    assert [a["id"] for a in summary["awaitingAction"]] == [orphan.id]
    (resolved,) = summary["resolvedToday"]
    assert resolved["id"] == ghost.id and resolved["resolvedBy"] == world.admin.user_id
    assert resolved["note"] == "closed by hand in the terminal"
    assert summary["openAlerts"] == 1 and len(summary["accounts"]) == 3
    assert "Waiting for a person: 1" in text and "closed by hand in the terminal" in text


def test_summary_carries_each_accounts_pl_hedges_fired_and_hedge_legs_failed_today() -> None:
    from tests.jobs.test_stats import (
        ACCOUNT,
        EARLIER_TODAY,
        LAST_MONTH,
        NOW,
        USER,
        action,
        position,
    )

    from hedge.domain.enums import ActionStatus, PositionStatus, TriggerReason
    from hedge.jobs.stats import compute
    from hedge.jobs.summary import build

    positions = [
        position(PositionStatus.CLOSED, exit_time=EARLIER_TODAY, realized_pl=Decimal("12.5")),
        position(PositionStatus.STOPPED, exit_time=EARLIER_TODAY, realized_pl=Decimal("-2.25")),
        position(PositionStatus.CLOSED, exit_time=LAST_MONTH, realized_pl=Decimal("1000")),  # not today
        position(PositionStatus.OPEN, trail_triggered_at=EARLIER_TODAY, trigger_reason=TriggerReason.TRAIL),
    ]
    actions = [
        action(ActionStatus.FAILED, EARLIER_TODAY, trigger="p9"),
        action(ActionStatus.FAILED, EARLIER_TODAY),
    ]
    payload = build(compute(NOW, [USER], [ACCOUNT], positions, actions), [])
    (account,) = payload["summary"]["accounts"]

    assert account["realizedPlToday"] == "10.25" and account["hedgesFired"] == 1
    assert account["hedgeLegFailures"] == 1 and account["openPositions"] == 1
    assert "P/L 10.25, 2 closed, 1 hedges fired, 1 hedge legs failed, 1 open" in payload["text"]


async def test_summary_job_runs_at_the_configured_time_of_day(tmp_path: Path) -> None:
    from hedge.domain.clock import ManualClock
    from hedge.jobs.scheduler import Scheduler
    from hedge.jobs.summary import summary_job

    clock = ManualClock(datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
    store = Store(f"sqlite:///{tmp_path / 'h.db'}", clock=clock)
    channels = [Channel("daily", "http://127.0.0.1:9/daily", events=frozenset({"SUMMARY"}))]
    try:
        scheduler = Scheduler(store.engine, [summary_job(store, channels, "18:00")], clock, process_id="p1")
        clock.advance(59 * 60)
        early = await scheduler.run_due()  # 17:59
        clock.advance(60)
        on_time = await scheduler.run_due()  # 18:00
        rows = outbox.deliveries(store.engine)
    finally:
        store.close()

    assert early == [] and [r.job for r in on_time] == ["daily-summary"]
    assert [(r["channel"], r["event"]) for r in rows] == [("daily", "SUMMARY")]
