"""Domain values to GraphQL objects (Decimal -> Float at the edge, ids as ID), through api/images."""

from __future__ import annotations

from hedge.api import gqltypes as g
from hedge.api import record_types as r
from hedge.api.images import image
from hedge.domain import models as m
from hedge.domain.account_specs import reported_spec
from hedge.domain.symbols import SymbolSpec


def user(u: m.User) -> g.User:
    return image(u, g.User)


def account(a: m.Account) -> g.Account:
    return image(
        a,
        g.Account,
        symbol_map=[g.SymbolMapping(broker_symbol=b, symbol=c) for b, c in sorted(a.symbol_map.items())],
        symbol_specs=[symbol_spec(s) for s in reported_specs(a)],
    )


def position(p: m.Position) -> g.Position:
    return image(p, g.Position)


def action(a: m.Action) -> g.Action:
    return image(a, g.Action)


def symbol_spec(s: SymbolSpec) -> g.SymbolSpec:
    return image(s, g.SymbolSpec)


def reported_specs(a: m.Account) -> list[SymbolSpec]:
    return [spec for spec in (reported_spec(a, symbol) for symbol in sorted(a.symbol_specs)) if spec]


def control(c: m.TradingControl) -> r.TradingControl:
    return image(c, r.TradingControl, governs=c.user_id)
