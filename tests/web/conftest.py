"""The trading page in headless Chromium against real md and td servers on the sim.

Playwright drives Debian's chromium (no browser download): set WSBRIDGE_CHROMIUM to use
another binary. Tests skip when Playwright or the browser is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support import REPO, ServerProcess

SIM = {"seed": 20260101, "tick_interval_ms": 250}
CHROMIUM = os.environ.get("WSBRIDGE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = REPO / "test-artifacts"
WAIT_MS = 30_000  # generous upper bound for anything the page waits on (never a timing check)


def md_config() -> dict:
    return {"backend": "sim", "sim": dict(SIM)}


def td_config(workdir: Path) -> dict:
    return {"backend": "sim", "sim": {**SIM, "journal": str(workdir / "td.sqlite")}}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(md, td) on free ports, same seed so they agree on prices."""
    workdir = tmp_path_factory.mktemp("web")
    with ServerProcess("md", md_config(), workdir) as md, \
            ServerProcess("td", td_config(workdir), workdir) as td:
        yield md, td


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api.expect.set_options(timeout=WAIT_MS)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageWatch:
    """What a page did that a test wants to know afterwards: uncaught errors, requests."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", lambda request: self.requests.append(request.url))


@pytest.fixture
def open_page(browser):
    """open_page(url) -> (page, watch): a fresh 1280×800 browser context per call."""
    contexts = []

    def open_(url: str):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        watch = PageWatch(page)
        page.goto(url)
        page.wait_for_selector("body[data-ready='true']")
        return page, watch

    yield open_
    for context in contexts:
        context.close()
