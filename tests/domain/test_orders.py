"""The order tracker's transition table: every line applies, nothing else does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hedge.domain.errors import InvalidTransition
from hedge.domain.orders import (
    FINAL_ORDER_STATES,
    ORDER_TABLE,
    Exit,
    Fill,
    OrderState,
    OrderTracker,
    OrderTrigger,
    apply_order,
)

S = OrderState
T = OrderTrigger


@pytest.mark.parametrize(("state", "trigger", "target"), [(s, t, to) for (s, t), to in ORDER_TABLE.items()])
def test_apply_order_every_table_line_reaches_its_state(
    state: OrderState, trigger: OrderTrigger, target: OrderState
) -> None:
    assert apply_order(state, trigger) is target


@pytest.mark.parametrize(
    ("state", "trigger"),
    [(s, t) for s in OrderState for t in OrderTrigger if (s, t) not in ORDER_TABLE],
)
def test_apply_order_move_not_in_the_table_raises_invalid_transition(
    state: OrderState, trigger: OrderTrigger
) -> None:
    with pytest.raises(InvalidTransition) as raised:
        apply_order(state, trigger)
    assert raised.value.entity == "Order"
    assert state.value in raised.value.message and trigger.value in raised.value.message


def test_order_table_exited_is_the_only_final_state() -> None:
    assert {S.EXITED} == FINAL_ORDER_STATES


def test_order_table_a_sent_command_is_never_given_up_without_the_terminals_word() -> None:
    # from a state where the command may be at the terminal, no line leads back to NEW or to a
    # failure except a word from the terminal (an answer, POSITIONS or HISTORY_RESULT)
    words = {T.FILL, T.EXIT, T.REFUSE, T.REQUOTE, T.NOT_HELD, T.NOT_FOUND}
    for (state, trigger), target in ORDER_TABLE.items():
        doubt = (S.OPEN_UNKNOWN, S.OPEN_SEARCHING, S.CLOSE_UNKNOWN, S.MISSING)
        if state in doubt and target not in doubt:
            assert trigger in words, (state, trigger, target)


def test_order_table_unknown_open_cannot_be_sent_again_before_history_found_nothing() -> None:
    assert not OrderTracker("p", "a", state=S.OPEN_UNKNOWN).can(T.SEND_OPEN)
    assert not OrderTracker("p", "a", state=S.OPEN_SEARCHING).can(T.SEND_OPEN)
    assert apply_order(S.OPEN_SEARCHING, T.NOT_FOUND) is S.NEW


def test_tracker_keeps_facts_and_the_moves_it_applied() -> None:
    tracker = OrderTracker("pos-1", "acc-1")
    tracker.send(T.SEND_OPEN, "c1", 1.0)
    tracker.link_lost(2.0)
    tracker.filled(Fill("77", Decimal("150.01"), 1000, Decimal("0.1")), 3.0)
    tracker.send(T.SEND_CLOSE, "c2", 4.0)
    tracker.exited(Exit(Decimal("150.2"), 2000, Decimal("13.3"), None, "77"), 5.0)
    assert tracker.state is S.EXITED and tracker.final
    assert tracker.fill is not None and tracker.fill.volume == Decimal("0.1")
    assert tracker.exit is not None and tracker.exit.profit == Decimal("13.3")
    assert [m.to for m in tracker.moves] == [S.OPEN_SENT, S.OPEN_UNKNOWN, S.HELD, S.CLOSE_SENT, S.EXITED]
    assert tracker.kind == "CLOSE" and tracker.command_id == "c2" and tracker.moved_at == 5.0


def test_tracker_illegal_move_raises_and_leaves_the_state_as_it_was() -> None:
    tracker = OrderTracker("pos-1", "acc-1", state=S.EXITED)
    with pytest.raises(InvalidTransition):
        tracker.filled(Fill("1", Decimal(1), 0), 1.0)
    assert tracker.state is S.EXITED and tracker.moves == []


def test_tracker_close_unknown_still_held_is_a_failed_close_that_says_why() -> None:
    tracker = OrderTracker("pos-1", "acc-1", state=S.CLOSE_UNKNOWN)
    tracker.filled(Fill("1", Decimal(1), 0), 1.0)
    assert tracker.state is S.CLOSE_FAILED
    assert tracker.failure is not None and "still holds" in tracker.failure
    tracker.recorded(2.0)
    assert tracker.moves[-1].to is S.HELD and tracker.failure is None
