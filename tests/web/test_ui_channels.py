"""The console shows the alert delivery channels to an admin, a dead one as down, in Debian's
Chromium against a real `hedge server` whose only channel is a webhook nobody answers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect
from tests.e2e.harness import ADMIN_TOKEN, System
from tests.web.conftest import Watched
from tests.web.test_ui_console import WORDS, go, sign_in

from hedge.localservices import free_port

pytestmark = pytest.mark.e2e
CHANNELS = {"en": "Alert delivery channels", "ja": "アラート通知の送信先"}
DOWN = {"en": "down", "ja": "停止"}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    notify = json.dumps([{"url": dead, "name": "ops-webhook", "severities": ["CRITICAL"]}])
    made = System(tmp_path_factory.mktemp("channels"), server_env={"HEDGE_NOTIFY": notify})
    yield made
    made.close()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_admin_sees_a_dead_channel_as_down_with_its_waiting_delivery(
    system: System, new_page: Callable[..., Watched], lang: str
) -> None:
    user = system.user("alerted")
    system.admin.execute(
        "mutation($i: RaiseAlertInput!) { raiseAlert(input: $i) { id } }",
        {"i": {"userId": user.id, "kind": "RECONCILIATION_MISMATCH", "severity": "CRITICAL",
               "message": f"channels test {lang}"}},
    )  # fmt: skip
    watched = new_page()
    page = watched.page
    sign_in(page, system.url, lang, ADMIN_TOKEN)
    go(page, lang, "Alerts")

    row = page.get_by_role("table", name=CHANNELS[lang]).get_by_role("row").filter(has_text="ops-webhook")
    expect(row).to_contain_text(
        DOWN[lang], timeout=30_000
    )  # three failed tries: 0.5 + 1 + 2 s, then a refresh
    watched.assert_clean()


def test_client_sees_no_channels(system: System, new_page: Callable[..., Watched]) -> None:
    user = system.user("client")
    watched = new_page()
    page = watched.page
    sign_in(page, system.url, "en", user.token)
    go(page, "en", "Alerts")

    expect(page.get_by_role("table", name=WORDS["en"]["Alerts"], exact=True)).to_be_visible()
    expect(page.get_by_role("table", name=CHANNELS["en"])).to_have_count(0)
    watched.assert_clean()
