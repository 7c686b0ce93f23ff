"""The field pages' side of working without a connection (static/js/outbox.js, /sw.js).

The copies of Today and of the outing page kept on the device hold nothing of
any client; the outing's copy exists only for the user's own current outing.
The outbox sends what was logged offline to the same field views with `Accept:
application/json` and gets JSON: saved (201), saved before (200, a resend of the
same client_uuid), refused with the reason (400, 404, 409).
"""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from encounters.models import Encounter, FollowUp, Person
from encounters.tests.factories import EncounterFactory, PersonFactory
from outreach.models import Outing, TallyEvent
from outreach.services import outing_start
from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import OutingStatus

JSON = {"Accept": "application/json"}


def url(name: str, *args: int) -> str:
    return reverse(f"encounters:{name}", args=args)


@pytest.fixture
def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def outing(team_a, worker_a, expert_a):
    """The worker's own outing, started a moment ago in the field."""
    site = FieldSiteFactory(name="Food bank", team=team_a)
    return outing_start(actor=worker_a, team=team_a, site=site, participants=[expert_a])


@pytest.fixture
def named(team_a):
    return PersonFactory(
        team=team_a, kind=Person.Kind.NAMED, alias="Maikki", first_name="Maija", last_name="Meikäläinen"
    )


# The copies kept on the device ------------------------------------------------------------


def test_the_outing_copy_has_the_quick_log_and_tally_and_no_client(client, worker_a, outing, named):
    EncounterFactory(team=outing.team, site=outing.site, outing=outing, person=named, anonymous=False)
    client.force_login(worker_a)
    page = client.get(url("outing_detail", outing.pk)).content.decode()
    assert "Maikki" in page
    assert f'name="outreach-keep-offline" content="{url("outing_offline", outing.pk)}"' in page

    response = client.get(url("outing_offline", outing.pk))

    assert response.status_code == 200
    copy = response.content.decode()
    assert 'name="outreach-offline-copy"' in copy
    assert 'id="quick-log"' in copy
    assert 'class="tally__form"' in copy
    assert "Maikki" not in copy
    assert "Meikäläinen" not in copy
    assert "data-person-search" not in copy  # no search of persons, and no list of encounters
    assert 'id="offline-list"' in copy
    assert 'name="new_alias"' in copy  # a new pseudonymous person can still be met


def test_only_the_users_own_current_outing_has_a_copy(
    client, worker_a, worker_b, coordinator, with_totp, outing, team_a
):
    colleague_outing = OutingFactory(
        team=team_a, date=outing.date, status=OutingStatus.PLANNED, started_at=timezone.now(), participants=[]
    )
    done = OutingFactory(team=team_a, date=outing.date, status=OutingStatus.DONE, participants=[worker_a])
    not_started = OutingFactory(team=team_a, date=outing.date, status=OutingStatus.PLANNED, participants=[worker_a])
    client.force_login(worker_a)
    for other in (colleague_outing, done, not_started):
        assert client.get(url("outing_offline", other.pk)).status_code == 404
        assert "outreach-keep-offline" not in client.get(url("outing_detail", other.pk)).content.decode()
    client.force_login(worker_b)
    assert client.get(url("outing_offline", outing.pk)).status_code == 404
    client.force_login(with_totp(coordinator))  # sees the outing, does not take part
    assert client.get(url("outing_offline", outing.pk)).status_code == 404


def test_an_outing_copy_of_yesterday_is_no_longer_kept(client, worker_a, outing, today):
    Outing.objects.filter(pk=outing.pk).update(date=today - datetime.timedelta(days=1))
    client.force_login(worker_a)
    assert client.get(url("outing_offline", outing.pk)).status_code == 404


def test_the_today_copy_lists_outings_and_no_follow_up(
    client, worker_a, outing, named, today, django_assert_max_num_queries
):
    FollowUp.objects.create(team=outing.team, person=named, assigned_to=worker_a, due_on=today)
    client.force_login(worker_a)
    assert "Maikki" in client.get(url("today")).content.decode()

    with django_assert_max_num_queries(12):
        response = client.get(url("today_offline"))

    copy = response.content.decode()
    assert response.status_code == 200
    assert 'name="outreach-offline-copy"' in copy
    assert "Food bank" in copy
    assert "Maikki" not in copy
    assert 'id="follow-ups"' not in copy
    assert 'id="offline-follow-ups"' in copy


def test_the_copies_are_for_reading_only(client, worker_a, outing):
    client.force_login(worker_a)
    assert client.post(url("today_offline")).status_code == 405
    assert client.post(url("outing_offline", outing.pk)).status_code == 405


# The outbox's sends ----------------------------------------------------------------------


def quick_log(client, outing, **fields):
    data = {
        "depth": "conversation",
        "contact_kind": "field",
        "referral_status": "suggested",
        "client_uuid": str(uuid.uuid4()),
    } | fields
    return client.post(url("encounter_create", outing.pk), data, headers=JSON)


def test_an_encounter_sent_twice_is_saved_once(client, worker_a, outing):
    client.force_login(worker_a)
    key = str(uuid.uuid4())

    first = quick_log(client, outing, client_uuid=key, gender="female")
    again = quick_log(client, outing, client_uuid=key, gender="female")

    assert first.status_code == 201
    assert first.json()["client_uuid"] == key
    assert first.json()["replayed"] is False
    assert again.status_code == 200
    assert again.json() == first.json() | {"replayed": True}
    assert Encounter.objects.filter(outing=outing).count() == 1


def test_an_encounter_logged_offline_keeps_the_time_it_was_made(client, worker_a, outing):
    client.force_login(worker_a)
    made = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=40)
    if timezone.localdate(made) != outing.date:
        made = timezone.now().replace(microsecond=0)

    assert quick_log(client, outing, logged_at=made.isoformat()).status_code == 201

    assert Encounter.objects.get(outing=outing).occurred_at == made


def test_a_time_in_the_future_or_on_another_day_is_not_taken(client, worker_a, outing):
    client.force_login(worker_a)
    before = timezone.now()
    quick_log(client, outing, logged_at=(before + datetime.timedelta(hours=3)).isoformat())
    quick_log(client, outing, logged_at=(before - datetime.timedelta(days=2)).isoformat())

    for encounter in Encounter.objects.filter(outing=outing):
        assert before <= encounter.occurred_at <= timezone.now()


def test_an_entry_the_form_refuses_gets_its_reason_by_field(client, worker_a, outing):
    client.force_login(worker_a)

    response = quick_log(client, outing, new_alias="", new_birth_year="1850")

    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"new_birth_year"}
    assert body["detail"] == body["errors"]["new_birth_year"][0]
    assert not Encounter.objects.exists()


def test_an_entry_for_an_outing_cancelled_meanwhile_is_refused_with_what_to_do(client, worker_a, outing):
    Outing.objects.filter(pk=outing.pk).update(status=OutingStatus.CANCELLED)
    client.force_login(worker_a)

    encounter = quick_log(client, outing)
    tap = client.post(url("outing_tally", outing.pk), {"delta": "1", "client_uuid": str(uuid.uuid4())}, headers=JSON)

    for response in (encounter, tap):
        assert response.status_code == 409
        assert "cancelled" in response.json()["detail"]
    assert not Encounter.objects.exists()
    assert not TallyEvent.objects.exists()


def test_an_entry_for_an_outing_finished_meanwhile_is_saved_and_says_so(client, worker_a, outing):
    Outing.objects.filter(pk=outing.pk).update(status=OutingStatus.DONE, end_time=datetime.time(23, 59))
    client.force_login(worker_a)

    response = quick_log(client, outing)

    assert response.status_code == 201
    assert response.json()["outing_finished"] is True


def test_a_tap_sent_twice_counts_once(client, worker_a, outing):
    client.force_login(worker_a)
    key = str(uuid.uuid4())
    tally = url("outing_tally", outing.pk)

    first = client.post(tally, {"delta": "1", "client_uuid": key}, headers=JSON)
    again = client.post(tally, {"delta": "1", "client_uuid": key}, headers=JSON)
    other = client.post(tally, {"delta": "-1", "client_uuid": key}, headers=JSON)
    bad = client.post(tally, {"delta": "7", "client_uuid": str(uuid.uuid4())}, headers=JSON)

    assert (first.status_code, first.json()["tallied_contacts"], first.json()["replayed"]) == (201, 1, False)
    assert (again.status_code, again.json()["tallied_contacts"], again.json()["replayed"]) == (200, 1, True)
    assert other.status_code == 409
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"delta"}
    outing.refresh_from_db()
    assert outing.tallied_contacts == 1


def test_the_outbox_sends_of_another_team_get_404(client, worker_b, outing):
    client.force_login(worker_b)
    assert quick_log(client, outing).status_code == 404
    assert client.post(url("outing_tally", outing.pk), {"delta": "1"}, headers=JSON).status_code == 404
    assert not Encounter.objects.exists()


def test_a_session_that_ended_answers_with_the_sign_in_not_a_save(client, outing):
    response = quick_log(client, outing)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not Encounter.objects.exists()


def test_a_follow_up_marked_twice_is_done_once(client, worker_a, worker_b, named, today):
    follow_up = FollowUp.objects.create(team=named.team, person=named, assigned_to=worker_a, due_on=today)
    client.force_login(worker_b)
    refused = client.post(url("follow_up_done", follow_up.pk), {"note": "Soitin."}, headers=JSON)
    assert refused.status_code == 404
    assert refused.json()["detail"]
    client.force_login(worker_a)

    first = client.post(url("follow_up_done", follow_up.pk), {"note": "Soitin."}, headers=JSON)
    again = client.post(url("follow_up_done", follow_up.pk), {"note": "Soitin."}, headers=JSON)

    assert first.status_code == 201
    assert first.json()["done_on"] == today.isoformat()
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    follow_up.refresh_from_db()
    assert (follow_up.done_on, follow_up.notes) == (today, "Soitin.")


def test_the_page_forms_answer_as_before(client, worker_a, outing):
    """Without the JSON request (no JavaScript, or htmx online) nothing changes: a redirect or the page part."""
    client.force_login(worker_a)
    data = {"depth": "brief", "contact_kind": "field", "referral_status": "suggested"}
    response = client.post(url("encounter_create", outing.pk), data)
    assert response.status_code == 302
    response = client.post(url("outing_tally", outing.pk), {"delta": "1"})
    assert response.status_code == 302
