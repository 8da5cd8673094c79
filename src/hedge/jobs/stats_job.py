"""The 5-minute batch (§7): statistics per user and account, written as a report to object storage.

Each run writes `stats/YYYY/MM/DD/stats-<UTC time>.json` (the whole report) and, beside it,
`-accounts.csv` and `-exposure.csv` (the tables), then records where it went and keeps the
JSON body in the store for `latestStats`.
"""

from __future__ import annotations

import json

from hedge.jobs.objectstore import ObjectStore
from hedge.jobs.scheduler import Job
from hedge.jobs.stats import compute
from hedge.store import stats_reports
from hedge.store.repository import Store


def write_stats(store: Store, objects: ObjectStore) -> str:
    now = store.now()
    report = compute(
        now,
        store.list_users(),
        store.list_accounts(),
        store.list_positions(),
        store.list_actions(),
        stats_reports.open_alerts(store.engine),
    )
    body = report.to_json()
    base = f"stats/{now:%Y/%m/%d}/stats-{now:%Y%m%dT%H%M%SZ}"
    location = objects.put(f"{base}.json", json.dumps(body, indent=1).encode())
    objects.put(f"{base}-accounts.csv", report.accounts_csv().encode())
    objects.put(f"{base}-exposure.csv", report.exposure_csv().encode())
    stats_reports.save(store.engine, now, location, body)
    return f"{len(report.accounts)} accounts of {len(report.users)} users -> {location}"


def stats_job(store: Store, objects: ObjectStore, interval_s: float) -> Job:
    return Job("stats", lambda: write_stats(store, objects), interval_s)
