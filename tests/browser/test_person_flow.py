"""Last month's regular, on a phone (360 × 640): the worker finds them by alias on the Persons page, is
warned at the outing before making a duplicate, and links today's encounter to them; then sees next
week's follow-up in My follow-ups. In Finnish, Swedish and English, screenshots in test-artifacts/field/.
"""

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from encounters.models import FollowUp, Person
from outreach.models import AccessLogEntry, Outing, User
from reports import demo

from .person_steps import (
    TEXTS,
    find_person_by_alias,
    last_months_regular,
    link_todays_encounter_via_duplicate_warning,
    start_outing,
)
from .test_field_flow import SITE, assert_tap_targets, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_data(db):
    municipalities = importlib.import_module("outreach.migrations.0002_municipalities")
    municipalities.load(django_apps, None)
    return demo.seed_demo(encounters=150, password=demo.DEMO_PASSWORD)


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_last_months_regular_is_found_and_todays_encounter_linked(live_server, phone, screenshot, demo_data, language):
    text = TEXTS[language]
    worker = User.objects.get(email="worker@example.org")
    regular = last_months_regular(worker)
    next_week = timezone.localdate() + datetime.timedelta(days=7)
    follow_up = FollowUp.objects.create(team=regular.team, person=regular, assigned_to=worker, due_on=next_week)
    persons_before = Person.objects.count()
    page = phone(locale=text["locale"])
    shot = lambda name: screenshot(page, f"person-{language}-{name}")  # noqa: E731

    sign_in(page, live_server, worker.email)
    assert page.locator("html").get_attribute("lang") == language

    find_person_by_alias(page, text, regular, "sinisi", on_results=lambda page: shot("00-persons-search"))
    shot("01-person-page")
    assert_tap_targets(page, "person page")
    assert page.locator("#timeline .timeline__event--encounter").count() == 3
    assert AccessLogEntry.objects.filter(person_id=regular.pk, action="search", actor=worker).exists()

    start_outing(page, text, SITE)
    encounter = link_todays_encounter_via_duplicate_warning(page, text, regular)
    shot("02-linked")
    assert encounter.outing == Outing.objects.get(created_by=worker, end_time=None)
    assert Person.objects.count() == persons_before

    page.goto(f"{live_server.url}/field/persons/{regular.pk}/")
    assert page.locator("#timeline .timeline__event--encounter").count() == 4
    page.goto(f"{live_server.url}/field/")
    page.get_by_role("link", name=text["follow_ups"]).first.tap()
    # The demo data may have other follow-ups next week: wait for this one.
    page.locator(f"#next-week #follow-up-{follow_up.pk}").wait_for()
    shot("03-my-follow-ups")
    assert_tap_targets(page, "my follow-ups")


def test_the_persons_page_on_a_desktop(live_server, phone, screenshot, demo_data):
    worker = User.objects.get(email="worker@example.org")
    last_months_regular(worker)
    page = phone(locale="fi-FI", desktop=True)
    sign_in(page, live_server, worker.email)

    page.goto(f"{live_server.url}/field/persons/")
    page.fill("#id_q", "sini")
    page.locator("#person-rows [data-results-for='sini']").wait_for()
    screenshot(page, "person-fi-desktop-list")
    page.goto(f"{live_server.url}/field/persons/new/")
    page.fill("#id_alias", "Sinisiipi")
    page.fill("#id_birth_year", "1987")
    page.locator("form.panel button.button--big").click()
    page.locator("#similar-persons").wait_for()
    screenshot(page, "person-fi-desktop-duplicates")
