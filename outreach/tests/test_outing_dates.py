"""Dates that would distort the statistics are refused at every door, by one rule on the model.

A done outing cannot lie in the future (a later day, or today with its end
still to come); a planned one is not dated weeks back; a follow-up is not due
weeks back. The rule is `outreach.models.outing_date_errors` (and
`encounters.models.follow_up_due_error`), run by the services through
validate_model, so the pages, the API, the admin and the import all refuse
the same records.
"""

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from encounters import services as encounter_services
from encounters.models import FollowUp
from encounters.tests.factories import PersonFactory
from outreach import services
from outreach.models import Outing, outing_date_errors
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import OutingStatus

pytestmark = pytest.mark.django_db


def now() -> datetime.datetime:
    return timezone.localtime()


def test_the_rule_refuses_a_done_outing_in_the_future_and_a_planned_one_weeks_back():
    today = now().date()
    tomorrow = today + datetime.timedelta(days=1)

    assert set(outing_date_errors(date=tomorrow, end_time=None, status="done", date_is_new=True)) == {"date"}
    still_to_come = outing_date_errors(date=today, end_time=datetime.time(23, 59, 59), status="done", date_is_new=True)
    assert set(still_to_come) == {"end_time"}
    assert (
        outing_date_errors(
            date=today - datetime.timedelta(days=1), end_time=datetime.time(23, 59), status="done", date_is_new=True
        )
        == {}
    )
    old = today - datetime.timedelta(days=15)
    assert set(outing_date_errors(date=old, end_time=None, status="planned", date_is_new=True)) == {"date"}
    # An outing left planned since then can still be finished or changed otherwise.
    assert outing_date_errors(date=old, end_time=None, status="planned", date_is_new=False) == {}
    assert outing_date_errors(date=old, end_time=datetime.time(12), status="done", date_is_new=False) == {}
    assert outing_date_errors(date=tomorrow, end_time=None, status="planned", date_is_new=True) == {}


def test_finishing_with_an_end_time_still_to_come_is_refused(worker_a, team_a):
    # Started at midnight, as the 22:04 outing of the report; its end at 23:59:59 is still to come.
    midnight = now().replace(hour=0, minute=0, second=0, microsecond=0)
    outing = services.outing_start(actor=worker_a, team=team_a, site=FieldSiteFactory(), at=midnight)

    with pytest.raises(ValidationError) as caught:
        services.outing_finish(actor=worker_a, outing=outing, end_time=datetime.time(23, 59, 59))

    assert "end_time" in caught.value.message_dict
    outing.refresh_from_db()
    assert (outing.status, outing.end_time) == (OutingStatus.PLANNED, None)


def test_the_api_refuses_a_done_outing_tomorrow_and_planning_a_year_back(worker_a, team_a):
    site = FieldSiteFactory()
    client = api_client(worker_a)
    tomorrow = (now().date() + datetime.timedelta(days=1)).isoformat()
    year_ago = (now().date() - datetime.timedelta(days=365)).isoformat()

    done = client.post(
        "/api/v1/outings/",
        {"site": site.pk, "date": tomorrow, "start_time": "10:00", "end_time": "12:00", "status": "done"},
        format="json",
    )
    planned = client.post("/api/v1/outings/", {"site": site.pk, "date": year_ago, "start_time": "10:00"}, format="json")

    assert done.status_code == 400
    assert "date" in done.json()
    assert planned.status_code == 400
    assert "date" in planned.json()
    assert not Outing.objects.exists()
    # A record of what happened a year ago is welcome.
    record = client.post(
        "/api/v1/outings/",
        {"site": site.pk, "date": year_ago, "start_time": "10:00", "end_time": "12:00", "status": "done"},
        format="json",
    )
    assert record.status_code == 201, record.json()


def test_the_import_refuses_a_done_outing_tomorrow(tmp_path, worker_a, team_a):
    site = FieldSiteFactory()
    path = tmp_path / "outings.csv"
    tomorrow = (now().date() + datetime.timedelta(days=1)).isoformat()
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["site", "date", "start_time", "end_time", "status"])
        writer.writerow([site.pk, tomorrow, "10:00", "12:00", "done"])

    errors = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_records", "outings", str(path), "--user", worker_a.email, stderr=errors, stdout=errors)

    assert "line 2: date" in errors.getvalue()
    assert not Outing.objects.exists()


def test_the_planning_page_refuses_a_date_a_year_back(client, worker_a, team_a):
    site = FieldSiteFactory(team=team_a)
    client.force_login(worker_a)
    year_ago = now().date() - datetime.timedelta(days=365)

    response = client.post(
        "/outings/plan/",
        {"team": team_a.pk, "site": site.pk, "date": year_ago.isoformat(), "start_time": "10:00", "end_time": "12:00"},
    )

    assert response.status_code == 200
    assert "date" in response.context["form"].errors
    assert not Outing.objects.exists()


def test_an_old_planned_outing_can_still_be_finished(worker_a, team_a):
    old = OutingFactory(
        team=team_a, date=now().date() - datetime.timedelta(days=20), start_time=datetime.time(10), end_time=None
    )

    services.outing_finish(actor=worker_a, outing=old, end_time=datetime.time(12))

    old.refresh_from_db()
    assert old.status == OutingStatus.DONE


def test_a_follow_up_due_years_back_is_refused(worker_a, team_a):
    person = PersonFactory(team=team_a)

    with pytest.raises(ValidationError) as caught:
        encounter_services.follow_up_create(
            actor=worker_a, team=team_a, person=person, due_on=datetime.date(2020, 5, 4)
        )

    assert "due_on" in caught.value.message_dict
    assert not FollowUp.objects.exists()
    encounter_services.follow_up_create(actor=worker_a, team=team_a, person=person, due_on=now().date())
    assert FollowUp.objects.count() == 1
