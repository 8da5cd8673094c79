"""A symbol's spec for one account: what its terminal reported (SYMBOLS, via updateAccount's
symbolSpecs), else configuration, else the built-ins. Brokers differ (XAUUSD is 100 oz at one,
10 oz at another), so a reported spec is the account's own."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from hedge.domain.errors import ValidationError
from hedge.domain.models import Account
from hedge.domain.symbols import (
    TERMINAL,
    SymbolCatalog,
    SymbolSpec,
    builtin_list,
    check_symbol,
    pip_for_digits,
)

MAX_SPECS = 1000
_REQUIRED = ("digits", "point", "contract_size", "volume_min", "volume_step", "volume_max")
_OPTIONAL = ("margin_per_lot", "tick_value")
_API_NAMES = {
    "contract_size": "contractSize",
    "volume_min": "volumeMin",
    "volume_step": "volumeStep",
    "volume_max": "volumeMax",
    "margin_per_lot": "marginPerLot",
    "tick_value": "tickValue",
}


def terminal_specs(value: Any, field: str = "symbolSpecs") -> dict[str, dict[str, str]]:
    """Checked specs from [{symbol, digits, point, contract_size, ...}, ...], stored as text."""
    if not isinstance(value, list | tuple):
        raise ValidationError(field, f"must be a list of symbol specs, was {type(value).__name__}")
    if len(value) > MAX_SPECS:
        raise ValidationError(field, f"must list at most {MAX_SPECS} symbols, was {len(value)}")
    specs: dict[str, dict[str, str]] = {}
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError(where, "must be a symbol spec")
        symbol = item.get("symbol")
        if not isinstance(symbol, str):
            raise ValidationError(f"{where}.symbol", "must be a string")
        check_symbol(symbol, f"{where}.symbol")
        if symbol in specs:
            raise ValidationError(f"{where}.symbol", f"{symbol!r} is listed twice")
        specs[symbol] = _checked(item, where)
    return specs


def _checked(item: Mapping[str, Any], where: str) -> dict[str, str]:
    digits = item.get("digits")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 10:
        raise ValidationError(f"{where}.digits", f"must be an integer from 0 to 10, was {digits!r}")
    out = {"digits": str(digits)}
    for name in (*_REQUIRED[1:], *_OPTIONAL):
        raw = item.get(name)
        api = f"{where}.{_API_NAMES.get(name, name)}"
        if raw is None:
            if name in _REQUIRED:
                raise ValidationError(api, "is required")
            continue
        number = _number(raw, api)
        if number < 0 or (number == 0 and name != "margin_per_lot"):
            raise ValidationError(
                api, f"must be {'>= 0' if name == 'margin_per_lot' else '> 0'}, was {raw!r}"
            )
        out[name] = str(number)
    if Decimal(out["volume_min"]) > Decimal(out["volume_max"]):
        raise ValidationError(f"{where}.volumeMin", "must not be above volumeMax")
    return out


def _number(raw: Any, where: str) -> Decimal:
    try:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
            raise InvalidOperation
        number = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise ValidationError(where, f"must be a number, was {str(raw)[:40]!r}") from None
    if not number.is_finite():
        raise ValidationError(where, f"must be a finite number, was {raw!r}")
    return number


def _optional(fields: Mapping[str, str], name: str) -> Decimal | None:
    raw = fields.get(name)
    return None if raw is None else Decimal(raw)


def reported_spec(account: Account, symbol: str) -> SymbolSpec | None:
    """The spec the account's terminal reported for `symbol`, or None."""
    fields = account.symbol_specs.get(symbol)
    if fields is None:
        return None
    digits = int(fields["digits"])
    return SymbolSpec(
        symbol,
        pip_for_digits(digits, Decimal(fields["point"])),
        digits,
        Decimal(fields["contract_size"]),
        Decimal(fields["volume_min"]),
        Decimal(fields["volume_step"]),
        Decimal(fields["volume_max"]),
        _optional(fields, "margin_per_lot"),
        _optional(fields, "tick_value"),
        TERMINAL,
    )


def spec_for(account: Account, symbol: str, catalog: SymbolCatalog) -> SymbolSpec:
    """The account's spec of `symbol`: its terminal's, else configuration's, else built in;
    NoSymbolSpec (VALIDATION) when none of them knows it."""
    return reported_spec(account, symbol) or catalog.spec(symbol)


def listed_specs(account: Account | None, catalog: SymbolCatalog) -> list[SymbolSpec]:
    """What `symbolSpecs` shows: the terminal's (for an account), configured, listed built-ins."""
    found: dict[str, SymbolSpec] = {}
    if account is not None:
        for symbol in sorted(account.symbol_specs):
            spec = reported_spec(account, symbol)
            assert spec is not None
            found[symbol] = spec
    for spec in (*catalog.configured(), *builtin_list()):
        found.setdefault(spec.symbol, spec)
    return list(found.values())
