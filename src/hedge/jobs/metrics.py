"""The jobs' Prometheus metrics, on the server's registry: last run, duration and outcome per job.

The last-run gauges are refreshed from the store before each scrape, so every server process
shows the cluster's last run of each job, whichever process ran it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Engine

from hedge.store import jobs as rows
from hedge.store import outbox
from hedge.store.jobs import JobRun


class JobMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.last_run = Gauge(
            "hedge_job_last_run_timestamp_seconds",
            "when the job's last run started (Unix time), by any server process",
            ["job"],
            registry=registry,
        )
        self.last_duration = Gauge(
            "hedge_job_last_duration_seconds", "how long the job's last run took", ["job"], registry=registry
        )
        self.last_ok = Gauge(
            "hedge_job_last_success", "1 when the job's last run succeeded, 0 when it failed", ["job"],
            registry=registry,
        )  # fmt: skip
        self.runs = Counter(
            "hedge_job_runs", "job runs in this process", ["job", "outcome"], registry=registry
        )

    def observe(self, run: JobRun) -> None:
        self.runs.labels(run.job, run.outcome).inc()
        self._set(run)

    def refresh(self, engine: Engine) -> None:
        for run in rows.latest_runs(engine):
            self._set(run)

    def _set(self, run: JobRun) -> None:
        self.last_run.labels(run.job).set(run.started_at.timestamp())
        self.last_duration.labels(run.job).set(run.duration_s)
        self.last_ok.labels(run.job).set(1.0 if run.outcome == "OK" else 0.0)


class NotifyMetrics:
    """Alert delivery per channel, from the outbox (whichever process sends)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.up = Gauge(
            "hedge_notify_channel_up",
            "0 when the channel's oldest waiting delivery has failed 3 times or more (a dead channel)",
            ["channel"],
            registry=registry,
        )
        self.pending = Gauge(
            "hedge_notify_pending", "deliveries waiting for the channel", ["channel"], registry=registry
        )
        self.sent = Gauge(
            "hedge_notify_sent", "deliveries the channel has taken", ["channel"], registry=registry
        )

    def refresh(self, engine: Engine, channels: list[str]) -> None:
        seen = {h.channel: h for h in outbox.health(engine)}
        for name in sorted(set(channels) | set(seen)):
            health = seen.get(name)
            self.up.labels(name).set(1.0 if health is None or health.up else 0.0)
            self.pending.labels(name).set(0 if health is None else health.pending)
            self.sent.labels(name).set(0 if health is None else health.sent)
