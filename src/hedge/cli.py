"""The `hedge` command: the composition root where the parts are wired together.

Each subcommand lives in the module that owns it and offers `register(subparsers)`; this file
only collects them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# module path -> each module defines `register(subparsers: argparse._SubParsersAction) -> None`
# and sets `func` (argparse.Namespace -> int) on the parsers it adds.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "hedge.api.cli",
    "hedge.agent.cli",
    "hedge.ea.paper_cli",
    "hedge.ea.conformance_cli",
    "hedge.ea.install_cli",
    "hedge.demo_cli",
    "hedge.client.ops_cli",
    "hedge.jobs.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hedge", description="Hedge System")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
