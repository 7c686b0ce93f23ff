"""Client feedback at the day centre, in Chromium at 360 × 640, in Finnish, Swedish and English.

A worker opens "Ask for feedback" on the outing page and shows the QR code;
clients answer on their own phones in Swedish and Finnish, one on the
worker's tablet in kiosk mode (which starts over with a clean form); the
coordinator sees the day centre's feedback for the week once it has 7
answers, while a site with three answers shows none. Screenshots:
test-artifacts/feedback/.
"""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import OutingStatus, SiteType
from reports import feedback_views
from reports.models import ClientFeedback
from reports.services import feedback_record

from .conftest import DESKTOP, PHONE, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(page, name: str) -> None:
    save_screenshot(page, "feedback", name)


def new_page(browser, *, locale: str, desktop: bool = False, session: str = "", base_url: str = ""):
    viewport = DESKTOP if desktop else PHONE
    context = browser.new_context(viewport=viewport, locale=locale, is_mobile=not desktop, has_touch=not desktop)
    context.set_default_timeout(15_000)
    if session:
        context.add_cookies([{"name": "sessionid", "value": session, "url": base_url}])
    return context, context.new_page()


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def answer_on_a_phone(browser, url: str, *, locale: str, score: str, name: str = "") -> None:
    context, page = new_page(browser, locale=locale)
    try:
        page.goto(url)
        if name:
            shoot(page, f"{name}-form")
        page.click(f"label[for=id_score_{int(score) - 1}]")
        page.click("label[for=id_got_help_0]")
        page.click("label[for=id_talk_again_0]")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/thanks/.*"))
        if name:
            shoot(page, f"{name}-thanks")
    finally:
        context.close()


@pytest.fixture
def day_centre(team_a, worker_a, coordinator, with_totp):
    with_totp(coordinator)
    site = FieldSiteFactory(team=team_a, name="Päiväkeskus Majakka", site_type=SiteType.DAY_CENTRE)
    outing = OutingFactory(
        team=team_a, site=site, participants=[worker_a], status=OutingStatus.PLANNED, date=timezone.localdate()
    )
    quiet = FieldSiteFactory(team=team_a, name="Ruokajakelu Tori", site_type=SiteType.FOOD_DISTRIBUTION)
    for score in (2, 3, 5):
        feedback_record(site=quiet, score=score, got_help="yes", talk_again="yes")
    return site, outing


def test_clients_answer_in_two_languages_and_on_a_kiosk(
    browser, live_server, day_centre, worker_a, coordinator, monkeypatch
):
    site, outing = day_centre
    monkeypatch.setattr(feedback_views, "KIOSK_RESET_SECONDS", 2)

    # The worker shows a QR code on the outing page.
    context, page = new_page(browser, locale="fi-FI", session=session_of(worker_a), base_url=live_server.url)
    page.goto(f"{live_server.url}/field/outings/{outing.pk}/")
    page.click("text=Pyydä palautetta")
    page.click("button:has-text('Näytä QR-koodi')")
    page.wait_for_selector(".qr svg")  # the code arrives with the page the button asks for
    assert page.locator(".qr svg").count() == 1
    box = page.locator(".qr svg").bounding_box()
    assert box["width"] >= 250, "the QR code is big enough to scan from a phone held out"
    url = page.get_attribute("#feedback-url", "href")
    kiosk_url = page.get_attribute("#kiosk-url", "href")
    shoot(page, "fi-360-ask")
    context.close()

    # The form in each language, as a client's phone asks for it; an English client answers too.
    for locale, heading in (("sv-SE", "Hur gick det?"), ("en-GB", "How did it go?")):
        context, page = new_page(browser, locale=locale)
        page.goto(url)
        assert page.text_content("h1") == heading
        context.close()
    answer_on_a_phone(browser, url, locale="en-GB", score="4", name="en-360")

    # Eight clients on their own phones: four in Swedish, four in Finnish (one looks at Swedish on the form).
    answer_on_a_phone(browser, url, locale="sv-SE", score="5", name="sv-360")
    for score in ("4", "3", "5"):
        answer_on_a_phone(browser, url, locale="sv-SE", score=score)
    answer_on_a_phone(browser, url, locale="fi-FI", score="4", name="fi-360")
    context, page = new_page(browser, locale="fi-FI")
    page.goto(url)
    page.click("a[hreflang=sv]")
    assert page.text_content("h1") == "Hur gick det?"
    shoot(page, "fi-chooses-sv-360-form")
    context.close()

    # Six answers so far: the coordinator does not see the day centre's figures yet.
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())
    week = f"start={monday.isoformat()}&end={(monday + datetime.timedelta(days=6)).isoformat()}&group=site"
    context, page = new_page(
        browser, locale="en-GB", desktop=True, session=session_of(coordinator), base_url=live_server.url
    )
    page.goto(f"{live_server.url}/reports/feedback/?{week}")
    row = page.locator(f"#feedback-table tr[data-key='{site.pk}']")
    assert "fewer than 7 answers" in row.text_content()
    context.close()

    for score in ("5", "4", "4"):
        answer_on_a_phone(browser, url, locale="fi-FI", score=score)

    # One more on the worker's tablet in kiosk mode: thanks, then a clean form, with nothing in the history.
    context, page = new_page(browser, locale="fi-FI", desktop=True)
    page.goto(kiosk_url)
    page.click("label[for=id_score_1]")
    page.fill("#id_comment", "Jonotin kauan")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/thanks/.*kiosk=1.*"))
    assert page.text_content("h1") == "Kiitos!"
    shoot(page, "fi-1280-kiosk-thanks")
    page.wait_for_url(re.compile(r".*/f/[^/]+/\?lang=fi&kiosk=1$"), timeout=10_000)
    page.wait_for_selector("button[type=submit]")
    assert page.locator("input[type=radio]:checked").count() == 0
    assert page.input_value("#id_comment") == ""
    assert "Jonotin" not in page.content()
    shoot(page, "fi-1280-kiosk-clean-form")
    page.go_back()
    page.wait_for_load_state()
    assert "Jonotin" not in page.content()
    assert page.locator("input[type=radio]:checked").count() == 0
    context.close()

    # Eight clients in Swedish and Finnish, one in English, one on the kiosk.
    assert ClientFeedback.objects.filter(site=site).count() == 8 + 1 + 1
    assert ClientFeedback.objects.filter(site=site, language="sv").count() == 4

    # The coordinator's week: the day centre with its figures, the quiet site without.
    for language, locale in (("fi", "fi-FI"), ("sv", "sv-SE"), ("en", "en-GB")):
        for desktop in (True, False):
            context, page = new_page(
                browser, locale=locale, desktop=desktop, session=session_of(coordinator), base_url=live_server.url
            )
            page.goto(f"{live_server.url}/reports/feedback/?{week}")
            row = page.locator(f"#feedback-table tr[data-key='{site.pk}']")
            cells = row.locator("td")
            assert cells.nth(0).text_content() == "10"
            assert re.fullmatch(r"4[.,]00", cells.nth(1).text_content().strip())
            quiet = page.locator("#feedback-table tr", has_text="Ruokajakelu Tori")
            assert quiet.locator("td").nth(0).text_content() == "3"
            assert quiet.locator("td.suppressed").count() == 1
            shoot(page, f"{language}-{'1280' if desktop else '360'}-results")
            context.close()
