"""The jobs' Prometheus metrics, on the server's registry: last run, duration and outcome per job.

The last-run gauges are refreshed from the store before each scrape, so every server process
shows the cluster's last run of each job, whichever process ran it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Engine

from hedge.store import jobs as rows
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
