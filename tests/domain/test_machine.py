"""The shared reader of state-machine tables (domain/machine.py), on a small table of its own."""

from __future__ import annotations

from enum import StrEnum, auto

import pytest

from hedge.domain.errors import InvalidTransition
from hedge.domain.machine import apply_move, final_states, trigger_between


class Lamp(StrEnum):  # auto(): the lower-case names ("off", "on", "broken")
    OFF = auto()
    ON = auto()
    BROKEN = auto()


class Press(StrEnum):
    SWITCH = auto()
    SMASH = auto()


TABLE = {
    (Lamp.OFF, Press.SWITCH): Lamp.ON,
    (Lamp.ON, Press.SWITCH): Lamp.OFF,
    (Lamp.ON, Press.SMASH): Lamp.BROKEN,
}


def test_apply_move_listed_line_returns_its_target() -> None:
    assert apply_move(TABLE, "Lamp", Lamp.OFF, Press.SWITCH) is Lamp.ON


def test_apply_move_unlisted_line_raises_with_the_allowed_triggers() -> None:
    with pytest.raises(InvalidTransition) as raised:
        apply_move(TABLE, "Lamp", Lamp.OFF, Press.SMASH)
    assert raised.value.entity == "Lamp"
    assert "allowed from off: switch" in str(raised.value)


def test_apply_move_from_final_state_says_none_is_allowed() -> None:
    with pytest.raises(InvalidTransition, match="none \\(final state\\)"):
        apply_move(TABLE, "Lamp", Lamp.BROKEN, Press.SWITCH)


def test_trigger_between_two_states_finds_the_line_that_joins_them() -> None:
    assert trigger_between(TABLE, "Lamp", Lamp.ON, Lamp.BROKEN) is Press.SMASH


def test_trigger_between_unjoined_states_raises_with_the_reachable_states() -> None:
    with pytest.raises(InvalidTransition, match="allowed from off: on"):
        trigger_between(TABLE, "Lamp", Lamp.OFF, Lamp.BROKEN)


def test_final_states_are_those_no_line_leaves() -> None:
    assert final_states(TABLE, Lamp) == frozenset({Lamp.BROKEN})
