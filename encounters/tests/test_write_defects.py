"""Writes that used to lose data, crash or change what the pages protect.

- Two edits of different fields made at the same time both keep their change:
  the services save only the fields that changed.
- A follow-up created as done, crosswise merges at once, and the API's 404
  and 500 answers (JSON, not HTML pages).
- A person's team cannot be changed through the API, nor a merged record.
"""

import datetime
import threading
from functools import partial

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from encounters import services
from encounters.models import Encounter, FollowUp, Person, Referral
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach import api as outreach_api
from outreach import services as outreach_services
from outreach.models import FieldSite, Outing
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import FieldSiteFactory, OutingFactory

# Two colleagues, two fields, one record -----------------------------------------------

# A follow-up is due ahead (a due date weeks back is refused).
SOON = timezone.localdate() + datetime.timedelta(days=3)


@pytest.fixture
def site(db):
    return FieldSiteFactory(name="Leipäjono")


def two_copies(model, pk):
    """The record as two requests read it before either saves."""
    return model.objects.get(pk=pk), model.objects.get(pk=pk)


def test_person_edits_of_different_fields_both_stay(worker_a, team_a):
    person = PersonFactory(team=team_a, alias="Kettu", notes="")
    first, second = two_copies(Person, person.pk)

    services.person_update(actor=worker_a, person=first, notes="Met at the food bank.")
    services.person_update(actor=worker_a, person=second, alias="Repo")

    person.refresh_from_db()
    assert (person.alias, person.notes) == ("Repo", "Met at the food bank.")


def test_encounter_edits_of_different_fields_both_stay(worker_a, team_a, site):
    encounter = EncounterFactory(team=team_a, site=site, created_by=worker_a, notes="", duration_minutes=None)
    first, second = two_copies(Encounter, encounter.pk)

    services.encounter_update(actor=worker_a, encounter=first, notes="Housing.")
    services.encounter_update(actor=worker_a, encounter=second, duration_minutes=20)

    encounter.refresh_from_db()
    assert (encounter.notes, encounter.duration_minutes) == ("Housing.", 20)


def test_follow_up_edits_of_different_fields_both_stay(worker_a, team_a):
    person = PersonFactory(team=team_a)
    follow_up = FollowUp.objects.create(team=team_a, person=person, due_on=SOON)
    first, second = two_copies(FollowUp, follow_up.pk)

    services.follow_up_update(actor=worker_a, follow_up=first, notes="Call in the morning.")
    services.follow_up_update(actor=worker_a, follow_up=second, due_on=(SOON + datetime.timedelta(days=2)))

    follow_up.refresh_from_db()
    assert (follow_up.notes, follow_up.due_on) == ("Call in the morning.", (SOON + datetime.timedelta(days=2)))


def test_outing_edits_of_different_fields_both_stay(worker_a, team_a, site):
    outing = OutingFactory(team=team_a, site=site, notes="", observations="")
    first, second = two_copies(Outing, outing.pk)

    outreach_services.outing_update(actor=worker_a, outing=first, notes="Bring leaflets.")
    outreach_services.outing_update(actor=worker_a, outing=second, observations="Many new faces.")

    outing.refresh_from_db()
    assert (outing.notes, outing.observations) == ("Bring leaflets.", "Many new faces.")


def test_referral_edits_of_different_fields_both_stay(worker_a, team_a):
    referral = ReferralFactory(team=team_a, outcome_notes="", follow_up_due=None)
    first, second = two_copies(Referral, referral.pk)

    services.referral_update(actor=worker_a, referral=first, outcome_notes="Got an appointment.")
    services.referral_update(actor=worker_a, referral=second, follow_up_due=(SOON + datetime.timedelta(days=2)))

    referral.refresh_from_db()
    assert (referral.outcome_notes, referral.follow_up_due) == (
        "Got an appointment.",
        (SOON + datetime.timedelta(days=2)),
    )


def test_site_edits_of_different_fields_both_stay(coordinator, team_a):
    site = FieldSiteFactory(team=team_a, name="Hall", address="")
    first, second = two_copies(FieldSite, site.pk)

    outreach_services.site_update(actor=coordinator, site=first, name="Church hall")
    outreach_services.site_update(actor=coordinator, site=second, address="Kirkkokatu 1")

    site.refresh_from_db()
    assert (site.name, site.address) == ("Church hall", "Kirkkokatu 1")


def test_an_update_writes_only_the_changed_columns(worker_a, team_a):
    person = PersonFactory(team=team_a, alias="Kettu")
    recorder = _Recorder()
    with connection.execute_wrapper(recorder):
        services.person_update(actor=worker_a, person=person, notes="New note.")
    (update,) = [sql for sql in recorder.sql if sql.startswith('UPDATE "encounters_person"')]
    assert '"notes"' in update
    assert '"updated_at"' in update
    assert '"alias"' not in update
    assert '"birth_year"' not in update


class _Recorder:
    def __init__(self):
        self.sql = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)


def _at_once(*calls) -> list:
    """Run the calls in threads started together; return what each raised (None: nothing)."""
    start = threading.Barrier(len(calls))
    raised: list = [None] * len(calls)

    def run(index, call):
        try:
            start.wait()
            call()
        except Exception as error:  # noqa: BLE001 - returned to the test
            raised[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return raised


def _patch(user, url, data, answers) -> None:
    answers.append(api_client(user).patch(url, data, format="json").status_code)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_patches_of_different_fields_both_stay_on_postgresql(worker_a, team_a):
    for round_ in range(5):
        person = PersonFactory(team=team_a, alias=f"Kettu {round_}", notes="")
        url = f"/api/v1/persons/{person.pk}/"
        answers: list[int] = []

        raised = _at_once(
            partial(_patch, worker_a, url, {"notes": "Food bank."}, answers),
            partial(_patch, worker_a, url, {"birth_year": 1990}, answers),
        )

        assert raised == [None, None]
        assert answers == [200, 200]
        person.refresh_from_db()
        assert (person.notes, person.birth_year) == ("Food bank.", 1990)


# Crashes ---------------------------------------------------------------------------


def test_a_follow_up_created_as_done_through_the_api(worker_a, team_a):
    person = PersonFactory(team=team_a)

    response = api_client(worker_a).post(
        "/api/v1/follow-ups/",
        {
            "person": person.pk,
            "due_on": SOON.isoformat(),
            "done_on": (SOON + datetime.timedelta(days=1)).isoformat(),
            "contact_kind": "phone",
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["done_on"] == (SOON + datetime.timedelta(days=1)).isoformat()
    assert FollowUp.objects.get().done_on == (SOON + datetime.timedelta(days=1))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_crosswise_merges_at_once_do_not_deadlock_on_postgresql(worker_a, team_a):
    from django.core.exceptions import ValidationError

    for _round in range(5):
        one, other = PersonFactory(team=team_a, alias="Kettu"), PersonFactory(team=team_a, alias="Kettu K")

        raised = _at_once(
            partial(services.person_merge, actor=worker_a, kept=one, merged=other),
            partial(services.person_merge, actor=worker_a, kept=other, merged=one),
        )

        # One merge wins; the other finds its record merged already and is
        # refused with a message. Neither is a deadlock.
        outcomes = sorted(type(error).__name__ for error in raised if error is not None)
        assert outcomes == ["ValidationError"], raised
        assert [error for error in raised if error is not None and not isinstance(error, ValidationError)] == []


@pytest.mark.parametrize("path", ["/api/v1/no-such-resource/", "/api/v1/persons/not-a-number/"])
def test_api_404_is_json(worker_a, path):
    client = Client()
    client.force_login(worker_a)

    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_pages_404_stays_html(worker_a):
    client = Client()
    client.force_login(worker_a)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_api_500_is_json_and_tells_nothing(worker_a, monkeypatch):
    def broken(self, request):
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(outreach_api.UserViewSet, "me", broken)
    client = Client(raise_request_exception=False)
    client.force_login(worker_a)

    response = client.get("/api/v1/users/me/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "A server error occurred."}
    assert b"secret" not in response.content


# What the pages protect, the API protects -------------------------------------------


def test_a_persons_team_cannot_be_changed_through_the_api(coordinator, team_a, team_b):
    person = PersonFactory(team=team_a, alias="Kettu")
    encounter = EncounterFactory(team=team_a, person=person, anonymous=False)

    response = api_client(coordinator).patch(f"/api/v1/persons/{person.pk}/", {"team": team_b.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["team"] == ["A person's team cannot be changed."]
    person.refresh_from_db()
    assert person.team == team_a
    assert encounter.person == person
    # The same team again is no change, and allowed.
    same = api_client(coordinator).patch(f"/api/v1/persons/{person.pk}/", {"team": team_a.pk}, format="json")
    assert same.status_code == 200


def test_a_merged_person_cannot_be_edited_or_named_through_the_api(worker_a, team_a):
    kept = PersonFactory(team=team_a, alias="Kettu")
    merged = PersonFactory(team=team_a, alias="Kettu K", merged_into=kept)
    client = api_client(worker_a)

    edit = client.patch(f"/api/v1/persons/{merged.pk}/", {"alias": "Renamed"}, format="json")
    named = client.post(
        f"/api/v1/persons/{merged.pk}/make-named/",
        {"consent_scopes": ["personal_data"], "first_name": "Matti"},
        format="json",
    )

    assert edit.status_code == 403
    assert named.status_code == 403
    assert edit.json()["detail"] == "This person record has been merged into another one."
    merged.refresh_from_db()
    assert (merged.alias, merged.kind) == ("Kettu K", Person.Kind.PSEUDONYMOUS)
