"""A symbol's spec per account: the terminal's report is checked field by field and wins over
configuration and the built-ins; every kind of bad report is a named VALIDATION error."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from hedge.domain.account_specs import MAX_SPECS, listed_specs, reported_spec, spec_for, terminal_specs
from hedge.domain.creation import new_account
from hedge.domain.errors import ValidationError
from hedge.domain.ids import UserId
from hedge.domain.models import Account
from hedge.domain.symbols import BUILTIN, TERMINAL, SymbolCatalog

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
GOLD = {"symbol": "XAUUSD", "digits": 2, "point": "0.01", "contract_size": 10, "volume_min": 0.01,
        "volume_step": 0.01, "volume_max": 50}  # fmt: skip


def _account(**reported: dict[str, str]) -> Account:
    made = new_account(UserId("u"), "MT5", "1001", "Broker-Live", "main", "USD", 100, NOW)
    return replace(made, symbol_specs=reported)


def _refused(value: Any) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        terminal_specs(value)
    return refused.value


def test_terminal_specs_keeps_each_number_as_text_and_leaves_out_absent_optionals() -> None:
    assert terminal_specs([GOLD]) == {
        "XAUUSD": {"digits": "2", "point": "0.01", "contract_size": "10", "volume_min": "0.01",
                   "volume_step": "0.01", "volume_max": "50"},
    }  # fmt: skip


def test_terminal_specs_accepts_a_zero_margin_per_lot_but_no_zero_tick_value() -> None:
    assert terminal_specs([{**GOLD, "margin_per_lot": 0}])["XAUUSD"]["margin_per_lot"] == "0"
    assert _refused([{**GOLD, "tick_value": 0}]).field == "symbolSpecs[0].tickValue"


@pytest.mark.parametrize(
    ("value", "field", "says"),
    [
        ({"symbol": "X"}, "symbolSpecs", "must be a list of symbol specs, was dict"),
        (["XAUUSD"], "symbolSpecs[0]", "must be a symbol spec"),
        ([{**GOLD, "symbol": 7}], "symbolSpecs[0].symbol", "must be a string"),
        ([GOLD, GOLD], "symbolSpecs[1].symbol", "'XAUUSD' is listed twice"),
        ([{**GOLD, "digits": True}], "symbolSpecs[0].digits", "must be an integer from 0 to 10, was True"),
        ([{**GOLD, "digits": 11}], "symbolSpecs[0].digits", "must be an integer from 0 to 10, was 11"),
        ([{**GOLD, "digits": "2"}], "symbolSpecs[0].digits", "must be an integer from 0 to 10, was '2'"),
        ([{**GOLD, "volume_max": None}], "symbolSpecs[0].volumeMax", "is required"),
        ([{**GOLD, "contract_size": 0}], "symbolSpecs[0].contractSize", "must be > 0, was 0"),
        ([{**GOLD, "point": "-0.01"}], "symbolSpecs[0].point", "must be > 0, was '-0.01'"),
        ([{**GOLD, "margin_per_lot": -1}], "symbolSpecs[0].marginPerLot", "must be >= 0, was -1"),
        ([{**GOLD, "volume_step": "lots"}], "symbolSpecs[0].volumeStep", "must be a number, was 'lots'"),
        ([{**GOLD, "volume_step": [1]}], "symbolSpecs[0].volumeStep", "must be a number, was '[1]'"),
        ([{**GOLD, "volume_min": "NaN"}], "symbolSpecs[0].volumeMin", "must be a finite number, was 'NaN'"),
        ([{**GOLD, "volume_min": 60}], "symbolSpecs[0].volumeMin", "must not be above volumeMax"),
    ],
)
def test_terminal_specs_with_a_bad_report_names_the_field_and_what_was_wrong(
    value: Any, field: str, says: str
) -> None:
    error = _refused(value)
    assert (error.field, error.message) == (field, f"{field} {says}")


def test_terminal_specs_of_more_than_the_limit_is_refused() -> None:
    many = [{**GOLD, "symbol": f"S{i:04d}"} for i in range(MAX_SPECS + 1)]
    assert _refused(many).message == f"symbolSpecs must list at most {MAX_SPECS} symbols, was {MAX_SPECS + 1}"


def test_spec_for_takes_the_terminals_report_over_the_built_in() -> None:
    account = _account(XAUUSD=terminal_specs([GOLD])["XAUUSD"])
    spec = spec_for(account, "XAUUSD", SymbolCatalog())
    assert (spec.source, spec.contract_size, spec.volume_max, spec.digits) == (
        TERMINAL,
        Decimal(10),
        Decimal(50),
        2,
    )
    assert spec.margin_per_lot is None and spec.tick_value is None


def test_spec_for_without_a_report_falls_back_to_the_built_in() -> None:
    assert reported_spec(_account(), "USDJPY") is None
    assert spec_for(_account(), "USDJPY", SymbolCatalog()).source == BUILTIN


def test_listed_specs_puts_the_terminals_first_and_lists_each_symbol_once() -> None:
    account = _account(XAUUSD=terminal_specs([GOLD])["XAUUSD"])
    listed = listed_specs(account, SymbolCatalog())
    symbols = [spec.symbol for spec in listed]
    assert symbols[0] == "XAUUSD" and listed[0].source == TERMINAL
    assert len(symbols) == len(set(symbols))
    assert {spec.symbol for spec in listed_specs(None, SymbolCatalog())} <= set(symbols)
