"""`hedge agent`: the Hedge System on one PC.

Exit codes: 0 after a stop signal (SIGINT, SIGTERM; Ctrl-C or Ctrl-Break on Windows), 2 when the
settings are unusable or the server refuses the token.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING

from hedge import eventloop, heap, logs

if TYPE_CHECKING:
    from hedge.agent.runtime import AgentRuntime

EXIT_REFUSED = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("agent", help="run the Hedge System agent for one user/PC")
    parser.add_argument(
        "--server",
        dest="server_url",
        default=None,
        help="server URL, http:// or https:// (HEDGE_SERVER_URL, default http://127.0.0.1:8000)",
    )
    parser.add_argument(
        "--token-file", default=None, help="file holding the user's API token (HEDGE_TOKEN_FILE)"
    )
    parser.add_argument(
        "--ea-token-file", default=None, help="file holding the token EAs send in AUTH (HEDGE_EA_TOKEN_FILE)"
    )
    parser.add_argument(
        "--token",
        default=None,
        help="the user's API token (prefer HEDGE_TOKEN or --token-file: ps shows flags)",
    )
    parser.add_argument(
        "--ea-token", default=None, help="the EA token (prefer HEDGE_EA_TOKEN or --ea-token-file)"
    )
    parser.add_argument(
        "--ca-file", default=None, help="PEM file of CAs that verify the server's certificate (HEDGE_CA_FILE)"
    )
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
    from hedge.config import AgentSettings, flag_values
    from hedge.domain.errors import DomainError

    try:
        logs.configure(args.log_level)
    except ValueError as exc:  # HEDGE_LOG_FORMAT
        sys.stderr.write(f"cannot start the agent: {exc}\n")
        return 2
    log = logging.getLogger("hedge")
    try:
        settings = AgentSettings.from_env(
            token_file=args.token_file, ea_token_file=args.ea_token_file, **flag_values(args, AgentSettings)
        )
        if not settings.token or not settings.ea_token:
            log.error(
                "--token and --ea-token are required: give them as HEDGE_TOKEN / HEDGE_TOKEN_FILE / "
                "--token-file and HEDGE_EA_TOKEN / HEDGE_EA_TOKEN_FILE / --ea-token-file"
            )
            return EXIT_REFUSED
        log.info("starting agent: %s", settings.describe())
        runtime = AgentRuntime(settings)
    except (ValueError, OSError, DomainError) as exc:  # settings, token files, HEDGE_SYMBOL_SPECS
        log.error("cannot start the agent: %s", exc)
        return EXIT_REFUSED
    eventloop.tune_threads()
    heap.settle_now_and_later()  # the start-up heap out of the collector's full passes
    return eventloop.run(_serve(runtime, log))


async def _serve(runtime: AgentRuntime, log: logging.Logger) -> int:
    from hedge.agent.signals import install_stop_handlers
    from hedge.client.graphql import TokenRefused

    main = asyncio.current_task()
    assert main is not None
    stop_signal: list[str] = []

    def on_stop(name: str) -> None:
        if not stop_signal:
            log.info("received %s: stopping the agent", name)
            stop_signal.append(name)
            main.cancel()

    restore = install_stop_handlers(asyncio.get_running_loop(), on_stop)
    try:
        await runtime.run()
    except TokenRefused as exc:
        log.error(
            "the server refused the agent's token (%s): the token is wrong, revoked or its user is "
            "deactivated; set the right one in HEDGE_TOKEN or --token-file. Stopping.",
            exc.detail,
        )
        return EXIT_REFUSED
    except asyncio.CancelledError:
        if not stop_signal:
            raise
        main.uncancel()  # the stop was ours: end normally
    finally:
        restore()
    log.info("agent stopped (%s)", stop_signal[0] if stop_signal else "run ended")
    return 0
