"""Prunes the change feed to its retention (default 24 h): a job on the scheduler."""

from __future__ import annotations

from hedge.jobs.scheduler import Job
from hedge.store.repository import Store


def prune_interval_s(retention_s: float) -> float:
    """Prune 24 times per retention period, at most hourly and at least every second."""
    return min(max(retention_s / 24, 1.0), 3600.0)


def feed_retention_job(store: Store, interval_s: float) -> Job:
    def run() -> str:
        removed = store.prune_changes()
        return f"pruned {removed} change-feed events older than {store.retention}"

    return Job("feed-retention", run, interval_s)
