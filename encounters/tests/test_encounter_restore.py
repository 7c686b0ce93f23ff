"""Deleting an encounter can be undone for as long as a quick log: the same record comes back."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from encounters import services
from encounters.models import Encounter, EncounterDayCount, PersonDayCount
from encounters.permissions import ENCOUNTER_UNDO_SECONDS
from encounters.tests.factories import EncounterFactory, PersonFactory
from outreach.models import AuditEntry, OutingEncounterCount
from outreach.tests.factories import FieldSiteFactory, OutingFactory, UserFactory
from outreach.vocabulary import OutingStatus, Role


def url(name: str, *args) -> str:
    return reverse(f"encounters:{name}", args=args)


@pytest.fixture
def outing(team_a, worker_a, expert_a):
    today = timezone.localdate()
    return OutingFactory(
        team=team_a,
        site=FieldSiteFactory(team=team_a),
        date=today,
        start_time=datetime.time(0, 0),
        status=OutingStatus.PLANNED,
        started_at=timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 0))),
        participants=[worker_a, expert_a],
    )


@pytest.fixture
def entry(outing, worker_a, expert_a):
    encounter = EncounterFactory(
        team=outing.team,
        site=outing.site,
        outing=outing,
        person=PersonFactory(team=outing.team),
        anonymous=False,
        created_by=worker_a,
        gender="female",
        age_group="18_29",
        needs=["housing", "livelihood"],
        notes="Talked about a flat.",
    )
    encounter.workers.set([worker_a, expert_a])
    from encounters import rollups

    rollups.encounters_changed(encounter)
    return encounter


FIELDS = ("team_id", "site_id", "outing_id", "person_id", "occurred_at", "gender", "age_group", "needs", "notes")


def snapshot(encounter: Encounter) -> dict:
    return {
        **{name: getattr(encounter, name) for name in FIELDS},
        "created_by": encounter.created_by_id,
        "created_at": encounter.created_at,
        "workers": set(encounter.workers.values_list("pk", flat=True)),
    }


def rollup_rows() -> tuple:
    return (
        list(EncounterDayCount.objects.values_list("site_id", "day", "total", "gender_female", "need_housing")),
        list(PersonDayCount.objects.values_list("person_id", "day", "encounters")),
        list(OutingEncounterCount.objects.values_list("outing_id", "encounters")),
    )


def test_a_delete_then_undo_brings_back_the_same_record(client, worker_a, entry):
    before, rollups_before = snapshot(entry), rollup_rows()
    client.force_login(worker_a)

    deleted = client.post(url("encounter_delete", entry.pk))
    assert deleted.status_code == 302
    assert deleted.url == url("outing_detail", entry.outing_id) + "#log"
    assert not Encounter.objects.filter(pk=entry.pk).exists()
    assert rollup_rows() != rollups_before
    page = client.get(deleted.url).content.decode()
    assert "Encounter deleted" in page
    assert f'action="{url("encounter_restore", entry.pk)}"' in page

    response = client.post(url("encounter_restore", entry.pk))

    assert response.status_code == 302
    assert response.url == url("outing_detail", entry.outing_id) + "#log"
    assert snapshot(Encounter.objects.get(pk=entry.pk)) == before
    assert rollup_rows() == rollups_before
    actions = list(
        AuditEntry.objects.filter(model="encounters.encounter", object_id=str(entry.pk), actor=worker_a)
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )
    assert actions == ["delete", "create"]


def test_someone_else_cannot_undo_the_delete(client, worker_a, team_a, entry):
    client.force_login(worker_a)
    client.post(url("encounter_delete", entry.pk))
    colleague = UserFactory(role=Role.WORKER, teams=[team_a])
    client.force_login(colleague)

    response = client.post(url("encounter_restore", entry.pk))

    assert response.status_code == 403
    assert not Encounter.objects.filter(pk=entry.pk).exists()


def test_after_the_window_the_undo_is_refused_with_a_message(client, worker_a, entry):
    client.force_login(worker_a)
    client.post(url("encounter_delete", entry.pk))
    past = timezone.now() - datetime.timedelta(seconds=ENCOUNTER_UNDO_SECONDS + 1)
    AuditEntry.objects.filter(action="delete", object_id=str(entry.pk)).update(at=past)

    response = client.post(url("encounter_restore", entry.pk), follow=True)

    assert response.status_code == 200
    assert "The time to undo the delete has passed; the encounter stays deleted." in response.content.decode()
    assert not Encounter.objects.filter(pk=entry.pk).exists()


def test_the_undo_is_no_longer_offered_after_the_window(client, worker_a, entry):
    client.force_login(worker_a)
    deleted = client.post(url("encounter_delete", entry.pk))
    session = client.session
    session["field_restore"]["at"] = (timezone.now() - datetime.timedelta(seconds=60)).isoformat()
    session.save()

    assert "Encounter deleted" not in client.get(deleted.url).content.decode()


def test_a_restored_encounter_is_not_restored_twice(worker_a, entry):
    workers, pk = list(entry.workers.all()), entry.pk
    services.encounter_delete(actor=worker_a, encounter=entry)
    services.encounter_restore(actor=worker_a, encounter_id=pk, workers=workers)

    with pytest.raises(services.ValidationError):
        services.encounter_restore(actor=worker_a, encounter_id=pk, workers=workers)


def test_an_anonymous_user_cannot_restore(client, worker_a, entry):
    pk = entry.pk
    services.encounter_delete(actor=worker_a, encounter=entry)

    response = client.post(url("encounter_restore", pk))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not Encounter.objects.filter(pk=pk).exists()
