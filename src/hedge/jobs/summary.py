"""The daily summary, delivered like an alert (event SUMMARY) at HEDGE_SUMMARY_AT (UTC).

P/L per account today, hedges fired (positions whose trigger fired) and hedge legs that failed,
the open alerts, and the manual-intervention queue: alerts that still wait for a person and the
ones people resolved today, with who, when and the note.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hedge.domain.models import Alert
from hedge.domain.values import iso_ms
from hedge.jobs.notify_config import Channel
from hedge.jobs.scheduler import Job, daily_at
from hedge.jobs.stats import StatsReport, compute
from hedge.store import outbox, stats_reports
from hedge.store.repository import Store


def build(report: StatsReport, alerts: Sequence[Alert]) -> dict[str, Any]:
    day = report.day_start
    open_alerts = [a for a in alerts if a.resolved_at is None]
    waiting = [a for a in open_alerts if a.requires_action]
    resolved_today = [
        a for a in alerts if a.requires_action and a.resolved_at is not None and a.resolved_at >= day
    ]
    lines = [f"Hedge System, {day:%Y-%m-%d} (UTC) so far:"]
    for a in report.accounts:
        t = a.today
        lines.append(
            f"- {a.display_name} ({a.account_id}): P/L {t.realized_pl}, {t.closed_positions} closed, "
            f"{t.triggers_fired} hedges fired, {t.hedge_leg_failures} hedge legs failed, "
            f"{a.open_positions} open"
        )
    lines.append(
        f"Open alerts: {len(open_alerts)} ({sum(a.severity == 'CRITICAL' for a in open_alerts)} CRITICAL)"
    )
    lines.append(f"Waiting for a person: {len(waiting)}")
    lines += [f"- {a.kind} {a.message} (since {iso_ms(a.created_at)})" for a in waiting]
    lines.append(f"Resolved by people today: {len(resolved_today)}")
    lines += [
        f"- {a.kind} by {a.resolved_by or 'the system'} at {iso_ms(a.resolved_at)}: {a.note or ''}"  # type: ignore[arg-type]
        for a in resolved_today
    ]
    summary = {
        "day": f"{day:%Y-%m-%d}",
        "accounts": [
            {"accountId": a.account_id, "userId": a.user_id, "displayName": a.display_name,
             "realizedPlToday": str(a.today.realized_pl), "hedgesFired": a.today.triggers_fired,
             "hedgeLegFailures": a.today.hedge_leg_failures, "openPositions": a.open_positions}
            for a in report.accounts
        ],
        "openAlerts": len(open_alerts),
        "awaitingAction": [{"id": a.id, "kind": a.kind, "message": a.message} for a in waiting],
        "resolvedToday": [
            {"id": a.id, "kind": a.kind, "resolvedBy": a.resolved_by, "resolvedAt": iso_ms(a.resolved_at),  # type: ignore[arg-type]
             "note": a.note}
            for a in resolved_today
        ],
    }  # fmt: skip
    title = f"Hedge System daily summary {day:%Y-%m-%d}"
    return {"event": "SUMMARY", "title": title, "text": "\n".join(lines), "summary": summary}


def enqueue_summary(store: Store, channels: Sequence[Channel]) -> str:
    now = store.now()
    report = compute(
        now, store.list_users(), store.list_accounts(), store.list_positions(), store.list_actions(),
        stats_reports.open_alerts(store.engine),
    )  # fmt: skip
    payload = build(report, store.list_alerts())
    wanting = [c for c in channels if c.wants("SUMMARY", None, None)]
    key = f"summary:{payload['summary']['day']}"
    rows = [{"channel": c.name, "dedupe_key": key, "alert_id": None, "event": "SUMMARY", "severity": "INFO",
             "payload": payload} for c in wanting]  # fmt: skip
    outbox.enqueue_now(store.engine, rows, now)
    return f"summary of {len(report.accounts)} accounts queued for {len(wanting)} channels"


def summary_job(store: Store, channels: Sequence[Channel], at: str) -> Job:
    return Job("daily-summary", lambda: enqueue_summary(store, channels), 86400.0, next_after=daily_at(at))
