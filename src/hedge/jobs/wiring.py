"""The server's jobs, built from its settings and services: the one place that lists them."""

from __future__ import annotations

from hedge.api.context import Services
from hedge.config import ServerSettings
from hedge.jobs.account_history import account_history_job
from hedge.jobs.alert_escalation import alert_escalation_job
from hedge.jobs.archive import daily
from hedge.jobs.backup import backup
from hedge.jobs.feed_retention import feed_retention_job, prune_interval_s
from hedge.jobs.metrics import JobMetrics, NotifyMetrics
from hedge.jobs.notifier import Notifier
from hedge.jobs.notify_config import parse_channels
from hedge.jobs.objectstore import ObjectStore, beside_database, open_store
from hedge.jobs.scheduler import Job, Scheduler, daily_at
from hedge.jobs.stats_job import stats_job
from hedge.jobs.summary import summary_job
from hedge.store.repository import Store


def reports_store(settings: ServerSettings) -> ObjectStore:
    url = settings.reports_url or beside_database(settings.database_url, "reports", settings.data_dir)
    return open_store(url, settings.s3_endpoint_url)


def daily_job(store: Store, reports: ObjectStore, settings: ServerSettings) -> Job:
    """Archive and clean-up, then a backup, once a day at HEDGE_ARCHIVE_AT (UTC)."""
    target = settings.backup_url or beside_database(settings.database_url, "backups", settings.data_dir)

    def make_backup() -> str:
        return backup(
            settings.database_url, target, keep=settings.backup_keep, endpoint_url=settings.s3_endpoint_url
        ).location

    def run() -> str:
        return daily(store, reports, settings.archive_after_days, None if target == "off" else make_backup)

    return Job("daily", run, 86400.0, next_after=daily_at(settings.archive_at), lease_s=1800.0)


def build_jobs(services: Services) -> list[Job]:
    settings = services.settings
    prune_every_s = settings.feed_prune_interval_s or prune_interval_s(settings.feed_retention_s)
    reports = reports_store(settings)
    jobs = [
        feed_retention_job(services.store, prune_every_s),
        account_history_job(services.store, settings.snapshot_interval_s),
        stats_job(services.store, reports, settings.stats_interval_s),
    ]
    jobs.append(daily_job(services.store, reports, settings))
    if settings.summary_at:
        jobs.append(summary_job(services.store, parse_channels(settings.notify), settings.summary_at))
    if settings.alert_escalate_s > 0:  # HEDGE_ALERT_ESCALATE_S=0 turns escalation off
        jobs.append(alert_escalation_job(services.store, settings.alert_escalate_s))
    return jobs


def build_scheduler(services: Services) -> Scheduler:
    store = services.store
    return Scheduler(
        store.engine, build_jobs(services), store.clock, metrics=JobMetrics(services.metrics.registry)
    )


def build_notifier(services: Services) -> Notifier:
    settings = services.settings
    return Notifier(services.store, parse_channels(settings.notify), settings.notify_secret)


class Jobs:
    """Everything periodic in one server process: the scheduler, alert delivery, their metrics."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.scheduler = build_scheduler(services)
        self.notifier = build_notifier(services)
        self.notify_metrics = NotifyMetrics(services.metrics.registry)

    async def start(self) -> None:
        await self.scheduler.start()
        self.notifier.start()

    async def stop(self) -> None:
        await self.notifier.stop()
        await self.scheduler.stop()

    def refresh_metrics(self) -> None:
        engine = self.services.store.engine
        if self.scheduler.metrics is not None:
            self.scheduler.metrics.refresh(engine)
        self.notify_metrics.refresh(engine, list(self.notifier.channels))
