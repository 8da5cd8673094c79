"""Symbol specs (pip sizes, volume limits), overrides, and broker names mapped to canonical symbols."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from hedge.domain.errors import ValidationError
from hedge.domain.symbols import SymbolCatalog, broker_symbol, canonical_symbol, check_symbol, default_spec

D = Decimal


@pytest.mark.parametrize("symbol", ["USDJPY", "EURJPY", "GBPJPY", "AUDJPY", "CHFJPY", "NZDJPY"])
def test_jpy_pair_pip_is_one_hundredth(symbol: str) -> None:
    assert SymbolCatalog().spec(symbol).pip_size == D("0.01")


@pytest.mark.parametrize("symbol", ["EURUSD", "EURGBP", "GBPUSD", "AUDNZD", "USDCHF", "EURCAD"])
def test_other_fx_pair_pip_is_one_ten_thousandth(symbol: str) -> None:
    assert SymbolCatalog().spec(symbol).pip_size == D("0.0001")


def test_gold_pip_is_one_tenth() -> None:
    assert SymbolCatalog().spec("XAUUSD").pip_size == D("0.1")


def test_pips_are_exact_decimals_from_price_text() -> None:
    spec = default_spec("USDJPY")
    assert spec.pips(D("150.050") - D("150.000")) == D("5")
    assert default_spec("EURUSD").pips(D("1.08505") - D("1.08455")) == D("5")
    assert spec.price_offset(D("12.5")) == D("0.125")


def test_catalog_override_replaces_the_default_spec() -> None:
    gold = replace(default_spec("XAUUSD"), pip_size=D("0.01"))
    catalog = SymbolCatalog({"XAUUSD": gold})
    assert catalog.spec("XAUUSD").pip_size == D("0.01")
    assert catalog.spec("USDJPY").pip_size == D("0.01") and catalog.spec("EURUSD").pip_size == D("0.0001")


def test_with_pip_size_returns_a_changed_copy_and_leaves_the_original() -> None:
    original = SymbolCatalog()
    changed = original.with_pip_size("USDJPY", D("0.001"))
    assert changed.spec("USDJPY").pip_size == D("0.001")
    assert original.spec("USDJPY").pip_size == D("0.01")
    assert changed.with_pip_size("EURUSD", D("0.00001")).spec("USDJPY").pip_size == D("0.001")


@pytest.mark.parametrize(
    ("broker", "canonical"),
    [("USDJPY.m", "USDJPY"), ("EURUSDm", "EURUSD"), ("#XAUUSD", "XAUUSD"), ("usdjpy.pro", "USDJPY"),
     ("GBPUSD", "GBPUSD"), ("XAUUSD.r", "XAUUSD"), ("m.EURGBP", "EURGBP")],
)  # fmt: skip
def test_canonical_symbol_fallback_finds_the_pair_inside_the_broker_name(broker: str, canonical: str) -> None:
    assert canonical_symbol(broker) == canonical


def test_canonical_symbol_explicit_map_wins_over_fallback() -> None:
    mapping = {"GOLD": "XAUUSD", "EURUSDm": "EURUSD2"}
    assert canonical_symbol("GOLD", mapping) == "XAUUSD"
    assert canonical_symbol("EURUSDm", mapping) == "EURUSD2"
    assert canonical_symbol("USDJPY.m", mapping) == "USDJPY"  # not in the map: fallback


def test_canonical_symbol_unknown_name_is_its_upper_case_letters() -> None:
    assert canonical_symbol("us30.cash") == "US30CASH"


def test_broker_symbol_is_the_inverse_of_the_account_map() -> None:
    mapping = {"USDJPY.m": "USDJPY"}
    assert broker_symbol("USDJPY", mapping) == "USDJPY.m"
    assert broker_symbol("EURUSD", mapping) == "EURUSD"


@pytest.mark.parametrize("symbol", ["", "usdjpy", "USD/JPY", "AB", "X" * 13, "USDJPY "])
def test_check_symbol_refuses_non_canonical_names(symbol: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_symbol(symbol)
    assert refused.value.field == "symbol"


@pytest.mark.parametrize(
    ("volume", "message"),
    [("0", "must be > 0"), ("-0.1", "must be > 0"), ("0.005", "must be >= 0.01"),
     ("100.01", "must be <= 100"), ("0.015", "must be a multiple of 0.01"), ("NaN", "finite"),
     ("Infinity", "finite")],
)  # fmt: skip
def test_check_volume_refuses_out_of_range_or_off_step(volume: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        default_spec("USDJPY").check_volume(D(volume))
    assert refused.value.field == "volume"


@pytest.mark.parametrize("volume", ["0.01", "0.1", "1", "1.23", "100"])
def test_check_volume_accepts_steps_within_limits(volume: str) -> None:
    default_spec("EURUSD").check_volume(D(volume))


def test_symbol_map_from_pairs_maps_broker_names_to_canonical() -> None:
    from hedge.domain.symbols import symbol_map

    mapping = symbol_map([("USDJPY.m", "USDJPY"), ("#XAUUSD", "XAUUSD")])
    assert mapping == {"USDJPY.m": "USDJPY", "#XAUUSD": "XAUUSD"}
    assert canonical_symbol("USDJPY.m", mapping) == "USDJPY"


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("USDJPY.m", "usdjpy")], r"symbolMap\[0\].symbol must be 3-12 upper-case"),
        ([("", "USDJPY")], r"symbolMap\[0\].brokerSymbol must be 1-32 characters"),
        ([("X" * 33, "USDJPY")], r"symbolMap\[0\].brokerSymbol must be 1-32 characters"),
        ([("A.m", "EURUSD"), ("A.m", "USDJPY")], r"symbolMap\[1\].brokerSymbol 'A.m' is mapped twice"),
        ("USDJPY.m=USDJPY", "symbolMap must be a list of mappings"),
    ],
)
def test_bad_symbol_map_is_refused_naming_the_entry(pairs: object, message: str) -> None:
    from hedge.domain.symbols import symbol_map

    with pytest.raises(ValidationError, match=message):
        symbol_map(pairs)
