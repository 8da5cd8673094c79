"""Who writes what: one table of the fields that go with each Position move and who may make it.

A person (an ADMIN credential) requests moves and edits plans; the owner's agent (a CLIENT
credential on its own rows) does the same and is the only writer of the broker's facts, which
come only with the move that produces them. A final row accepts only memo. `check_position_write`
is the one place these rules live; the store calls it for every updatePosition.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from hedge.domain.authz import Actor
from hedge.domain.enums import ActionStatus, ChangeSource, PositionStatus
from hedge.domain.errors import Forbidden, Refused
from hedge.domain.transitions import FINAL_POSITION_STATES, check_action_move, check_position_move

P = PositionStatus
USER = ChangeSource.USER
AGENT = ChangeSource.AGENT

ENTRY_FACTS = frozenset({"mt_ticket", "entry_price", "entry_time", "filled_volume"})
EXIT_FACTS = frozenset({"exit_price", "exit_time", "exit_reason", "realized_pl"})
BROKER_FACTS = ENTRY_FACTS | EXIT_FACTS
PLAN_FIELDS = frozenset({"trail_width", "trail_mode", "trigger_action_ids"})
PLAN_STATES = frozenset({P.PENDING, P.OPEN})
ANY_TIME = frozenset({"memo"})

API_NAMES = {
    "mt_ticket": "mtTicket",
    "entry_price": "entryPrice",
    "entry_time": "entryTime",
    "filled_volume": "filledVolume",
    "exit_price": "exitPrice",
    "exit_time": "exitTime",
    "exit_reason": "exitReason",
    "realized_pl": "realizedPL",
    "trail_width": "trailWidth",
    "trail_mode": "trailMode",
    "trigger_action_ids": "triggerActionIds",
    "memo": "memo",
    "status": "status",
}


@dataclass(frozen=True, slots=True)
class MoveRule:
    writers: frozenset[ChangeSource]
    facts: frozenset[str]  # the broker facts that come with this move (and with no other)


_REQUEST = frozenset({USER, AGENT})
_TERMINAL = frozenset({AGENT})  # the terminal's word, reported by the owner's agent
NO_FACTS: frozenset[str] = frozenset()

POSITION_MOVES: dict[tuple[PositionStatus, PositionStatus], MoveRule] = {
    (P.PENDING, P.OPENING): MoveRule(_REQUEST, NO_FACTS),
    (P.PENDING, P.CANCELED): MoveRule(_REQUEST, NO_FACTS),
    (P.OPENING, P.OPEN): MoveRule(_TERMINAL, ENTRY_FACTS),
    (P.OPENING, P.CANCELED): MoveRule(_TERMINAL, NO_FACTS),
    (P.OPEN, P.CLOSING): MoveRule(_REQUEST, NO_FACTS),
    (P.OPEN, P.STOPPED): MoveRule(_TERMINAL, EXIT_FACTS),
    (P.CLOSING, P.CLOSED): MoveRule(_TERMINAL, EXIT_FACTS),
    (P.CLOSING, P.OPEN): MoveRule(_TERMINAL, NO_FACTS),
}

A = ActionStatus
ACTION_MOVES: dict[tuple[ActionStatus, ActionStatus], frozenset[ChangeSource]] = {
    (A.PENDING, A.EXECUTING): _REQUEST,
    (A.PENDING, A.CANCELED): _REQUEST,
    (A.EXECUTING, A.EXECUTED): _TERMINAL,
    (A.EXECUTING, A.FAILED): _REQUEST,
    (A.FAILED, A.PENDING): _REQUEST,
}


def source_of(actor: Actor) -> ChangeSource:
    """An ADMIN credential is a person's; a CLIENT credential is its user's agent."""
    return USER if actor.is_admin else AGENT


def _who(writer: ChangeSource) -> str:
    return "a person (ADMIN)" if writer is USER else "the owner's agent"


def check_position_write(
    writer: ChangeSource, state: PositionStatus, target: PositionStatus | None, fields: Collection[str]
) -> None:
    """Raise unless `writer` may write `fields` (snake_case, `status` excluded) on a position in
    `state`, moving it to `target` (None: no move). Forbidden when the writer may never do it,
    Refused (INVALID_TRANSITION) when the state or the move does not allow it."""
    edits = set(fields) - {"status"}
    if state in FINAL_POSITION_STATES and target is None and edits <= ANY_TIME:
        return
    if state in FINAL_POSITION_STATES:
        name = sorted(edits - ANY_TIME or {"status"})[0]
        final = f"a {state.value} position is final and accepts only memo, was given {API_NAMES[name]}"
        raise Refused("Position", state.value, (target or state).value, final)
    rule = None
    if target is not None:
        check_position_move(state, target)  # a move not in the state table at all
        rule = POSITION_MOVES[(state, target)]
        if writer not in rule.writers:
            raise Forbidden(
                f"{state.value} -> {target.value} is the terminal's word, reported only by the owner's"
                f" agent; {_who(writer)} cannot set it"
            )
    facts = edits & BROKER_FACTS
    allowed = rule.facts if rule is not None else NO_FACTS
    for name in sorted(facts - allowed):
        if writer is USER:
            raise Forbidden(
                f"{API_NAMES[name]} is a broker fact: only the owner's agent writes it (settlePosition"
                " is a person's way to record the terminal's word)"
            )
        moves = [f"{a.value} -> {b.value}" for (a, b), r in POSITION_MOVES.items() if name in r.facts]
        raise Refused(
            "Position", state.value, (target or state).value,
            f"{API_NAMES[name]} is a broker fact written only with {' or '.join(moves)}",
        )  # fmt: skip
    plan = edits & PLAN_FIELDS
    if plan and state not in PLAN_STATES:
        name = API_NAMES[sorted(plan)[0]]
        raise Refused(
            "Position", state.value, (target or state).value,
            f"{name} can be changed while the position is PENDING or OPEN, not {state.value}",
        )  # fmt: skip


def check_action_write(writer: ChangeSource, state: ActionStatus, target: ActionStatus | None) -> None:
    """Raise unless `writer` may move an action `state -> target`. EXECUTED is the terminal's
    word (the agent reports it); the other moves are requests either may make."""
    if target is None:
        return
    check_action_move(state, target)
    if writer not in ACTION_MOVES[(state, target)]:
        raise Forbidden(
            f"{state.value} -> {target.value} of an action is reported only by the owner's agent;"
            f" {_who(writer)} cannot set it"
        )
