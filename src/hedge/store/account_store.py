"""Users and accounts: creating a user (with its token) and an account, and account updates.

`AccountStore` is a part of `Store` (hedge.store.repository), which gives it its transactions;
updateUser and rotateToken are in hedge.store.users.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from hedge.domain import creation, updates
from hedge.domain.authz import Actor
from hedge.domain.errors import ValidationError
from hedge.domain.models import Account, User
from hedge.domain.tokens import check_token, new_token
from hedge.domain.writes import source_of
from hedge.store import admin_audit, audit, moves
from hedge.store.history import Cause
from hedge.store.inline import short_write
from hedge.store.tables import accounts, users
from hedge.store.unit import Unit


def hash_token(token: str) -> str:
    """Tokens are stored only as SHA-256 hashes (they are long random strings, not passwords)."""
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    engine: Engine

    def now(self) -> datetime:  # pragma: no cover - Store defines it
        raise NotImplementedError

    def _unit(self, cause: Cause | None = None) -> AbstractContextManager[Unit]:  # pragma: no cover
        raise NotImplementedError

    def create_user(self, email: Any, name: Any, role: Any, token: str | None = None) -> tuple[User, str]:
        """A new user and its API token (returned once; only its hash is kept)."""
        token = new_token() if token is None else check_token(token)
        user = creation.new_user(email, name, role, self.now())
        try:
            with self._unit() as unit:
                unit.insert(user, token_hash=hash_token(token))
                audit.record(unit, "createUser", "User", user.id, {"email": user.email, "role": user.role})
        except IntegrityError:
            if self._email_taken(user.email):
                raise ValidationError(
                    "email", f"is already used by another user, was {user.email!r}"
                ) from None
            raise ValidationError("token", "is already used by another user") from None
        return user, token

    def _email_taken(self, email: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(users.c.id).where(users.c.email == email)).first() is not None

    def create_account(
        self,
        user_id: str,
        broker_type: Any,
        account_number: Any,
        server_name: Any,
        display_name: Any,
        currency: Any = None,
        leverage: Any = None,
        symbol_map: Any = None,
    ) -> Account:
        with self._unit() as unit:
            user = unit.require(User, user_id, lock=False)
            account = creation.new_account(
                user.id, broker_type, account_number, server_name, display_name, currency, leverage, unit.now,
                symbol_map,
            )  # fmt: skip
            taken = unit.conn.execute(
                select(accounts.c.id).where(
                    accounts.c.account_number == account.account_number,
                    accounts.c.server_name == account.server_name,
                )
            ).first()
            if taken is not None:
                raise ValidationError(
                    "accountNumber",
                    f"{account.account_number!r} on {account.server_name!r} is already registered",
                )
            unit.insert(account)
            audit.record(unit, "createAccount", "Account", account.id, {"userId": account.user_id})
        return account

    @short_write
    def update_account(
        self,
        account_id: str,
        changes_: Mapping[str, Any],
        expected_version: int | None = None,
        actor: Actor | None = None,
    ) -> Account:
        with self._unit(Cause.of(actor)) as unit:
            account = moves.expect(moves.owned_by(actor, unit.require(Account, account_id)), expected_version)
            writer = None if actor is None else source_of(actor)
            after = unit.update(account, updates.apply_account_update(account, changes_, unit.now, writer))
            if after is not account and (actor is None or actor.is_admin or audited_account_change(changes_)):
                audit.record(unit, "updateAccount", "Account", account.id, admin_audit.json_ready(changes_))
            return after


# an agent reports balances every 30 s: those are not admin changes; the account's settings are
_ACCOUNT_SETTINGS = frozenset({"display_name", "leverage", "symbol_map"})


def audited_account_change(changes_: Mapping[str, Any]) -> bool:
    return bool(_ACCOUNT_SETTINGS & set(changes_))
