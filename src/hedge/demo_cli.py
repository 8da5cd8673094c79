"""`hedge demo`: the command line; the demo itself (and its heavy imports) load only when it runs."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="run server, two agents and two paper EAs with the seed's hedge flow"
    )
    parser.add_argument(
        "--scenario-only", action="store_true", help="run the scenario, then exit (0 = it completed)"
    )
    parser.add_argument("--port", type=int, default=8000, help="server port (0 = any free port)")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary directory")
    parser.add_argument("--timeout-s", type=float, default=30.0, help="how long the scenario may take")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from hedge.demo import run_demo

    return run_demo(args)
