"""The console in Debian's Chromium against real processes: a `hedge server`, two agents and their
paper EAs (tests/e2e/harness.py), in English and in Japanese.

User 1's account quotes a USDJPY bid that rises a pip per tick, so a FROM_ENTRY trail of 10 pips
fires about ten ticks after the entry opens; user 2's account is the hedge leg. Everything is done
by what a person sees: roles, labels and names, never CSS classes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, Route, expect
from tests.e2e.harness import ADMIN_TOKEN, Account, Agent, Api, System, User, ramp_csv, wait_for
from tests.web.conftest import Watched

from hedge.agent.gateway import page_response

pytestmark = pytest.mark.e2e

TRANSLATED = {  # what the console says: (in English, in Japanese)
    "Token": ("Token", "トークン"), "Sign in": ("Sign in", "サインイン"),
    "Dashboard": ("Dashboard", "ダッシュボード"), "Users": ("Users", "ユーザー"),
    "Accounts": ("Accounts", "口座"), "Positions": ("Positions", "ポジション"),
    "Actions": ("Actions", "アクション"), "Hedges": ("Hedges", "ヘッジ"),
    "plan": ("New hedge plan", "新しいヘッジ計画"), "Account": ("Account", "口座"),
    "Side": ("Side", "売買"), "Volume": ("Volume", "数量"), "Trail": ("Trail (pips)", "トレール (pips)"),
    "Add leg": ("Add leg", "脚を追加"), "leg": ("Hedge leg 1", "ヘッジ脚 1"),
    "Save plan": ("Save plan", "計画を保存"), "Execute": ("Execute", "実行"), "Close": ("Close", "決済"),
    "fired": ("fired", "発火"), "Refused": ("Refused", "拒否"),
    "lost": ("Connection to the server lost", "サーバーとの接続が切れました"),
    "saved": ("Plan saved", "計画を保存しました"), "Alerts": ("Alerts", "アラート"),
    "critical": ("Critical alert", "重大アラート"), "Acknowledge": ("Acknowledge", "確認"),
    "Resolve": ("Resolve", "解決"),
}  # fmt: skip
WORDS = {lang: {key: said[i] for key, said in TRANSLATED.items()} for i, lang in enumerate(("en", "ja"))}
STATUS_COLUMN = 6  # the Positions table's Status cell
RESTART_NOISE = ("WebSocket connection to 'ws://127.0.0.1", "net::ERR_CONNECTION_REFUSED")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    made = System(tmp_path_factory.mktemp("console"))
    yield made
    made.close()


@dataclass
class Pair:
    user1: User
    user2: User
    rising: Account  # user 1's: the bid rises a pip per tick
    hedge: Account  # user 2's: static prices
    agent1: Agent


def make_pair(system: System, feeds: Path) -> Pair:
    user1, user2 = system.user("one"), system.user("two")
    rising, hedge = system.account(user1), system.account(user2)
    agent1, agent2 = system.agent(user1, wait=False), system.agent(user2, wait=False)
    agent1.wait_ready()
    agent2.wait_ready()
    up = ramp_csv(feeds / f"up-{rising.number}.csv", Decimal("150.000"), Decimal("0.01"), 6000)
    system.paper_ea(agent1, rising, "--feed", up, "--tick-interval-ms", "20", wait=False)
    system.paper_ea(agent2, hedge, wait=False)
    agent1.wait_ea(rising.number)
    agent2.wait_ea(hedge.number)
    return Pair(user1, user2, rising, hedge, agent1)


@pytest.fixture(scope="module")
def pair(system: System, tmp_path_factory: pytest.TempPathFactory) -> Pair:
    return make_pair(system, tmp_path_factory.mktemp("feeds"))


def label(account: Account) -> str:
    return f"e2e {account.number} ({account.number})"  # how the console names an account


def sign_in(page: Page, url: str, lang: str, token: str) -> None:
    w = WORDS[lang]
    page.goto(f"{url}/?lang={lang}")
    page.get_by_label(w["Token"]).fill(token)
    page.get_by_role("button", name=w["Sign in"]).click()
    expect(page.get_by_role("table", name=w["Dashboard"])).to_be_visible()
    page.evaluate("window.notReloaded = true")


def go(page: Page, lang: str, name: str) -> Locator:
    page.get_by_role("navigation").get_by_role("link", name=WORDS[lang][name], exact=True).click()
    return page.get_by_role("table", name=WORDS[lang][name], exact=True)


def row_of(table: Locator, position_id: str) -> Locator:
    return table.locator(f'tr[data-id="{position_id}"]')


def status_of(row: Locator) -> Locator:
    return row.get_by_role("cell").nth(STATUS_COLUMN)


def exactly(status: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{status}\s*$")


def newest_position(system: System, user: User, account: Account, known: set[str]) -> str:
    def found() -> str | None:
        rows = system.admin.execute(
            "query($u: ID) { listPositions(userId: $u) { id accountId } }", {"u": user.id}
        )["listPositions"]
        fresh = [p["id"] for p in rows if p["accountId"] == account.id and p["id"] not in known]
        return fresh[0] if fresh else None

    return wait_for(found, 10, f"a new position on {account.number}")


def position_ids(system: System) -> set[str]:
    return {p["id"] for p in system.admin.execute("{ listPositions { id } }")["listPositions"]}


def test_operator_plans_executes_and_closes_the_seeds_hedge_live(
    system: System, tmp_path_factory: pytest.TempPathFactory, new_page: Callable[..., Watched], lang: str
) -> None:
    w = WORDS[lang]
    p = make_pair(system, tmp_path_factory.mktemp("feeds"))
    watched = new_page("ja-JP" if lang == "ja" else "en-GB")
    page = watched.page
    sign_in(page, system.url, lang, ADMIN_TOKEN)
    table = go(page, lang, "Positions")
    before = position_ids(system)

    # the plan, entirely in the console: user 1's BUY with a 10-pip trail, user 2's SELL leg, linked
    plan = page.get_by_role("form", name=w["plan"])
    plan.get_by_label(w["Account"], exact=True).select_option(label=label(p.rising))
    plan.get_by_label(w["Side"], exact=True).select_option("BUY")
    plan.get_by_label(w["Volume"], exact=True).fill("0.1")
    plan.get_by_label(w["Trail"], exact=True).fill("10")
    plan.get_by_role("button", name=w["Add leg"]).click()
    plan.get_by_label(f"{w['leg']} {w['Account']}").select_option(label=label(p.hedge))
    plan.get_by_label(f"{w['leg']} {w['Side']}").select_option("SELL")
    plan.get_by_role("button", name=w["Save plan"]).click()
    expect(plan.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text=w["saved"])).to_be_visible()
    a_id = newest_position(system, p.user1, p.rising, before)
    b_id = newest_position(system, p.user2, p.hedge, before)
    a_row, b_row = row_of(table, a_id), row_of(table, b_id)
    expect(status_of(a_row)).to_have_text(exactly("PENDING"))
    expect(status_of(b_row)).to_have_text(exactly("PENDING"))
    a = system.admin.position(a_id)
    hedge_action = system.admin.execute("query($p: ID!) { listActions(positionId: $p) { id } }", {"p": b_id})[
        "listActions"
    ][0]["id"]
    assert a["trailWidth"] == 10 and a["triggerActionIds"] == [hedge_action]

    # execute: the trail fires and the hedge opens, seen live
    a_row.get_by_role("button", name=w["Execute"]).click()
    expect(status_of(a_row)).to_have_text(exactly("OPEN"), timeout=15_000)
    expect(a_row).to_contain_text(w["fired"], timeout=15_000)
    expect(status_of(b_row)).to_have_text(exactly("OPEN"), timeout=15_000)
    hedges = go(page, lang, "Hedges")
    expect(row_of(hedges, a_id)).to_contain_text("EXECUTED")
    expect(row_of(hedges, a_id)).to_contain_text(b_id[:8])

    # close both
    table = go(page, lang, "Positions")
    for row in (a_row, b_row):
        row.get_by_role("button", name=w["Close"]).click()
    expect(status_of(a_row)).to_have_text(exactly("CLOSED"), timeout=15_000)
    expect(status_of(b_row)).to_have_text(exactly("CLOSED"), timeout=15_000)
    assert system.admin.position(b_id)["status"] == "CLOSED"
    assert page.evaluate("window.notReloaded") is True
    watched.assert_clean()


def test_a_close_the_server_refuses_is_rolled_back_with_its_message(
    system: System, pair: Pair, new_page: Callable[..., Watched], lang: str
) -> None:
    w = WORDS[lang]
    _, position = pair.user1.api.entry(pair.rising.id)
    pair.user1.api.update_position(position["id"], status="OPENING")
    pair.user1.api.wait_position(position["id"], "OPEN")
    watched = new_page()
    page = watched.page
    sign_in(page, system.url, lang, ADMIN_TOKEN)
    row = row_of(go(page, lang, "Positions"), position["id"])
    expect(status_of(row)).to_have_text(exactly("OPEN"))

    def broker_closes_it_first(route: Route) -> None:
        # the position is closed at the broker while the operator's CLOSE is on its way
        if "updatePosition" in (route.request.post_data or ""):
            pair.user1.api.update_position(position["id"], status="CLOSING")
            pair.user1.api.wait_position(position["id"], "CLOSED")
        route.fallback()

    page.route("**/graphql", broker_closes_it_first)
    row.get_by_role("button", name=w["Close"]).click()

    refusal = row.get_by_role("alert")
    expect(refusal).to_contain_text(w["Refused"])
    expect(refusal).to_contain_text(re.compile(r"version|CLOSED|CLOSING"))
    expect(status_of(row)).to_contain_text("CLOSED")
    watched.assert_clean()


def test_a_client_sees_none_of_another_users_rows(
    system: System, pair: Pair, new_page: Callable[..., Watched], lang: str
) -> None:
    _, own = pair.user2.api.entry(pair.hedge.id, side="SELL")
    _, foreign = pair.user1.api.entry(pair.rising.id)
    watched = new_page()
    page = watched.page
    sign_in(page, system.url, lang, pair.user2.token)

    positions = go(page, lang, "Positions")
    expect(row_of(positions, own["id"])).to_be_visible()
    accounts = go(page, lang, "Accounts")
    expect(accounts).to_contain_text(pair.hedge.number)

    assert pair.rising.number not in accounts.inner_text()
    go(page, lang, "Positions")
    expect(row_of(positions, own["id"])).to_be_visible()  # drawn again: not the count of an empty table
    assert row_of(positions, foreign["id"]).count() == 0
    assert page.get_by_role("link", name=WORDS[lang]["Users"], exact=True).count() == 0
    assert pair.user1.id not in page.content() and foreign["id"] not in page.content()
    watched.assert_clean()


def test_a_new_critical_alert_shows_on_every_page_and_is_acknowledged_in_place(
    system: System, pair: Pair, new_page: Callable[..., Watched], lang: str
) -> None:
    w = WORDS[lang]
    watched = new_page()
    page = watched.page
    sign_in(page, system.url, lang, ADMIN_TOKEN)
    go(page, lang, "Positions")
    message = f"console test {lang}: account {pair.rising.number} needs a look"

    raised = system.admin.execute(
        "mutation($i: RaiseAlertInput!) { raiseAlert(input: $i) { id } }",
        {"i": {"userId": pair.user1.id, "accountId": pair.rising.id, "kind": "RECONCILIATION_MISMATCH",
               "severity": "CRITICAL", "message": message, "requiresAction": True}},
    )["raiseAlert"]  # fmt: skip

    banner = page.get_by_role("alert").filter(has_text=w["critical"])
    expect(banner).to_contain_text(message)
    row = go(page, lang, "Alerts").locator(f'tr[data-id="{raised["id"]}"]')
    row.get_by_role("button", name=w["Acknowledge"]).click()
    expect(row.get_by_role("button", name=w["Acknowledge"])).to_have_count(0)
    expect(row).to_have_attribute("aria-busy", "false")  # taken by the server: Resolve cannot overtake it
    expect(banner.filter(has_text=message)).to_have_count(0)
    row.get_by_role("button", name=w["Resolve"]).click()
    expect(row.get_by_role("button", name=w["Resolve"])).to_have_count(0)
    expect(row).not_to_have_attribute("aria-busy", "true")
    settled = system.admin.execute(
        "query($id: ID!) { getAlert(id: $id) { acknowledgedAt resolvedAt } }", {"id": raised["id"]}
    )["getAlert"]
    assert settled["acknowledgedAt"] is not None and settled["resolvedAt"] is not None
    watched.assert_clean()


def test_admin_creates_a_user_sees_its_token_once_rotates_it_and_deactivates_it(
    system: System, new_page: Callable[..., Watched]
) -> None:
    watched = new_page()
    page = watched.page
    sign_in(page, system.url, "en", ADMIN_TOKEN)
    users = go(page, "en", "Users")
    email = f"console-{int(time.time() * 1000)}@e2e.local"
    form = page.get_by_role("form", name="Create user")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Name").fill("Console Made")
    form.get_by_role("button", name="Create user").click()

    shown = page.get_by_role("dialog", name="The new token (shown once):")
    first = shown.get_by_label("Token").inner_text()
    assert Api(system.url, first).execute("{ me { email } }")["me"]["email"] == email
    shown.get_by_role("button", name="Dismiss").click()
    row = users.get_by_role("row").filter(has_text=email)
    row.get_by_role("button", name="Rotate token").click()
    second = page.get_by_role("dialog", name="The new token (shown once):").get_by_label("Token").inner_text()
    assert second != first
    assert Api(system.url, first).raw("{ me { email } }")["errors"]
    assert Api(system.url, second).execute("{ me { email } }")["me"]["email"] == email
    row.get_by_role("button", name="Deactivate").click()
    expect(row.get_by_role("button", name="Activate")).to_be_visible()
    expect(row).to_have_attribute(
        "aria-busy", "false"
    )  # the server has answered, not only the optimistic view

    assert Api(system.url, second).raw("{ me { email } }")["errors"]
    watched.assert_clean()


def test_agents_own_page_shows_its_link_eas_and_open_positions_live(
    pair: Pair, new_page: Callable[..., Watched]
) -> None:
    _, position = pair.user1.api.entry(pair.rising.id)
    watched = new_page()
    page = watched.page
    page.goto(f"http://127.0.0.1:{pair.agent1.port}/")

    expect(page.get_by_role("status")).to_have_text("connected")
    expect(page.get_by_role("table", name="Connected EAs")).to_contain_text(pair.rising.number)
    pair.user1.api.update_position(position["id"], status="OPENING")
    positions = page.get_by_role("table", name="Open positions")
    expect(positions).to_contain_text(position["id"])
    first = positions.inner_text()
    expect(positions).not_to_have_text(first)  # the price moves a pip per tick, shown as it moves
    watched.assert_clean()


def test_agents_own_page_is_refused_to_other_hosts() -> None:
    assert page_response("192.168.1.20", "/").status_code == 403
    assert page_response("127.0.0.1", "/").status_code == 200
    assert page_response("::1", "/page.js").status_code == 200


def test_console_reconnects_after_a_server_restart_and_stays_live(
    system: System, pair: Pair, new_page: Callable[..., Watched], lang: str
) -> None:
    watched = new_page()
    page = watched.page
    sign_in(page, system.url, lang, ADMIN_TOKEN)
    positions = go(page, lang, "Positions")

    system.server.stop()
    expect(page.get_by_role("alert").filter(has_text=WORDS[lang]["lost"])).to_be_visible(timeout=10_000)
    system.start_server()
    expect(page.get_by_role("alert").filter(has_text=WORDS[lang]["lost"])).to_have_count(0, timeout=15_000)
    _, made = pair.user1.api.entry(pair.rising.id)

    expect(row_of(positions, made["id"])).to_be_visible(timeout=5_000)
    assert page.evaluate("window.notReloaded") is True
    watched.assert_clean(allowed_console=RESTART_NOISE)
