"""Domain rules that the database itself enforces, whatever path writes."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from outreach.models import FieldSite, Municipality, Outing
from outreach.tests.factories import FieldSiteFactory, OutingFactory, TeamFactory, municipality
from outreach.vocabulary import SiteType


def rejected(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


@pytest.mark.django_db
def test_the_19_municipalities_of_pohjois_savo_are_loaded():
    codes = set(Municipality.objects.values_list("code", flat=True))
    assert len(codes) == 19
    assert {"297", "857", "204", "140", "925"} <= codes
    assert set(Municipality.objects.filter(outreach_active=True).values_list("code", flat=True)) == {
        "297",
        "857",
        "204",
    }
    assert Municipality.objects.get(code="140").name_sv == "Idensalmi"


@pytest.mark.django_db
def test_an_outing_ends_after_it_starts():
    outing = OutingFactory()
    rejected(
        lambda: Outing.objects.filter(pk=outing.pk).update(end_time=datetime.time(9, 0))  # starts 10:00
    )
    rejected(
        lambda: Outing.objects.create(
            team=outing.team,
            site=outing.site,
            date=outing.date,
            start_time=datetime.time(12, 0),
            end_time=datetime.time(12, 0),
        )
    )
    # An outing in progress has no end yet.
    Outing.objects.create(team=outing.team, site=outing.site, date=outing.date, start_time=datetime.time(8, 0))


@pytest.mark.django_db
def test_outing_status_must_be_a_known_code():
    outing = OutingFactory()
    rejected(lambda: Outing.objects.filter(pk=outing.pk).update(status="finished"))


@pytest.mark.django_db
def test_seasonal_window_needs_both_months_in_range():
    site = FieldSiteFactory(site_type=SiteType.STREET, season_start_month=4, season_end_month=9)
    rejected(lambda: FieldSite.objects.filter(pk=site.pk).update(season_end_month=None))
    rejected(lambda: FieldSite.objects.filter(pk=site.pk).update(season_start_month=13))


@pytest.mark.django_db
def test_recurring_schedule_is_complete_and_ends_after_start():
    site = FieldSiteFactory(
        schedule_weekday=1,
        schedule_start_time=datetime.time(10, 0),
        schedule_end_time=datetime.time(12, 0),
        schedule_every_weeks=1,
    )
    rejected(lambda: FieldSite.objects.filter(pk=site.pk).update(schedule_end_time=datetime.time(9, 0)))
    rejected(lambda: FieldSite.objects.filter(pk=site.pk).update(schedule_weekday=None))
    rejected(lambda: FieldSite.objects.filter(pk=site.pk).update(schedule_weekday=7))


@pytest.mark.django_db
def test_coordinates_come_in_pairs_and_in_range():
    rejected(lambda: FieldSite.objects.create(name="x", site_type="street", municipality=municipality(), latitude=62.9))
    rejected(
        lambda: FieldSite.objects.create(
            name="x", site_type="street", municipality=municipality(), latitude=95, longitude=27
        )
    )


@pytest.mark.parametrize(
    ("start", "end", "month", "expected"),
    [
        (None, None, 1, True),
        (4, 9, 4, True),
        (4, 9, 9, True),
        (4, 9, 3, False),
        (4, 9, 10, False),
        (11, 2, 12, True),
        (11, 2, 1, True),
        (11, 2, 3, False),
    ],
)
def test_site_in_season(start, end, month, expected):
    site = FieldSite(season_start_month=start, season_end_month=end)
    assert site.in_season(datetime.date(2026, month, 15)) is expected


def test_outing_duration_hours():
    outing = Outing(date=datetime.date(2026, 5, 1), start_time=datetime.time(9, 30), end_time=datetime.time(12, 0))
    assert outing.duration_hours == 2.5
    assert Outing(date=datetime.date(2026, 5, 1), start_time=datetime.time(9, 30)).duration_hours == 0.0


@pytest.mark.django_db
def test_team_str_and_municipality_name_follows_language():
    from django.utils import translation

    assert str(TeamFactory(name="Kuopio")) == "Kuopio"
    iisalmi = Municipality.objects.get(code="140")
    with translation.override("sv"):
        assert str(iisalmi) == "Idensalmi"
    with translation.override("fi"):
        assert str(iisalmi) == "Iisalmi"
