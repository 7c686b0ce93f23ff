"""One current outing: an outing is in progress only once it was started, on every page alike."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from outreach import services
from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import OutingStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


def test_a_planned_outing_whose_time_has_passed_is_not_in_progress_until_started(client, worker_a, team_a, today):
    stale = OutingFactory(
        team=team_a,
        site=FieldSiteFactory(name="Stale site", team=team_a),
        date=today,
        start_time=datetime.time(0, 0),
        end_time=None,
        status=OutingStatus.PLANNED,
        participants=[worker_a],
    )
    client.force_login(worker_a)

    page = client.get(reverse("encounters:today"))

    assert page.context["in_progress"] == []
    assert page.context["upcoming"] == [stale]
    assert reverse("encounters:outing_start_planned", args=[stale.pk]) in page.content.decode()
    detail = client.get(reverse("encounters:outing_detail", args=[stale.pk]))
    assert detail.context["in_progress"] is False

    # The worker starts a real outing elsewhere: it is the one current outing.
    real = services.outing_start(actor=worker_a, team=team_a, site=FieldSiteFactory(name="Real site", team=team_a))
    page = client.get(reverse("encounters:today"))

    assert page.context["in_progress"] == [real]
    assert page.context["upcoming"] == [stale]
    assert client.get(reverse("encounters:outing_detail", args=[real.pk])).context["in_progress"] is True
    listing = client.get(
        reverse("outreach:outing_list"), {"week": f"{today.isocalendar()[0]}-W{today.isocalendar()[1]:02d}"}
    )
    content = listing.content.decode()
    assert content.count("In progress") == 1


def test_starting_todays_planned_outing_makes_it_current(client, worker_a, team_a, today):
    planned = OutingFactory(
        team=team_a, date=today, start_time=datetime.time(0, 0), status=OutingStatus.PLANNED, participants=[worker_a]
    )
    client.force_login(worker_a)

    response = client.post(reverse("encounters:outing_start_planned", args=[planned.pk]))

    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.started_at is not None
    assert client.get(reverse("encounters:today")).context["in_progress"] == [planned]


def test_yesterdays_open_outing_asks_to_be_finished_or_cancelled(client, worker_a, team_a, today):
    yesterday = OutingFactory(
        team=team_a,
        date=today - datetime.timedelta(days=1),
        start_time=datetime.time(10),
        status=OutingStatus.PLANNED,
        started_at=timezone.now() - datetime.timedelta(days=1),
        participants=[worker_a],
    )
    client.force_login(worker_a)

    page = client.get(reverse("encounters:today"))

    assert page.context["in_progress"] == []
    assert page.context["unfinished"] == [yesterday]
    content = page.content.decode()
    assert reverse("encounters:outing_finish", args=[yesterday.pk]) in content
    assert reverse("outreach:outing_cancel", args=[yesterday.pk]) in content
