"""The outings API, with its tally: /api/v1/outings/."""

import datetime
import uuid

import pytest
from django.utils import timezone

from outreach.models import AuditEntry, Outing, TallyEvent
from outreach.tests.api_helpers import api_client, ids, results
from outreach.tests.factories import FieldSiteFactory, OutingFactory, UserFactory, municipality
from outreach.vocabulary import OutingStatus, Role, SiteType

URL = "/api/v1/outings/"
# A planned outing is dated ahead (or at most two weeks back).
NEXT_WEEK = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()


def detail(pk, suffix="") -> str:
    return f"{URL}{pk}/{suffix}"


@pytest.fixture
def site(db):
    return FieldSiteFactory(name="Day centre", site_type=SiteType.DAY_CENTRE)


@pytest.fixture
def outing_a(team_a, site, worker_a, expert_a):
    return OutingFactory(team=team_a, site=site, participants=[worker_a, expert_a], tallied_contacts=0)


def test_worker_plans_an_outing(worker_a, expert_a, team_a, site):
    response = api_client(worker_a).post(
        URL,
        {
            "site": site.pk,
            "date": NEXT_WEEK,
            "start_time": "10:00",
            "end_time": "12:30:00",
            "participants": [worker_a.pk, expert_a.pk],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {
        "id",
        "team",
        "site",
        "date",
        "start_time",
        "end_time",
        "status",
        "participants",
        "tallied_contacts",
    } <= set(body)
    assert body["team"] == team_a.pk
    assert (body["start_time"], body["end_time"]) == ("10:00", "12:30")
    assert body["status"] == "planned"
    assert sorted(body["participants"]) == sorted([worker_a.pk, expert_a.pk])
    assert body["tallied_contacts"] == 0
    outing = Outing.objects.get()
    assert outing.start_time == datetime.time(10, 0)
    assert outing.created_by == worker_a
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, model="outreach.outing").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_time": "09:00"}, "end_time"),
        ({"start_time": "25:00"}, "start_time"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": "0001-01-01"}, "date"),
        ({"status": "done-ish"}, "status"),
        ({"tallied_contacts": -3}, "tallied_contacts"),
        ({"site": 999999}, "site"),
        ({"participants": [999999]}, "participants"),
        ({"participants": "1"}, "participants"),
    ],
)
def test_invalid_outing_gets_400_naming_the_field(worker_a, site, changes, field):
    data = {"site": site.pk, "date": NEXT_WEEK, "start_time": "10:00", "end_time": "12:00", **changes}

    response = api_client(worker_a).post(URL, data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Outing.objects.exists()


def test_foreign_team_and_colleagues_do_not_exist_in_a_write(worker_a, worker_b, team_b, site):
    client = api_client(worker_a)
    base = {"site": site.pk, "date": NEXT_WEEK, "start_time": "10:00"}

    for field, value in [("team", team_b.pk), ("participants", [worker_b.pk])]:
        response = client.post(URL, {**base, field: value}, format="json")
        assert response.status_code == 400
        assert field in response.json()
    assert not Outing.objects.exists()


def test_team_left_out_by_users_with_several_or_no_teams(team_a, team_b, site):
    data = {"site": site.pk, "date": NEXT_WEEK, "start_time": "10:00"}
    for user in (UserFactory(role=Role.WORKER, teams=[team_a, team_b]), UserFactory(role=Role.WORKER)):
        response = api_client(user).post(URL, data, format="json")
        assert response.status_code == 400
        assert "team" in response.json()
    assert not Outing.objects.exists()


def test_visibility(worker_a, worker_b, expert_a, team_a, team_b, site, outing_a):
    other_team = OutingFactory(team=team_b, site=site)
    without_expert = OutingFactory(team=team_a, site=site)

    assert ids(api_client(worker_a).get(URL)) == {outing_a.pk, without_expert.pk}
    assert api_client(worker_a).get(detail(other_team.pk)).status_code == 404
    assert ids(api_client(worker_b).get(URL)) == {other_team.pk}
    assert ids(api_client(expert_a).get(URL)) == {outing_a.pk}
    assert api_client(expert_a).get(detail(without_expert.pk)).status_code == 404
    assert api_client().get(URL).status_code == 401


def test_worker_records_the_outing_as_done(worker_a, outing_a):
    Outing.objects.filter(pk=outing_a.pk).update(status=OutingStatus.PLANNED)

    response = api_client(worker_a).patch(
        detail(outing_a.pk), {"status": "done", "observations": "Many new faces."}, format="json"
    )

    assert response.status_code == 200, response.json()
    outing_a.refresh_from_db()
    assert outing_a.status == OutingStatus.DONE
    assert outing_a.observations == "Many new faces."
    assert AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE, object_id=str(outing_a.pk)).exists()


def test_experts_and_other_teams_cannot_change_an_outing(expert_a, worker_a, worker_b, outing_a):
    assert api_client(expert_a).patch(detail(outing_a.pk), {"notes": "x"}, format="json").status_code == 403
    assert api_client(expert_a).post(URL, {}, format="json").status_code == 403
    assert api_client(worker_b).patch(detail(outing_a.pk), {"notes": "x"}, format="json").status_code == 404
    assert api_client(worker_a).delete(detail(outing_a.pk)).status_code == 405
    outing_a.refresh_from_db()
    assert outing_a.notes == ""


def test_filters(worker_a, team_a, site, outing_a):
    street = FieldSiteFactory(site_type=SiteType.STREET, municipality=municipality("204"))
    june = OutingFactory(team=team_a, site=street, date=datetime.date(2026, 6, 3), status=OutingStatus.PLANNED)
    client = api_client(worker_a)

    assert ids(client.get(URL, {"date_after": "2026-06-01"})) == {june.pk}
    assert ids(client.get(URL, {"start": "2026-05-01", "end": "2026-05-31"})) == {outing_a.pk}
    assert ids(client.get(URL, {"status": "planned"})) == {june.pk}
    assert ids(client.get(URL, {"site": site.pk})) == {outing_a.pk}
    assert ids(client.get(URL, {"site_type": "street"})) == {june.pk}
    assert ids(client.get(URL, {"municipality": "204"})) == {june.pk}
    assert ids(client.get(URL, {"team": team_a.pk})) == {outing_a.pk, june.pk}
    assert ids(client.get(URL, {"participant": worker_a.pk})) == {outing_a.pk}
    assert [row["id"] for row in results(client.get(URL, {"ordering": "date"}))] == [outing_a.pk, june.pk]
    for parameter, value in [("status", "maybe"), ("municipality", "000"), ("date_before", "soon")]:
        response = client.get(URL, {parameter: value})
        assert response.status_code == 400
        assert parameter in response.json()


def test_list_query_count(worker_a, expert_a, team_a, site, django_assert_max_num_queries):
    for day in range(1, 26):
        OutingFactory(team=team_a, site=site, date=datetime.date(2026, 5, day), participants=[worker_a, expert_a])

    with django_assert_max_num_queries(4):
        rows = results(api_client(worker_a).get(URL))
    assert len(rows) == 25
    assert all(len(row["participants"]) == 2 for row in rows)


# Tally ---------------------------------------------------------------------


def test_tally_counts_and_a_resend_counts_once(worker_a, outing_a):
    client = api_client(worker_a)
    tap = {"delta": 1, "client_uuid": str(uuid.uuid4())}

    first = client.post(detail(outing_a.pk, "tally/"), tap, format="json")
    again = client.post(detail(outing_a.pk, "tally/"), tap, format="json")

    assert first.status_code == 201
    assert first.json()["tallied_contacts"] == 1
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    outing_a.refresh_from_db()
    assert outing_a.tallied_contacts == 1
    assert TallyEvent.objects.get().actor == worker_a


def test_a_tally_uuid_reused_for_another_tap_is_a_conflict(worker_a, team_a, site, outing_a):
    client = api_client(worker_a)
    key = str(uuid.uuid4())
    other = OutingFactory(team=team_a, site=site, tallied_contacts=0)
    client.post(detail(outing_a.pk, "tally/"), {"delta": 5, "client_uuid": key}, format="json")

    assert (
        client.post(detail(outing_a.pk, "tally/"), {"delta": 4, "client_uuid": key}, format="json").status_code == 409
    )
    assert client.post(detail(other.pk, "tally/"), {"delta": 5, "client_uuid": key}, format="json").status_code == 409
    outing_a.refresh_from_db()
    other.refresh_from_db()
    assert (outing_a.tallied_contacts, other.tallied_contacts) == (5, 0)


def test_tally_without_uuid_counts_each_time_and_never_below_zero(worker_a, outing_a):
    client = api_client(worker_a)

    client.post(detail(outing_a.pk, "tally/"), {"delta": 2}, format="json")
    client.post(detail(outing_a.pk, "tally/"), {"delta": 2}, format="json")
    response = client.post(detail(outing_a.pk, "tally/"), {"delta": -10}, format="json")

    assert response.json()["tallied_contacts"] == 4
    outing_a.refresh_from_db()
    assert outing_a.tallied_contacts == 4


def test_who_may_tally(expert_a, worker_b, team_a, site, outing_a):
    not_theirs = OutingFactory(team=team_a, site=site)

    assert api_client(expert_a).post(detail(outing_a.pk, "tally/"), {"delta": 1}, format="json").status_code == 201
    assert api_client(expert_a).post(detail(not_theirs.pk, "tally/"), {"delta": 1}, format="json").status_code == 404
    assert api_client(worker_b).post(detail(outing_a.pk, "tally/"), {"delta": 1}, format="json").status_code == 404
    assert api_client().post(detail(outing_a.pk, "tally/"), {"delta": 1}, format="json").status_code == 401
    outing_a.refresh_from_db()
    assert outing_a.tallied_contacts == 1


@pytest.mark.parametrize("body", [{}, {"delta": "many"}, {"delta": 10**6}, {"delta": 1, "client_uuid": "abc"}])
def test_invalid_tally_gets_400(worker_a, outing_a, body):
    response = api_client(worker_a).post(detail(outing_a.pk, "tally/"), body, format="json")

    assert response.status_code == 400
    assert set(response.json()) & {"delta", "client_uuid"}
    outing_a.refresh_from_db()
    assert outing_a.tallied_contacts == 0


def test_the_api_shows_when_an_outing_was_started_and_does_not_let_a_client_set_it(worker_a, team_a, site):
    from outreach.services import outing_start_planned

    today = timezone.localdate()
    outing = OutingFactory(
        team=team_a,
        site=site,
        date=today,
        start_time=datetime.time(0, 0),
        status=OutingStatus.PLANNED,
        participants=[worker_a],
    )
    client = api_client(worker_a)
    assert client.get(detail(outing.pk)).json()["started_at"] is None

    at = timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 1)))
    outing_start_planned(actor=worker_a, outing=outing, at=at)
    body = client.get(detail(outing.pk)).json()
    assert datetime.datetime.fromisoformat(body["started_at"]) == at

    response = client.patch(detail(outing.pk), {"started_at": "2020-01-01T10:00:00Z", "notes": "x"}, format="json")
    assert response.status_code == 200, response.json()
    outing.refresh_from_db()
    assert (outing.started_at, outing.notes) == (at, "x")
