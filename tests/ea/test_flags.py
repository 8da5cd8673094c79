"""hedge.ea.flags: a config dataclass filled from the command line's flags of the same names."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest

from hedge.ea.flags import config_from_flags


@dataclass(frozen=True)
class Config:
    symbol: str
    volume: int
    currency: str = "USD"
    retries: int = 3


def test_config_from_flags_copies_same_named_flags_and_keeps_defaults_of_the_rest() -> None:
    args = argparse.Namespace(symbol="EURUSD", volume=2, unrelated="ignored")
    assert config_from_flags(args, Config) == Config("EURUSD", 2, "USD", 3)


def test_config_from_flags_given_value_wins_over_the_flag() -> None:
    args = argparse.Namespace(symbol=" eurusd ", volume=2, currency="eur")
    assert config_from_flags(args, Config, symbol="EURUSD", currency="EUR").symbol == "EURUSD"


def test_config_from_flags_required_field_without_a_flag_fails() -> None:
    with pytest.raises(TypeError, match="volume"):
        config_from_flags(argparse.Namespace(symbol="EURUSD"), Config)
