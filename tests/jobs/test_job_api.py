"""jobRuns (ADMIN) and the jobs' metrics on a running server."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import Api, error_code
from tests.jobs.procs import start_server

from hedge.localservices import PostgresServer
from hedge.store import jobs as rows
from hedge.store.engine import make_engine

JOB_RUNS = "query($job: String, $limit: Int) { jobRuns(job: $job, limit: $limit) { job processId startedAt durationS outcome detail } }"  # noqa: E501


async def _runs(api: Api, job: str) -> list[dict[str, object]]:
    async with asyncio.timeout(10):
        while True:
            found: list[dict[str, object]] = (await api.admin.execute(JOB_RUNS, {"job": job}))["jobRuns"]
            if found:
                return found
            await asyncio.sleep(0.05)


async def test_job_runs_shows_the_feed_retention_run_to_an_admin(api: Api) -> None:
    found = await _runs(api, "feed-retention")

    assert found[0]["job"] == "feed-retention" and found[0]["outcome"] == "OK"
    assert str(found[0]["detail"]).startswith("pruned ")
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(api.url + "/metrics")).text
    assert 'hedge_job_last_success{job="feed-retention"} 1.0' in metrics
    assert 'hedge_job_last_run_timestamp_seconds{job="feed-retention"}' in metrics


async def test_job_runs_for_a_client_is_forbidden(api: Api) -> None:
    person = await api.new_user()
    body = await person.client.raw(JOB_RUNS, {})
    assert error_code(body) == "FORBIDDEN"


@pytest.mark.parametrize("limit", [0, -1, 5000])
async def test_job_runs_with_a_limit_out_of_range_is_a_validation_error(api: Api, limit: int) -> None:
    body = await api.admin.raw(JOB_RUNS, {"limit": limit})
    assert error_code(body) == "VALIDATION"


@pytest.mark.postgres
def test_two_server_processes_run_each_job_once_per_interval(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")
    env = {"HEDGE_FEED_PRUNE_INTERVAL_S": "0.5"}
    servers = [start_server(url, tmp_path / f"{name}.log", env) for name in ("a", "b")]
    engine = make_engine(url)
    try:
        both_up = datetime.now(UTC)
        time.sleep(5.0)  # ten intervals: each process alone would run the job ten times
        window = [r for r in rows.list_runs(engine, "feed-retention", 1000) if r.started_at >= both_up]
        first_holder = window[0].process_id
        holder = next(s for s in servers if f":{s.proc.pid}:" in first_holder)
        holder.kill()  # the process that ran last dies; the other carries on
        time.sleep(3.0)
        after = [
            r for r in rows.list_runs(engine, "feed-retention", 1000) if r.started_at > window[0].started_at
        ]
    finally:
        for server in servers:
            server.stop()
        engine.dispose()

    runs = sorted(window, key=lambda r: r.started_at)
    assert 8 <= len(runs) <= 11, [r.started_at for r in runs]  # once per 0.5 s, not twice
    for earlier, later in itertools.pairwise(runs):  # never two at a time
        assert later.started_at >= earlier.finished_at
    assert after and all(r.process_id != first_holder for r in after)


CHANNELS = "{ notifyChannels { name up pending sent lastError } }"


async def test_notify_channels_lists_the_configured_channels_to_an_admin(tmp_path: Path) -> None:
    from tests.api.conftest import settings_for, start_api

    settings = settings_for(
        f"sqlite:///{tmp_path / 'h.db'}", notify='[{"url": "https://127.0.0.1:9/x", "name": "ops"}]'
    )
    async for api in start_api(settings):
        found = (await api.admin.execute(CHANNELS))["notifyChannels"]
        client = await api.new_user()
        refused = await client.client.raw(CHANNELS)
    assert found == [{"name": "ops", "up": True, "pending": 0, "sent": 0, "lastError": None}]
    assert error_code(refused) == "FORBIDDEN"
