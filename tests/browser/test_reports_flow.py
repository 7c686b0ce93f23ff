"""The coordinator's reports, in Chromium at 1280 px and at 360 px, in Finnish, Swedish and English.

The demo coordinator opens the dashboard, steps to the previous period,
opens the evaluation page of the site that reaches fewest people per hour,
goes back and downloads the period's XLSX. Screenshots of each step:
test-artifacts/reports/.
"""

import importlib
import io
import re

import pytest
from django.apps import apps as django_apps
from django.test import Client
from openpyxl import load_workbook

from outreach.models import User
from reports import demo

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = {
    "fi": {"locale": "fi-FI", "heading": "Raportit"},
    "sv": {"locale": "sv-SE", "heading": "Rapporter"},
    "en": {"locale": "en-GB", "heading": "Reports"},
}


@pytest.fixture
def demo_coordinator(db):
    """The demo data set (small) and its coordinator, with the TOTP authenticator coordinators must have."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    municipalities = importlib.import_module("outreach.migrations.0002_municipalities")
    municipalities.load(django_apps, None)
    demo.seed_demo(encounters=400, password=demo.DEMO_PASSWORD)
    coordinator = User.objects.get(email="coordinator@example.org")
    TOTP.activate(coordinator, generate_totp_secret())
    return coordinator


def signed_in_page(browser, live_server, user, *, locale: str, desktop: bool):
    """A page signed in as `user`: the session of a test-client sign-in, so the TOTP step is not typed."""
    client = Client()
    client.force_login(user)
    viewport = {"width": 1280, "height": 800} if desktop else {"width": 360, "height": 640}
    context = browser.new_context(viewport=viewport, locale=locale, is_mobile=not desktop, has_touch=not desktop)
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context, context.new_page()


def shoot(page, name: str) -> None:
    folder = ARTIFACTS / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    page.screenshot(path=str(folder / f"{name}-screen.png"))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow} px"


@pytest.mark.parametrize("desktop", [True, False], ids=["1280", "360"])
def test_the_coordinator_reads_the_reports_and_downloads_the_xlsx(browser, live_server, demo_coordinator, desktop):
    width = "1280" if desktop else "360"
    for language, texts in LANGUAGES.items():
        context, page = signed_in_page(browser, live_server, demo_coordinator, locale=texts["locale"], desktop=desktop)
        try:
            page.goto(f"{live_server.url}/")
            page.click("#coordinator-reports-link a")
            page.wait_for_url(re.compile(r".*/reports/$"))
            heading = page.text_content("h1")
            assert heading.startswith(texts["heading"])
            assert page.locator("#table-reach_by_site svg").count() == 1
            shoot(page, f"{language}-{width}-dashboard")

            # The period before: the heading names another period, and the figures follow.
            page.click("a[rel=prev]")
            page.wait_for_url(re.compile(r".*/reports/\?start=.*"))
            assert page.text_content("h1") != heading
            shoot(page, f"{language}-{width}-previous-period")

            # The weakest site first in the reach table: its row opens its evaluation.
            first_site = page.locator("#table-reach_by_site tbody th a").first
            name = first_site.text_content()
            first_site.click()
            page.wait_for_url(re.compile(r".*/reports/sites/\d+/\?.*"))
            assert page.text_content("h1") == name
            assert page.locator("#site-trend tbody tr").count() == 12
            shoot(page, f"{language}-{width}-site")

            page.go_back()
            page.wait_for_url(re.compile(r".*/reports/\?start=.*"))
            with page.expect_download() as download_info:
                page.click(".report-links a[href*='format=xlsx']")
            download = download_info.value
            assert re.fullmatch(r"period-report-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.xlsx", download.suggested_filename)
            with open(download.path(), "rb") as file:
                workbook = load_workbook(io.BytesIO(file.read()))
            assert {"key_figures", "reach_by_site", "by_gender"} <= set(workbook.sheetnames)
        finally:
            context.close()
