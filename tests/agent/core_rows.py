"""What the agent's core is fed in its tests: the rows (an account, a position, its action) as the
server sends them, a core that knows the account, and an EA connected with its positions known."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from tests.agent.core_intents import sent

from hedge.agent.core import AgentCore
from hedge.agent.intents import Intent, SendToEA
from hedge.config import AgentSettings
from hedge.domain.enums import (
    ActionStatus,
    ActionType,
    BrokerType,
    ConnectionStatus,
    PositionStatus,
    Side,
    TrailMode,
)
from hedge.domain.ids import AccountId, ActionId, PositionId, UserId
from hedge.domain.models import Account, Action, Position
from hedge.ea.protocol import Close, Open, Sync
from hedge.ea.protocol_messages import PositionReport, Positions

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
USER = UserId("u1")
ACCOUNT = AccountId("acc-1")
OTHER_ACCOUNT = AccountId("acc-2")
TICKET_TIME = 1_700_000_000_000


def account(account_id: str = ACCOUNT, number: str = "1001") -> Account:
    return Account(
        id=AccountId(account_id), user_id=USER, broker_type=BrokerType.MT5, account_number=number,
        server_name="Demo", display_name="main", currency="USD",
        connection_status=ConnectionStatus.DISCONNECTED, created_at=T0, updated_at=T0,
    )  # fmt: skip


def position(status: PositionStatus = PositionStatus.PENDING, version: int = 1, **fields: object) -> Position:
    base = Position(
        id=PositionId("pos-A"), user_id=USER, account_id=ACCOUNT, symbol="USDJPY", side=Side.BUY,
        volume=Decimal("0.1"), status=status, trail_mode=TrailMode.FROM_ENTRY, created_at=T0, updated_at=T0,
        version=version,
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


def action(
    status: ActionStatus = ActionStatus.EXECUTING, type_: ActionType = ActionType.ENTRY, version: int = 2
) -> Action:
    return Action(
        id=ActionId(f"act-{type_.value}"), user_id=USER, account_id=ACCOUNT, position_id=PositionId("pos-A"),
        type=type_, status=status, created_at=T0, updated_at=T0, version=version,
    )  # fmt: skip


def core(**settings: object) -> AgentCore:
    agent = AgentCore(AgentSettings(token="t", ea_token="e", state_dir="", **settings))  # type: ignore[arg-type]
    agent.apply_row(account())
    return agent


def connect_and_sync(agent: AgentCore, account_id: str = ACCOUNT, now: float = 0.0) -> None:
    intents = agent.ea_connected(account_id, now)
    sync = next(i.command for i in intents if isinstance(i, SendToEA) and isinstance(i.command, Sync))
    assert isinstance(sync, Sync)
    agent.on_positions(account_id, Positions(sync.command_id, ()))


def closing_with_close_sent(agent: AgentCore, mt_ticket: str = "777") -> Close:
    """A CLOSE action whose move to CLOSING has committed: the CLOSE is sent to the connected EA."""
    connect_and_sync(agent)
    agent.apply_row(
        position(PositionStatus.CLOSING, version=4, entry_price=Decimal("150"), mt_ticket=mt_ticket)
    )
    agent.apply_row(action(type_=ActionType.CLOSE))
    command: Close = sent(agent.decide(1.0), Close)[0]
    return command


def report(ticket: str = "777", volume: str = "0.1", pid: str = "pos-A") -> PositionReport:
    """A position as the terminal reports it in POSITIONS (a BUY of USDJPY at 150.02)."""
    return PositionReport(
        pid, ticket, "USDJPY", Side.BUY, Decimal(volume), Decimal("150.02"), 5000, Decimal(0)
    )


def answer_sync(agent: AgentCore, intents: list[Intent], *reports: PositionReport, now: float = 0.0) -> None:
    """The EA answers the last SYNC among `intents` with POSITIONS holding `reports`."""
    sync = sent(intents, Sync)[-1]
    agent.on_positions(ACCOUNT, Positions(sync.command_id, tuple(reports)), now)


def opening_with_open_sent(agent: AgentCore, now: float = 0.0) -> Open:
    """pos-A OPENING with its ENTRY action, the EA connected and synced: the OPEN the core sends."""
    connect_and_sync(agent)
    agent.apply_row(position(PositionStatus.OPENING, version=2))
    agent.apply_row(action())
    command: Open = sent(agent.decide(now), Open)[0]
    return command


def open_row(version: int = 3, **fields: object) -> Position:
    return position(
        PositionStatus.OPEN, version=version, entry_price=Decimal("150"), mt_ticket="777", **fields
    )
