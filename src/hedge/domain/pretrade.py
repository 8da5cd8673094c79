"""Pre-trade checks at the move to OPENING: the volume within the account's symbol spec, the
configured per-account limits (HEDGE_LIMITS), and free margin against what the order needs as
the terminal computes it. A figure that is not known is said so, never guessed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from hedge.domain.errors import ValidationError
from hedge.domain.models import Account, Position
from hedge.domain.symbols import SymbolSpec
from hedge.domain.values import number_or_none

_LIMIT_FIELDS = {
    "maxOpenLotsPerSymbol": "max_open_lots_per_symbol",
    "maxOpenPositions": "max_open_positions",
    "maxTotalLots": "max_total_lots",
}


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """Per-account limits; None = no limit. Open = OPENING, OPEN or CLOSING."""

    max_open_lots_per_symbol: Decimal | None = None
    max_open_positions: int | None = None
    max_total_lots: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TradeLimits:
    default: AccountLimits = AccountLimits()
    accounts: Mapping[str, AccountLimits] = field(default_factory=dict)  # by account id or number

    def for_account(self, account: Account) -> AccountLimits:
        return self.accounts.get(account.id) or self.accounts.get(account.account_number) or self.default


def limits_from_config(config: Mapping[str, object]) -> TradeLimits:
    """HEDGE_LIMITS: `{"maxOpenLotsPerSymbol": 5, "maxOpenPositions": 20, "maxTotalLots": 10,
    "accounts": {"<account id or number>": {...the same fields...}}}`."""
    accounts_raw = config.get("accounts", {})
    if not isinstance(accounts_raw, Mapping):
        raise ValidationError("limits.accounts", f"must be an object, was {type(accounts_raw).__name__}")
    default = _account_limits({k: x for k, x in config.items() if k != "accounts"}, "limits")
    accounts = {
        str(key): _account_limits(value, f"limits.accounts.{key}") for key, value in accounts_raw.items()
    }
    return TradeLimits(default, accounts)


def _account_limits(raw: object, where: str) -> AccountLimits:
    if not isinstance(raw, Mapping):
        raise ValidationError(where, f"must be an object, was {type(raw).__name__}")
    values: dict[str, object] = {}
    for key, value in raw.items():
        name = _LIMIT_FIELDS.get(str(key))
        if name is None:
            raise ValidationError(
                f"{where}.{key}", f"is not a limit; expected one of {', '.join(_LIMIT_FIELDS)}"
            )
        if name == "max_open_positions":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError(f"{where}.{key}", f"must be a whole number >= 0, was {value!r}")
            values[name] = value
        else:
            number = number_or_none(value)
            if number is None or number < 0:
                raise ValidationError(f"{where}.{key}", f"must be a number of lots >= 0, was {value!r}")
            values[name] = number
    return AccountLimits(**values)  # type: ignore[arg-type]


def lots(position: Position) -> Decimal:
    return position.filled_volume or position.volume


def check_limits(limits: AccountLimits, position: Position, open_positions: Iterable[Position]) -> None:
    """Raise ValidationError when opening `position` would pass a limit (equal to it passes)."""
    others = [p for p in open_positions if p.id != position.id]
    if limits.max_open_positions is not None and len(others) + 1 > limits.max_open_positions:
        raise ValidationError(
            "volume",
            f"would make {len(others) + 1} open positions on the account, over its limit of"
            f" {limits.max_open_positions} (HEDGE_LIMITS maxOpenPositions)",
        )
    if limits.max_open_lots_per_symbol is not None:
        on_symbol = (
            sum((lots(p) for p in others if p.symbol == position.symbol), Decimal(0)) + position.volume
        )
        if on_symbol > limits.max_open_lots_per_symbol:
            raise ValidationError(
                "volume",
                f"would make {on_symbol} open lots of {position.symbol} on the account, over its limit"
                f" of {limits.max_open_lots_per_symbol} (HEDGE_LIMITS maxOpenLotsPerSymbol)",
            )
    if limits.max_total_lots is not None:
        total = sum((lots(p) for p in others), Decimal(0)) + position.volume
        if total > limits.max_total_lots:
            raise ValidationError(
                "volume",
                f"would make {total} open lots on the account, over its limit of {limits.max_total_lots}"
                " (HEDGE_LIMITS maxTotalLots)",
            )


def margin_check(account: Account, spec: SymbolSpec, volume: Decimal) -> str | None:
    """Raise ValidationError when free margin (equity - margin of the last ACCOUNT snapshot) is
    below what the order needs (marginPerLot x volume, as the terminal reported). Returns what
    could not be checked, in words, when a figure is unknown (the caller logs and alerts it)."""
    unknown = []
    if account.equity is None or account.margin is None:
        unknown.append("the account's equity and margin (no ACCOUNT snapshot yet)")
    if spec.margin_per_lot is None:
        unknown.append(f"the margin per lot of {spec.symbol} (its terminal did not report it)")
    if unknown:
        return f"free margin not checked for {volume} lots of {spec.symbol}: unknown {' and '.join(unknown)}"
    assert account.equity is not None and account.margin is not None and spec.margin_per_lot is not None
    free = account.equity - account.margin
    needed = spec.margin_per_lot * volume
    if needed > free:
        raise ValidationError(
            "volume",
            f"needs {needed} {account.currency} of margin for {volume} lots of {spec.symbol}, the account"
            f" has {free} free (equity {account.equity} - margin {account.margin})",
        )
    return None
