"""Browser fixtures: one Debian Chromium per test module (Playwright's own download does not
work here; module scope because sync Playwright keeps an event loop running, which the asyncio
tests of the next module cannot share), and a page per test that routes every request and fails
on any host but 127.0.0.1. For the tests that talk HTTP and WebSocket like the console's page,
`server`: an in-process API on its own SQLite file, once per module.

With CI=true a missing Chromium fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Route, sync_playwright
from tests.api.conftest import Api, shared_api  # noqa: F401

CHROMIUM = os.environ.get("HEDGE_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    if not shutil.which(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing (CI=true: .ci/run installs the Debian chromium)")
        pytest.skip(f"{CHROMIUM} is missing")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield launched
    launched.close()


@dataclass
class Watched:
    """A page with what it tried to reach outside 127.0.0.1 and the errors its scripts raised."""

    page: Page
    foreign: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def assert_clean(self, allowed_console: tuple[str, ...] = ()) -> None:
        assert self.foreign == [], f"requests left 127.0.0.1: {self.foreign}"
        assert self.script_errors == [], f"script errors: {self.script_errors}"
        unexpected = [e for e in self.console_errors if not any(a in e for a in allowed_console)]
        assert unexpected == [], f"console errors: {unexpected}"


def watch(browser: Browser, locale: str = "en-GB") -> Watched:
    context = browser.new_context(locale=locale, timezone_id="Asia/Tokyo")
    context.set_default_timeout(15_000)
    page = context.new_page()
    watched = Watched(page)

    def route(r: Route) -> None:
        if urlparse(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            watched.foreign.append(r.request.url)
            r.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    context.route("**/*", route)
    page.on(
        "websocket",
        lambda ws: None if urlparse(ws.url).hostname == "127.0.0.1" else watched.foreign.append(ws.url),
    )
    page.on("pageerror", lambda error: watched.script_errors.append(str(error)))
    page.on("console", console)
    return watched


@pytest.fixture
def new_page(browser: Browser) -> Iterator[object]:
    made: list[Watched] = []

    def make(locale: str = "en-GB") -> Watched:
        watched = watch(browser, locale)
        made.append(watched)
        return watched

    yield make
    for watched in made:
        watched.page.context.close()


@pytest.fixture(params=["en", "ja"])
def lang(request: pytest.FixtureRequest) -> str:
    """The console's language: a test that takes it runs once in English and once in Japanese."""
    language: str = request.param
    return language


@pytest.fixture(scope="module")
def server(shared_api: Api) -> Api:  # noqa: F811 (the fixture imported above)
    """An in-process API on an SQLite file of its own, shared by the tests of one module."""
    return shared_api
