"""The trade record's store operations (a mixin of Store): creation with idempotency keys, hedge
plans, settlement, the kill switch, the deadline sweep, history, exposure and symbol specs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, Select, and_, or_, select, union
from sqlalchemy.exc import IntegrityError

from hedge.domain import creation
from hedge.domain.account_specs import listed_specs
from hedge.domain.alerts import AlertDraft
from hedge.domain.authz import Actor, check_owner, require_admin
from hedge.domain.enums import (
    ActionStatus,
    ActionType,
    AlertKind,
    AlertSeverity,
    PositionStatus,
    TradingScope,
)
from hedge.domain.errors import NotFound, ValidationError
from hedge.domain.exposure import Exposure, exposure
from hedge.domain.models import Account, Action, Position, TradingControl, User
from hedge.domain.rows import from_mapping
from hedge.domain.settle import settle
from hedge.domain.symbols import SymbolSpec
from hedge.domain.trading import check_target, control_id, set_control
from hedge.domain.values import enum_value
from hedge.store import admin_audit, audit, history, moves, plans
from hedge.store.guards import Rules
from hedge.store.history import Cause, Change
from hedge.store.inline import short_write
from hedge.store.legs import hedge_legs, leg_failed, leg_failure_open
from hedge.store.record_alerts import record_alert, resolve_for_position
from hedge.store.tables import actions, positions, trading_controls
from hedge.store.unit import Unit

if TYPE_CHECKING:
    from hedge.domain.symbols import SymbolCatalog

log = logging.getLogger(__name__)

# an ENTRY action started by another position's trigger: its position is a leg of that hedge
_HEDGE_LEG = and_(actions.c.type == ActionType.ENTRY.value, actions.c.trigger_position_id.is_not(None))
W = TypeVar("W")
SWEEP_BATCH = 200
FINAL = (PositionStatus.CLOSED.value, PositionStatus.STOPPED.value, PositionStatus.CANCELED.value)
LIVE = (PositionStatus.OPENING.value, PositionStatus.OPEN.value, PositionStatus.CLOSING.value)


class TradeRecord:
    engine: Engine
    rules: Rules
    catalog: SymbolCatalog
    _unit: Callable[..., AbstractContextManager[Unit]]

    def now(self) -> datetime:  # the Store's
        raise NotImplementedError

    def get_account(self, account_id: str) -> Account | None:  # the Store's
        raise NotImplementedError

    # ------------------------------------------------------------------ creation

    @short_write
    def create_action(
        self,
        user_id: str,
        account_id: str,
        type_: Any,
        position_id: str | None = None,
        entry: creation.EntryRequest | None = None,
        *,
        actor: Actor | None = None,
        client_request_id: Any = None,
        max_slippage_pips: Any = None,
    ) -> tuple[Action, Position]:
        """An ENTRY action with its PENDING position, or a CLOSE action. A clientRequestId the
        same caller used before returns the first call's result and creates nothing."""
        action_type = enum_value(ActionType, type_, "type")
        key = plans.request_id(client_request_id)
        slip = plans.slippage(max_slippage_pips)
        caller = None if actor is None else actor.user_id

        def write() -> tuple[Action, Position]:
            with self._unit(Cause.of(actor)) as unit:
                found = plans.earlier(unit, caller, key)
                if found is not None:
                    return found, unit.require(Position, found.position_id, lock=False)
                made = plans.create_action(
                    unit, self.rules, user_id, account_id, action_type, position_id, entry, caller, key, slip
                )
                admin_audit.for_other_user(
                    unit, actor, "createAction", made[0], {"type": action_type.value, "accountId": account_id}
                )
                return made

        return self._once(write, key)

    def create_hedge_plan(
        self,
        actor: Actor,
        account_id: str,
        entry: creation.EntryRequest,
        legs: Sequence[plans.LegRequest],
        client_request_id: Any = None,
    ) -> plans.Plan:
        key = plans.request_id(client_request_id)

        def write() -> plans.Plan:
            with self._unit(Cause.of(actor, "createHedgePlan")) as unit:
                found = plans.earlier(unit, actor.user_id, key)
                if found is not None:
                    return plans.plan_of(unit, found)
                return plans.create_hedge_plan(unit, self.rules, actor, account_id, entry, legs, key)

        return self._once(write, key)

    @staticmethod
    def _once(write: Callable[[], W], key: str | None) -> W:
        """A concurrent twin with the same clientRequestId may commit first: then read its result."""
        try:
            return write()
        except IntegrityError:
            if key is None:
                raise
            return write()

    # ------------------------------------------------------------------ settlement

    def settle_position(
        self, actor: Actor, position_id: str, status: Any, facts: Mapping[str, Any], reason: Any
    ) -> Position:
        require_admin(actor, "settlePosition")
        with self._unit() as unit:
            position = unit.require(Position, position_id)
            after = settle(position, status, facts, reason, unit.now)
            unit.cause = Cause.of(actor, f"settled by a person: {str(reason).strip()}")
            after = unit.update(position, after)
            audit.record(unit, "settlePosition", "Position", after.id,
                         {"status": after.status.value, "reason": str(reason).strip()})  # fmt: skip
            resolve_for_position(
                unit, after, actor.user_id, f"settled as {after.status.value}: {str(reason).strip()}"
            )
            return after

    # ------------------------------------------------------------------ kill switch

    def set_trading_state(
        self, actor: Actor, scope: Any, target_id: str | None, state: Any, reason: Any
    ) -> TradingControl:
        require_admin(actor, "setTradingState")
        checked_scope = enum_value(TradingScope, scope, "scope")
        check_target(checked_scope, target_id)
        with self._unit(Cause.of(actor, None if reason is None else str(reason)[:500])) as unit:
            owner = self._control_owner(unit, checked_scope, target_id)
            current = unit.get(TradingControl, control_id(checked_scope, target_id))
            after = set_control(
                current, checked_scope, target_id, owner, state, reason, actor.user_id, unit.now
            )
            if current is None:
                unit.insert(after)
            else:
                after = unit.update(current, after)
            audit.record(unit, "setTradingState", "TradingControl", after.id,
                         {"state": after.state.value, "reason": after.reason})  # fmt: skip
            for user_id in self._governed_users(unit, after):
                record_alert(
                    unit,
                    AlertDraft(
                        user_id=user_id,
                        kind=AlertKind.TRADING_HALTED,
                        severity=AlertSeverity.CRITICAL
                        if after.state.value == "HALTED"
                        else AlertSeverity.WARNING,
                        message=f"trading {after.state.value} for {after.scope.value}"
                        f"{'' if after.target_id is None else ' ' + after.target_id} by {actor.user_id}:"
                        f" {after.reason}",
                        account_id=after.target_id if after.scope is TradingScope.ACCOUNT else None,
                    ),
                )
            return after

    @staticmethod
    def _control_owner(unit: Unit, scope: TradingScope, target_id: str | None) -> str:
        if scope is TradingScope.USER:
            return unit.require(User, str(target_id), lock=False).id
        if scope is TradingScope.ACCOUNT:
            return unit.require(Account, str(target_id), lock=False).user_id
        return ""

    @staticmethod
    def _governed_users(unit: Unit, control: TradingControl) -> list[str]:
        if control.user_id:
            return [control.user_id]
        from hedge.store.tables import users

        return [str(u) for u in unit.conn.execute(select(users.c.id).order_by(users.c.id)).scalars()]

    def trading_controls(self, actor: Actor) -> list[TradingControl]:
        """ADMIN: every control; CLIENT: GLOBAL, its USER and its ACCOUNTs'."""
        query = select(trading_controls).order_by(trading_controls.c.id)
        if not actor.is_admin:
            query = query.where(trading_controls.c.user_id.in_(["", actor.user_id]))
        with self.engine.connect() as conn:
            return [from_mapping(TradingControl, row) for row in conn.execute(query).mappings()]

    # ------------------------------------------------------------------ deadlines

    def expire_actions(self) -> list[Action]:
        """Fail EXECUTING actions not taken up by their deadline (ACTION_EXPIRED). One call is
        one sweep; the jobs scheduler (or the server's loop) calls it every second."""
        # only the ones not taken up: an ENTRY whose position is still PENDING, a CLOSE whose
        # position is still OPEN (the others wait for their fill, however long it takes)
        waiting = or_(
            and_(
                actions.c.type == ActionType.ENTRY.value, positions.c.status == PositionStatus.PENDING.value
            ),
            and_(actions.c.type == ActionType.CLOSE.value, positions.c.status == PositionStatus.OPEN.value),
        )
        with self.engine.connect() as conn:
            query = (
                select(actions.c.id)
                .join(positions, positions.c.id == actions.c.position_id)
                .where(
                    actions.c.status == ActionStatus.EXECUTING.value,
                    actions.c.expires_at < self.now(),
                    waiting,
                )
                .order_by(actions.c.expires_at)
                .limit(SWEEP_BATCH)
            )
            due = list(conn.execute(query).scalars())
        expired: list[Action] = []
        for action_id in due:
            with self._unit() as unit:
                action = unit.get(Action, action_id)
                if action is None or action.status is not ActionStatus.EXECUTING:
                    continue
                if action.expires_at is None or action.expires_at >= unit.now:
                    continue
                # locked: a move to OPENING/CLOSING racing this sweep commits first or not at all
                position = unit.require(Position, action.position_id)
                untaken = PositionStatus.PENDING if action.type is ActionType.ENTRY else PositionStatus.OPEN
                if position.status is not untaken:
                    continue  # taken up: the move to OPENING/CLOSING committed in time
                unit.cause = Cause.of(None, "deadline passed")
                moves.expire_action(unit, action)
                expired.append(unit.require(Action, action.id, lock=False))
        return expired

    def check_unpaired_legs(self) -> list[str]:
        """HEDGE_LEG_FAILED (once while open) for each live leg of a fired hedge whose other leg
        has been final for longer than HEDGE_ACTION_TTL_S; returns the legs alerted."""
        found = self.hedge_exposure()
        if not found.unpaired_legs:
            return []
        alerted: list[str] = []
        with self._unit(Cause.of(None, "a hedge leg stayed alone")) as unit:
            cutoff = unit.now - self.rules.action_ttl
            for leg in found.unpaired_legs:
                legs = hedge_legs(unit, leg)
                gone = [
                    p for p in legs if p.id != leg.id and p.status.value in FINAL and p.updated_at < cutoff
                ]
                if not gone or leg_failure_open(unit, [p.id for p in gone]):
                    continue  # nothing final yet, or that leg's failure is alerted already
                why = (
                    f"stays {leg.status.value} while {', '.join(f'{p.id} is {p.status.value}' for p in gone)}"
                )
                if leg_failed(unit, legs, leg, why, once=True):
                    alerted.append(leg.id)
        return alerted

    # ------------------------------------------------------------------ history

    def position_history(self, actor: Actor, position_id: str) -> list[Position]:
        versions = history.position_versions(self.engine, position_id)
        if versions:
            check_owner(actor, versions[-1].user_id, "Position", position_id)
        return versions

    def changes(self, actor: Actor, position_id: str | None, action_id: str | None) -> list[Change]:
        if position_id is None and action_id is None:
            raise ValidationError("positionId", "or actionId is required")
        wanted = []
        if position_id is not None:
            wanted.append(("Position", position_id))
        if action_id is not None:
            wanted.append(("Action", action_id))
        found = history.changes_of(self.engine, wanted)
        for change in found:
            check_owner(actor, change.user_id, change.entity, change.id)
        return found

    # ------------------------------------------------------------------ exposure and specs

    def exposure(self, actor: Actor | None) -> Exposure:
        """Net lots per symbol per user, per hedge and overall, with the unpaired legs (an actor
        of None: the server's own view of everyone's)."""
        query = select(positions).where(positions.c.status.in_(LIVE))
        if actor is not None and not actor.is_admin:
            query = query.where(positions.c.user_id == actor.user_id)
        return self._exposure_of(query)

    def hedge_exposure(self) -> Exposure:
        """The server's view of the live positions that belong to a hedge (its head or a leg):
        the same unpaired legs and hedges as `exposure(None)`, without reading (and converting)
        every other live position, which the leg check on its timer did: ~315 ms of CPU, the GIL
        held, every 5 s with 10,000 open positions."""
        legs = select(actions.c.position_id).where(_HEDGE_LEG)
        heads = select(actions.c.trigger_position_id).where(_HEDGE_LEG)
        return self._exposure_of(
            select(positions).where(positions.c.status.in_(LIVE), positions.c.id.in_(union(legs, heads)))
        )

    def _exposure_of(self, query: Select[Any]) -> Exposure:
        """The exposure of the live positions `query` reads (and of the hedges they are in)."""
        with self.engine.connect() as conn:
            live = [from_mapping(Position, row) for row in conn.execute(query).mappings()]
            ids = [p.id for p in live]
            hedges: dict[str, set[str]] = {}
            if ids:
                edges = select(actions.c.position_id, actions.c.trigger_position_id).where(
                    _HEDGE_LEG, or_(actions.c.position_id.in_(ids), actions.c.trigger_position_id.in_(ids))
                )
                heads = {str(head) for _, head in conn.execute(edges).all()}
                if heads:  # every leg of those hedges, live or not
                    all_edges = select(actions.c.position_id, actions.c.trigger_position_id).where(
                        actions.c.type == ActionType.ENTRY.value,
                        actions.c.trigger_position_id.in_(sorted(heads)),
                    )
                    for leg, head in conn.execute(all_edges).all():
                        hedges.setdefault(str(head), set()).add(str(leg))
            every = {p.id: p for p in live}
            missing = sorted(({i for legs in hedges.values() for i in legs} | set(hedges)) - set(every))
            if missing:
                rows = conn.execute(select(positions).where(positions.c.id.in_(missing))).mappings()
                every.update((r["id"], from_mapping(Position, r)) for r in rows)
        return exposure(live, hedges, {str(k): p for k, p in every.items()})

    def symbol_specs(self, actor: Actor, account_id: str | None) -> list[SymbolSpec]:
        account = None
        if account_id is not None:
            found = self.get_account(account_id)
            if found is None:
                raise NotFound("Account", account_id)
            check_owner(actor, found.user_id, "Account", account_id)
            account = found
        return listed_specs(account, self.catalog)
