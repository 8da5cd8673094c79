"""`hedge paper-ea`: run a simulated MetaTrader terminal against an agent."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import threading
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hedge import eventloop
from hedge.domain.enums import BrokerType
from hedge.domain.errors import ValidationError
from hedge.ea.errors import AuthRejected
from hedge.ea.flags import config_from_flags
from hedge.ea.paper import PaperEA
from hedge.ea.paper_account import Costs
from hedge.ea.paper_config import FillFaults, PaperConfig, RejectPolicy
from hedge.ea.protocol import ErrorCode, MarginMode

EXIT_AUTH_REJECTED = 2
EXIT_BAD_SETTINGS = 64


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"must be a number, was {text!r}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"must be a finite number, was {text!r}")
    return value


def _symbols(text: str) -> tuple[str, ...]:
    symbols = tuple(s.strip().upper() for s in text.split(",") if s.strip())
    if not symbols:
        raise argparse.ArgumentTypeError("must name at least one symbol, e.g. USDJPY,EURUSD")
    return symbols


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "paper-ea", help="run a simulated MetaTrader terminal (paper EA) against an agent"
    )
    p.add_argument("--agent", default="ws://127.0.0.1:8080", help="the agent's EA WebSocket URL")
    p.add_argument("--ea-token", required=True, help="the EA token the agent expects")
    p.add_argument("--account-number", required=True)
    p.add_argument("--server-name", required=True)
    p.add_argument("--platform", choices=[b.value for b in BrokerType], default="MT5")
    p.add_argument("--symbols", type=_symbols, default=("USDJPY", "EURUSD"), help="comma-separated")
    p.add_argument(
        "--feed", default="random", help="random | static | replay:FILE (CSV timeMs,symbol,bid,ask)"
    )
    p.add_argument("--tick-interval-ms", type=int, default=100)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--spread-pips", type=_decimal, default=None)
    p.add_argument("--balance", type=_decimal, default=Decimal("10000"))
    p.add_argument("--credit", type=_decimal, default=Decimal("0"))
    p.add_argument("--leverage", type=int, default=100)
    p.add_argument("--currency", default="USD")
    p.add_argument("--stop-out-level", type=_decimal, default=Decimal("50"), help="margin level in percent")
    p.add_argument("--reject-code", choices=[c.value for c in ErrorCode], default="REQUOTE")
    p.add_argument("--reject-every", type=int, default=None, help="refuse every Nth new OPEN")
    p.add_argument("--reject-position", action="append", default=[], help="refuse OPENs for this positionId")
    p.add_argument("--reject-rate", type=float, default=0.0, help="refuse this fraction of new OPENs (0..1)")
    p.add_argument("--fill-delay-ms", type=int, default=0)
    p.add_argument(
        "--margin-mode",
        choices=[m.value for m in MarginMode],
        default="HEDGING",
        help="what AUTH reports; NETTING/EXCHANGE also refuse opposite OPENs (HEDGING_PROHIBITED)",
    )
    p.add_argument("--magic", type=int, default=7077001, help="magic number of the EA's orders")
    p.add_argument(
        "--comment-limit",
        type=int,
        default=None,
        help="the broker keeps this many comment characters (MT4: 31)",
    )
    p.add_argument("--commission-per-lot", type=_decimal, default=Decimal(0), help="per lot and side")
    p.add_argument("--swap-per-lot-day", type=_decimal, default=Decimal(0), help="per lot and rollover")
    p.add_argument(
        "--partial-fill-ratio",
        type=_decimal,
        default=Decimal(1),
        help="fill this share of each OPEN (step-rounded down); the remainder is cancelled",
    )
    p.add_argument(
        "--timeout-after-fill-every",
        type=int,
        default=None,
        help="answer every Nth fill with TIMEOUT although it filled",
    )
    p.add_argument(
        "--timeout-after-fill-rate",
        type=float,
        default=0.0,
        help="answer this fraction of fills with TIMEOUT although they filled (0..1)",
    )
    p.add_argument(
        "--placed-delay-ms",
        type=int,
        default=0,
        help="the broker answers PLACED and fills this much later; OPENED waits for the fill",
    )
    p.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="keep positions, deal history and unsent events in this JSON file across restarts",
    )
    p.add_argument(
        "--drop-unsent-on-restart",
        action="store_true",
        help="with --state-file: a restart loses the unsent events, as a crashed terminal would",
    )
    p.add_argument(
        "--market-file",
        type=Path,
        default=None,
        help="quote the market shared by every paper EA given the same file",
    )
    p.add_argument(
        "--market-offset-pips",
        type=_decimal,
        default=Decimal(0),
        help="with --market-file: this broker's bid = the shared bid + this many pips",
    )
    p.add_argument(
        "--control-file",
        type=Path,
        default=None,
        help="work the terminal by hand: lines such as 'close TICKET' appended to this file",
    )
    p.add_argument("--account-interval-s", type=float, default=30.0)
    p.add_argument("--log-level", default="INFO")
    p.set_defaults(func=run_paper_ea)


def config_from_args(args: argparse.Namespace) -> PaperConfig:
    if args.leverage <= 0:
        raise ValidationError("--leverage", f"must be > 0, was {args.leverage}")
    if not 0.0 <= args.reject_rate <= 1.0:
        raise ValidationError("--reject-rate", f"must be between 0 and 1, was {args.reject_rate}")
    if args.tick_interval_ms < 0 or args.fill_delay_ms < 0 or args.placed_delay_ms < 0:
        raise ValidationError("--tick-interval-ms/--fill-delay-ms/--placed-delay-ms", "must be >= 0")
    if not 0 < args.partial_fill_ratio <= 1:
        raise ValidationError("--partial-fill-ratio", f"must be > 0 and <= 1, was {args.partial_fill_ratio}")
    if not 0.0 <= args.timeout_after_fill_rate <= 1.0:
        raise ValidationError(
            "--timeout-after-fill-rate", f"must be between 0 and 1, was {args.timeout_after_fill_rate}"
        )
    if args.timeout_after_fill_every is not None and args.timeout_after_fill_every <= 0:
        raise ValidationError(
            "--timeout-after-fill-every", f"must be > 0, was {args.timeout_after_fill_every}"
        )
    if args.comment_limit is not None and args.comment_limit <= 0:
        raise ValidationError("--comment-limit", f"must be > 0, was {args.comment_limit}")
    if args.drop_unsent_on_restart and args.state_file is None:
        raise ValidationError("--drop-unsent-on-restart", "needs --state-file (without it nothing survives)")
    if args.market_offset_pips and args.market_file is None:
        raise ValidationError("--market-offset-pips", "needs --market-file")
    rejects = RejectPolicy(
        ErrorCode(args.reject_code), args.reject_every, frozenset(args.reject_position), args.reject_rate
    )
    return config_from_flags(
        args,
        PaperConfig,
        agent_url=args.agent,
        platform=BrokerType(args.platform),
        currency=args.currency.upper(),
        stop_out_level_pct=args.stop_out_level,
        rejects=rejects,
        margin_mode=MarginMode(args.margin_mode),
        costs=Costs(args.commission_per_lot, args.swap_per_lot_day),
        faults=FillFaults(
            args.partial_fill_ratio,
            args.timeout_after_fill_every,
            args.timeout_after_fill_rate,
            args.placed_delay_ms,
        ),
    )


def run_paper_ea(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        ea = PaperEA(config_from_args(args))
    except (ValidationError, OSError) as exc:
        print(f"hedge paper-ea: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    try:
        eventloop.run(_serve(ea))
    except AuthRejected as exc:
        print(f"hedge paper-ea: {exc}", file=sys.stderr)
        return EXIT_AUTH_REJECTED
    return 0


async def _serve(ea: PaperEA) -> None:
    if threading.current_thread() is threading.main_thread():  # signals reach only the main thread
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, ea.stop)
    await ea.run()
