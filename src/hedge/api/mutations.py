"""Mutation resolvers: one store transaction each; who may write a row is checked inside the
transaction that reads it (no extra round trip), who may create for whom before it."""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry
from strawberry.types import Info

from hedge import hops
from hedge.api import convert, tracing
from hedge.api import gqltypes as g
from hedge.api.coalesce import coalescible
from hedge.api.context import Context
from hedge.api.errors import from_domain
from hedge.domain.authz import check_owner, owner_for_create, require_admin
from hedge.domain.creation import EntryRequest
from hedge.domain.errors import DomainError, NotFound
from hedge.domain.models import Account, Position


def given(input_: object, *names: str) -> dict[str, Any]:
    """The fields of an update input that the client actually sent (UNSET ones are left out)."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(input_, name)
        if value is strawberry.UNSET:
            continue
        if name == "symbol_map":
            out[name] = _pairs(value)
        elif name == "symbol_specs":
            out[name] = None if value is None else [dataclasses.asdict(spec) for spec in value]
        else:
            out[name] = [str(i) for i in value] if isinstance(value, list) else value
    return out


def _pairs(mappings: list[g.SymbolMappingInput] | None) -> list[tuple[str, str]] | None:
    return None if mappings is None else [(m.broker_symbol, m.symbol) for m in mappings]


def _version(value: int | None) -> int | None:
    return None if value is strawberry.UNSET else value


async def _owned(c: Context, cls: type[Any], entity_id: str) -> Any:
    found = await c.run(c.services.cache.get, cls, entity_id)
    if found is None:
        raise NotFound(cls.__name__, entity_id)
    check_owner(c.actor, found.user_id, cls.__name__, entity_id)
    return found


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_user(self, info: Info[Context, None], input: g.CreateUserInput) -> g.CreateUserPayload:
        c = info.context
        require_admin(c.actor, "createUser")
        c.check_rate()
        user, token = await c.run(c.services.store.create_user, input.email, input.name, input.role)
        return g.CreateUserPayload(user=convert.user(user), token=token)

    @strawberry.mutation
    async def create_account(self, info: Info[Context, None], input: g.CreateAccountInput) -> g.Account:
        c = info.context
        owner = owner_for_create(c.actor, str(input.user_id))
        c.check_rate()
        account = await c.run(
            c.services.store.create_account,
            owner,
            input.broker_type,
            input.account_number,
            input.server_name,
            input.display_name,
            input.currency,
            input.leverage,
            _pairs(input.symbol_map),
        )
        return convert.account(c.written(account))

    @strawberry.mutation
    async def update_account(self, info: Info[Context, None], input: g.UpdateAccountInput) -> g.Account:
        c = info.context.rated()
        changes = given(
            input, "display_name", "balance", "credit", "equity", "margin", "margin_level",
            "connection_status", "leverage", "symbol_map", "symbol_specs", "margin_mode",
        )  # fmt: skip
        if c.services.figures is not None and coalescible(changes, _version(input.expected_version)):
            try:  # figures only: coalesced with other accounts' reports (hedge.api.coalesce)
                account = await c.services.figures.submit(str(input.id), changes, c.actor)
            except DomainError as exc:
                raise from_domain(exc) from None
        else:
            account = await c.run(
                c.services.store.update_account, str(input.id), changes, _version(input.expected_version),
                c.actor,
            )  # fmt: skip
        return convert.account(c.written(account))

    @strawberry.mutation
    async def create_action(
        self, info: Info[Context, None], input: g.CreateActionInput
    ) -> g.CreateActionPayload:
        c = info.context
        # a CLIENT naming another user's account or position is refused as such, not as bad input
        account = await _owned(c, Account, str(input.account_id))
        # userId defaults to the account's owner (an ADMIN acting for a user need not repeat it)
        owner = owner_for_create(c.actor, account.user_id if input.user_id is None else str(input.user_id))
        if input.position_id is not None:
            await _owned(c, Position, str(input.position_id))
        c.check_rate()
        entry = EntryRequest(input.symbol, input.side, input.volume, input.trail_width, input.trail_mode)
        action, position = await c.run(
            c.services.store.create_action,
            owner,
            str(input.account_id),
            input.type,
            None if input.position_id is None else str(input.position_id),
            entry,
            actor=c.actor,
            client_request_id=input.client_request_id,
            max_slippage_pips=input.max_slippage_pips,
        )
        c.services.cache.written(action)
        c.services.cache.written(position)
        return g.CreateActionPayload(action=convert.action(action), position=convert.position(position))

    @strawberry.mutation
    async def update_action(self, info: Info[Context, None], input: g.UpdateActionInput) -> g.Action:
        c = info.context.rated()
        changes = given(input, "status", "error_message", "retry_count")
        action = await c.run(
            c.services.store.update_action, str(input.id), changes, _version(input.expected_version), c.actor
        )
        tracing.action_moved(action, changes, None if c.user is None else c.user.id)
        return convert.action(c.written(action))

    @strawberry.mutation
    async def update_position(self, info: Info[Context, None], input: g.UpdatePositionInput) -> g.Position:
        c = info.context
        if hops.ON:
            hops.stamp("s.received", input.id)
        c.check_rate()
        changes = given(
            input, "status", "trail_width", "trail_mode", "trigger_action_ids", "mt_ticket", "entry_price",
            "entry_time", "exit_price", "exit_time", "exit_reason", "realized_pl", "memo", "filled_volume",
        )  # fmt: skip
        position = await c.run(
            c.services.store.update_position,
            c.actor,
            str(input.id),
            changes,
            _version(input.expected_version),
        )
        tracing.position_moved(position, changes)
        c.services.cache.written(position)
        return convert.position(position)

    @strawberry.mutation
    async def trigger_actions(
        self, info: Info[Context, None], input: g.TriggerActionsInput
    ) -> g.TriggerActionsPayload:
        c = info.context
        if hops.ON:
            hops.stamp("s.received", input.position_id)
        c.check_rate()
        user_id = None if c.user is None else c.user.id
        now = c.services.store.now()
        with tracing.trigger(input.correlation_id, str(input.position_id), input.reason, input.price,
                             user_id, now) as correlation_id:  # fmt: skip
            position, actions = await c.run(
                c.services.store.trigger_actions,
                str(input.position_id),
                input.reason,
                input.price,
                c.actor,
                input.price_time,
                correlation_id,
            )
            tracing.triggered(position, actions)
        c.services.cache.written(position)
        for action in actions:
            c.services.cache.written(action)
        if hops.ON:
            hops.stamp("s.answered", input.position_id)
        return g.TriggerActionsPayload(
            position=convert.position(position), actions=[convert.action(a) for a in actions]
        )
