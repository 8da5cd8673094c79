"""Escalates alerts left open and unacknowledged (HEDGE_ALERT_ESCALATE_S): a job on the scheduler.

The work is one store call (`Store.escalate_due`); the scheduler runs it on one process at a
time, and the store escalates each due alert once per period (rows are locked while escalated).
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool

from hedge.jobs.scheduler import Job
from hedge.store.repository import Store

log = logging.getLogger(__name__)


def escalation_interval_s(after_s: float) -> float:
    """Look ten times per escalation period, at most every minute and at least every second."""
    return min(max(after_s / 10, 1.0), 60.0)


def escalate_now(store: Store, after_s: float) -> int:
    escalated = store.escalate_due(store.now(), after_s)
    for alert in escalated:
        log.warning(
            "alert %s (%s, user %s) open and unacknowledged for %.0f s: escalated to %s",
            alert.id, alert.kind, alert.user_id, after_s, alert.severity,
        )  # fmt: skip
    return len(escalated)


async def escalate_once(store: Store, after_s: float) -> int:
    return await run_in_threadpool(escalate_now, store, after_s)


def alert_escalation_job(store: Store, after_s: float) -> Job:
    """On the scheduler: one process escalates at a time, every escalation_interval_s(after_s)."""

    def run() -> str:
        return f"{escalate_now(store, after_s)} alerts escalated"

    return Job("alert-escalation", run, escalation_interval_s(after_s))
