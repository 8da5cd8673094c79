"""Reconciliation with the terminal's word: SYNC/POSITIONS and HISTORY/HISTORY_RESULT, and the alerts.

- `requests`: the SYNCs and HISTORYs to ask now (after an EA connects, when a command's outcome is
  in doubt, every HEDGE_AGENT_RECONCILE_S and after the server link comes back).
- `apply_positions`: POSITIONS settles what it can: a held position is FILLed (an OPENING one
  becomes OPEN); one the server has OPEN/CLOSING that is not held goes to MISSING (HISTORY asked);
  an OPEN in doubt that is not held is searched in the history before it is ever sent again.
- `apply_history`: HISTORY_RESULT: OPEN fills, CLOSED exits (its reason decides STOP_OUT or not),
  UNKNOWN is "never placed" for an OPEN and UNEXPLAINED (GHOST_POSITION) for a held one.
- `conditions`: which alerts hold now (OUTCOME_UNKNOWN, EA_UNREACHABLE, GHOST_POSITION,
  ORPHAN_AT_BROKER, RECONCILIATION_MISMATCH), for the AlertBook.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hedge.agent.alerts import Condition
from hedge.agent.intents import AlertKey, Intent, SendToEA
from hedge.agent.terminals import Judged
from hedge.domain.enums import PositionStatus
from hedge.domain.models import Position
from hedge.domain.orders import (
    AWAITING_SYNC,
    EXPECTED_HELD,
    IN_FLIGHT,
    SEARCHING,
    Exit,
    Fill,
    OrderState,
    OrderTrigger,
)
from hedge.ea.protocol import History
from hedge.ea.protocol_messages import HistoryResult, HistoryState, PositionReport, Positions

if TYPE_CHECKING:
    from hedge.agent.core import AgentCore

log = logging.getLogger(__name__)

P = PositionStatus
S = OrderState
LIVE = (P.OPENING, P.OPEN, P.CLOSING)


def requests(core: AgentCore, now: float) -> list[Intent]:
    """SYNC and HISTORY frames to send now."""
    intents: list[Intent] = []
    timeout = core.settings.command_timeout_s
    for account_id, term in sorted(core.terminals.items()):
        if not term.connected:
            continue
        if term.sync is not None and now - term.sync[1] > timeout:
            log.warning(
                "SYNC to the EA of account %s unanswered for %.0f s; asking again", account_id, timeout
            )
            term.sync = None
        doubt = any(
            t.account_id == account_id
            and t.state in AWAITING_SYNC
            and (term.synced_at is None or term.synced_at < t.moved_at)
            for t in core.unsettled()
        )
        due = term.synced_at is None or now - term.synced_at >= core.settings.reconcile_s
        if term.sync is None and (due or doubt or term.resync):
            term.resync = False
            intents += core.sync_request(account_id, now)
        intents += _history_request(core, account_id, now)
    return intents


def _history_request(core: AgentCore, account_id: str, now: float) -> list[Intent]:
    term = core.terminal(account_id)
    if not term.ready or term.history_unsupported:
        return []
    if term.history is not None:
        if now - term.history[2] <= core.settings.command_timeout_s:
            return []
        log.warning("HISTORY to the EA of account %s unanswered; asking again", account_id)
        for t in core.unsettled():  # an OPEN in doubt is looked for by SYNC first, again
            if t.position_id in term.history[1] and t.state is S.OPEN_SEARCHING:
                t.timed_out(now)
        term.history = None
    wanted = tuple(
        sorted(t.position_id for t in core.unsettled() if t.account_id == account_id and t.state in SEARCHING)
    )
    if not wanted:
        return []
    command_id = core.next_command_id()
    term.history = (command_id, wanted, now)
    return [SendToEA(account_id, History(command_id, wanted), "how these positions ended at the terminal")]


def apply_positions(core: AgentCore, account_id: str, msg: Positions, now: float) -> list[Intent]:
    term = core.terminal(account_id)
    if term.sync is None or term.sync[0] != msg.command_id:
        return []  # an answer to a SYNC we no longer wait for
    asked_at = term.sync[1]
    term.sync, term.synced_at, term.reconciled = None, asked_at, True
    reports = {
        r.position_id: r for r in msg.positions if not core.foreign(account_id, r.position_id, "POSITIONS")
    }
    term.reported(reports)
    for pid, fill in term.held.items():
        pos = core.state.positions.get(pid)
        if pos is None or pos.status not in LIVE:
            continue  # judged as an orphan by `conditions`
        tracker = core.tracker(pos, now)
        if tracker.state is not S.HELD and tracker.can(OrderTrigger.FILL) and tracker.moved_at <= asked_at:
            log.info("position %s is held by the terminal as ticket %s", pid, fill.mt_ticket)
            tracker.filled(fill, now)
            core.fill_heard(pid)
    for tracker in list(core.orders.values()):
        if tracker.account_id != account_id or tracker.position_id in term.held:
            continue
        pos = core.state.positions.get(tracker.position_id)
        if pos is None or pos.status not in LIVE or tracker.state not in EXPECTED_HELD:
            continue
        if tracker.moved_at > asked_at:
            continue  # it changed after the SYNC was asked: this answer says nothing of it
        if tracker.state not in SEARCHING:
            log.warning(
                "position %s (%s, %s) is not held by the terminal; asking its history",
                tracker.position_id,
                pos.status.value,
                tracker.state.value,
            )
        tracker.not_held(now)
    return []


def apply_history(core: AgentCore, account_id: str, msg: HistoryResult, now: float) -> list[Intent]:
    term = core.terminal(account_id)
    if term.history is None or term.history[0] != msg.command_id:
        return []
    term.history = None
    for entry in msg.results:
        tracker = core.orders.get(entry.position_id)
        if tracker is None or tracker.account_id != account_id or tracker.state not in SEARCHING:
            continue
        if entry.state is HistoryState.CLOSED:
            assert entry.price is not None and entry.time_ms is not None and entry.profit is not None
            reason = entry.reason.value if entry.reason is not None else None
            log.info(
                "history: position %s closed at %s (%s)", entry.position_id, entry.price, reason or "CLOSE"
            )
            tracker.exited(Exit(entry.price, entry.time_ms, entry.profit, reason, entry.mt_ticket), now)
        elif entry.state is HistoryState.OPEN:
            known = tracker.fill
            if entry.price is None and (known is None or not known.mt_ticket):
                tracker.timed_out(now)  # held after all, but without its price: SYNC again says it
            else:
                price = entry.price if entry.price is not None else known.price  # type: ignore[union-attr]
                time_ms = entry.time_ms if entry.time_ms is not None else (known.time_ms if known else 0)
                tracker.filled(Fill(entry.mt_ticket or "", price, time_ms), now)
        else:
            if tracker.state is S.OPEN_SEARCHING:
                log.info(
                    "history: position %s was never placed; its OPEN may be sent again", entry.position_id
                )
                tracker.requotes += 1  # counted like a retry, so an EA that always fails this way stops
            else:
                log.error("history: the terminal has no trace of position %s", entry.position_id)
            tracker.not_found(now)
    return []


def conditions(core: AgentCore, now: float) -> tuple[list[Condition], set[AlertKey]]:
    """The alert conditions holding now, and the keys that cannot be judged yet (kept as they are)."""
    holding: list[Condition] = []
    undecided: set[AlertKey] = set()
    names: dict[str, str] = {a.id: a.account_number for a in core.state.accounts.values()}
    for account_id in {*core.tracker_accounts()} | {a.account_id for a in core.state.executing_actions()}:
        term = core.terminal(account_id)  # work waits for it: it is away from now on, if not here
        if not term.connected and term.away_since is None:
            term.away_since = now
    for t in core.unsettled():  # a HELD tracker is the common case, and nothing to say about it
        pos = core.state.positions.get(t.position_id)
        status = pos.status.value if pos is not None else "unknown"
        where = f"position {t.position_id} on account {names.get(t.account_id, t.account_id)}"
        if t.in_doubt or (t.state is S.MISSING and pos is not None and pos.status is P.CLOSING):
            holding.append(
                Condition(
                    "OUTCOME_UNKNOWN",
                    "WARNING",
                    f"{t.kind or 'a command'} for {where} was sent and no answer came; it stays {status} "
                    "until the terminal says what became of it (SYNC, then its history)",
                    t.account_id,
                    t.position_id,
                )
            )
        if t.state is S.UNEXPLAINED:
            holding.append(
                Condition(
                    "GHOST_POSITION",
                    "CRITICAL",
                    f"{where} is {status} on the server, but the terminal neither holds it nor has it in its "
                    "history: check the terminal and the broker's statement, then settle it (settlePosition)",
                    t.account_id,
                    t.position_id,
                    requires_action=True,
                )
            )
        elif t.state is S.MISSING:
            undecided.add(("GHOST_POSITION", t.account_id, t.position_id))
        if t.state is S.EXITED and t.fill is None and pos is not None and pos.status is P.OPENING:
            holding.append(
                Condition(
                    "RECONCILIATION_MISMATCH",
                    "CRITICAL",
                    f"{where} was opened and closed at the terminal before its fill was heard: settle it "
                    "from the terminal's history (settlePosition)",
                    t.account_id,
                    t.position_id,
                    requires_action=True,
                )
            )
    for account_id, term in core.terminals.items():
        name = names.get(account_id, account_id)
        holding += _orphans(core, account_id, name)
        if not term.reconciled:
            undecided |= {k for k in core.alerts.open_keys() if k[1] == account_id}
        unreachable = ("EA_UNREACHABLE", account_id, None)
        if not term.connected:
            away = now - term.away_since if term.away_since is not None else 0.0
            waiting = _work_waiting(core, account_id)
            if away >= core.settings.ea_wait_s and waiting:
                holding.append(
                    Condition(
                        "EA_UNREACHABLE",
                        "WARNING",
                        f"the EA of account {name} has been away for {away:.0f} s while work waits for it "
                        f"({waiting}); start the terminal with the Hedge System EA",
                        account_id,
                    )
                )
            else:
                undecided.add(unreachable)
        margin = ("RECONCILIATION_MISMATCH", account_id, None)
        if term.connected and not term.hedging:
            holding.append(
                Condition(
                    "RECONCILIATION_MISMATCH",
                    "CRITICAL",
                    f"account {name} reports marginMode {term.margin_mode}: the agent opens positions "
                    "only on HEDGING accounts, so no OPEN is sent to it; use a hedging account",
                    account_id,
                    requires_action=True,
                )
            )
        elif not term.connected:
            undecided.add(margin)
    return holding, undecided


def _orphans(core: AgentCore, account_id: str, name: str) -> list[Condition]:
    """Held positions nobody watches, or that differ from the server's row. Each is judged again
    only when what it is judged from changed (a pass judged every held position; most never do)."""
    term = core.terminals[account_id]
    loaded = core.state.loaded
    key = (core.state.position_revision, term.revision, loaded, name)
    if term.orphans is not None and term.orphans[0] == key:
        return list(term.orphans[1])  # nothing they are judged from changed since the last pass
    found: list[Condition] = []
    judged: dict[str, tuple[Judged, Condition | None]] = {}
    for pid, fill in term.held.items():
        basis: Judged = (core.state.positions.get(pid), fill, term.reports.get(pid), loaded, name)
        kept = term.judged.get(pid)
        finding = kept[1] if kept is not None and kept[0] == basis else _judge(pid, basis, account_id)
        judged[pid] = (basis, finding)
        if finding is not None:
            found.append(finding)
    term.judged, term.orphans = judged, (key, found)
    return list(found)


def _judge(pid: str, basis: Judged, account_id: str) -> Condition | None:
    pos, fill, report, loaded, name = basis
    if pos is None and not loaded:
        return None
    if pos is None or pos.status not in LIVE:
        status = "unknown to the server" if pos is None else pos.status.value
        return Condition(
            "ORPHAN_AT_BROKER",
            "CRITICAL",
            f"the terminal of account {name} holds ticket {fill.mt_ticket} for position {pid}, "
            f"which is {status}: nobody watches or hedges it; close it in the terminal or settle it",
            account_id,
            pid,
            requires_action=True,
        )
    if pos.status is not P.OPENING:
        differences = _differences(pos, fill, report)
        if differences:
            return Condition(
                "RECONCILIATION_MISMATCH",
                "WARNING",
                f"position {pid} differs between the server and the terminal of account {name}: "
                + "; ".join(differences),
                account_id,
                pid,
            )
    return None


def _differences(pos: Position, fill: Fill, report: PositionReport | None) -> list[str]:
    """What the server's OPEN/CLOSING row and the terminal's word disagree on, in words."""
    found = []
    if pos.mt_ticket and fill.mt_ticket and pos.mt_ticket != fill.mt_ticket:
        found.append(f"ticket {pos.mt_ticket} on the server, {fill.mt_ticket} at the terminal")
    if report is not None:
        if report.side is not pos.side:
            found.append(f"side {pos.side.value} on the server, {report.side.value} at the terminal")
        planned = pos.filled_volume or pos.volume
        if report.volume != planned:
            found.append(f"volume {planned} on the server, {report.volume} at the terminal")
    return found


def _work_waiting(core: AgentCore, account_id: str) -> str:
    """What waits for the account's EA, in words ('' when nothing does)."""
    busy = [
        t
        for t in core.orders.values()
        if t.account_id == account_id and (t.in_doubt or t.state in IN_FLIGHT or _wanted(core, t.position_id))
    ]
    actions = [a for a in core.state.executing_actions() if a.account_id == account_id]
    parts = []
    if busy:
        parts.append(f"{len(busy)} position(s) OPENING or CLOSING")
    if actions:
        parts.append(f"{len(actions)} action(s) EXECUTING")
    return ", ".join(parts)


def _wanted(core: AgentCore, position_id: str) -> bool:
    pos = core.state.positions.get(position_id)
    return pos is not None and pos.status in (P.OPENING, P.CLOSING)
