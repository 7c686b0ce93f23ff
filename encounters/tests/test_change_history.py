"""Change history (django-simple-history) of persons, encounters, referrals and outings.

Who changed what, with old and new values, read by coordinators in the admin
for the records they see; a rectification keeps the value it corrected.
"""

import pytest
from django.urls import reverse

from encounters.models import Encounter, Person, Referral
from encounters.tests.factories import EncounterFactory, ReferralFactory
from outreach.models import AccessLogEntry, Outing
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import FieldSiteFactory, OutingFactory, UserFactory
from outreach.vocabulary import Role

OLD_CODE, NEW_CODE = "131052-308T", "010101A123N"


@pytest.fixture
def named(team_a):
    return Person.objects.create(
        team=team_a, kind=Person.Kind.NAMED, first_name="Maija", last_name="Meikäläinen", identity_code=OLD_CODE
    )


def history_url(obj):
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_history", args=[obj.pk])


def test_a_rectification_keeps_the_old_value_and_who_made_it(worker_a, named):
    response = api_client(worker_a).patch(f"/api/v1/persons/{named.pk}/", {"identity_code": NEW_CODE}, format="json")

    assert response.status_code == 200
    latest, previous = named.history.order_by("-history_id")[:2]
    assert (latest.identity_code, latest.history_user, latest.history_type) == (NEW_CODE, worker_a, "~")
    assert previous.identity_code == OLD_CODE
    delta = latest.diff_against(previous)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("identity_code", OLD_CODE, NEW_CODE)]


def test_encounters_referrals_and_outings_have_history(worker_a, team_a):
    site = FieldSiteFactory(team=team_a)
    outing = OutingFactory(team=team_a, site=site)
    encounter = EncounterFactory(team=team_a, site=site, outing=outing, notes="first", created_by=worker_a)
    referral = ReferralFactory(team=team_a)
    client = api_client(worker_a)

    assert client.patch(f"/api/v1/encounters/{encounter.pk}/", {"notes": "second"}, format="json").status_code == 200
    assert (
        client.patch(f"/api/v1/referrals/{referral.pk}/", {"outcome_notes": "soitettu"}, format="json").status_code
        == 200
    )
    assert client.patch(f"/api/v1/outings/{outing.pk}/", {"notes": "sade"}, format="json").status_code == 200

    assert Referral.history.filter(id=referral.pk, outcome_notes="soitettu", history_user=worker_a).exists()
    assert Outing.history.filter(id=outing.pk, notes="sade", history_user=worker_a).exists()
    assert list(
        Encounter.history.filter(id=encounter.pk).order_by("history_id").values_list("notes", "history_user")
    ) == [
        ("first", None),
        ("second", worker_a.pk),
    ]


def test_a_coordinator_reads_the_history_in_the_admin_and_the_reading_is_logged(client, with_totp, coordinator, named):
    from encounters.services import person_update

    person_update(actor=coordinator, person=named, identity_code=NEW_CODE)
    client.force_login(with_totp(coordinator))

    response = client.get(history_url(named))

    assert response.status_code == 200
    content = response.content.decode()
    assert OLD_CODE in content
    assert NEW_CODE in content
    assert AccessLogEntry.objects.filter(person_id=named.pk, action="history", actor=coordinator).count() == 1


def test_the_history_of_another_areas_record_is_404(client, with_totp, named, team_other_area):
    stranger = UserFactory(role=Role.COORDINATOR, teams=[team_other_area])
    client.force_login(with_totp(stranger))

    assert client.get(history_url(named)).status_code == 404
    version = named.history.first()
    version_url = reverse("admin:encounters_person_simple_history", args=[named.pk, version.history_id])
    assert client.get(version_url).status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_workers_do_not_reach_the_history(client, worker_a, named):
    client.force_login(worker_a)

    response = client.get(history_url(named))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_history_is_never_reverted_from_the_admin(client, with_totp, coordinator, named):
    from encounters.services import person_update

    person_update(actor=coordinator, person=named, identity_code=NEW_CODE)
    old = named.history.order_by("history_id").first()
    client.force_login(with_totp(coordinator))
    version_url = reverse("admin:encounters_person_simple_history", args=[named.pk, old.history_id])

    response = client.post(version_url, {"identity_code": OLD_CODE, "team": named.team_id})

    assert response.status_code == 403
    named.refresh_from_db()
    assert named.identity_code == NEW_CODE
