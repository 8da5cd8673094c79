"""The agents' figure reports (reportPositionFigures, a list of input objects every 30 s) on the
prepared path (hedge.api.fastpath, hedge.api.fastinput) answer as Strawberry does, good and bad;
an input the prepared path does not build is left to Strawberry before anything ran."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hedge.agent.figures import REPORT
from hedge.api.fastpath import FastMutations

from .prepared import Run, count_prepared, error_codes, fast_and_ordinary, two_people

AT = "2026-01-05T09:00:00.000Z"


def figure(position: str, **fields: Any) -> dict[str, Any]:
    base = {"positionId": position, "at": AT, "price": 150.04, "unrealizedPL": 400.0, "currency": "JPY",
            "trailDistancePips": 6.0}  # fmt: skip
    return {**base, **fields}


async def scenario(run: Run) -> list[tuple[int, str, str]]:
    first, second = await two_people(run, "report", "70")
    alice, mine, bob, theirs = first.token, first.position, second.token, second.position
    later = "2026-01-05T09:00:30.000Z"
    return [
        await run.post(alice, REPORT, {"input": {"figures": [figure(mine)]}}),
        await run.post(alice, REPORT, {"input": {"figures": [figure(mine, at=later, price=None)]}}),
        await run.post(alice, REPORT, {"input": {"figures": [figure(mine)]}}),  # older: ignored
        await run.post(alice, REPORT, {"input": {"figures": []}}),
        await run.post(alice, REPORT, {"input": {"figures": [figure(mine), figure(theirs)]}}),  # FORBIDDEN
        await run.post(alice, REPORT, {"input": {"figures": [figure("no-such-position")]}}),  # NOT_FOUND
        await run.post(None, REPORT, {"input": {"figures": [figure(mine)]}}),  # UNAUTHENTICATED
        await run.post(alice, REPORT, {"input": {"figures": [figure(mine, price="high")]}}),  # no coercion
        await run.post(alice, REPORT, {"input": {"figures": [figure(mine, at="yesterday")]}}),
        await run.post(alice, REPORT, {"input": {"figures": [{"at": AT}]}}),  # positionId missing
        await run.post(alice, REPORT, {"input": {"figures": None}}),
        await run.post(alice, REPORT, {"input": {"figures": [None]}}),
        await run.post(alice, REPORT, {"input": {"figures": figure(mine)}}),  # one item: a list of one
        await run.post(alice, REPORT, {"input": {"figures": [figure(mine, at="2099-01-01T00:00:00Z")]}}),
        await run.post(bob, REPORT, {"input": {"figures": [figure(theirs, unrealizedPL=-12.5)]}}),
        await run.post(alice, REPORT, {"input": {"figures": [figure(mine, price=-1e308)]}}),
    ]


async def test_figure_reports_on_the_prepared_path_answer_as_strawberry_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = count_prepared(monkeypatch)
    ordinary = await fast_and_ordinary(tmp_path, scenario, ran)
    assert error_codes(body for _, _, body in ordinary) >= {"NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED"}
    assert set(ran) == {"reportPositionFigures"}
    assert len(ran) >= 9  # the good ones and those the resolver refuses; not those that do not coerce


def test_the_report_plan_builds_each_figure_as_strawberry_would() -> None:
    from hedge.api.figures import PositionFiguresInput, ReportPositionFiguresInput
    from hedge.api.schema import build_schema

    schema = build_schema()
    fast = FastMutations(schema, schema.max_tokens, schema.limit_rules, None)
    plan = fast.plan(REPORT)
    assert plan is not None and not plan.shape.unshaped
    built = fast.prepare(plan, {"input": {"figures": [figure("p1"), figure("p2", price=None)]}})
    assert isinstance(built, ReportPositionFiguresInput)
    assert [type(f) for f in built.figures] == [PositionFiguresInput, PositionFiguresInput]
    assert [f.position_id for f in built.figures] == ["p1", "p2"]
    assert built.figures[0].unrealized_pl == 400.0 and built.figures[1].price is None
    assert built.figures[0].at.year == 2026 and built.figures[0].at.tzinfo is not None
    assert fast.prepare(plan, {"input": {"figures": [figure("p1", price="high")]}}) is None
    assert fast.prepare(plan, {"input": {}}) is None
