"""`hedge agent`: the Hedge System on one PC."""

from __future__ import annotations

import argparse
import contextlib
import logging

from hedge import eventloop


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("agent", help="run the Hedge System agent for one user/PC")
    parser.add_argument(
        "--server", default=None, help="server URL (HEDGE_SERVER_URL, default http://127.0.0.1:8000)"
    )
    parser.add_argument("--token", default=None, help="the user's API token (HEDGE_TOKEN)")
    parser.add_argument("--ea-token", default=None, help="the token EAs send in AUTH (HEDGE_EA_TOKEN)")
    parser.add_argument(
        "--ea-host", default=None, help="EA WebSocket bind address (HEDGE_EA_HOST, default 127.0.0.1)"
    )
    parser.add_argument(
        "--ea-port", type=int, default=None, help="EA WebSocket port (HEDGE_EA_PORT, default 8080)"
    )
    parser.add_argument(
        "--state-dir", default=None, help="where the agent keeps its local copy (HEDGE_STATE_DIR)"
    )
    parser.add_argument("--log-level", default="info")
    parser.set_defaults(func=run_agent)


def run_agent(args: argparse.Namespace) -> int:
    from hedge.agent.runtime import AgentRuntime
    from hedge.config import AgentSettings
    from hedge.domain.errors import DomainError

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log = logging.getLogger("hedge")
    try:
        settings = AgentSettings.from_env(
            server_url=args.server,
            token=args.token,
            ea_token=args.ea_token,
            ea_host=args.ea_host,
            ea_port=args.ea_port,
            state_dir=args.state_dir,
        )
        if not settings.token or not settings.ea_token:
            log.error("--token and --ea-token (or HEDGE_TOKEN, HEDGE_EA_TOKEN) are required")
            return 2
        log.info("starting agent: %s", settings.describe())
        runtime = AgentRuntime(settings)
    except (ValueError, OSError, DomainError) as exc:  # settings, HEDGE_SYMBOL_SPECS
        log.error("cannot start the agent: %s", exc)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        eventloop.run(runtime.run())
    return 0
