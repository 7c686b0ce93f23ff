"""Playwright driving Debian's Chromium, for the browser tests (`@pytest.mark.browser`).

Plain `playwright.sync_api` (no pytest-playwright plugin). The browser lives
for one test module: Playwright's sync API keeps an event loop running in the
main thread, and while it runs Django refuses synchronous database calls
unless DJANGO_ALLOW_ASYNC_UNSAFE is set (STACK.md), so both are confined to
the modules that need them. Screenshots go to test-artifacts/ (git-ignored).
"""

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 800}
PART_HEIGHT = 900
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def save_screenshot(page, folder: str, name: str) -> None:
    """A full-page screenshot in test-artifacts/<folder>/, and the page must not scroll sideways."""
    directory = ARTIFACTS / folder
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow} px"


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def phone(browser):
    """A new page in a phone-sized window (360 × 640, touch), or a desktop one, with nothing stored from
    another test."""

    def open_page(locale: str = "en-GB", desktop: bool = False, bypass_csp: bool = True):
        # The flows poll the page with string expressions, which the app's
        # Content-Security-Policy (no eval) refuses; test_csp.py checks the
        # pages under the policy itself.
        if desktop:
            context = browser.new_context(viewport=DESKTOP, locale=locale, bypass_csp=bypass_csp)
        else:
            context = browser.new_context(
                viewport=PHONE, has_touch=True, is_mobile=True, locale=locale, bypass_csp=bypass_csp
            )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    contexts: list[BrowserContext] = []
    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot as test-artifacts/field/NAME.png, and check the page fits the width."""
    folder = ARTIFACTS / "field"
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        # What the phone shows without scrolling, and the page in screen-sized parts to look at closely.
        page.screenshot(path=str(folder / f"{name}-screen.png"))
        height = page.evaluate("document.documentElement.scrollHeight")
        for index, top in enumerate(range(0, height, PART_HEIGHT), start=1):
            width = page.viewport_size["width"]
            clip = {"x": 0, "y": top, "width": width, "height": min(PART_HEIGHT, height - top)}
            page.screenshot(path=str(folder / f"{name}-part{index}.png"), full_page=True, clip=clip)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow} px"
        return path

    return take
