"""The server's jobs, built from its settings and services: the one place that lists them."""

from __future__ import annotations

from hedge.api.context import Services
from hedge.jobs.account_history import account_history_job
from hedge.jobs.feed_retention import feed_retention_job, prune_interval_s
from hedge.jobs.metrics import JobMetrics
from hedge.jobs.scheduler import Job, Scheduler


def build_jobs(services: Services) -> list[Job]:
    settings = services.settings
    prune_every_s = settings.feed_prune_interval_s or prune_interval_s(settings.feed_retention_s)
    return [
        feed_retention_job(services.store, prune_every_s),
        account_history_job(services.store, settings.snapshot_interval_s),
    ]


def build_scheduler(services: Services) -> Scheduler:
    store = services.store
    return Scheduler(
        store.engine, build_jobs(services), store.clock, metrics=JobMetrics(services.metrics.registry)
    )
