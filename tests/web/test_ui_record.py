"""The console's record in Debian's Chromium against real processes (a `hedge server`, agents and
paper EAs), in English and Japanese: a position's timeline (every change, who made it, the tick
that fired the trail), the kill switch with its confirmation, the agents' 30 s per-position
figures on the Dashboard with their time, and the equity chart read from the kept history.

Named to sort after the async tests of tests/web (sync Playwright leaves its loop behind).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from tests.e2e.harness import ADMIN_TOKEN, Account, System, User, ramp_csv, wait_for
from tests.web.conftest import Watched
from tests.web.test_ui_console import WORDS, exactly, go, make_pair, row_of, sign_in, status_of

pytestmark = pytest.mark.e2e

MORE = {
    "en": {
        "Controls": "Trading controls", "Timeline": "Timeline", "Scope": "Scope", "State": "State",
        "Reason": "Reason", "Set": "Set", "confirm": "Type HALT to confirm", "person": "(person)",
        "agent": "(agent)", "Open positions": "Open positions", "as of": "as of", "chart": "points since",
        "Equity": "Equity over time",
    },
    "ja": {
        "Controls": "取引制御", "Timeline": "履歴", "Scope": "範囲", "State": "状態", "Reason": "理由",
        "Set": "設定", "confirm": "HALT と入力してください", "person": "(利用者)", "agent": "(エージェント)",
        "Open positions": "保有中のポジション", "as of": "時点", "chart": "以降",
        "Equity": "有効証拠金の推移",
    },
}  # fmt: skip
CONTROLS = "{ tradingControls { scope targetId state } }"
FIGURES = "query($id: ID!) { getPosition(id: $id) { version figures { price at } } }"
HISTORY = "query($a: ID!) { accountHistory(accountId: $a) { at equity } }"
TRIGGER = "query($id: ID!) { getPosition(id: $id) { triggerPrice trailTriggeredAt } }"
TIMELINE = "query($id: ID!) { positionHistory(id: $id) { version status } }"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    made = System(tmp_path_factory.mktemp("record"), server_env={"HEDGE_SNAPSHOT_INTERVAL_S": "1"})
    yield made
    made.close()


@dataclass
class Desk:
    """User 1's account quotes a slowly drifting USDJPY every 200 ms; its agent reports every second."""

    user: User
    account: Account


@pytest.fixture(scope="module")
def desk(system: System, tmp_path_factory: pytest.TempPathFactory) -> Desk:
    user = system.user("desk")
    account = system.account(user)
    agent = system.agent(user, env={"HEDGE_AGENT_ACCOUNT_PUSH_INTERVAL_S": "1"})
    feed = ramp_csv(
        tmp_path_factory.mktemp("feeds") / "drift.csv", Decimal("150.000"), Decimal("0.001"), 6000
    )
    system.paper_ea(agent, account, "--feed", feed, "--tick-interval-ms", "200")
    return Desk(user, account)


def nav(page: Page, lang: str, name: str) -> Locator:
    page.get_by_role("navigation").get_by_role("link", name=MORE[lang][name], exact=True).click()
    return page.get_by_role("table", name=MORE[lang][name], exact=True)


def open_position(desk: Desk, trail_width: float) -> str:
    _, position = desk.user.api.entry(desk.account.id, trailWidth=trail_width)
    desk.user.api.update_position(position["id"], status="OPENING")
    desk.user.api.wait_position(position["id"], "OPEN")
    return str(position["id"])


def test_position_timeline_shows_every_change_who_made_it_and_the_tick_that_fired_it(
    system: System, tmp_path_factory: pytest.TempPathFactory, new_page: Callable[..., Watched], lang: str
) -> None:
    w, m = WORDS[lang], MORE[lang]
    p = make_pair(system, tmp_path_factory.mktemp("feeds"))  # user 1's bid rises a pip per tick
    _, position = p.user1.api.entry(p.rising.id, trailWidth=5)
    watched = new_page("ja-JP" if lang == "ja" else "en-GB")
    page = watched.page
    sign_in(page, system.url, lang, ADMIN_TOKEN)
    row = row_of(go(page, lang, "Positions"), position["id"])
    row.get_by_role("button", name=w["Execute"]).click()  # the operator: a person's change
    expect(row).to_contain_text(w["fired"], timeout=15_000)

    row.get_by_role("button", name=f"{m['Timeline']} {position['id']}").click()
    timeline = page.get_by_role("table", name=m["Timeline"], exact=True)
    fired = system.admin.execute(TRIGGER, {"id": position["id"]})["getPosition"]
    versions = system.admin.execute(TIMELINE, {"id": position["id"]})["positionHistory"]
    expect(timeline.locator("tbody tr")).to_have_count(len(versions))
    lines = timeline.locator("tbody tr")
    by_status = {v["status"]: lines.nth(i) for i, v in reversed(list(enumerate(versions)))}  # the first
    expect(by_status["PENDING"]).to_contain_text(m["agent"])  # made with user 1's own credential
    expect(by_status["OPENING"]).to_contain_text(f"Administrator {m['person']}")
    expect(by_status["OPENING"].get_by_role("cell").nth(4)).to_contain_text("status")
    opened = next(i for i, v in enumerate(versions) if v["status"] == "OPEN")
    expect(lines.nth(opened)).to_contain_text(m["agent"])  # the terminal's word, from user 1's agent
    tick = f"TRAIL @ {Decimal(str(fired['triggerPrice'])):.3f}"
    expect(timeline).to_contain_text(tick)
    firing = [i for i in range(len(versions)) if tick in lines.nth(i).inner_text()]
    assert len(firing) == 1, "exactly one version is the one the tick fired"
    assert versions[firing[0]]["version"] > versions[opened]["version"]
    watched.assert_clean()


def test_kill_switch_needs_its_confirmation_and_stops_an_execute_until_released(
    system: System, desk: Desk, new_page: Callable[..., Watched], lang: str
) -> None:
    w, m = WORDS[lang], MORE[lang]
    _, position = desk.user.api.entry(desk.account.id)
    watched = new_page("ja-JP" if lang == "ja" else "en-GB")
    page = watched.page
    sign_in(page, system.url, lang, ADMIN_TOKEN)
    try:
        controls = nav(page, lang, "Controls")
        form = page.get_by_role("form", name=m["Controls"])
        form.get_by_label(m["Scope"], exact=True).select_option("GLOBAL")
        form.get_by_label(m["State"], exact=True).select_option("HALTED")
        form.get_by_label(m["Reason"], exact=True).fill(f"browser test {lang}")
        form.get_by_role("button", name=m["Set"], exact=True).click()
        expect(form.get_by_role("alert")).to_contain_text(m["confirm"])  # not confirmed: nothing set
        confirm = form.get_by_label(re.compile(m["confirm"]))
        confirm.fill("halt")
        form.get_by_role("button", name=m["Set"], exact=True).click()
        expect(form.get_by_role("alert")).to_contain_text(m["confirm"])
        assert {"scope": "GLOBAL", "targetId": None, "state": "HALTED"} not in system.admin.execute(CONTROLS)[
            "tradingControls"
        ]
        confirm.fill("HALT")
        form.get_by_role("button", name=m["Set"], exact=True).click()
        expect(controls.get_by_role("row").filter(has_text="GLOBAL")).to_contain_text("HALTED")
        assert {"scope": "GLOBAL", "targetId": None, "state": "HALTED"} in system.admin.execute(CONTROLS)[
            "tradingControls"
        ]

        row = row_of(go(page, lang, "Positions"), position["id"])
        row.get_by_role("button", name=w["Execute"]).click()
        refusal = row.get_by_role("alert")
        expect(refusal).to_contain_text(w["Refused"])
        expect(refusal).to_contain_text("HALTED")
        expect(status_of(row)).to_have_text(re.compile(r"^\s*PENDING\s*\S"))  # back to the server's row
        expect(status_of(row)).not_to_contain_text("OPENING (")
        assert system.admin.position(position["id"])["status"] == "PENDING"

        controls = nav(page, lang, "Controls")
        form.get_by_label(m["State"], exact=True).select_option("ACTIVE")
        form.get_by_label(m["Reason"], exact=True).fill("released")
        expect(form.get_by_label(re.compile(m["confirm"]))).to_have_count(0)  # only HALTED asks
        form.get_by_role("button", name=m["Set"], exact=True).click()
        expect(controls.get_by_role("row").filter(has_text="GLOBAL")).to_contain_text("ACTIVE")

        row = row_of(go(page, lang, "Positions"), position["id"])
        row.get_by_role("button", name=w["Execute"]).click()
        expect(status_of(row)).to_have_text(exactly("OPEN"), timeout=15_000)
    finally:
        release = (
            'mutation { setTradingState(input: {scope: GLOBAL, state: ACTIVE, reason: "end"}) { state } }'
        )
        system.admin.execute(release)
    watched.assert_clean()


def test_dashboard_shows_each_open_positions_figures_from_its_agent_with_their_time(
    system: System, desk: Desk, new_page: Callable[..., Watched], lang: str
) -> None:
    m = MORE[lang]
    position_id = open_position(desk, trail_width=500)  # far from its trigger: it stays OPEN
    reported = wait_for(
        lambda: system.admin.execute(FIGURES, {"id": position_id})["getPosition"]["figures"], 10, "figures"
    )
    version = system.admin.position(position_id)["version"]
    watched = new_page("ja-JP" if lang == "ja" else "en-GB")
    page = watched.page
    sign_in(page, system.url, lang, ADMIN_TOKEN)
    table = page.get_by_role("table", name=m["Open positions"], exact=True)
    row = row_of(table, position_id)
    expect(row).to_contain_text("JPY")
    expect(row).to_contain_text("pips")
    expect(row).to_contain_text(m["as of"])
    shown_at = datetime.fromisoformat(row.locator("time").get_attribute("datetime") or "")
    assert shown_at >= datetime.fromisoformat(reported["at"]), "that report or a newer one"
    assert (datetime.now(UTC) - shown_at).total_seconds() < 60
    cells = row.get_by_role("cell")
    assert re.fullmatch(r"150\.\d{3}", cells.nth(6).inner_text().strip()), "the reported price, 3 digits"
    assert re.search(r"\d+(\.\d)? pips", cells.nth(8).inner_text()), "the distance to the trigger"
    assert system.admin.position(position_id)["version"] == version, "figures never touch the row"
    watched.assert_clean()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_dashboard_equity_chart_starts_at_the_kept_history_not_at_the_page_load(
    system: System, desk: Desk, new_page: Callable[..., Watched], lang: str
) -> None:
    m = MORE[lang]
    wait_for(lambda: system.admin.execute(HISTORY, {"a": desk.account.id})["accountHistory"], 15, "history")
    accounts = [a["id"] for a in system.admin.execute("{ listAccounts { id } }")["listAccounts"]]
    kept = [p for a in accounts for p in system.admin.execute(HISTORY, {"a": a})["accountHistory"]]
    watched = new_page("ja-JP" if lang == "ja" else "en-GB")
    page = watched.page
    sign_in(page, system.url, lang, ADMIN_TOKEN)
    chart = page.get_by_role("figure").filter(has_text=m["Equity"])
    expect(chart.get_by_role("img", name=m["Equity"])).to_be_visible()
    expect(chart).to_contain_text(m["chart"])
    expect(chart).to_have_attribute(
        "aria-busy", "false"
    )  # the kept history has arrived, not only live points
    first = min(datetime.fromisoformat(p["at"]) for p in kept)  # of every account the chart draws
    since = chart.locator("figcaption").inner_text()
    zone_first = first.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M:%S")  # the context's zone
    assert zone_first in since, f"the chart starts at the first kept point {zone_first}: {since!r}"
    counted = re.search(r"(\d+) points" if lang == "en" else r"以降 (\d+) 点", since)
    assert counted is not None and int(counted.group(1)) >= len(kept)
    watched.assert_clean()
