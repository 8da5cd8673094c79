"""Account figures are coalesced: reports waiting together become one write, latest value wins."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from tests.api.conftest import Api, error_code

from hedge.api.coalesce import FigureCoalescer, coalescible
from hedge.domain.authz import Actor
from hedge.domain.enums import UserRole
from hedge.domain.errors import Forbidden, ValidationError
from hedge.store.repository import Store


def _accounts(store: Store, count: int) -> tuple[Actor, list[str]]:
    user, _ = store.create_user("c@example.com", "C", "CLIENT")
    ids = [str(store.create_account(user.id, "MT5", str(1000 + i), "Demo", "d").id) for i in range(count)]
    return Actor(user.id, UserRole.CLIENT), ids


async def test_reports_waiting_together_for_one_account_are_one_write_with_the_latest_values(
    store: Store,
) -> None:
    actor, (account,) = _accounts(store, 1)
    figures = FigureCoalescer(store, pause_s=0.0)
    try:
        results = await asyncio.gather(
            figures.submit(account, {"equity": Decimal("100"), "balance": Decimal("90")}, actor),
            figures.submit(account, {"equity": Decimal("101")}, actor),
            figures.submit(account, {"equity": Decimal("102")}, actor),
        )
    finally:
        await figures.stop()

    assert figures.batches == 1
    assert {r.version for r in results} == {2} and results[0] == results[2]
    assert (results[0].equity, results[0].balance) == (Decimal("102"), Decimal("90"))
    assert store.get_account(account) == results[0]


async def test_bad_value_or_foreign_account_fails_only_that_report_in_the_batch(store: Store) -> None:
    actor, (good, bad) = _accounts(store, 2)
    stranger, _ = store.create_user("s@example.com", "S", "CLIENT")
    figures = FigureCoalescer(store, pause_s=0.0)
    try:
        results = await asyncio.gather(
            figures.submit(good, {"equity": Decimal("5")}, actor),
            figures.submit(bad, {"margin": Decimal("-1")}, actor),
            return_exceptions=True,
        )
        foreign = await asyncio.gather(
            figures.submit(good, {"equity": Decimal("6")}, Actor(stranger.id, UserRole.CLIENT)),
            return_exceptions=True,
        )
    finally:
        await figures.stop()

    assert not isinstance(results[0], BaseException) and results[0].equity == Decimal("5")
    assert isinstance(results[1], ValidationError) and "margin" in str(results[1])
    assert isinstance(foreign[0], Forbidden)
    assert store.get_account(bad).version == 1  # type: ignore[union-attr]
    assert store.get_account(good).equity == Decimal("5")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "expected_version", "coalesced"),
    [
        ({"equity": 1, "margin": 2}, None, True),
        ({"equity": 1}, 3, False),  # an expected version asks for the direct, checked path
        ({"equity": 1, "connection_status": "CONNECTED"}, None, False),  # a status is never delayed
        ({}, None, False),
    ],
)
def test_only_figure_reports_without_expected_version_are_coalesced(
    changes: dict[str, object], expected_version: int | None, coalesced: bool
) -> None:
    assert coalescible(changes, expected_version) is coalesced


PUSH = "mutation($i: UpdateAccountInput!) { updateAccount(input: $i) { id version equity marginLevel } }"


async def test_update_account_with_figures_through_the_api_returns_the_written_account(api: Api) -> None:
    owner = await api.trader()
    body = await owner.client.execute(
        PUSH, {"i": {"id": owner.account_id, "equity": 1500.5, "marginLevel": 800}}
    )
    again = await owner.client.execute(PUSH, {"i": {"id": owner.account_id, "equity": 1501}})

    assert body["updateAccount"]["equity"] == 1500.5 and body["updateAccount"]["marginLevel"] == 800
    assert again["updateAccount"]["version"] == body["updateAccount"]["version"] + 1


async def test_update_account_with_a_negative_margin_is_a_validation_error(api: Api) -> None:
    owner = await api.trader()
    body = await owner.client.raw(PUSH, {"i": {"id": owner.account_id, "margin": -5}})
    assert error_code(body) == "VALIDATION"


async def test_update_account_figures_of_another_users_account_is_forbidden(api: Api) -> None:
    owner, other = await api.trader(), await api.trader()
    body = await other.client.raw(PUSH, {"i": {"id": owner.account_id, "equity": 1}})
    assert error_code(body) == "FORBIDDEN"


async def test_reports_of_many_accounts_arriving_within_the_pause_are_one_write(store: Store) -> None:
    actor, accounts = _accounts(store, 40)
    figures = FigureCoalescer(store, pause_s=0.2, chunk=50)
    try:
        reports = [figures.submit(a, {"equity": Decimal("7")}, actor) for a in accounts]
        results = await asyncio.gather(*reports)
        later = await figures.submit(accounts[0], {"equity": Decimal("8")}, actor)
    finally:
        await figures.stop()

    assert figures.batches == 2  # every report is taken at once (none throttled), and written together
    assert [r.equity for r in results] == [Decimal("7")] * 40
    assert later.equity == Decimal("8") and later.version == results[0].version + 1
