"""What the agent knows of each account's EA and terminal: its connection, its last word, its money.

One `Terminal` per account (whether or not its EA is connected now). Pure data; the core updates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hedge.agent.alerts import Condition
from hedge.domain.models import Position
from hedge.domain.orders import Fill
from hedge.ea.protocol_messages import AccountUpdate, PositionReport, SymbolInfo

Judged = tuple[Position | None, Fill, PositionReport | None, bool, str]  # row, fill, report, loaded, name


@dataclass
class Terminal:
    account_id: str
    connected: bool = False
    away_since: float | None = None  # when it went away, or when work first waited for it
    margin_mode: str | None = None  # from AUTH; None: an older EA that does not say
    sync: tuple[str, float] | None = None  # a SYNC sent and not answered: (commandId, sent at)
    synced_at: float | None = None  # sent-time of the last answered SYNC since the EA connected
    resync: bool = False  # reconcile at the next pass (the server link came back)
    reconciled: bool = False  # a SYNC was answered since this agent started (alerts can be judged)
    history: tuple[str, tuple[str, ...], float] | None = None  # HISTORY asked: (id, positionIds, at)
    history_unsupported: bool = False  # the EA answered HISTORY with ERROR (an older EA)
    subscribed: tuple[str, ...] | None = None
    snapshot: AccountUpdate | None = None  # the latest ACCOUNT frame
    pushed: AccountUpdate | None = None  # the latest one handed to the server
    held: dict[str, Fill] = field(default_factory=dict)  # positionId -> what the terminal holds
    reports: dict[str, PositionReport] = field(default_factory=dict)  # the last POSITIONS, by positionId
    symbols: dict[str, SymbolInfo] = field(default_factory=dict)  # SYMBOLS, by canonical symbol
    priced: set[str] = field(default_factory=set)  # canonical symbols with a PRICE since it connected
    connected_at: float = 0.0
    revision: int = 0  # counts the changes of `held` and `reports` (change them by the methods below)
    # each held position as last judged for orphans: what it was judged from, and the finding
    judged: dict[str, tuple[Judged, Condition | None]] = field(default_factory=dict, repr=False)
    # the last orphan findings, and the (rows' revision, ours, loaded, name) they were made from
    orphans: tuple[tuple[int, int, bool, str], list[Condition]] | None = field(default=None, repr=False)

    def hold(self, position_id: str, fill: Fill) -> None:
        self.held[position_id] = fill
        self.revision += 1

    def release(self, position_id: str) -> None:
        if self.held.pop(position_id, None) is not None:
            self.revision += 1

    def reported(self, reports: dict[str, PositionReport]) -> None:
        """A POSITIONS answer: the terminal holds these, and nothing else."""
        self.reports = reports
        self.held = {
            pid: Fill(r.mt_ticket, r.open_price, r.open_time_ms, r.volume) for pid, r in reports.items()
        }
        self.revision += 1

    @property
    def ready(self) -> bool:
        """Connected and reconciled since it connected: commands may go to it."""
        return self.connected and self.synced_at is not None

    @property
    def hedging(self) -> bool:
        """The agent opens positions only on HEDGING accounts (an EA that does not say is trusted)."""
        return self.margin_mode is None or self.margin_mode == "HEDGING"
