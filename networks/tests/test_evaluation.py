"""The network evaluation, GET /api/v1/reports/networks/, against figures counted by hand.

The period is March 2026 (1.3.–31.3.); every edge case sits on `end`, 31.3.
"""

import datetime

import pytest

from networks.models import (
    CommunicationActivity,
    CooperationAgreement,
    MeetingTask,
    Network,
    NetworkMeeting,
    NetworkMembership,
    PartnerOrganisation,
)
from outreach.tests.api_helpers import api_client

URL = "/api/v1/reports/networks/"
PERIOD = {"start": "2026-03-01", "end": "2026-03-31"}
D = datetime.date


@pytest.fixture
def street(team_a):
    return Network.objects.create(name="Katuverkosto", kind=Network.Kind.STREET, coordinating_team=team_a)


@pytest.fixture
def orgs(db):
    return [PartnerOrganisation.objects.create(name=f"Org {n}") for n in range(6)]


@pytest.fixture
def world(street, orgs, team_a, team_b):
    a, b, c, d, e, f = orgs
    member = NetworkMembership.objects.create
    member(network=street, organisation=a, joined_on=D(2025, 5, 1))  # in force
    member(network=street, organisation=b, joined_on=D(2026, 3, 31))  # joined on end: in force
    member(network=street, organisation=c, joined_on=D(2025, 1, 1), left_on=D(2026, 3, 31))  # left on end: out
    member(network=street, organisation=d, joined_on=D(2026, 4, 1))  # joined after end: out
    member(network=street, organisation=e)  # undated (the old member list): in force
    member(network=street, organisation=a, joined_on=D(2024, 1, 1), left_on=D(2024, 12, 31))  # a again: distinct
    member(network=street, organisation=f, joined_on=D(2025, 1, 1), left_on=D(2026, 4, 1))  # leaves after end: in

    agree = CooperationAgreement.objects.create
    agree(network=street, title="In force", agreed_on=D(2025, 1, 1))
    agree(network=street, title="Agreed on end", agreed_on=D(2026, 3, 31))
    agree(network=street, title="Ends on end", agreed_on=D(2025, 1, 1), ends_on=D(2026, 3, 31))
    agree(network=street, title="Ends after end", agreed_on=D(2025, 1, 1), ends_on=D(2026, 4, 1))
    agree(network=street, title="Agreed later", agreed_on=D(2026, 4, 2))

    before = NetworkMeeting.objects.create(network=street, date=D(2026, 2, 10))
    first = NetworkMeeting.objects.create(network=street, date=D(2026, 3, 1))
    first.organisations.set([a, b, c])
    last = NetworkMeeting.objects.create(network=street, date=D(2026, 3, 31))
    last.organisations.set([a, e, f, b])
    NetworkMeeting.objects.create(network=street, date=D(2026, 4, 1)).organisations.set([a])
    third = NetworkMeeting.objects.create(network=street, date=D(2026, 3, 15))  # nobody recorded present

    task = MeetingTask.objects.create
    task(meeting=before, title="Open, overdue", due_on=D(2026, 3, 30))
    task(meeting=before, title="Done on end", due_on=D(2026, 3, 1), done_on=D(2026, 3, 31))
    task(meeting=first, title="Done after end, due on end", due_on=D(2026, 3, 31), done_on=D(2026, 4, 2))
    task(meeting=last, title="No due date")
    task(meeting=third, title="Done before end", done_on=D(2026, 3, 20))
    task(meeting=NetworkMeeting.objects.get(date=D(2026, 4, 1)), title="Meeting after end")

    activity = CommunicationActivity.objects.create
    activity(team=team_a, kind="presentation", title="On start", date=D(2026, 3, 1), audience_size=40)
    activity(team=team_a, kind="other", title="On end", date=D(2026, 3, 31), audience_size=120)
    activity(team=team_a, kind="social_media", title="No size", date=D(2026, 3, 10))
    activity(team=team_a, kind="article", title="After", date=D(2026, 4, 1), audience_size=1000)
    activity(team=team_a, kind="training", title="Before", date=D(2026, 2, 28), audience_size=1000)
    activity(team=team_b, kind="training", title="Team B's", date=D(2026, 3, 5), audience_size=7)
    return street


def test_each_figure_against_the_hand_count(coordinator, world):
    response = api_client(coordinator).get(URL, PERIOD)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["networks"] == [
        {
            "id": world.pk,
            "name": "Katuverkosto",
            "kind": "street",
            "meetings_held": 3,  # 1.3., 15.3. and 31.3.
            "member_organisations": 4,  # a, b (joined on end), e (undated), f (leaves after end)
            "organisations_present_mean": 2.33,  # (3 + 4 + 0) / 3
            "agreements_in_force": 3,  # in force, agreed on end, ends after end
            "tasks_open": 3,  # overdue one, done after end, no due date
            "tasks_overdue": 1,  # due 30.3.; due on end is not overdue on end
        }
    ]
    assert body["communication"] == {
        "activities": 4,
        "by_kind": {
            "presentation": 1,
            "article": 0,
            "social_media": 1,
            "training": 1,
            "other": 1,
        },
        "audience_reached": 167,
    }


def test_a_network_without_meetings_has_no_mean(coordinator, street):
    row = api_client(coordinator).get(URL, PERIOD).json()["networks"][0]

    assert (row["meetings_held"], row["organisations_present_mean"], row["tasks_open"]) == (0, None, 0)


def test_workers_of_the_coordinating_team_see_it_and_their_teams_communication(worker_a, world):
    body = api_client(worker_a).get(URL, PERIOD).json()

    assert [row["id"] for row in body["networks"]] == [world.pk]
    assert body["communication"]["activities"] == 3
    assert body["communication"]["audience_reached"] == 160


def test_who_may_not(worker_b, expert_a, world):
    assert api_client().get(URL, PERIOD).status_code == 401
    assert api_client(worker_b).get(URL, PERIOD).status_code == 403
    assert api_client(expert_a).get(URL, PERIOD).status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2026-03-31"}, "start"),
        ({"start": "2026-03-01"}, "end"),
        ({"start": "2026-3-1", "end": "2026-03-31"}, "start"),
        ({"start": "2026-03-31", "end": "2026-03-01"}, "end"),
    ],
)
def test_bad_periods_get_400_naming_the_parameter(coordinator, world, params, field):
    response = api_client(coordinator).get(URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_query_count_does_not_grow_with_networks(coordinator, world, django_assert_max_num_queries):
    for number in range(10):
        Network.objects.create(name=f"Verkosto {number}")
    with django_assert_max_num_queries(9):
        assert len(api_client(coordinator).get(URL, PERIOD).json()["networks"]) == 11


def test_the_page_and_the_period_report_show_the_figures(client, coordinator, world, with_totp):
    client.force_login(with_totp(coordinator))

    page = client.get("/network-work/evaluation/", PERIOD)
    report = client.get("/reports/period/", {**PERIOD, "format": "csv", "table": "networks"})

    assert page.status_code == 200
    assert "2.33" in page.content.decode()
    assert report.status_code == 200
    lines = report.content.decode().splitlines()
    assert lines[1].split(",") == ["Katuverkosto", "3", "4", "2.33", "3", "3", "1"]
    assert client.get("/network-work/evaluation/", {"start": "x", "end": "2026-03-31"}).status_code == 400
