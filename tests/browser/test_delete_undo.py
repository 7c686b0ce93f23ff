"""Deleting an encounter on a phone (360 × 640), then undoing it: the same entry is back in the outing's log."""

import datetime
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from encounters.models import Encounter
from encounters.tests.factories import EncounterFactory
from outreach.models import AuditEntry
from outreach.tests.factories import FieldSiteFactory, OutingFactory, TeamFactory, UserFactory
from outreach.vocabulary import OutingStatus, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"


@pytest.fixture
def logged(db):
    importlib.import_module("outreach.migrations.0002_municipalities").load(django_apps, None)
    team = TeamFactory(name="Kuopio")
    worker = UserFactory(email="undo.worker@example.org", role=Role.WORKER, teams=[team])
    today = timezone.localdate()
    outing = OutingFactory(
        team=team,
        site=FieldSiteFactory(name="Tori", team=team),
        date=today,
        start_time=datetime.time(0, 0),
        end_time=None,
        status=OutingStatus.PLANNED,
        started_at=timezone.now(),
        participants=[worker],
    )
    encounter = EncounterFactory(team=team, site=outing.site, outing=outing, created_by=worker, notes="Kahvilla.")
    encounter.workers.set([worker])
    return {"worker": worker, "outing": outing, "encounter": encounter}


def test_a_worker_deletes_an_entry_and_undoes_it_on_a_phone(live_server, phone, screenshot, logged):
    page = phone(locale="fi-FI")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", logged["worker"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/$"))
    pk = logged["encounter"].pk

    page.goto(f"{live_server.url}/field/encounters/{pk}/edit/")
    page.locator("button.button--danger").tap()
    page.wait_for_url(re.compile(rf".*/field/outings/{logged['outing'].pk}/.*"))
    banner = page.locator("#restore")
    assert "Kohtaaminen poistettiin" in banner.inner_text()
    screenshot(page, "fi-encounter-deleted")
    assert not Encounter.objects.filter(pk=pk).exists()

    banner.locator("button").tap()
    page.wait_for_load_state()
    page.wait_for_selector("text=Kohtaaminen palautettiin.")
    screenshot(page, "fi-encounter-restored")

    restored = Encounter.objects.get(pk=pk)
    assert (restored.notes, list(restored.workers.all())) == ("Kahvilla.", [logged["worker"]])
    assert list(
        AuditEntry.objects.filter(object_id=str(pk), model="encounters.encounter")
        .values_list("action", flat=True)
        .order_by("at", "pk")
    ) == ["delete", "create"]


def test_the_undo_goes_away_after_its_seconds(live_server, phone, logged):
    page = phone(locale="fi-FI")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", logged["worker"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/field/$"))

    page.goto(f"{live_server.url}/field/encounters/{logged['encounter'].pk}/edit/")
    page.locator("button.button--danger").tap()
    page.wait_for_selector("#restore button")

    page.wait_for_selector("#restore button", state="detached", timeout=20_000)
