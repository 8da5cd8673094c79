"""Conformance rules for bad input and for the run as a whole.

Bad frames: each must get ERROR BAD_MESSAGE (naming the commandId when the frame had a readable one),
change nothing, and leave the connection open (a PING afterwards gets its PONG). The wrap-up rules look
back over every frame the EA sent; the oversized frame comes last because it ends the connection.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from hedge.ea.conformance_model import PASSED, Rule, Run, Skip, Unmet, Verdict, passed, require
from hedge.ea.conformance_peer import Arrival, answer_to, wire_type
from hedge.ea.conformance_trading import close_stray, held
from hedge.ea.protocol import (
    CLOSE_TOO_BIG,
    MAX_FRAME_BYTES,
    AccountUpdate,
    Error,
    ErrorCode,
    ErrorFrameCode,
    Ping,
    comment_for,
)

_ERROR_CODES = frozenset(code.value for code in ErrorCode)


class Echo(StrEnum):
    """Whether the ERROR must name the bad frame's commandId."""

    REQUIRED = "REQUIRED"  # a JSON object with a string commandId: the EA can read it
    OPTIONAL = "OPTIONAL"  # commandId inside text that is not a JSON object (NaN is not JSON)


@dataclass(frozen=True, slots=True)
class BadFrame:
    name: str
    description: str
    text: Callable[[str, str], str]  # (commandId, positionId) -> the frame
    echo: Echo = Echo.REQUIRED


def _open(volume: str = "0.01", side: str = '"BUY"') -> Callable[[str, str], str]:
    def text(command_id: str, position_id: str) -> str:
        return (
            f'{{"type":"OPEN","commandId":"{command_id}","positionId":"{position_id}","symbol":"USDJPY",'
            f'"side":{side},"volume":{volume},"comment":"{comment_for(position_id)}"}}'
        )

    return text


BAD_FRAMES: tuple[BadFrame, ...] = (
    BadFrame("not-json", "a frame that is not JSON", lambda c, p: "this is not JSON {", Echo.OPTIONAL),
    BadFrame(
        "json-array",
        "a JSON array",
        lambda c, p: f'[{{"type":"SYNC","commandId":"{c}"}}]',
        Echo.OPTIONAL,
    ),
    BadFrame("missing-type", "an object without type", lambda c, p: f'{{"commandId":"{c}"}}'),
    BadFrame("type-not-string", "type as a number", lambda c, p: f'{{"type":42,"commandId":"{c}"}}'),
    BadFrame("unknown-type", "an unknown type", lambda c, p: f'{{"type":"TELEPORT","commandId":"{c}"}}'),
    BadFrame(
        "missing-field",
        "CLOSE without mtTicket",
        lambda c, p: f'{{"type":"CLOSE","commandId":"{c}","positionId":"{p}"}}',
    ),
    BadFrame(
        "ticket-as-number",
        "CLOSE with mtTicket as a number",
        lambda c, p: f'{{"type":"CLOSE","commandId":"{c}","positionId":"{p}","mtTicket":12345}}',
    ),
    BadFrame("volume-as-string", "OPEN with volume as a string", _open(volume='"0.01"')),
    BadFrame("volume-negative", "OPEN with a negative volume", _open(volume="-0.01")),
    BadFrame("volume-zero", "OPEN with volume 0", _open(volume="0")),
    BadFrame("volume-nan", "OPEN with volume NaN", _open(volume="NaN"), Echo.OPTIONAL),
    BadFrame("side-unknown", "OPEN with side LONG", _open(side='"LONG"')),
)


def bad_frame_rule(bad: BadFrame) -> Rule:
    async def check(run: Run) -> Verdict:
        command_id = run.command_id("BAD", answer_optional=bad.echo is Echo.OPTIONAL)
        position_id = str(uuid.uuid4())
        run.untouchable_position_ids.append(position_id)
        mark = await run.peer.send(bad.text(command_id, position_id))
        answer = await run.peer.first(
            lambda a: a.frame_type == "ERROR" or a.command_id == command_id, mark, run.config.timeout_s
        )
        require(
            answer is not None, f"expected ERROR BAD_MESSAGE within {run.config.timeout_s:g} s, none came"
        )
        assert answer is not None
        error = answer.message
        require(isinstance(error, Error), f"expected ERROR BAD_MESSAGE, came {answer.describe()}")
        assert isinstance(error, Error)
        require(error.code == ErrorFrameCode.BAD_MESSAGE, f"expected code BAD_MESSAGE, came {error.code!r}")
        if bad.echo is Echo.REQUIRED or error.command_id is not None:
            require(
                error.command_id == command_id,
                f"expected ERROR.commandId {command_id}, came {error.command_id!r}",
            )
        pong = await run.peer.barrier(run.ping_id(), run.config.timeout_s)
        require(
            pong is not None,
            "expected the connection to stay open (PONG to a PING after the ERROR), none came",
        )
        return PASSED

    return Rule(
        f"bad-frame.{bad.name}", f"{bad.description} gets ERROR BAD_MESSAGE, connection stays open", check
    )


# --- wrap-up --------------------------------------------------------------------------------------


async def nothing_left_open(run: Run) -> Verdict:
    kept = await held(run, [run.position_id, *run.untouchable_position_ids])
    if kept:
        notes = [await close_stray(run, p.position_id, p.mt_ticket) for p in kept]
        raise Unmet(f"expected none of the kit's positions held, SYNC lists {len(kept)}: {'; '.join(notes)}")
    return PASSED


async def answers_once(run: Run) -> Verdict:
    await run.peer.watch(run.config.quiet_s)  # late duplicates show up here
    answered = Counter(a.command_id for a in run.peer.all(answer_to_any))
    for command_id in run.sent:
        count = answered.get(command_id, 0)
        if command_id == run.repeated_command_id:
            replies = {a.text for a in run.peer.all(answer_to(command_id))}
            require(
                count in (1, 2) and len(replies) == 1,
                f"expected {command_id} answered once or twice "
                f"identically, came {count} answer(s), {len(replies)} distinct",
            )
        elif command_id in run.answer_optional:
            require(count <= 1, f"expected at most one answer to {command_id}, came {count}")
        else:
            require(
                count == 1,
                f"expected exactly one answer to {run.sent[command_id]} {command_id}, came {count}",
            )
    strangers = sorted({c for c in answered if c is not None} - set(run.sent))
    require(not strangers, f"expected answers only to the kit's commands, came answers to {strangers[:3]}")
    return passed(f"{len(run.sent)} command(s)")


def answer_to_any(arrival: Arrival) -> bool:
    return arrival.frame_type in ("OPENED", "CLOSED", "POSITIONS", "HISTORY_RESULT") or (
        arrival.frame_type == "ERROR" and arrival.command_id is not None
    )


async def error_codes_listed(run: Run) -> Verdict:
    failed = [
        a for a in run.peer.all(wire_type("OPENED", "CLOSED")) if a.raw and a.raw.get("status") == "FAILED"
    ]
    for arrival in failed:
        assert arrival.raw is not None
        code = arrival.raw.get("errorCode")
        require(
            code in _ERROR_CODES,
            f"expected errorCode one of {', '.join(sorted(_ERROR_CODES))}, came {code!r}",
        )
    return passed(f"{len(failed)} FAILED answer(s)")


async def frames_valid(run: Run) -> Verdict:
    bad = [a for a in run.peer.arrivals if a.message is None]
    if bad:
        raise Unmet(
            f"{len(bad)} of {len(run.peer.arrivals)} frames break the contract, e.g. {bad[0].describe()}"
        )
    return passed(f"{len(run.peer.arrivals)} frame(s)")


async def ea_pings(run: Run) -> Verdict:
    pings = run.peer.all(wire_type("PING"))
    if not pings:
        raise Skip("the EA sent no PING during the run (it need only ping when the link is idle)")
    for arrival in pings:
        require(
            isinstance(arrival.message, Ping), f"expected PING with an integer id, came {arrival.describe()}"
        )
    return passed(f"{len(pings)} PING(s), each answered with PONG by the kit")


async def account_well_formed(run: Run) -> Verdict:
    accounts = run.peer.all(wire_type("ACCOUNT"))
    if not accounts:
        raise Skip("the EA sent no ACCOUNT during the run")
    limit_ms = run.config.max_clock_skew_s * 1000
    for arrival in accounts:
        account = arrival.message
        require(isinstance(account, AccountUpdate), f"expected a valid ACCOUNT, came {arrival.describe()}")
        assert isinstance(account, AccountUpdate)
        require(
            abs(account.time_ms - arrival.received_ms) <= limit_ms,
            f"expected ACCOUNT timeMs within {run.config.max_clock_skew_s:g} s of UTC now, "
            f"came {arrival.describe()}",
        )
    return passed(f"{len(accounts)} ACCOUNT frame(s)")


async def too_large_frame_closes(run: Run) -> Verdict:
    padding = "x" * (MAX_FRAME_BYTES + 1024)
    await run.peer.send(f'{{"type":"SYNC","commandId":"cfm-too-large","padding":"{padding}"}}')
    closed = await run.peer.wait_closed(run.config.timeout_s)
    require(closed, f"expected the EA to close the connection with {CLOSE_TOO_BIG}, it stayed open")
    code = run.peer.close_code
    require(code == CLOSE_TOO_BIG, f"expected close code {CLOSE_TOO_BIG}, came {code}")
    return PASSED


BAD_FRAME_RULES: tuple[Rule, ...] = tuple(bad_frame_rule(bad) for bad in BAD_FRAMES)
WRAP_UP_RULES: tuple[Rule, ...] = (
    Rule(
        "sync.nothing-left",
        "a final SYNC lists none of the kit's positions (closed, refused, bad OPENs)",
        nothing_left_open,
    ),
    Rule(
        "answers.once",
        "every command is answered exactly once (the resent commandId: once, or twice identically)",
        answers_once,
        needs_connection=False,
    ),
    Rule(
        "answers.error-codes",
        "every FAILED answer's errorCode is one of the contract's codes",
        error_codes_listed,
        needs_connection=False,
    ),
    Rule(
        "frames.valid",
        "every frame the EA sends is valid for the agent's decoder",
        frames_valid,
        needs_connection=False,
    ),
    Rule("ea-ping.valid", "the EA's own PINGs (if any) are well-formed", ea_pings, needs_connection=False),
    Rule(
        "account.valid",
        "ACCOUNT frames are well-formed, with UTC timeMs",
        account_well_formed,
        needs_connection=False,
    ),
    Rule(
        "frame.too-large",
        f"a frame over {MAX_FRAME_BYTES} bytes closes the connection with {CLOSE_TOO_BIG}",
        too_large_frame_closes,
    ),
)
