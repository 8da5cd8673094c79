"""`hedge ea-install --terminal-data-dir DIR --platform mt5|mt4`: copy the EA into a terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hedge.domain.errors import ValidationError
from hedge.ea.install import DLL_NAME, Platform, default_source, install

EXIT_BAD_SETTINGS = 64


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "ea-install", help="copy the MetaTrader EA's sources into a terminal's data folder for MetaEditor"
    )
    p.add_argument("--terminal-data-dir", type=Path, required=True,
                   help="the folder MetaTrader opens with File > Open Data Folder")  # fmt: skip
    p.add_argument("--platform", choices=[p.value for p in Platform], required=True)
    p.add_argument(
        "--source", type=Path, default=None, help="the repository's ea/mql (default: found beside this code)"
    )
    p.set_defaults(func=run_install)


def run_install(args: argparse.Namespace) -> int:
    platform = Platform(args.platform)
    try:
        done = install(args.source or default_source(), platform, args.terminal_data_dir)
    except (ValidationError, OSError) as exc:
        print(f"hedge ea-install: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    for placement in done:
        print(f"{placement.source} -> {placement.target}")
    expert = "HedgeSystemEA.mq5" if platform is Platform.MT5 else "HedgeSystemEA.mq4"
    print(
        f"{len(done)} file(s) copied. Open {platform.folder}/Experts/{expert} in MetaEditor, compile it (F7)."
    )
    if platform is Platform.MT4 and not any(p.target.name == DLL_NAME for p in done):
        print(f"{DLL_NAME} is not built yet: run `make -C ea/mql/dll` and install again "
              f"(or copy it to {platform.folder}/Libraries yourself).")  # fmt: skip
    return 0
