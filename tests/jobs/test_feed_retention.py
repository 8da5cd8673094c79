"""The server prunes its change feed to the configured retention."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hedge.api.runner import serve
from hedge.client.graphql import GraphQLClient
from hedge.config import ServerSettings
from hedge.jobs.feed_retention import prune_interval_s
from hedge.store.feed import read_events
from hedge.store.repository import Store


def test_prune_interval_is_a_twenty_fourth_of_retention_within_bounds() -> None:
    assert prune_interval_s(24 * 3600) == 3600.0
    assert prune_interval_s(48) == 2.0
    assert prune_interval_s(0.5) == 1.0
    assert prune_interval_s(10 * 24 * 3600) == 3600.0


async def test_server_prunes_feed_events_older_than_retention(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    settings = ServerSettings.from_env(
        {}, database_url=url, port=0, admin_token="adm-token-long-enough-for-24", feed_retention_s=1.0
    )
    async with serve(settings) as base, GraphQLClient(base, "adm-token-long-enough-for-24") as admin:
        for index in range(3):
            await admin.execute(
                "mutation($i: CreateUserInput!) { createUser(input: $i) { token } }",
                {"i": {"email": f"u{index}@x.io", "name": "U", "role": "CLIENT"}},
            )
        probe = Store(url, migrate=False)
        try:
            before = len(read_events(probe.engine, 0))
            assert before >= 4  # the admin and three users
            for _ in range(50):  # the pruner signals nothing: watch the table for up to 10 s
                if len(read_events(probe.engine, 0)) <= 1:
                    break
                await asyncio.sleep(0.2)
            assert len(read_events(probe.engine, 0)) == 1  # the newest event is always kept
        finally:
            probe.close()
