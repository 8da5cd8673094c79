"""Several accounts' figures (balance, credit, equity, margin, margin level) in one transaction.

Each account is checked and written on its own inside the batch: a bad value or a foreign
account fails that account only (nothing of it was written: the check comes before its write).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hedge.domain import updates
from hedge.domain.authz import Actor, check_owner
from hedge.domain.errors import DomainError
from hedge.domain.models import Account
from hedge.store.repository import Store

FIGURES = frozenset({"balance", "credit", "equity", "margin", "margin_level"})


def update_figures(
    store: Store, batch: Mapping[str, tuple[Mapping[str, Any], Actor | None]]
) -> dict[str, Account | DomainError]:
    results: dict[str, Account | DomainError] = {}
    with store._unit() as unit:  # the repository's own transaction, with its feed events
        for account_id in sorted(batch):  # a fixed lock order
            changes, actor = batch[account_id]
            try:
                account = unit.require(Account, account_id)
                if actor is not None:
                    check_owner(actor, account.user_id, "Account", account.id)
                results[account_id] = unit.update(
                    account, updates.apply_account_update(account, changes, unit.now)
                )
            except DomainError as exc:
                results[account_id] = exc
    return results
