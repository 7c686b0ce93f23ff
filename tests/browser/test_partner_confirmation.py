"""A referral confirmed by the partner, on a phone (360 by 640), in Chromium.

A worker records a regular's consent on their page, adds a referral to the
day's encounter, makes the partner's link on the referral's page; the
partner opens it signed out (a new browser context), sees only the service,
the date and the reference, and answers "arrived"; the worker sees the
referral connected on Today. In Finnish, Swedish and English; screenshots of
each step in test-artifacts/field/.
"""

import datetime
import re

import pytest
from django.utils import timezone

from encounters.models import Person, Referral, ReferralConfirmation
from encounters.tests.factories import EncounterFactory, PersonFactory
from networks.models import ContactPerson, PartnerOrganisation
from outreach.tests.factories import FieldSiteFactory, OutingFactory, TeamFactory, UserFactory, municipality
from outreach.vocabulary import OutingStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
TEXTS = {
    "fi": {
        "locale": "fi-FI",
        "consent": "Kirjaa suostumus ja nimi",
        "add_referral": "Lisää ohjaus",
        "create_link": "Tee linkki kumppanille",
        "question": "Saapuiko henkilö?",
        "send": "Lähetä vastaus",
        "thanks": "Kiitos",
        "confirmed": "Kumppanien vahvistamat",
        "connected": "Palveluun kiinnittynyt",
    },
    "sv": {
        "locale": "sv-SE",
        "consent": "Registrera samtycke och namn",
        "add_referral": "Lägg till hänvisning",
        "create_link": "Skapa en länk för partnern",
        "question": "Kom personen?",
        "send": "Skicka svaret",
        "thanks": "Tack",
        "confirmed": "Bekräftade av partner",
        "connected": "Ansluten",
    },
    "en": {
        "locale": "en-GB",
        "consent": "Record consent and name",
        "add_referral": "Add referral",
        "create_link": "Create a link for the partner",
        "question": "Did the person arrive?",
        "send": "Send the answer",
        "thanks": "Thank you",
        "confirmed": "Confirmed by partners",
        "connected": "Connected",
    },
}


@pytest.fixture
def field_day(db):
    """Today's outing with a regular met last month, and a partner with a contact person."""
    team = TeamFactory(name="Kuopio")
    worker = UserFactory(email="worker.partner@example.org", full_name="Terhi Työntekijä", teams=[team])
    site = FieldSiteFactory(team=team, name="Asema", municipality=municipality())
    outing = OutingFactory(
        team=team,
        site=site,
        date=timezone.localdate(),
        start_time=datetime.time(0, 0),
        end_time=None,
        status=OutingStatus.PLANNED,
        participants=[worker],
    )
    regular = PersonFactory(team=team, alias="Kettu", birth_year=1984, gender="female")
    EncounterFactory(team=team, site=site, person=regular, occurred_at=timezone.now() - datetime.timedelta(days=30))
    today = EncounterFactory(
        team=team,
        site=site,
        outing=outing,
        person=regular,
        created_by=worker,
        occurred_at=timezone.now() - datetime.timedelta(minutes=30),
    )
    partner = PartnerOrganisation.objects.create(name="Asumisneuvonta Kuopio")
    ContactPerson.objects.create(partner=partner, name="Liisa", email="liisa@asumisneuvonta.example")
    return {"worker": worker, "regular": regular, "encounter": today, "partner": partner}


def sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/$"))


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_a_referral_confirmed_by_the_partner(live_server, phone, screenshot, field_day, language):
    text = TEXTS[language]
    regular = field_day["regular"]
    page = phone(locale=text["locale"])
    shot = lambda target, name: screenshot(target, f"partner-{language}-{name}")  # noqa: E731
    sign_in(page, live_server, field_day["worker"].email)

    # The regular's page: record their consent and name.
    page.goto(f"{live_server.url}/field/persons/{regular.pk}/")
    page.locator("#make-named summary").tap()
    page.locator("input[name=named-consent_scopes][value=personal_data]").check(force=True)
    page.locator("input[name=named-consent_scopes][value=information_sharing]").check(force=True)
    page.fill("#make-named input[name=named-first_name]", "Maija")
    page.fill("#make-named input[name=named-last_name]", "Meikäläinen")
    shot(page, "1-consent")
    with page.expect_navigation():
        page.locator("#make-named button[type=submit]", has_text=text["consent"]).tap()
    regular.refresh_from_db()
    assert regular.kind == Person.Kind.NAMED

    # Today's encounter with them: add a referral to housing advice.
    page.goto(f"{live_server.url}/field/encounters/{field_day['encounter'].pk}/edit/")
    page.select_option("select[name=referral-service_kind]", "housing")
    page.select_option("select[name=referral-partner]", str(field_day["partner"].pk))
    with page.expect_navigation():
        page.locator("button[type=submit]", has_text=text["add_referral"]).tap()
    referral = Referral.objects.get(person=regular)
    assert referral.status == "suggested"

    # The referral's page: make the partner's link (e-mailed to the contact person too).
    page.goto(f"{live_server.url}/field/referrals/{referral.pk}/")
    assert page.locator("input[name=send_to]").input_value() == "liisa@asumisneuvonta.example"
    with page.expect_navigation():
        page.locator("button[type=submit]", has_text=text["create_link"]).tap()
    link = page.locator("#partner-link").input_value()
    assert "/partner/referrals/" in link
    shot(page, "2-link")

    # The partner, signed out in a browser of their own: the minimum, and the answer.
    partner_page = phone(locale=text["locale"])
    partner_page.goto(link)
    body = partner_page.locator("main").inner_text()
    assert text["question"] in body
    assert f"R-{referral.pk:06d}" in body
    for personal in ("Kettu", "Maija", "Meikäläinen", "Kuopio", "Asema"):
        assert personal not in body
    shot(partner_page, "3-partner")
    partner_page.locator("input[name=outcome][value=arrived]").check()
    partner_page.fill("input[name=partner_name]", "Liisa")
    with partner_page.expect_navigation():
        partner_page.locator("button[type=submit]", has_text=text["send"]).tap()
    assert partner_page.locator("h1").inner_text() == text["thanks"]
    shot(partner_page, "4-thanks")
    referral.refresh_from_db()
    assert referral.status == "connected"
    assert ReferralConfirmation.objects.get(referral=referral).outcome == "arrived"

    # The worker's Today: the partner's answer, the referral connected.
    page.goto(f"{live_server.url}/field/")
    section = page.locator("#partner-confirmations")
    assert text["confirmed"] in section.inner_text()
    assert "Kettu" in section.inner_text()
    assert text["connected"] in section.inner_text()
    shot(page, "5-today")
