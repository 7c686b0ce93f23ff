"""Steps of the person flows on a phone, for the browser tests that follow a person over time.

Each step drives the page as a worker would and returns what it reached; the
tests check the database after. Kept apart so that flows which go on from
here (consent, a referral, the partner's confirmation) can reuse them.
"""

import datetime
import re

from django.utils import timezone

from encounters.models import Encounter, Person
from encounters.tests.factories import EncounterFactory, PersonFactory
from outreach.models import FieldSite, User

# The texts the steps tap, per language.
TEXTS = {
    "en": {
        "locale": "en-GB",
        "persons": "Persons",
        "start": "Start outing",
        "them": "This is them",
        "follow_ups": "My follow-ups",
    },
    "fi": {
        "locale": "fi-FI",
        "persons": "Henkilöt",
        "start": "Aloita jalkautuminen",
        "them": "Tämä on hän",
        "follow_ups": "Omat kannattelut",
    },
    "sv": {
        "locale": "sv-SE",
        "persons": "Personer",
        "start": "Starta fältbesök",
        "them": "Det är hen",
        "follow_ups": "Mina uppföljningar",
    },
}


def last_months_regular(worker: User, alias: str = "Sinisiipi", birth_year: int = 1987) -> Person:
    """A pseudonymous person of the worker's team, met three times last month at the team's sites."""
    team = worker.teams.first()
    person: Person = PersonFactory(team=team, alias=alias, birth_year=birth_year, gender="male")  # type: ignore[assignment]
    site = FieldSite.objects.filter(team=team, active=True).order_by("name").first()
    for days in (40, 33, 26):
        EncounterFactory(
            team=team,
            site=site,
            person=person,
            anonymous=False,
            needs=["housing"],
            occurred_at=timezone.now() - datetime.timedelta(days=days),
        )
    return person


def find_person_by_alias(page, text: dict, person: Person, typed: str, on_results=None) -> None:
    """From any page: Persons in the navigation, type part of the alias, open the person's page.

    `on_results(page)` is called when the results are shown (a screenshot)."""
    page.locator("nav.site-nav").get_by_role("link", name=text["persons"], exact=True).tap()
    page.wait_for_url(re.compile(r".*/field/persons/$"))
    page.fill("#id_q", typed)
    # The rows answered for what was typed (htmx), not the list the page opened with.
    page.locator(f"#person-rows [data-results-for='{typed}']").wait_for()
    row = page.locator(f"#person-rows a[href$='/field/persons/{person.pk}/']")
    assert page.locator("#person-rows .person-row").count() == 1
    # Nothing typed goes into the address: the search is a POST.
    assert typed not in page.url
    if on_results is not None:
        on_results(page)
    row.tap()
    page.wait_for_url(re.compile(rf".*/field/persons/{person.pk}/$"))


def start_outing(page, text: dict, site_name: str) -> None:
    """From Today: Start outing at the site, alone."""
    page.goto(page.url.split("/field/")[0] + "/field/")
    page.get_by_role("link", name=text["start"], exact=True).tap()
    page.wait_for_url(re.compile(r".*/field/outings/start/$"))
    page.locator("label.chip", has_text=site_name).first.tap()
    page.locator(".save-bar button[type=submit]").tap()
    page.wait_for_url(re.compile(r".*/field/outings/\d+/$"))


def link_todays_encounter_via_duplicate_warning(page, text: dict, person: Person) -> Encounter:
    """On the outing page: start typing the person as a new one; the quick log offers the existing
    record first, and "This is them" saves the encounter linked to it."""
    before = set(Encounter.objects.filter(person=person).values_list("pk", flat=True))
    page.locator("label[for=id_gender_1]").tap()
    page.locator("#person-fold > summary").tap()
    page.fill("#id_new_alias", person.alias)
    page.fill("#id_new_birth_year", str(person.birth_year))
    page.locator("#quick-log-save").tap()
    offered = page.locator("#similar-persons")
    offered.wait_for()
    offered.get_by_role("button", name=re.compile(re.escape(text["them"]))).first.tap()
    page.locator("#undo").wait_for()
    return Encounter.objects.filter(person=person).exclude(pk__in=before).get()
