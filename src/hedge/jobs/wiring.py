"""The server's jobs, built from its settings and services: the one place that lists them."""

from __future__ import annotations

from hedge.api.context import Services
from hedge.config import ServerSettings
from hedge.jobs.account_history import account_history_job
from hedge.jobs.alert_escalation import alert_escalation_job
from hedge.jobs.feed_retention import feed_retention_job, prune_interval_s
from hedge.jobs.metrics import JobMetrics
from hedge.jobs.objectstore import ObjectStore, beside_database, open_store
from hedge.jobs.scheduler import Job, Scheduler
from hedge.jobs.stats_job import stats_job


def reports_store(settings: ServerSettings) -> ObjectStore:
    url = settings.reports_url or beside_database(settings.database_url, "reports")
    return open_store(url, settings.s3_endpoint_url)


def build_jobs(services: Services) -> list[Job]:
    settings = services.settings
    prune_every_s = settings.feed_prune_interval_s or prune_interval_s(settings.feed_retention_s)
    reports = reports_store(settings)
    jobs = [
        feed_retention_job(services.store, prune_every_s),
        account_history_job(services.store, settings.snapshot_interval_s),
        stats_job(services.store, reports, settings.stats_interval_s),
    ]
    if settings.alert_escalate_s > 0:  # HEDGE_ALERT_ESCALATE_S=0 turns escalation off
        jobs.append(alert_escalation_job(services.store, settings.alert_escalate_s))
    return jobs


def build_scheduler(services: Services) -> Scheduler:
    store = services.store
    return Scheduler(
        store.engine, build_jobs(services), store.clock, metrics=JobMetrics(services.metrics.registry)
    )
