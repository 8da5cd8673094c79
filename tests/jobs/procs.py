"""Real `hedge server` processes for the jobs' tests (leader rule, backups while writing, restarts)."""

from __future__ import annotations

from pathlib import Path

from hedge.localservices import HedgeServer, start_hedge_server

ADMIN_TOKEN = "admin-token-for-the-jobs-tests"

ServerProcess = HedgeServer


def start_server(database_url: str, log: Path, env: dict[str, str] | None = None) -> ServerProcess:
    """Start `hedge server` on a free port, its log at `log` and its HEDGE_DATA_DIR beside it,
    and wait until /healthz answers 200."""
    return start_hedge_server(database_url, log.parent, name=log.stem, admin_token=ADMIN_TOKEN, env=env)
