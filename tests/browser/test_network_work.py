"""Network work in a browser: a worker on a phone (360 × 640) finds a housing service in Tuusniemi and
refers a person to it; a coordinator at 1280 px records a street-network meeting with two decisions
and a task, which then shows on the owner's Today page."""

import datetime
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.utils import timezone

from encounters.models import Referral
from networks.models import MeetingTask, Network, NetworkMeeting, NetworkMembership, PartnerOrganisation, PartnerService
from outreach.models import Municipality
from outreach.tests.factories import FieldSiteFactory, OutingFactory, TeamFactory, UserFactory
from outreach.vocabulary import OutingStatus, Role

from .conftest import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"


@pytest.fixture
def world(db):
    importlib.import_module("outreach.migrations.0002_municipalities").load(django_apps, None)
    tuusniemi = Municipality.objects.get(code="857")
    team = TeamFactory(name="Tuusniemi")
    worker = UserFactory(email="network.worker@example.org", full_name="Outi Etsivä", role=Role.WORKER, teams=[team])
    coordinator = UserFactory(email="network.coordinator@example.org", role=Role.COORDINATOR, teams=[team])
    housing = PartnerOrganisation.objects.create(name="Tuusniemen vuokratalot", kind="housing", phone="017 555 0100")
    service = PartnerService.objects.create(
        partner=housing, name="Vuokra-asunnon haku", service_kind="housing", how_to_refer="Soita arkisin 9–15."
    )
    service.municipalities.set([tuusniemi])
    PartnerService.objects.create(partner=housing, name="Velkaneuvonta", service_kind="debt_counselling")
    kuopio = PartnerService.objects.create(partner=housing, name="Kuopion asumisneuvonta", service_kind="housing")
    kuopio.municipalities.set([Municipality.objects.get(code="297")])
    today = timezone.localdate()
    outing = OutingFactory(
        team=team,
        site=FieldSiteFactory(name="Tuusniemen kirjasto", team=team, municipality=tuusniemi),
        date=today,
        start_time=datetime.time(0, 0),
        end_time=None,
        status=OutingStatus.PLANNED,
        started_at=timezone.now(),
        participants=[worker],
    )
    street = Network.objects.create(name="Katuverkosto", kind=Network.Kind.STREET, coordinating_team=team)
    NetworkMembership.objects.create(network=street, organisation=housing, joined_on=datetime.date(2026, 1, 1))
    return {"worker": worker, "coordinator": coordinator, "service": service, "outing": outing, "street": street}


def sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/$"))


@pytest.mark.parametrize("locale", ["en-GB", "fi-FI", "sv-SE"])
def test_a_worker_finds_a_housing_service_in_tuusniemi_and_refers_to_it(live_server, phone, screenshot, world, locale):
    page = phone(locale=locale)
    language = locale[:2]
    sign_in(page, live_server, world["worker"].email)
    service = world["service"]

    # The directory, searched as one types: the text goes by POST.
    page.goto(f"{live_server.url}/directory/")
    page.select_option("#id_municipality", label="Tuusniemi")
    page.select_option("#id_service_kind", "housing")
    page.fill("#id_q", "vuokra")
    # The answer to the last of the requests sent while choosing and typing.
    page.wait_for_function("document.querySelectorAll('#directory-results .card').length === 1")
    page.locator(f"#service-{service.pk}").wait_for()
    results = page.locator("#directory-results")
    assert "Kuopion asumisneuvonta" not in results.inner_text()
    assert "Velkaneuvonta" not in results.inner_text()
    assert "vuokra" not in page.url
    assert page.locator(f"#service-{service.pk} a[href^='tel:']").count() == 1
    screenshot(page, f"{language}-directory-housing-tuusniemi")

    # Picked as the referral target of a person met at the outing in Tuusniemi.
    page.goto(f"{live_server.url}/field/outings/{world['outing'].pk}/")
    page.locator("#person-fold > summary").tap()
    page.fill("#id_new_alias", f"Kettu-{language}")
    page.locator("details.fold:has(#id_referral_service_kind) > summary").tap()
    page.select_option("#id_referral_service_kind", "housing")
    offered = page.locator("#id_referral_partner_service option:not([hidden])").all_inner_texts()
    assert any("Vuokra-asunnon haku" in text for text in offered)
    assert not any("Velkaneuvonta" in text or "Kuopion" in text for text in offered)
    page.select_option("#id_referral_partner_service", str(service.pk))
    screenshot(page, f"{language}-referral-to-a-partner-service")
    page.locator("#quick-log-save").tap()
    page.locator("#undo").wait_for()

    referral = Referral.objects.get(person__alias=f"Kettu-{language}")
    assert (referral.partner_service, referral.partner, referral.service_kind) == (service, service.partner, "housing")


def signed_in_desktop(browser, live_server, user, locale: str):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context, context.new_page()


def test_a_coordinator_records_a_street_network_meeting_with_two_decisions_and_a_task(
    live_server, browser, phone, screenshot, world
):
    context, page = signed_in_desktop(browser, live_server, world["coordinator"], "fi-FI")
    worker = world["worker"]
    try:
        page.goto(f"{live_server.url}/network-work/networks/{world['street'].pk}/")
        screenshot(page, "fi-street-network")
        page.locator(f"a[href$='/network-work/networks/{world['street'].pk}/meetings/new/']").click()
        page.wait_for_url(re.compile(r".*/meetings/new/$"))
        page.fill("#id_participant_count", "7")
        page.fill("#id_topics", "Kesän katutyö")
        page.fill("#id_decisions", "Kierrokset alkavat toukokuussa\nYhteinen tiedote kaupungille")
        page.locator("#id_organisations input[type=checkbox]").first.check()
        page.fill("#id_task-0-title", "Kysy tilaa seurakunnalta")
        page.select_option("#id_task-0-owner_user", str(worker.pk))
        page.fill("#id_task-0-due_on", (timezone.localdate() + datetime.timedelta(days=7)).isoformat())
        screenshot(page, "fi-meeting-form")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/network-work/meetings/\d+/$"))
        assert page.locator("#decisions li").all_inner_texts() == [
            "Kierrokset alkavat toukokuussa",
            "Yhteinen tiedote kaupungille",
        ]
        screenshot(page, "fi-meeting-recorded")
    finally:
        context.close()

    meeting = NetworkMeeting.objects.get()
    task = MeetingTask.objects.get()
    assert (meeting.network, meeting.participant_count, task.owner_user) == (world["street"], 7, worker)

    # The owner sees the task on the Today page.
    today_page = phone(locale="fi-FI")
    sign_in(today_page, live_server, worker.email)
    assert "Kysy tilaa seurakunnalta" in today_page.locator("#my-network-tasks").inner_text()
    screenshot(today_page, "fi-today-with-a-network-task")
