"""What a new user tripped on, in Chromium, in fi, sv and en, on a phone (360 px) and on a desktop.

Today with one current outing, a planned one to start and yesterday's to finish or cancel; follow-ups that
say what they are about; the outing page calling people by alias, with search results kept in view above
the sticky Save bar; logging a contact without an outing; the 403 page. Screenshots: test-artifacts/field/.
"""

import datetime
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from encounters.models import FollowUp, Person
from encounters.tests.factories import EncounterFactory, PersonFactory
from outreach.models import Municipality
from outreach.tests.factories import FieldSiteFactory, OutingFactory, TeamFactory, UserFactory
from outreach.vocabulary import OutingStatus, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
LOCALES = {"fi": "fi-FI", "sv": "sv-SE", "en": "en-GB"}
TEXTS = {
    "fi": {"in_progress": "Käynnissä oleva jalkautuminen", "contact": "Kirjaa yhteydenotto", "no_access": "Ei pääsyä"},
    "sv": {"in_progress": "Pågående fältbesök", "contact": "Registrera en kontakt", "no_access": "Ingen åtkomst"},
    "en": {"in_progress": "Outing in progress", "contact": "Log a contact", "no_access": "No access"},
}


@pytest.fixture
def field_day(db):
    municipalities = importlib.import_module("outreach.migrations.0002_municipalities")
    municipalities.load(django_apps, None)
    kuopio = Municipality.objects.get(code="297")
    team = TeamFactory(name=kuopio.name)
    worker = UserFactory(email="new.worker@example.org", full_name="Uusi Työntekijä", role=Role.WORKER, teams=[team])
    expert = UserFactory(
        email="new.expert@example.org", full_name="Kokemus Asiantuntija", role=Role.EXPERT, teams=[team]
    )
    today = timezone.localdate()
    now = timezone.now()

    def site(name):
        return FieldSiteFactory(name=name, team=team, municipality=kuopio)

    current = OutingFactory(
        team=team,
        site=site("Ruoka-apu Männistö"),
        date=today,
        start_time=datetime.time(0, 0),
        end_time=None,
        status=OutingStatus.PLANNED,
        started_at=now,
        participants=[worker],
    )
    OutingFactory(
        team=team,
        site=site("Päiväkeskus"),
        date=today,
        start_time=datetime.time(0, 5),
        end_time=None,
        status=OutingStatus.PLANNED,
        participants=[worker],
    )
    OutingFactory(
        team=team,
        site=site("Tori"),
        date=today - datetime.timedelta(days=1),
        start_time=datetime.time(10),
        status=OutingStatus.PLANNED,
        started_at=now - datetime.timedelta(days=1),
        participants=[worker],
    )
    named = PersonFactory(team=team, kind=Person.Kind.NAMED, alias="Kettu", first_name="Eija", last_name="Hämäläinen")
    for index in range(6):
        PersonFactory(team=team, alias=f"Ketunpoika {index}")
    EncounterFactory(team=team, site=current.site, outing=current, person=named, created_by=worker)
    FollowUp.objects.create(
        team=team, person=named, assigned_to=worker, due_on=today, notes="Soita asuntohakemuksesta."
    )
    return {"worker": worker, "expert": expert, "current": current, "named": named}


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/$"))


@pytest.mark.parametrize(
    ("language", "desktop"), [("fi", False), ("sv", False), ("en", False), ("fi", True), ("sv", True), ("en", True)]
)
def test_a_new_workers_day(live_server, phone, screenshot, field_day, language, desktop):
    page = phone(locale=LOCALES[language], desktop=desktop)
    name = f"corners-{language}-{'desktop' if desktop else 'phone'}"
    text = TEXTS[language]
    sign_in(page, live_server, field_day["worker"].email)

    # Today: one current outing; the planned one waits with Start; yesterday's asks to finish or cancel.
    assert page.locator("#in-progress .outing-card").count() == 1
    assert text["in_progress"] in page.locator("#in-progress").inner_text()
    assert page.locator("#outings-upcoming form[action$='/start/']").count() == 1
    assert page.locator("#outings-unfinished a[href$='/cancel/']").count() == 1
    follow_up = page.locator("#follow-ups .follow-up").first
    assert "Kettu" in follow_up.inner_text()
    assert "Soita asuntohakemuksesta." in follow_up.inner_text()
    assert "Hämäläinen" not in page.content()
    height = page.locator("#outings-upcoming a.button").bounding_box()["height"]
    assert height >= 44, height
    screenshot(page, f"{name}-01-today")

    # The outing page: alias first, no "Kuopio · Kuopio", search results in view above the Save bar.
    page.goto(f"{live_server.url}/field/outings/{field_day['current'].pk}/")
    assert "Kuopio · Kuopio" not in page.locator(".outing-head").inner_text()
    assert "Hämäläinen" not in page.content()
    page.locator("#person-fold > summary").click()
    page.fill("#id_person_query", "ket")
    page.wait_for_selector("#person-results li")
    page.wait_for_timeout(400)
    results = page.locator("#person-results").bounding_box()
    bar = page.locator(".save-bar").bounding_box()
    viewport = page.viewport_size["height"]
    first_result = page.locator("#person-results li").first.bounding_box()
    assert first_result["y"] >= 0, (first_result, bar)
    assert first_result["y"] + first_result["height"] <= min(bar["y"], viewport), (first_result, bar)
    assert results is not None
    screenshot(page, f"{name}-02-outing-search")

    # A contact outside an outing, from the person page.
    page.goto(f"{live_server.url}/field/persons/{field_day['named'].pk}/")
    page.click(f"text={text['contact']}")
    page.wait_for_url(re.compile(r".*/contact/$"))
    page.locator("label[for=id_site_0], select[name=site]").first.wait_for()
    page.select_option("select[name=site]", index=1)
    screenshot(page, f"{name}-03-contact-form")
    page.click("main form.panel button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/persons/\d+/(#encounters)?$"))
    screenshot(page, f"{name}-03-contact-logged")

    # The 403 page, to an expert by experience: the app's layout and a translated explanation.
    page = phone(locale=LOCALES[language], desktop=desktop)
    sign_in(page, live_server, field_day["expert"].email)
    response = page.goto(f"{live_server.url}/outings/plan/")
    assert response.status == 403
    assert page.locator(".site-header").count() == 1
    assert page.locator("h1").inner_text() == text["no_access"]
    screenshot(page, f"{name}-04-forbidden")
