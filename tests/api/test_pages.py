"""positionPage: the console's first read, a page of positions newest first with the total."""

from __future__ import annotations

import pytest
from tests.api.conftest import World, error_code

pytestmark = pytest.mark.asyncio(loop_scope="module")

PAGE = """query($account: ID, $user: ID, $status: PositionStatus, $offset: Int, $limit: Int) {
  positionPage(accountId: $account, userId: $user, status: $status, offset: $offset, limit: $limit) {
    total positions { id userId accountId status } } }"""


async def _entries(world: World, count: int) -> list[str]:
    """alice's positions on her account, oldest first: the world's one, then `count` more."""
    made = [world.alice.position_id]
    for _ in range(count):
        made.append((await world.api.entry(world.alice))[1])
    return made


async def test_position_page_of_an_account_is_newest_first_with_the_total_on_every_page(world: World) -> None:
    made = await _entries(world, 4)
    pages = []
    for offset in (0, 2, 4, 6):
        body = await world.alice.client.execute(
            PAGE, {"account": world.alice.account_id, "offset": offset, "limit": 2}
        )
        pages.append(body["positionPage"])
    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    assert [[row["id"] for row in p["positions"]] for p in pages] == [
        [made[4], made[3]],
        [made[2], made[1]],
        [made[0]],
        [],
    ]


async def test_position_page_of_a_client_holds_its_own_rows_only(world: World) -> None:
    await _entries(world, 2)
    own = (await world.alice.client.execute(PAGE, {"limit": 1000}))["positionPage"]
    assert own["total"] == len(own["positions"]) == 3
    assert {row["userId"] for row in own["positions"]} == {world.alice.id}
    everyone = (await world.api.admin.execute(PAGE, {"limit": 1000}))["positionPage"]
    assert {world.alice.id, world.bob.id} <= {row["userId"] for row in everyone["positions"]}
    foreign = await world.alice.client.raw(PAGE, {"user": world.bob.id})
    assert error_code(foreign) == "FORBIDDEN" and foreign["data"] is None


async def test_position_page_filtered_by_status_counts_only_that_status(world: World) -> None:
    made = await _entries(world, 2)
    await world.api.move_position(world.alice.client, made[1], "CANCELED")
    page = (await world.alice.client.execute(PAGE, {"status": "CANCELED"}))["positionPage"]
    assert page["total"] == 1 and [row["id"] for row in page["positions"]] == [made[1]]


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"offset": -1}, "offset")],
)
async def test_position_page_out_of_range_is_a_validation_error(
    world: World, variables: dict[str, int], field: str
) -> None:
    body = await world.alice.client.raw(PAGE, variables)
    assert error_code(body) == "VALIDATION" and field in body["errors"][0]["message"]


async def test_position_page_with_a_limit_of_the_wrong_type_is_refused(world: World) -> None:
    body = await world.alice.client.raw(PAGE, {"limit": "ten"})
    assert body.get("data") is None and "limit" in body["errors"][0]["message"]
