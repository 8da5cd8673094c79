"""Conformance rules for protocol round 2: AUTH marginMode, SYMBOLS, OPENED volume, HISTORY and the
STOPPED / HISTORY_RESULT reasons (docs/ea-protocol.md, "Additions and corrections").

HISTORY is asked three times: for the kit's position while it is held (OPEN), after the kit closed
it (CLOSED with the recorded close, no reason since the kit's own CLOSE closed it), and for a
positionId no terminal has seen (UNKNOWN), asked together with the kit's so the order is checked.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from hedge.ea.conformance_model import PASSED, Rule, Run, Skip, Unmet, Verdict, passed, require
from hedge.ea.conformance_peer import Arrival, answer_to, wire_type
from hedge.ea.protocol import (
    History,
    HistoryEntry,
    HistoryResult,
    HistoryState,
    MarginMode,
    StopReason,
    Subscribe,
    SymbolInfo,
    Symbols,
)

_MARGIN_MODES = {m.value for m in MarginMode}
_REASONS = {r.value for r in StopReason}


# --- handshake and SYMBOLS ------------------------------------------------------------------------


async def auth_margin_mode(run: Run) -> Verdict:
    first = run.peer.arrivals[0] if run.peer.arrivals else None
    raw = first.raw if first is not None else None
    if raw is None or first is None or first.frame_type != "AUTH":
        raise Skip("no AUTH to check")
    mode = raw.get("marginMode")
    require(
        mode in _MARGIN_MODES,
        f"expected AUTH.marginMode one of {', '.join(sorted(_MARGIN_MODES))}, came {mode!r}"
        + (" (an EA older than protocol round 2?)" if mode is None else ""),
    )
    return passed(f"{mode}" + ("" if mode == "HEDGING" else ": the agent will not trade on this account"))


def _valid_symbols(arrival: Arrival) -> Symbols:
    if not isinstance(arrival.message, Symbols):
        raise Unmet(f"expected a valid SYMBOLS, came {arrival.describe()}")
    return arrival.message


async def symbols_after_auth_ok(run: Run) -> Verdict:
    found = await run.peer.first(wire_type("SYMBOLS"), 0, run.config.timeout_s)
    require(found is not None, f"expected SYMBOLS after AUTH_OK within {run.config.timeout_s:g} s, none came")
    assert found is not None
    symbols = _valid_symbols(found)
    return passed(f"{len(symbols.symbols)} symbol(s)")


def _plausible(info: SymbolInfo) -> None:
    where = f"SYMBOLS entry {info.symbol}"
    require(
        info.volume_min <= info.volume_max and info.volume_step <= info.volume_max,
        f"expected {where}: volumeMin and volumeStep <= volumeMax, came {info.volume_min}, "
        f"{info.volume_step}, {info.volume_max}",
    )
    require(
        info.point == Decimal(1).scaleb(-info.digits),
        f"expected {where}: point = 10^-digits, came point {info.point} with digits {info.digits}",
    )


async def symbols_on_subscribe(run: Run) -> Verdict:
    symbol = run.config.symbol
    mark = await run.peer.send(Subscribe((symbol,)))
    found = await run.peer.first(wire_type("SYMBOLS"), mark, run.config.timeout_s)
    require(found is not None, f"expected SYMBOLS after SUBSCRIBE [{symbol}], none came")
    assert found is not None
    symbols = _valid_symbols(found)
    mine = [s for s in symbols.symbols if symbol in s.symbol]  # the broker's name may add a suffix
    require(
        len(mine) == 1, f"expected one SYMBOLS entry for {symbol}, came {[s.symbol for s in symbols.symbols]}"
    )
    info = mine[0]
    _plausible(info)
    missing = [
        name
        for name, v in (("marginPerLot", info.margin_per_lot), ("tickValue", info.tick_value))
        if v is None
    ]
    note = f"{info.symbol}: digits {info.digits}, contract {info.contract_size}"
    return passed(note + (f"; not sent: {', '.join(missing)}" if missing else ""))


# --- OPENED volume and HISTORY --------------------------------------------------------------------


async def open_reports_volume(run: Run) -> Verdict:
    opened = run.needs_position()
    assert run.open_command is not None
    asked = run.open_command.volume
    require(
        opened.volume is not None,
        "expected OPENED SUCCESS to carry volume (the lots filled), none came (an EA older than round 2?)",
    )
    assert opened.volume is not None
    require(opened.volume <= asked, f"expected volume <= the {asked} lots asked, came {opened.volume}")
    return passed(f"{opened.volume} of {asked} lots" if opened.volume != asked else f"{asked} lots")


async def _history(run: Run, position_ids: tuple[str, ...]) -> tuple[HistoryEntry, ...]:
    command = History(run.command_id("HISTORY"), position_ids)
    mark = await run.peer.send(command)
    found = await run.peer.first(answer_to(command.command_id), mark, run.config.timeout_s)
    if found is None:
        raise Unmet(f"expected HISTORY_RESULT for commandId {command.command_id} within "
                    f"{run.config.timeout_s:g} s, none came")  # fmt: skip
    if not isinstance(found.message, HistoryResult):
        raise Unmet(f"expected a valid HISTORY_RESULT, came {found.describe()}")
    results = found.message.results
    asked = [e.position_id for e in results]
    require(
        asked == list(position_ids), f"expected one entry per positionId {list(position_ids)}, came {asked}"
    )
    return results


async def history_of_held_position(run: Run) -> Verdict:
    opened = run.needs_position()
    (entry,) = await _history(run, (run.position_id,))
    came = (entry.state, entry.mt_ticket)
    require(
        came == (HistoryState.OPEN, opened.mt_ticket),
        f"expected (state, mtTicket) (OPEN, {opened.mt_ticket}) for the held position, came "
        f"({entry.state}, {entry.mt_ticket})",
    )
    return PASSED


async def history_of_closed_position(run: Run) -> Verdict:
    closed = run.closed
    if closed is None:
        raise Skip("needs the close of close.success, which did not close")
    unknown, entry = await _history(run, (str(uuid.uuid4()), run.position_id))
    came = (entry.state, entry.mt_ticket, entry.price, entry.time_ms, entry.profit)
    wanted = (HistoryState.CLOSED, closed.mt_ticket, closed.price, closed.time_ms, closed.profit)
    require(
        came == wanted,
        "expected (state, mtTicket, price, timeMs, profit) "
        f"({', '.join(map(str, wanted))}) as CLOSED said, came ({', '.join(map(str, came))})",
    )
    require(entry.reason is None, f"expected no reason for a close by the agent's CLOSE, came {entry.reason}")
    require(
        unknown.state is HistoryState.UNKNOWN,
        f"expected state UNKNOWN for a positionId never opened, came {unknown.state}",
    )
    return PASSED


# --- looking back ---------------------------------------------------------------------------------


def _reasons(arrival: Arrival) -> list[object]:
    raw = arrival.raw or {}
    if arrival.frame_type == "STOPPED":
        return [raw.get("reason")]
    results = raw.get("results")
    if not isinstance(results, list):
        return []
    return [r.get("reason") for r in results if isinstance(r, dict) and r.get("reason") is not None]


async def reasons_listed(run: Run) -> Verdict:
    seen = [r for a in run.peer.all(wire_type("STOPPED", "HISTORY_RESULT")) for r in _reasons(a)]
    wrong = [r for r in seen if r not in _REASONS]
    require(not wrong, f"expected reasons one of {', '.join(sorted(_REASONS))}, came {wrong[:3]}")
    return passed(f"{len(seen)} reason(s) seen")


AUTH_RULES: tuple[Rule, ...] = (
    Rule("auth.margin-mode", "AUTH carries marginMode HEDGING, NETTING or EXCHANGE", auth_margin_mode),
)
AFTER_AUTH_OK_RULES: tuple[Rule, ...] = (
    Rule("symbols.after-auth", "after AUTH_OK the EA sends a valid SYMBOLS", symbols_after_auth_ok),
)
SUBSCRIBE_RULES: tuple[Rule, ...] = (
    Rule(
        "symbols.on-subscribe",
        "SUBSCRIBE [symbol] gets SYMBOLS with that symbol's figures (volume limits, point = 10^-digits)",
        symbols_on_subscribe,
    ),
)
OPENED_RULES: tuple[Rule, ...] = (
    Rule(
        "open.volume",
        "OPENED SUCCESS carries volume: the lots filled, at most those asked",
        open_reports_volume,
    ),
)
HELD_RULES: tuple[Rule, ...] = (
    Rule(
        "history.open",
        "HISTORY of the held position gets state OPEN with its ticket",
        history_of_held_position,
    ),
)
CLOSED_RULES: tuple[Rule, ...] = (
    Rule(
        "history.closed",
        "HISTORY [unknown, closed] gets UNKNOWN, then CLOSED with the recorded close and no reason",
        history_of_closed_position,
    ),
)
LOOK_BACK_RULES: tuple[Rule, ...] = (
    Rule(
        "reasons.listed",
        "every STOPPED and HISTORY_RESULT reason is one of the five StopReason values",
        reasons_listed,
        needs_connection=False,
    ),
)
