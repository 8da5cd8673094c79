"""Symbol specifications (pip size, digits, contract size, volume limits) and broker-name mapping.

A symbol's spec comes, in order, from the account's terminal (see `account_specs`), from
configuration (HEDGE_SYMBOL_SPECS, a `SymbolCatalog`), or from the built-ins: FX pairs of two
ISO 4217 currencies (JPY-quoted pips 0.01, others 0.0001) and the metals XAU, XAG, XPT, XPD
against a currency. Anything else has no spec and is refused: a pip is never guessed. An
account's `symbol_map` maps broker names (`USDJPY.m`, `EURUSDm`, `#XAUUSD`) to canonical symbols.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from hedge.domain.currencies import ISO_4217, MAJORS, METALS
from hedge.domain.errors import ValidationError
from hedge.domain.values import number_or_none

_CANONICAL = re.compile(r"^[A-Z0-9]{3,12}$")
_FX_PAIR = re.compile(r"^[A-Z]{6}$")
_CURRENCIES = frozenset(
    "USD EUR JPY GBP AUD NZD CAD CHF SEK NOK DKK PLN HUF CZK TRY ZAR MXN SGD HKD CNH".split()
)
BUILTIN = "BUILTIN"
CONFIG = "CONFIG"
TERMINAL = "TERMINAL"


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    symbol: str
    pip_size: Decimal
    digits: int
    contract_size: Decimal
    volume_min: Decimal = Decimal("0.01")
    volume_step: Decimal = Decimal("0.01")
    volume_max: Decimal = Decimal("100")
    margin_per_lot: Decimal | None = None  # in the account currency, as the terminal computes it
    tick_value: Decimal | None = None
    source: str = BUILTIN  # TERMINAL, CONFIG or BUILTIN

    def pips(self, price_difference: Decimal) -> Decimal:
        """A price difference expressed in pips of this symbol (exact decimal arithmetic)."""
        return price_difference / self.pip_size

    def price_offset(self, pips: Decimal) -> Decimal:
        """The price difference that `pips` pips of this symbol make."""
        return pips * self.pip_size

    def check_volume(self, volume: Decimal, field: str = "volume") -> None:
        """Raise ValidationError unless `volume` is within limits and on the step."""
        if not volume.is_finite():
            raise ValidationError(field, f"must be a finite number, was {volume}")
        if volume <= 0:
            raise ValidationError(field, f"must be > 0, was {volume}")
        if volume < self.volume_min:
            raise ValidationError(field, f"must be >= {self.volume_min} for {self.symbol}, was {volume}")
        if volume > self.volume_max:
            raise ValidationError(field, f"must be <= {self.volume_max} for {self.symbol}, was {volume}")
        if (volume / self.volume_step) % 1 != 0:
            raise ValidationError(
                field, f"must be a multiple of {self.volume_step} for {self.symbol}, was {volume}"
            )


def pip_for_digits(digits: int, point: Decimal) -> Decimal:
    """A pip is 10 points on 3- and 5-digit quotes (fractional pips), 1 point otherwise."""
    return point * 10 if digits in (3, 5) else point


_METAL_SPECS = {  # pip, digits, contract size (troy ounces per lot)
    "XAU": (Decimal("0.1"), 2, Decimal("100")),
    "XAG": (Decimal("0.01"), 3, Decimal("5000")),
    "XPT": (Decimal("0.1"), 2, Decimal("100")),
    "XPD": (Decimal("0.1"), 2, Decimal("100")),
}


def builtin_spec(symbol: str) -> SymbolSpec | None:
    """The built-in spec of an FX pair of two ISO 4217 currencies or a metal; None for others."""
    if not _FX_PAIR.match(symbol):
        return None
    base, quote = symbol[:3], symbol[3:]
    if quote not in ISO_4217:
        return None
    if base in METALS:
        pip, digits, contract = _METAL_SPECS[base]
        return SymbolSpec(symbol, pip, digits, contract)
    if base not in ISO_4217 or base == quote:
        return None
    if quote == "JPY":
        return SymbolSpec(symbol, Decimal("0.01"), 3, Decimal("100000"))
    return SymbolSpec(symbol, Decimal("0.0001"), 5, Decimal("100000"))


def builtin_list() -> list[SymbolSpec]:
    """The built-ins worth listing: the metals against USD and the pairs of the major currencies
    (every other pair of two ISO 4217 codes is built in too, but not listed)."""
    symbols = [f"{metal}USD" for metal in sorted(METALS)]
    symbols += [a + b for a in MAJORS for b in MAJORS if a != b]
    return [spec for spec in map(builtin_spec, symbols) if spec is not None]


def default_spec(symbol: str) -> SymbolSpec:
    """The built-in spec, or for the paper EA's simulated market only a made-up one (a server
    never uses this: it refuses symbols without a spec)."""
    return builtin_spec(symbol) or SymbolSpec(symbol, Decimal("0.01"), 2, Decimal("1"))


class NoSymbolSpec(ValidationError):
    """A symbol with no spec: not reported by the terminal, not configured, not built in."""

    def __init__(self, symbol: str, field: str = "symbol") -> None:
        super().__init__(
            field,
            f"{symbol[:40]!r} has no spec: the account's terminal did not report it, HEDGE_SYMBOL_SPECS"
            " does not list it, and it is not a built-in FX pair (two ISO 4217 currencies) or metal",
        )
        self.symbol = symbol


class SymbolCatalog:
    """Specs by canonical symbol: configuration (HEDGE_SYMBOL_SPECS), then the built-ins."""

    def __init__(self, overrides: Mapping[str, SymbolSpec] | None = None) -> None:
        self._overrides: dict[str, SymbolSpec] = dict(overrides or {})
        self._cache: dict[str, SymbolSpec] = {}

    def spec(self, symbol: str) -> SymbolSpec:
        """The spec of `symbol`; NoSymbolSpec (a ValidationError) when it has none."""
        found = self._cache.get(symbol)
        if found is None:
            check_symbol(symbol)
            found = self._overrides.get(symbol) or builtin_spec(symbol)
            if found is None:
                raise NoSymbolSpec(symbol)
            self._cache[symbol] = found
        return found

    def configured(self) -> list[SymbolSpec]:
        """The specs given by configuration, by symbol."""
        return [self._overrides[symbol] for symbol in sorted(self._overrides)]

    def with_pip_size(self, symbol: str, pip_size: Decimal) -> SymbolCatalog:
        """A copy of this catalog whose `symbol` has another pip size."""
        overrides = dict(self._overrides)
        overrides[symbol] = replace(self.spec(symbol), pip_size=pip_size, source=CONFIG)
        return SymbolCatalog(overrides)


_SPEC_FIELDS = {
    "pipSize": "pip_size",
    "digits": "digits",
    "contractSize": "contract_size",
    "volumeMin": "volume_min",
    "volumeStep": "volume_step",
    "volumeMax": "volume_max",
    "marginPerLot": "margin_per_lot",
    "tickValue": "tick_value",
}


def catalog_from_config(config: Mapping[str, object]) -> SymbolCatalog:
    """A catalog from configuration: `{"XAUUSD": {"pipSize": "0.01", "volumeMax": "20"}, ...}`.

    A built-in symbol starts from its built-in spec and takes the fields given; any other symbol
    (US30, BTCUSD) must give `pipSize` or `digits` (pips then follow the digits); its
    contractSize is 1 unless given. Numbers may be JSON numbers or decimal text. Raises
    ValidationError naming the symbol and field that is wrong.
    """
    overrides: dict[str, SymbolSpec] = {}
    for symbol, fields in config.items():
        check_symbol(symbol, "symbol specs")
        if not isinstance(fields, Mapping):
            raise ValidationError(f"symbol specs.{symbol}", f"must be an object, was {type(fields).__name__}")
        changes: dict[str, object] = {}
        for key, value in fields.items():
            name = _SPEC_FIELDS.get(str(key))
            where = f"symbol specs.{symbol}.{key}"
            if name is None:
                raise ValidationError(
                    where, f"is not a spec field; expected one of {', '.join(_SPEC_FIELDS)}"
                )
            if name == "digits":
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
                    raise ValidationError(where, f"must be an integer from 0 to 10, was {value!r}")
                changes[name] = value
            else:
                changes[name] = _positive_decimal(value, where)
        overrides[symbol] = _configured(symbol, changes)
    return SymbolCatalog(overrides)


def _configured(symbol: str, changes: dict[str, object]) -> SymbolSpec:
    base = builtin_spec(symbol)
    if base is None:
        if not ({"pip_size", "digits"} & set(changes)):
            raise ValidationError(
                f"symbol specs.{symbol}", "is not a built-in FX pair or metal, so it needs pipSize or digits"
            )
        digits = changes.get("digits", 2)
        assert isinstance(digits, int)
        pip = changes.get("pip_size") or pip_for_digits(digits, Decimal(1).scaleb(-digits))
        base = SymbolSpec(symbol, pip, digits, Decimal(1))  # type: ignore[arg-type]
    return replace(base, source=CONFIG, **changes)  # type: ignore[arg-type]


def _positive_decimal(value: object, where: str) -> Decimal:
    number = number_or_none(value)
    if number is None or number <= 0:
        raise ValidationError(where, f"must be a positive number, was {value!r}")
    return number


def check_symbol(symbol: str, field: str = "symbol") -> None:
    """Raise ValidationError unless `symbol` looks like a canonical symbol (EURUSD, XAUUSD...)."""
    if not _CANONICAL.match(symbol):
        raise ValidationError(
            field, f"must be 3-12 upper-case letters or digits (e.g. EURUSD), was {symbol[:40]!r}"
        )


def canonical_symbol(broker_symbol: str, symbol_map: Mapping[str, str] | None = None) -> str:
    """The canonical name of a broker's symbol.

    The account's explicit mapping wins; otherwise a well-known FX pair or metal found inside the
    name (`USDJPY.m`, `EURUSDm`, `#XAUUSD`) is taken; otherwise the upper-cased name itself.
    """
    if symbol_map and broker_symbol in symbol_map:
        return symbol_map[broker_symbol]
    upper = broker_symbol.upper()
    letters = re.sub(r"[^A-Z0-9]", "", upper)
    for start in range(max(len(upper) - 5, 0)):
        candidate = upper[start : start + 6]
        if _FX_PAIR.match(candidate) and (
            (candidate[:3] in _CURRENCIES and candidate[3:] in _CURRENCIES)
            or candidate in ("XAUUSD", "XAGUSD")
        ):
            return candidate
    return letters


MAX_SYMBOL_MAP = 500


def symbol_map(value: object, field: str = "symbolMap") -> dict[str, str]:
    """An account's broker-name -> canonical-symbol mapping from [(broker, canonical), ...] or a dict."""
    pairs = list(value.items()) if isinstance(value, Mapping) else value
    if not isinstance(pairs, list | tuple):
        raise ValidationError(field, f"must be a list of mappings, was {type(value).__name__}")
    if len(pairs) > MAX_SYMBOL_MAP:
        raise ValidationError(field, f"must have at most {MAX_SYMBOL_MAP} entries, was {len(pairs)}")
    mapping: dict[str, str] = {}
    for index, pair in enumerate(pairs):
        where = f"{field}[{index}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValidationError(where, "must be a pair of broker symbol and symbol")
        broker, canonical = pair
        if not isinstance(broker, str) or not broker.strip() or len(broker) > 32:
            raise ValidationError(
                f"{where}.brokerSymbol", f"must be 1-32 characters, was {str(broker)[:40]!r}"
            )
        if not isinstance(canonical, str):
            raise ValidationError(f"{where}.symbol", f"must be a string, was {type(canonical).__name__}")
        check_symbol(canonical, f"{where}.symbol")
        if broker in mapping:
            raise ValidationError(f"{where}.brokerSymbol", f"{broker!r} is mapped twice")
        mapping[broker] = canonical
    return mapping


def broker_symbol(canonical: str, symbol_map: Mapping[str, str] | None = None) -> str:
    """The broker's name for a canonical symbol (the inverse of the account's mapping)."""
    if symbol_map:
        for broker, mapped in symbol_map.items():
            if mapped == canonical:
                return broker
    return canonical
