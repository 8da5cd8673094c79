"""Settings of one paper EA: connection, account, market and the failures it should simulate."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from hedge.domain.enums import BrokerType
from hedge.ea.paper_account import Costs
from hedge.ea.protocol import ErrorCode, MarginMode


@dataclass(frozen=True, slots=True)
class RejectPolicy:
    """Which new OPENs the terminal refuses with `code`: every Nth, some positionIds, or at a rate."""

    code: ErrorCode = ErrorCode.REQUOTE
    every_nth: int | None = None
    position_ids: frozenset[str] = frozenset()
    rate: float = 0.0


@dataclass(frozen=True, slots=True)
class FillFaults:
    """How fills go wrong: partial fills, TIMEOUT answers for orders that did fill, slow PLACED orders."""

    partial_fill_ratio: Decimal = Decimal(1)  # fill this share of the asked volume (step-rounded down)
    timeout_after_fill_every: int | None = None  # every Nth fill is answered TIMEOUT (it did fill)
    timeout_after_fill_rate: float = 0.0  # this fraction of fills is answered TIMEOUT (seeded)
    placed_delay_ms: int = 0  # > 0: the broker answers PLACED and fills this much later


@dataclass(frozen=True, slots=True)
class PaperConfig:
    account_number: str
    server_name: str
    ea_token: str = field(repr=False)
    agent_url: str = "ws://127.0.0.1:8080"
    platform: BrokerType = BrokerType.MT5
    ea_version: str = "paper-1.0.0"
    margin_mode: MarginMode = MarginMode.HEDGING
    magic: int = 7077001
    comment_limit: int | None = None  # the broker keeps this many comment characters (MT4: 31)
    # market
    symbols: tuple[str, ...] = ("USDJPY", "EURUSD")
    feed: str = "random"  # random | static | replay:FILE
    tick_interval_ms: int = 100  # 0: no ticks (prices move only through set_price)
    seed: int | None = None
    spread_pips: Decimal | None = None
    market_file: Path | None = None  # quote the shared market in this file (see paper_shared_market)
    market_offset_pips: Decimal = Decimal(0)  # this broker's bid = the shared bid + offset
    # account
    balance: Decimal = Decimal("10000")
    credit: Decimal = Decimal("0")
    leverage: int = 100
    currency: str = "USD"
    stop_out_level_pct: Decimal = Decimal("50")
    first_ticket: int = 50_000_000_001
    costs: Costs = field(default_factory=Costs)
    # simulated trouble
    rejects: RejectPolicy = RejectPolicy()
    fill_delay_ms: int = 0
    faults: FillFaults = FillFaults()
    # what survives a restart, and how the terminal is worked by hand
    state_file: Path | None = None
    drop_unsent_on_restart: bool = False
    control_file: Path | None = None
    control_poll_s: float = 0.1
    # timing
    account_interval_s: float = 30.0
    idle_ping_s: float = 10.0
    dead_after_s: float = 30.0
    auth_timeout_s: float = 15.0  # the agent may hold an AUTH up to 10 s while it is not ready
    auth_retry_delay_s: float = 2.0
    reconnect_initial_delay_s: float = 1.0
    reconnect_min_delay_s: float = 1.0
    reconnect_max_delay_s: float = 30.0
