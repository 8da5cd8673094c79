"""Conformance rules for commands: SYNC, OPEN, CLOSE, their repeats (idempotency) and refusals.

The kit opens one position of `--volume` lots for a fresh UUID positionId and closes it. The refusal
rules send OPENs that must not fill (volume below the minimum, far above the maximum, an unknown
symbol); should one fill anyway, the kit closes it at once and the rule fails. PositionIds are UUIDs
because the MQL EA keeps only their first 18 characters in the order comment.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TypeVar

from hedge.ea.conformance_model import PASSED, Rule, Run, Skip, Unmet, Verdict, passed, require
from hedge.ea.conformance_peer import Arrival, answer_to
from hedge.ea.protocol import (
    Close,
    Closed,
    CommandStatus,
    ErrorCode,
    Open,
    Opened,
    PositionReport,
    Positions,
    Sync,
    comment_for,
)

M = TypeVar("M", Opened, Closed, Positions)
_ANSWER = {"OPEN": "OPENED", "CLOSE": "CLOSED", "SYNC": "POSITIONS"}
UNKNOWN_TICKET = "999999999999999999"  # digits, as MetaTrader tickets are; no terminal has issued it
UNKNOWN_SYMBOL = "QZQZQZ"
VOLUME_BELOW_MIN = Decimal("0.001")
VOLUME_ABOVE_MAX = Decimal("1000000")


# --- helpers --------------------------------------------------------------------------------------


async def _answer(run: Run, command: Open | Close | Sync) -> Arrival:
    mark = await run.peer.send(command)
    found = await run.peer.first(answer_to(command.command_id), mark, run.config.timeout_s)
    if found is None:
        raise Unmet(
            f"expected {_ANSWER[command.TYPE]} for commandId {command.command_id} "
            f"within {run.config.timeout_s:g} s, none came"
        )
    return found


def _decoded(arrival: Arrival, cls: type[M]) -> M:
    if not isinstance(arrival.message, cls):
        raise Unmet(f"expected a valid {cls.TYPE}, came {arrival.describe()}")
    return arrival.message


def _text(values: tuple[object, ...]) -> str:
    """Field values for a FAIL line: `(SUCCESS, 5001, 150.010)` rather than enum and Decimal reprs."""
    return "(" + ", ".join(str(v) for v in values) + ")"


def _recent(run: Run, time_ms: int, arrival: Arrival, what: str) -> None:
    skew_ms = abs(time_ms - arrival.received_ms)
    require(
        skew_ms <= run.config.max_clock_skew_s * 1000,
        f"expected {what} timeMs within {run.config.max_clock_skew_s:g} s of UTC now, it is "
        f"{skew_ms / 1000:.0f} s off (broker server time sent as UTC?)",
    )


def _open(run: Run, position_id: str, *, volume: Decimal | None = None, symbol: str | None = None) -> Open:
    return Open(
        run.command_id("OPEN"),
        position_id,
        symbol or run.config.symbol,
        run.config.side,
        volume if volume is not None else run.config.volume,
        comment_for(position_id),
    )


async def held(run: Run, position_ids: list[str]) -> list[PositionReport]:
    """SYNC, and the reported positions that carry one of `position_ids`."""
    positions = _decoded(await _answer(run, Sync(run.command_id("SYNC"))), Positions)
    return [p for p in positions.positions if p.position_id in position_ids]


async def close_stray(run: Run, position_id: str, ticket: str) -> str:
    """Close a position the kit did not mean to hold; says how that went, for the FAIL line."""
    run.stray_tickets.append(ticket)
    answer = (await _answer(run, Close(run.command_id("CLOSE"), position_id, ticket))).message
    if isinstance(answer, Closed) and answer.status is CommandStatus.SUCCESS:
        return f"the kit closed ticket {ticket}"
    return f"the kit could NOT close ticket {ticket}: close it in the terminal"


# --- rules ----------------------------------------------------------------------------------------


async def sync_answered(run: Run) -> Verdict:
    sync = Sync(run.command_id("SYNC"))
    positions = _decoded(await _answer(run, sync), Positions)
    return passed(f"{len(positions.positions)} HedgeSystem position(s) held")


async def open_succeeds(run: Run) -> Verdict:
    command = _open(run, run.position_id)
    arrival = await _answer(run, command)
    opened = _decoded(arrival, Opened)
    require(
        opened.position_id == run.position_id,
        f"expected positionId {run.position_id}, came {opened.position_id}",
    )
    if opened.status is CommandStatus.FAILED:
        raise Skip(
            f"the EA could not open {command.volume} {command.symbol}: {opened.error_code} {opened.message} "
            "(run while the market is open, with --symbol/--volume the account can trade)"
        )
    run.opened, run.open_command = opened, command  # held now: the CLOSE rules must still run
    assert opened.time_ms is not None
    _recent(run, opened.time_ms, arrival, "OPENED")
    return passed(f"ticket {opened.mt_ticket} at {opened.price}")


async def open_repeat_new_command_same_ticket(run: Run) -> Verdict:
    first = run.needs_position()
    again = _decoded(await _answer(run, _open(run, run.position_id)), Opened)
    if again.status is CommandStatus.SUCCESS and again.mt_ticket != first.mt_ticket and again.mt_ticket:
        note = await close_stray(run, run.position_id, again.mt_ticket)
        raise Unmet(
            f"expected ticket {first.mt_ticket} again, the EA opened a second one {again.mt_ticket} ({note})"
        )
    came = (again.status, again.mt_ticket, again.price, again.time_ms)
    wanted = (CommandStatus.SUCCESS, first.mt_ticket, first.price, first.time_ms)
    require(
        came == wanted,
        f"expected OPENED (status, mtTicket, price, timeMs) {_text(wanted)}, came {_text(came)}",
    )
    return PASSED


async def open_repeat_same_command(run: Run) -> Verdict:
    first = run.needs_position()
    assert run.open_command is not None
    command_id = run.repeated_command_id = run.open_command.command_id
    mark = await run.peer.send(run.open_command)
    await run.peer.watch(run.config.quiet_s)
    answers = run.peer.all(answer_to(command_id), mark)
    if not answers:
        return passed("not answered again")
    require(len(answers) == 1, f"expected at most one repeat of the answer, came {len(answers)}")
    require(
        answers[0].message == first,
        f"expected nothing or the same OPENED again, came {answers[0].describe()}",
    )
    return passed("answered again with the same OPENED")


async def sync_lists_one_position(run: Run) -> Verdict:
    opened = run.needs_position()
    found = await held(run, [run.position_id])
    require(
        len(found) == 1,
        f"expected exactly one position for positionId {run.position_id}, SYNC lists {len(found)}",
    )
    item, config = found[0], run.config
    came = (item.mt_ticket, item.symbol, item.side, item.volume)
    wanted = (opened.mt_ticket, config.symbol, config.side, config.volume)
    require(
        came == wanted, f"expected (mtTicket, symbol, side, volume) {_text(wanted)}, SYNC lists {_text(came)}"
    )
    return PASSED


async def close_succeeds(run: Run) -> Verdict:
    opened = run.needs_position()
    assert opened.mt_ticket is not None
    arrival = await _answer(run, Close(run.command_id("CLOSE"), run.position_id, opened.mt_ticket))
    closed = _decoded(arrival, Closed)
    came = (closed.status, closed.position_id, closed.mt_ticket)
    wanted = (CommandStatus.SUCCESS, run.position_id, opened.mt_ticket)
    require(
        came == wanted,
        f"expected CLOSED (status, positionId, mtTicket) {_text(wanted)}, came {arrival.describe()}",
    )
    run.closed = closed
    assert closed.time_ms is not None
    _recent(run, closed.time_ms, arrival, "CLOSED")
    return passed(f"at {closed.price}, profit {closed.profit}")


async def close_repeat_gets_recorded_close(run: Run) -> Verdict:
    first = run.closed
    if first is None:
        raise Skip("needs the close of close.success, which did not close")
    arrival = await _answer(run, Close(run.command_id("CLOSE"), run.position_id, first.mt_ticket))
    again = _decoded(arrival, Closed)
    came = (again.status, again.mt_ticket, again.price, again.time_ms, again.profit)
    wanted = (CommandStatus.SUCCESS, first.mt_ticket, first.price, first.time_ms, first.profit)
    require(
        came == wanted,
        f"expected the recorded close (status, mtTicket, price, timeMs, profit) {_text(wanted)}, "
        f"came {_text(came)}",
    )
    return PASSED


async def close_unknown_ticket_fails(run: Run) -> Verdict:
    command = Close(run.command_id("CLOSE"), str(uuid.uuid4()), UNKNOWN_TICKET)
    closed = _decoded(await _answer(run, command), Closed)
    require(
        closed.status is CommandStatus.FAILED,
        f"expected CLOSED FAILED for ticket {UNKNOWN_TICKET}, came {closed.status}",
    )
    require(
        closed.mt_ticket == UNKNOWN_TICKET,
        f"expected mtTicket {UNKNOWN_TICKET} echoed, came {closed.mt_ticket}",
    )
    return passed(f"{closed.error_code}")


async def _refused(run: Run, command: Open, accepted: tuple[ErrorCode, ...]) -> Verdict:
    run.untouchable_position_ids.append(command.position_id)
    codes = " or ".join(accepted)
    opened = _decoded(await _answer(run, command), Opened)
    if opened.status is CommandStatus.SUCCESS and opened.mt_ticket:
        note = await close_stray(run, command.position_id, opened.mt_ticket)
        raise Unmet(f"expected OPENED FAILED {codes}, the EA opened ticket {opened.mt_ticket} ({note})")
    require(
        opened.error_code in accepted,
        f"expected OPENED FAILED {codes}, came {opened.error_code}: {opened.message}",
    )
    kept = await held(run, [command.position_id])
    require(not kept, f"expected nothing opened, SYNC lists ticket {kept[0].mt_ticket if kept else ''}")
    return passed(f"{opened.error_code}")


async def open_volume_below_minimum(run: Run) -> Verdict:
    command = _open(run, str(uuid.uuid4()), volume=VOLUME_BELOW_MIN)
    return await _refused(run, command, (ErrorCode.INVALID_VOLUME,))


async def open_volume_above_maximum(run: Run) -> Verdict:
    command = _open(run, str(uuid.uuid4()), volume=VOLUME_ABOVE_MAX)
    return await _refused(run, command, (ErrorCode.INVALID_VOLUME, ErrorCode.NOT_ENOUGH_MONEY))


async def open_unknown_symbol(run: Run) -> Verdict:
    command = _open(run, str(uuid.uuid4()), symbol=UNKNOWN_SYMBOL)
    return await _refused(run, command, (ErrorCode.INVALID_SYMBOL,))


TRADING_RULES: tuple[Rule, ...] = (
    Rule("sync.answered", "SYNC gets one valid POSITIONS with the same commandId", sync_answered),
    Rule(
        "open.success",
        "OPEN gets OPENED SUCCESS with the same commandId, mtTicket, price, UTC timeMs",
        open_succeeds,
    ),
    Rule(
        "open.repeat-new-command",
        "OPEN again for the positionId (new commandId) gets the same ticket, price, timeMs",
        open_repeat_new_command_same_ticket,
    ),
    Rule(
        "open.repeat-same-command",
        "OPEN resent with the same commandId opens nothing; it is not answered again "
        "or answered with the identical OPENED",
        open_repeat_same_command,
    ),
    Rule(
        "sync.one-position",
        "SYNC lists exactly one position for the positionId, as opened",
        sync_lists_one_position,
    ),
    Rule("close.success", "CLOSE gets CLOSED SUCCESS with price, UTC timeMs, profit", close_succeeds),
    Rule(
        "close.repeat",
        "CLOSE again (new commandId) gets CLOSED SUCCESS with the recorded close",
        close_repeat_gets_recorded_close,
    ),
    Rule(
        "close.unknown-ticket",
        "CLOSE of an unknown ticket gets CLOSED FAILED with a listed errorCode",
        close_unknown_ticket_fails,
    ),
    Rule(
        "open.volume-below-min",
        f"OPEN of {VOLUME_BELOW_MIN} lots gets OPENED FAILED INVALID_VOLUME, opens nothing",
        open_volume_below_minimum,
    ),
    Rule(
        "open.volume-above-max",
        f"OPEN of {VOLUME_ABOVE_MAX} lots gets OPENED FAILED INVALID_VOLUME or "
        "NOT_ENOUGH_MONEY, opens nothing",
        open_volume_above_maximum,
    ),
    Rule(
        "open.unknown-symbol",
        f"OPEN of {UNKNOWN_SYMBOL} gets OPENED FAILED INVALID_SYMBOL, opens nothing",
        open_unknown_symbol,
    ),
)
