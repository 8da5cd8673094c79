"""Screenshots of every console page, in English and Japanese, from a demo run (docs/console/).

Starts `hedge demo` on a free port, follows its sign-in link once the seed's scenario completed,
and saves docs/console/<lang>-<page>.png. Needs Debian's chromium (/usr/bin/chromium) and the dev
dependencies: `uv run python scripts/console_screenshots.py`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "console"
CHROMIUM = os.environ.get("HEDGE_CHROMIUM", "/usr/bin/chromium")
PAGES = ("dashboard", "users", "accounts", "positions", "actions", "hedges", "alerts", "controls")
LINK = re.compile(
    r"Console \(watch the scenario live\): (http://\S+?)/\s+sign in with the admin token in (\S+)"
)


def start_demo() -> tuple[subprocess.Popen[str], str, str]:
    demo = subprocess.Popen(
        [sys.executable, "-m", "hedge.cli", "demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert demo.stdout is not None
    url = token = ""
    deadline = time.monotonic() + 90
    for line in demo.stdout:
        sys.stdout.write(line)
        found = LINK.search(line)
        if found:  # the demo keeps its tokens in a file of its own, never on the screen
            url, tokens = found.group(1), Path(found.group(2))
            token = tokens.read_text().splitlines()[0].split(": ", 1)[1]
        if "scenario complete" in line or "scenario FAILED" in line or time.monotonic() > deadline:
            break
    if not url:
        demo.kill()
        raise SystemExit("the demo printed no console link")
    return demo, url, token


def shoot(page: Page, url: str, token: str, lang: str) -> list[Path]:
    page.goto(f"{url}/?lang={lang}#token={token}")
    page.get_by_role("navigation").first.wait_for()
    saved = []
    for name in PAGES:
        link = page.locator(f'nav a[href="#/{name}"]')
        if link.count() == 0:  # a page whose API the server does not have yet
            continue
        link.click()
        page.get_by_role("table").first.wait_for()
        if name == "dashboard":
            figures_reported(page)
        page.wait_for_timeout(300)  # the equity chart draws after the table
        path = OUT / f"{lang}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    return saved


FIGURES_WAIT_MS = 45_000  # the agents report their OPEN positions' figures every 30 s


def figures_reported(page: Page) -> None:
    """Wait (up to one report and a console read) until every open position shows its figures."""
    waiting = page.get_by_text(re.compile("not reported yet|未報告"))
    try:
        waiting.first.wait_for(state="detached", timeout=FIGURES_WAIT_MS)
    except PlaywrightTimeout:
        print("some open positions had no figures yet", file=sys.stderr)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    demo, url, token = start_demo()
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for lang, locale in (("en", "en-GB"), ("ja", "ja-JP")):
                context = browser.new_context(
                    locale=locale, timezone_id="Asia/Tokyo", viewport={"width": 1400, "height": 900}
                )
                for path in shoot(context.new_page(), url, token, lang):
                    print(f"saved {path.relative_to(ROOT)}")
                context.close()
            browser.close()
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
