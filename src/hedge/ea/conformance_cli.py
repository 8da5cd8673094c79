"""`hedge ea-conformance`: check an EA against the EA protocol by playing the agent's side."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from decimal import Decimal, InvalidOperation

from hedge.config import read_secret_file
from hedge.ea.conformance import RULES, Listener, NoEAConnected
from hedge.ea.conformance_model import KitConfig, Report, Result, Status
from hedge.ea.flags import config_from_flags

EXIT_FAILED = 1
EXIT_NO_EA = 3
EXIT_BAD_SETTINGS = 64

DESCRIPTION = f"""\
Listen like the agent, wait for one EA to connect, and check it against the EA protocol: every
command, repeats and bad frames ({len(RULES)} rules). Prints `PASS|FAIL|SKIP <rule> <description>`
per rule, then `N passed, M failed`; exits 0 only when nothing failed.

IT TRADES on the account of the EA that connects: it opens ONE position of --volume lots (default
0.01, the usual minimum) on --symbol and closes it again. Use a DEMO account.
Point the EA at the kit (MT5: add http://HOST:PORT to the allowed WebRequest URLs) and start it."""


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"must be HOST:PORT, e.g. 127.0.0.1:8080, was {text!r}")
    return host.strip("[]"), int(port)


def _volume(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"must be a number of lots, was {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, was {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, was {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, was {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "ea-conformance",
        help="check an EA against the EA protocol (it trades one small position: use a demo account)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--listen", type=_listen, required=True, metavar="HOST:PORT", help="where the EA connects")
    token = p.add_mutually_exclusive_group(required=True)
    token.add_argument(
        "--ea-token-file", default=None, help="file whose first line is the token the EA must send in AUTH"
    )
    token.add_argument(
        "--ea-token", help="the token itself (visible to local users in `ps`: prefer the file)"
    )
    p.add_argument("--symbol", default="USDJPY", help="canonical symbol to stream and trade (default USDJPY)")
    p.add_argument("--volume", type=_volume, default=Decimal("0.01"), help="lots of the one position (0.01)")
    p.add_argument("--timeout-s", type=_seconds, default=10.0, help="how long an answer may take (10)")
    p.add_argument(
        "--quiet-s", type=_seconds, default=2.0, help="how long to watch that nothing more comes (2)"
    )
    p.add_argument(
        "--wait-s", type=_seconds, default=300.0, help="how long to wait for the EA to connect (300)"
    )
    p.add_argument("--max-clock-skew-s", type=_seconds, default=300.0, help="allowed |now - timeMs| (300)")
    p.add_argument("--account-number", default=None, help="the accountNumber AUTH must carry (optional)")
    p.add_argument("--server-name", default=None, help="the serverName AUTH must carry (optional)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    p.set_defaults(func=run_conformance)


def config_from_args(args: argparse.Namespace) -> KitConfig:
    """The kit's settings; ValueError when --ea-token-file cannot be read or is empty."""
    ea_token = args.ea_token or read_secret_file(args.ea_token_file, "--ea-token-file")
    return config_from_flags(args, KitConfig, ea_token=ea_token, symbol=args.symbol.strip().upper())


def run_conformance(args: argparse.Namespace) -> int:
    host, port = args.listen
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"hedge ea-conformance: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    try:
        report = asyncio.run(_check(host, port, config, args))
    except OSError as exc:
        print(f"hedge ea-conformance: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    except NoEAConnected as exc:
        print(f"hedge ea-conformance: {exc}", file=sys.stderr)
        return EXIT_NO_EA
    if args.json:
        print(json.dumps(_as_json(report), indent=2))
    else:
        skipped = report.count(Status.SKIP)
        if skipped:
            print(f"{skipped} skipped: those rules did not check this EA (see the SKIP lines)")
        print(report.summary())
    return 0 if report.ok else EXIT_FAILED


async def _check(host: str, port: int, config: KitConfig, args: argparse.Namespace) -> Report:
    async with Listener(host, port) as listener:
        print(
            f"listening on {listener.url} for one EA; it will trade "
            f"{config.volume} {config.symbol} on that account",
            file=sys.stderr,
            flush=True,
        )
        on_result = None if args.json else _print_line
        return await listener.check(config, on_result, wait_s=args.wait_s)


def _print_line(result: Result) -> None:
    print(result.line(), flush=True)


def _as_json(report: Report) -> dict[str, object]:
    return {
        "results": [r.as_json() for r in report.results],
        "passed": report.count(Status.PASS),
        "failed": report.count(Status.FAIL),
        "skipped": report.count(Status.SKIP),
        "ok": report.ok,
    }
