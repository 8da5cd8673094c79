"""`hedge paper-ea`: run a simulated MetaTrader terminal against an agent."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import threading
from decimal import Decimal, InvalidOperation

from hedge import eventloop
from hedge.domain.enums import BrokerType
from hedge.domain.errors import ValidationError
from hedge.ea.errors import AuthRejected
from hedge.ea.paper import PaperEA
from hedge.ea.paper_config import PaperConfig, RejectPolicy
from hedge.ea.protocol import ErrorCode

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
    p.add_argument("--account-interval-s", type=float, default=30.0)
    p.add_argument("--log-level", default="INFO")
    p.set_defaults(func=run_paper_ea)


def config_from_args(args: argparse.Namespace) -> PaperConfig:
    if args.leverage <= 0:
        raise ValidationError("--leverage", f"must be > 0, was {args.leverage}")
    if not 0.0 <= args.reject_rate <= 1.0:
        raise ValidationError("--reject-rate", f"must be between 0 and 1, was {args.reject_rate}")
    if args.tick_interval_ms < 0 or args.fill_delay_ms < 0:
        raise ValidationError("--tick-interval-ms/--fill-delay-ms", "must be >= 0")
    rejects = RejectPolicy(
        ErrorCode(args.reject_code), args.reject_every, frozenset(args.reject_position), args.reject_rate
    )
    return PaperConfig(
        account_number=args.account_number,
        server_name=args.server_name,
        ea_token=args.ea_token,
        agent_url=args.agent,
        platform=BrokerType(args.platform),
        symbols=args.symbols,
        feed=args.feed,
        tick_interval_ms=args.tick_interval_ms,
        seed=args.seed,
        spread_pips=args.spread_pips,
        balance=args.balance,
        credit=args.credit,
        leverage=args.leverage,
        currency=args.currency.upper(),
        stop_out_level_pct=args.stop_out_level,
        rejects=rejects,
        fill_delay_ms=args.fill_delay_ms,
        account_interval_s=args.account_interval_s,
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
