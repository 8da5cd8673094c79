"""Settings of one paper EA: connection, account, market and the failures it should simulate."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hedge.domain.enums import BrokerType
from hedge.ea.protocol import ErrorCode


@dataclass(frozen=True, slots=True)
class RejectPolicy:
    """Which new OPENs the terminal refuses with `code`: every Nth, some positionIds, or at a rate."""

    code: ErrorCode = ErrorCode.REQUOTE
    every_nth: int | None = None
    position_ids: frozenset[str] = frozenset()
    rate: float = 0.0


@dataclass(frozen=True, slots=True)
class PaperConfig:
    account_number: str
    server_name: str
    ea_token: str = field(repr=False)
    agent_url: str = "ws://127.0.0.1:8080"
    platform: BrokerType = BrokerType.MT5
    ea_version: str = "paper-1.0.0"
    # market
    symbols: tuple[str, ...] = ("USDJPY", "EURUSD")
    feed: str = "random"  # random | static | replay:FILE
    tick_interval_ms: int = 100  # 0: no ticks (prices move only through set_price)
    seed: int | None = None
    spread_pips: Decimal | None = None
    # account
    balance: Decimal = Decimal("10000")
    credit: Decimal = Decimal("0")
    leverage: int = 100
    currency: str = "USD"
    stop_out_level_pct: Decimal = Decimal("50")
    first_ticket: int = 50_000_000_001
    # simulated trouble
    rejects: RejectPolicy = RejectPolicy()
    fill_delay_ms: int = 0
    # timing
    account_interval_s: float = 30.0
    idle_ping_s: float = 10.0
    dead_after_s: float = 30.0
    auth_timeout_s: float = 15.0  # the agent may hold an AUTH up to 10 s while it is not ready
    auth_retry_delay_s: float = 2.0
    reconnect_initial_delay_s: float = 1.0
    reconnect_min_delay_s: float = 1.0
    reconnect_max_delay_s: float = 30.0
