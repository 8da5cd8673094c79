"""reportPositionFigures and Position.figures: an agent's 30 s figures, latest wins, never written
to the position row, its history or the change feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.api.conftest import World, error_code

pytestmark = pytest.mark.asyncio(loop_scope="module")

REPORT = """mutation($input: ReportPositionFiguresInput!) {
  reportPositionFigures(input: $input) { recorded ignored } }"""
READ = """query($id: ID!) { getPosition(id: $id) { version
  figures { price unrealizedPL currency trailDistancePips at } } }"""
LIST = "{ listPositions { id figures { price at } } }"
HISTORY = "query($id: ID!) { positionHistory(id: $id) { version } }"


def at(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def one(position_id: str, when: str, **fields: Any) -> dict[str, Any]:
    base = {"positionId": position_id, "at": when, "price": 150.04, "unrealizedPL": 400.0, "currency": "JPY",
            "trailDistancePips": 6.0}  # fmt: skip
    return {**base, **fields}


async def _open(world: World) -> str:
    await world.api.move_position(world.alice.client, world.alice.position_id, "OPENING", "OPEN")
    return world.alice.position_id


async def test_owners_report_shows_on_the_position_without_touching_its_row_or_the_feed(world: World) -> None:
    position_id = await _open(world)
    before = (await world.alice.client.execute(READ, {"id": position_id}))["getPosition"]
    assert before["figures"] is None  # null until reported
    history, head = await world.alice.client.execute(HISTORY, {"id": position_id}), world.api.feed_head()
    when = at(2)
    answer = await world.alice.client.execute(REPORT, {"input": {"figures": [one(position_id, when)]}})
    assert answer["reportPositionFigures"] == {"recorded": 1, "ignored": 0}
    after = (await world.api.admin.execute(READ, {"id": position_id}))["getPosition"]
    assert after["version"] == before["version"]
    assert after["figures"]["price"] == 150.04 and after["figures"]["unrealizedPL"] == 400.0
    assert after["figures"]["currency"] == "JPY" and after["figures"]["trailDistancePips"] == 6.0
    assert datetime.fromisoformat(after["figures"]["at"]) == datetime.fromisoformat(when).replace(
        microsecond=datetime.fromisoformat(when).microsecond // 1000 * 1000
    )
    assert world.api.feed_head() == head
    assert await world.alice.client.execute(HISTORY, {"id": position_id}) == history


async def test_an_older_report_is_ignored_and_the_latest_wins(world: World) -> None:
    position_id = await _open(world)
    await world.alice.client.execute(REPORT, {"input": {"figures": [one(position_id, at(5), price=150.1)]}})
    late = await world.alice.client.execute(
        REPORT, {"input": {"figures": [one(position_id, at(60), price=149.0)]}}
    )
    assert late["reportPositionFigures"] == {"recorded": 0, "ignored": 1}
    await world.alice.client.execute(REPORT, {"input": {"figures": [one(position_id, at(1), price=150.2)]}})
    shown = (await world.alice.client.execute(READ, {"id": position_id}))["getPosition"]["figures"]
    assert shown["price"] == 150.2


async def test_figures_of_many_positions_are_read_in_one_list(world: World) -> None:
    ids = [world.alice.position_id] + [(await world.api.entry(world.alice))[1] for _ in range(3)]
    report = [one(pid, at(3), price=150 + n) for n, pid in enumerate(ids)]
    await world.alice.client.execute(REPORT, {"input": {"figures": report}})
    listed = {p["id"]: p["figures"] for p in (await world.alice.client.execute(LIST))["listPositions"]}
    assert [listed[pid]["price"] for pid in ids] == [150, 151, 152, 153]


async def test_figures_of_another_users_position_are_refused_and_nothing_is_written(world: World) -> None:
    mine, theirs = world.alice.position_id, world.bob.position_id
    body = await world.alice.client.raw(
        REPORT, {"input": {"figures": [one(mine, at(1)), one(theirs, at(1))]}}
    )
    assert error_code(body) == "FORBIDDEN"
    by_admin = await world.api.admin.raw(REPORT, {"input": {"figures": [one(theirs, at(1))]}})
    assert error_code(by_admin) == "FORBIDDEN"  # the owner's agent holds the quote, not the ADMIN
    shown = await world.api.admin.execute(READ, {"id": mine})
    assert shown["getPosition"]["figures"] is None


async def test_figures_of_an_unknown_position_are_not_found(world: World) -> None:
    body = await world.alice.client.raw(REPORT, {"input": {"figures": [one("no-such-position", at(1))]}})
    assert error_code(body) == "NOT_FOUND"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price": -1.0}, "price"),
        ({"currency": "yen"}, "currency"),
        ({"at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "at"),
    ],
)
async def test_bad_figures_are_a_validation_error(world: World, changes: dict[str, Any], field: str) -> None:
    body = await world.alice.client.raw(
        REPORT, {"input": {"figures": [one(world.alice.position_id, at(1), **changes)]}}
    )
    assert error_code(body) == "VALIDATION" and field in body["errors"][0]["message"]


async def test_a_report_naming_a_position_twice_or_none_is_a_validation_error(world: World) -> None:
    pid = world.alice.position_id
    twice = await world.alice.client.raw(REPORT, {"input": {"figures": [one(pid, at(2)), one(pid, at(1))]}})
    empty = await world.alice.client.raw(REPORT, {"input": {"figures": []}})
    assert error_code(twice) == "VALIDATION" and error_code(empty) == "VALIDATION"


async def test_a_report_with_a_price_of_the_wrong_type_is_refused(world: World) -> None:
    body = await world.alice.client.raw(
        REPORT, {"input": {"figures": [one(world.alice.position_id, at(1), price="high")]}}
    )
    assert body.get("data") is None and "price" in body["errors"][0]["message"]


async def test_a_report_without_a_token_is_unauthenticated(world: World) -> None:
    anonymous = world.api.client(None)
    body = await anonymous.raw(REPORT, {"input": {"figures": [one(world.alice.position_id, at(1))]}})
    assert error_code(body) == "UNAUTHENTICATED"
