"""A morning at a food distribution, on a phone (360 × 640), in Chromium.

The demo worker signs in, starts an outing, logs an anonymous conversation in
three taps, logs one linked to a new pseudonymous person with a referral,
links a third to that person found by search, taps the tally five times and
finishes the outing; then the database is checked. Once in English and once
with the Swedish UI. Screenshots of each step: test-artifacts/field/.
"""

import datetime
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from encounters.models import Encounter, Person, Referral
from outreach.models import Outing, User
from outreach.vocabulary import OutingStatus
from reports import demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SITE = "Ruoka-apu, Männistön seurakuntakeskus"

# Texts the flow looks for, per language (they prove the page is translated).
TEXTS = {
    "en": {"locale": "en-GB", "start": "Start outing", "saved": "Saved:", "finish": "Finish outing"},
    "sv": {"locale": "sv-SE", "start": "Starta fältbesök", "saved": "Sparat:", "finish": "Avsluta fältbesöket"},
}


@pytest.fixture
def demo_data(db):
    """The demo data set, small: the demo worker's team, sites, colleagues and partners.

    A test with the live server empties the tables when it ends, the
    municipalities of the data migration too: load them again first.
    """
    municipalities = importlib.import_module("outreach.migrations.0002_municipalities")
    municipalities.load(django_apps, None)
    return demo.seed_demo(encounters=150, password=demo.DEMO_PASSWORD)


def sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", demo.DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/$"))


def assert_tap_targets(page, name: str) -> None:
    """Every button, chip, fold and field on the page is at least 44 px tall (WCAG 2.5.5)."""
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                'main button, main .chip, main summary, main select, main textarea, '
                + 'main input:not([type=hidden]):not([type=radio]):not([type=checkbox]), main .button')]
            .filter(el => el.offsetParent !== null)
            .map(el => [el.textContent.trim().slice(0, 30) || el.name, el.getBoundingClientRect().height])
            .filter(([label, height]) => height < 44)"""
    )
    assert small == [], f"{name}: tap targets under 44 px: {small}"


def tap(page, selector: str, taps: list) -> None:
    page.locator(selector).tap()
    taps.append(selector)


@pytest.mark.parametrize("language", ["en", "sv"])
def test_a_morning_at_a_food_distribution(live_server, phone, screenshot, demo_data, language):
    text = TEXTS[language]
    worker = User.objects.get(email="worker@example.org")
    page = phone(locale=text["locale"])
    shot = lambda name: screenshot(page, f"{language}-{name}")  # noqa: E731

    # Sign in: the worker's start page is Today.
    sign_in(page, live_server, worker.email)
    assert page.locator("html").get_attribute("lang") == language
    shot("01-today")
    assert_tap_targets(page, "today")

    # Start an outing: the site, two colleagues, start.
    page.get_by_role("link", name=text["start"], exact=True).tap()
    page.wait_for_url(re.compile(r".*/field/outings/start/$"))
    page.locator("label.chip", has_text=SITE).tap()
    page.locator("label.chip", has_text="Anna Korhonen").tap()
    page.locator("label.chip", has_text="Tiina Laitinen").tap()
    shot("02-start")
    assert_tap_targets(page, "start")
    page.locator(".save-bar button[type=submit]").tap()
    page.wait_for_url(re.compile(r".*/field/outings/\d+/$"))
    outing = Outing.objects.get(created_by=worker, status=OutingStatus.PLANNED, end_time=None)
    assert outing.site.name == SITE
    assert {u.email for u in outing.participants.all()} == {
        "worker@example.org",
        "anna.korhonen@example.org",
        "expert@example.org",
    }
    shot("03-outing")
    assert_tap_targets(page, "outing")

    # An anonymous conversation in three taps: gender, age group, Save.
    taps: list[str] = []
    tap(page, "label[for=id_gender_0]", taps)
    tap(page, "label[for=id_age_group_2]", taps)
    tap(page, "#quick-log-save", taps)
    page.locator("#undo").wait_for()
    assert text["saved"] in page.locator("#undo").inner_text()
    assert len(taps) == 3
    shot("04-anonymous-saved")
    first = Encounter.objects.get(outing=outing)
    assert (first.depth, first.gender, first.age_group, first.anonymous) == ("conversation", "female", "30_39", True)
    # The new entry is on top of the list.
    assert page.locator(".encounter-item").count() == 1

    # One linked to a new pseudonymous person, with a referral folded into the same form.
    page.locator("label[for=id_gender_1]").tap()
    page.locator("label[for=id_needs_2]").tap()  # housing
    page.locator("#person-fold > summary").tap()
    page.fill("#id_new_alias", "Sinisiipi")
    page.fill("#id_new_birth_year", "1987")
    page.locator("label[for=id_new_gender_1]").tap()
    page.locator("details.fold:has(#id_referral_service_kind) > summary").tap()
    page.select_option("#id_referral_service_kind", "housing")
    page.select_option("#id_referral_status", "made")
    shot("05-person-and-referral-form")
    page.locator("#quick-log-save").tap()
    page.locator("#undo").wait_for()
    page.wait_for_function("document.querySelectorAll('.encounter-item').length === 2")
    shot("06-person-saved")
    sinisiipi = Person.objects.get(alias="Sinisiipi")
    assert (sinisiipi.kind, sinisiipi.birth_year, sinisiipi.gender, sinisiipi.team_id) == (
        "pseudonymous",
        1987,
        "male",
        outing.team_id,
    )
    linked = Encounter.objects.get(person=sinisiipi)
    assert linked.needs == ["housing"]
    referral = Referral.objects.get(encounter=linked)
    assert (referral.service_kind, referral.status, referral.person) == ("housing", "made", sinisiipi)

    # A third, linked to Sinisiipi found by searching as one types.
    page.locator("#person-fold > summary").tap()
    page.fill("#id_person_query", "sinis")
    page.locator(f"#person-results label[for=id_person_found_{sinisiipi.pk}]").tap()
    shot("07-person-search")
    page.locator("#quick-log-save").tap()
    page.wait_for_function("document.querySelectorAll('.encounter-item').length === 3")
    assert Encounter.objects.filter(person=sinisiipi).count() == 2

    # Five people greeted: five taps on +1, each saved at once.
    for _ in range(5):
        page.locator(".tally__button--plus").tap()
    page.wait_for_function("document.querySelector('#tally-count').textContent.trim() === '5'")
    shot("08-tally")
    outing.refresh_from_db()
    assert outing.tallied_contacts == 5

    # Finish: the end time defaults to now; observations; a summary of what was logged.
    page.get_by_role("link", name=text["finish"], exact=True).tap()
    page.wait_for_url(re.compile(r".*/finish/$"))
    shot("09-finish")
    assert_tap_targets(page, "finish")
    page.fill("#id_observations", "Young adults asked about housing.")
    # The outing began just now, and an end time still to come is refused: move its start a few minutes
    # back (to yesterday in the first minutes after midnight) and end it now.
    now = timezone.localtime()
    if now.hour == 0 and now.minute < 5:
        Outing.objects.filter(pk=outing.pk).update(date=now.date() - datetime.timedelta(days=1))
        end_time = "23:59"
    else:
        Outing.objects.filter(pk=outing.pk).update(start_time=(now - datetime.timedelta(minutes=5)).time())
        end_time = now.strftime("%H:%M")
    page.fill("#id_end_time", end_time)
    page.locator(".save-bar button[type=submit]").tap()
    page.wait_for_url(re.compile(r".*/field/outings/\d+/$"))
    page.locator("#summary").wait_for()
    shot("10-done")

    outing.refresh_from_db()
    assert outing.status == OutingStatus.DONE
    assert outing.end_time is not None
    assert outing.end_time > outing.start_time
    assert outing.observations == "Young adults asked about housing."
    assert outing.tallied_contacts == 5
    encounters = Encounter.objects.filter(outing=outing)
    assert encounters.count() == 3
    assert encounters.filter(anonymous=True).count() == 1
    assert encounters.filter(person=sinisiipi).count() == 2
    assert all(set(e.workers.all()) == set(outing.participants.all()) for e in encounters)
    summary = page.locator("#summary").inner_text()
    assert "3" in summary
    assert "5" in summary
    assert "8" in summary


def test_keyboard_only_logging_undo_and_a_double_tap(live_server, phone, screenshot, demo_data):
    worker = User.objects.get(email="worker@example.org")
    page = phone()
    sign_in(page, live_server, worker.email)
    page.get_by_role("link", name="Start outing", exact=True).click()
    page.locator("label.chip", has_text=SITE).click()
    page.locator(".save-bar button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/field/outings/\d+/$"))
    outing = Outing.objects.get(created_by=worker, end_time=None, status=OutingStatus.PLANNED)

    # Keyboard only: into the gender group, arrows between the chips, Space, then Save with Enter.
    page.focus("#id_gender_0")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")
    screenshot(page, "en-11-keyboard-focus")
    page.focus("#quick-log-save")
    page.keyboard.press("Enter")
    page.locator("#undo").wait_for()
    encounter = Encounter.objects.get(outing=outing)
    assert (encounter.gender, encounter.age_group) == ("male", "18_29")
    # The undo has the focus's attention: the status message is focused after the save.
    assert page.evaluate("document.activeElement.id") == "undo"

    # Undo within the few seconds it is offered.
    page.locator("#undo button").click()
    page.wait_for_function("document.querySelectorAll('.encounter-item').length === 0")
    screenshot(page, "en-12-undone")
    assert not Encounter.objects.filter(outing=outing).exists()

    # A double tap on +1 counts once: the buttons are disabled while the first tap is sent.
    page.locator(".tally__button--plus").dblclick()
    page.wait_for_function("document.querySelector('#tally-count').textContent.trim() === '1'")
    page.wait_for_timeout(500)
    outing.refresh_from_db()
    assert outing.tallied_contacts == 1

    # The same page on a desktop screen.
    desktop = phone(desktop=True)
    sign_in(desktop, live_server, worker.email)
    desktop.goto(f"{live_server.url}/field/outings/{outing.pk}/")
    screenshot(desktop, "en-13-outing-desktop")
