"""The summary report: GET /api/v1/reports/summary/ (DESIGN.md, "External contracts").

The data sets are small and every figure is worked out by hand in the
comments, so a test fails when any definition drifts.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from encounters import rollups
from encounters.models import Encounter, Person
from encounters.services import encounter_create, referral_create
from encounters.tests.factories import EncounterFactory, PersonFactory
from outreach.models import Municipality, Team
from outreach.tests.factories import FieldSiteFactory, OutingFactory, UserFactory, municipality
from outreach.vocabulary import (
    AgeGroup,
    ContactKind,
    Depth,
    Gender,
    Need,
    OutingStatus,
    ReferralStatus,
    Role,
    ServiceKind,
    SiteType,
)
from reports.selectors import summary_report, summary_with_funnel
from reports.services import feedback_record

URL = "/api/v1/reports/summary/"
UTC = datetime.UTC
WINTER = datetime.timezone(datetime.timedelta(hours=2))  # Helsinki, until 29 March 2026
SUMMER = datetime.timezone(datetime.timedelta(hours=3))  # Helsinki, from 29 March 2026
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def at(year, month, day, hour=10, minute=0, tz=WINTER):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=tz)


def zeros(codes, **counts):
    """A `by_*` object: every code present, zero unless given."""
    return {code: counts.get(code, 0) for code in codes}


def all_municipalities(**counts):
    codes = Municipality.objects.order_by("code").values_list("code", flat=True)
    return {code: counts.get(f"m{code}", 0) for code in codes}


def summary(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


# The data set --------------------------------------------------------------


@pytest.fixture(autouse=True)
def means_of_few_answers(settings):
    """These tests check which answers fall in whose scope by their mean, with a handful of answers; the
    7-answer rule itself (a null mean below it) is tested in test_feedback.py."""
    settings.REPORTS_FEEDBACK_MIN_ANSWERS = 1


@pytest.fixture
def world(team_a, team_b, team_other_area, worker_a, worker_b, expert_a):
    """Team A's March 2026, with team B (same area) and a team elsewhere around it."""
    kuopio, kaavi = municipality("297"), municipality("204")
    food = FieldSiteFactory(name="Food", site_type=SiteType.FOOD_DISTRIBUTION, municipality=kuopio, team=team_a)
    street = FieldSiteFactory(name="Street", site_type=SiteType.STREET, municipality=kaavi, team=team_a)
    day_b = FieldSiteFactory(name="Day B", site_type=SiteType.DAY_CENTRE, municipality=kuopio, team=team_b)
    nobody = FieldSiteFactory(name="Nobody's", site_type=SiteType.EVENT, municipality=kuopio, team=None)

    def outing(site, date, status=OutingStatus.DONE, team=team_a, **kwargs):
        return OutingFactory(team=team, site=site, date=date, status=status, **kwargs)

    # Done in March: 2.5 h × 2 (the expert counts) + 1 h × 1 + no end time = 6 h;
    # tallies 12 + 3 + 4 = 19.
    o1 = outing(
        food,
        datetime.date(2026, 3, 5),
        start_time=datetime.time(10),
        end_time=datetime.time(12, 30),
        participants=[worker_a, expert_a],
        tallied_contacts=12,
    )
    o2 = outing(
        street,
        datetime.date(2026, 3, 12),
        start_time=datetime.time(18),
        end_time=datetime.time(19),
        participants=[worker_a],
        tallied_contacts=3,
    )
    outing(food, datetime.date(2026, 3, 19), end_time=None, participants=[worker_a], tallied_contacts=4)
    # Count nowhere: planned, cancelled, done but in February.
    o4 = outing(food, datetime.date(2026, 3, 26), status=OutingStatus.PLANNED, participants=[worker_a])
    o5 = outing(street, datetime.date(2026, 3, 27), status=OutingStatus.CANCELLED, tallied_contacts=5)
    o6 = outing(food, datetime.date(2026, 2, 26), participants=[worker_a], tallied_contacts=7)
    # Team B's, seen by the coordinator only.
    o7 = outing(day_b, datetime.date(2026, 3, 10), team=team_b, participants=[worker_b], tallied_contacts=9)

    p_new = PersonFactory(team=team_a, alias="New")  # first met in March
    p_old = PersonFactory(team=team_a, alias="Old")  # first met in February

    def encounter(site, when, team=team_a, **kwargs):
        return EncounterFactory(team=team, site=site, occurred_at=when, **kwargs)

    e1 = encounter(
        food,
        at(2026, 3, 5, 10, 15),
        outing=o1,
        gender=Gender.FEMALE,
        age_group=AgeGroup.AGE_18_29,
        needs=[Need.HOUSING, Need.MENTAL_HEALTH],
    )
    encounter(
        food,
        at(2026, 3, 5, 10, 30),
        outing=o1,
        depth=Depth.BRIEF,
        gender=Gender.MALE,
        age_group=AgeGroup.AGE_30_39,
        needs=[Need.HOUSING],
    )
    e3 = encounter(
        food,
        at(2026, 3, 5, 11),
        outing=o1,
        person=p_new,
        gender=Gender.MALE,
        age_group=AgeGroup.AGE_30_39,
        needs=[Need.SUBSTANCE_USE],
    )
    e4 = encounter(
        street, at(2026, 3, 12, 18, 30), outing=o2, person=p_old, gender=Gender.FEMALE, age_group=AgeGroup.AGE_50_64
    )
    # At a planned and a cancelled outing: they still count as encounters.
    encounter(food, at(2026, 3, 26, 10, 30), outing=o4, depth=Depth.BRIEF, needs=[Need.LIVELIHOOD])
    encounter(
        street,
        at(2026, 3, 27),
        outing=o5,
        person=p_new,
        contact_kind=ContactKind.MEETING,
        gender=Gender.MALE,
        age_group=AgeGroup.AGE_30_39,
    )
    # The last minute of the period in Helsinki (summer time), and the first.
    encounter(
        food,
        at(2026, 3, 31, 23, 30, tz=SUMMER),
        contact_kind=ContactKind.PHONE,
        depth=Depth.BRIEF,
        gender=Gender.OTHER,
        age_group=AgeGroup.AGE_65_PLUS,
        needs=[Need.OTHER],
    )
    encounter(street, at(2026, 3, 1, 0, 10), depth=Depth.BRIEF)
    # Outside the period: 00:30 on 1 April in Helsinki, and p_old's first encounter.
    encounter(food, at(2026, 4, 1, 0, 30, tz=SUMMER), needs=[Need.HOUSING])
    encounter(food, at(2026, 2, 26, 10, 30), outing=o6, person=p_old)
    encounter(food, at(2026, 2, 28, 23, 50), needs=[Need.HOUSING])
    # Other teams.
    e11 = encounter(day_b, at(2026, 3, 10, 10, 30), team=team_b, outing=o7, needs=[Need.HOUSING])
    encounter(food, at(2026, 3, 15), team=team_other_area, depth=Depth.BRIEF)

    def referral(team, actor, service_kind, status, referred_on, **kwargs):
        return referral_create(
            actor=actor, team=team, service_kind=service_kind, status=status, referred_on=referred_on, **kwargs
        )

    d = datetime.date
    referral(team_a, worker_a, ServiceKind.HOUSING, ReferralStatus.CONNECTED, d(2026, 3, 5), encounter=e3)
    referral(team_a, worker_a, ServiceKind.ADULT_SOCIAL_WORK, ReferralStatus.MADE, d(2026, 3, 12), encounter=e4)
    referral(team_a, worker_a, ServiceKind.KELA, ReferralStatus.SUGGESTED, d(2026, 3, 20), person=p_old)
    referral(team_a, worker_a, ServiceKind.HOUSING, ReferralStatus.DECLINED, d(2026, 3, 31), encounter=e1)
    referral(team_a, worker_a, ServiceKind.HOUSING, ReferralStatus.MADE, d(2026, 4, 1), encounter=e1)
    referral(team_a, worker_a, ServiceKind.KELA, ReferralStatus.MADE, d(2026, 2, 28), person=p_old)
    referral(team_b, worker_b, ServiceKind.HEALTH_CENTRE, ReferralStatus.CONNECTED, d(2026, 3, 10), encounter=e11)

    def feedback(site, score, given_on, outing=None):
        return feedback_record(site=site, outing=outing, score=score, given_on=given_on)

    feedback(food, 5, d(2026, 3, 5), outing=o1)
    feedback(food, 4, d(2026, 3, 20))  # no outing: the site's team A
    feedback(street, 2, d(2026, 3, 12), outing=o2)
    feedback(day_b, 1, d(2026, 3, 10), outing=o7)  # team B
    feedback(day_b, 3, d(2026, 3, 11))  # no outing: the site's team B
    feedback(food, 1, d(2026, 4, 1), outing=o1)  # April
    feedback(nobody, 4, d(2026, 3, 15))  # no outing, no team: the superuser's only

    return {"food": food, "street": street, "day_b": day_b, "p_new": p_new, "p_old": p_old, "o2": o2}


def team_a_march():
    """Worker A's March: the full report, every key."""
    return {
        # e1 e2 e3 e4 e5 e6 e7 e10; anonymous e1 e2 e5 e7 e10; conversation e1 e3 e4 e6.
        "encounters_total": 8,
        "encounters_anonymous": 5,
        "encounters_with_person": 3,
        "encounters_conversation": 4,
        "tallied_contacts": 19,
        "persons_reached": 2,
        "persons_new": 1,
        # p_new met twice (e3 e6), p_old once (e4); neither engaged.
        "persons_engaged": 0,
        "contact_frequency": {"1": 1, "2_5": 1, "6_9": 0, "10_plus": 0},
        "outings_done": 3,
        "outing_hours": 6.0,
        # e1 e2 e3 at o1 and e4 at o2: 4 encounters ÷ 6 h.
        "encounters_per_outing_hour": 0.67,
        "by_site_type": zeros(SiteType.values, food_distribution=5, street=3),
        "by_municipality": all_municipalities(m297=5, m204=3),
        "by_month": {"2026-03": 8},
        "by_need": zeros(Need.values, housing=2, mental_health=1, substance_use=1, livelihood=1, other=1),
        "by_gender": zeros(Gender.values, female=2, male=3, other=1, unknown=2),
        "by_age_group": zeros(AgeGroup.values, **{"18_29": 1, "30_39": 3, "50_64": 1, "65_plus": 1, "unknown": 2}),
        "by_contact_kind": zeros(ContactKind.values, field=6, phone=1, meeting=1),
        "referrals_total": 4,
        "referrals_by_service": zeros(ServiceKind.values, housing=2, adult_social_work=1, kela=1),
        "referrals_by_status": zeros(ReferralStatus.values, connected=1, made=1, suggested=1, declined=1),
        "referrals_connected_rate": 0.25,
        # 5, 4 and 2.
        "feedback_count": 3,
        "feedback_mean_score": 3.67,
    }


# The figures ----------------------------------------------------------------


def test_worker_sees_exactly_their_teams_figures(client, world, worker_a):
    response = summary(client, worker_a, **MARCH)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == team_a_march()


def test_counts_are_integers_and_ratios_numbers(client, world, worker_a):
    data = summary(client, worker_a, **MARCH).json()
    for key, value in data.items():
        if key.startswith("by_") or key.startswith("referrals_by_") or key == "contact_frequency":
            assert all(type(count) is int for count in value.values()), key
        elif key in ("outing_hours", "encounters_per_outing_hour", "referrals_connected_rate", "feedback_mean_score"):
            assert type(value) is float, key
        else:
            assert type(value) is int, key


def test_team_filter_narrows_to_the_team(client, world, worker_a, team_a):
    response = summary(client, worker_a, team=team_a.pk, **MARCH)
    assert response.status_code == 200
    expected = team_a_march()
    # With a team, feedback counts only at that team's outings: 5 and 2.
    expected.update(feedback_count=2, feedback_mean_score=3.5)
    assert response.json() == expected


def test_municipality_filter(client, world, worker_a):
    data = summary(client, worker_a, municipality="297", **MARCH).json()
    expected = team_a_march()
    expected.update(
        # Food (Kuopio): e1 e2 e3 e5 e7.
        encounters_total=5,
        encounters_anonymous=4,
        encounters_with_person=1,
        encounters_conversation=2,
        # o1 and o3: 5 h, tallies 12 + 4; o1's 3 encounters ÷ 5 h.
        tallied_contacts=16,
        outings_done=2,
        outing_hours=5.0,
        encounters_per_outing_hour=0.6,
        # p_new, first met in the period, once here (e3).
        persons_reached=1,
        persons_new=1,
        contact_frequency={"1": 1, "2_5": 0, "6_9": 0, "10_plus": 0},
        by_site_type=zeros(SiteType.values, food_distribution=5),
        by_municipality=all_municipalities(m297=5),
        by_month={"2026-03": 5},
        by_need=zeros(Need.values, housing=2, mental_health=1, substance_use=1, livelihood=1, other=1),
        by_gender=zeros(Gender.values, female=1, male=2, other=1, unknown=1),
        by_age_group=zeros(AgeGroup.values, **{"18_29": 1, "30_39": 2, "65_plus": 1, "unknown": 1}),
        by_contact_kind=zeros(ContactKind.values, field=4, phone=1),
        # From e3 and e1; the referral without an encounter is left out.
        referrals_total=2,
        referrals_by_service=zeros(ServiceKind.values, housing=2),
        referrals_by_status=zeros(ReferralStatus.values, connected=1, declined=1),
        referrals_connected_rate=0.5,
        feedback_count=2,
        feedback_mean_score=4.5,
    )
    assert data == expected


def test_site_type_filter(client, world, worker_a):
    data = summary(client, worker_a, site_type="street", **MARCH).json()
    expected = team_a_march()
    expected.update(
        # e4 e6 e10.
        encounters_total=3,
        encounters_anonymous=1,
        encounters_with_person=2,
        encounters_conversation=2,
        tallied_contacts=3,
        outings_done=1,
        outing_hours=1.0,
        encounters_per_outing_hour=1.0,
        # p_old (first met in February) and p_new, whose first encounter
        # (at the food distribution, filtered out here) is in the period.
        persons_reached=2,
        persons_new=1,
        # Each once at the street: e4 and e6.
        contact_frequency={"1": 2, "2_5": 0, "6_9": 0, "10_plus": 0},
        by_site_type=zeros(SiteType.values, street=3),
        by_municipality=all_municipalities(m204=3),
        by_month={"2026-03": 3},
        by_need=zeros(Need.values),
        by_gender=zeros(Gender.values, female=1, male=1, unknown=1),
        by_age_group=zeros(AgeGroup.values, **{"30_39": 1, "50_64": 1, "unknown": 1}),
        by_contact_kind=zeros(ContactKind.values, field=2, meeting=1),
        referrals_total=1,
        referrals_by_service=zeros(ServiceKind.values, adult_social_work=1),
        referrals_by_status=zeros(ReferralStatus.values, made=1),
        referrals_connected_rate=0.0,
        feedback_count=1,
        feedback_mean_score=2.0,
    )
    assert data == expected


def test_filters_combine(client, world, worker_a, team_a):
    data = summary(client, worker_a, municipality="204", site_type="food_distribution", team=team_a.pk, **MARCH)
    data = data.json()
    assert data["encounters_total"] == 0
    assert data["outings_done"] == 0
    assert data["referrals_total"] == 0
    assert data["feedback_count"] == 0


def test_coordinator_sees_the_teams_of_their_area(client, world, with_totp, coordinator, team_b):
    with_totp(coordinator)
    data = summary(client, coordinator, **MARCH).json()
    # Team A's March plus team B's: e11, o7 (2 h, tally 9, one encounter),
    # a connected referral and two pieces of feedback (1 and 3).
    assert data["encounters_total"] == 9
    assert data["by_site_type"]["day_centre"] == 1
    assert data["outings_done"] == 4
    assert data["outing_hours"] == 8.0
    assert data["tallied_contacts"] == 28
    # 5 ÷ 8 = 0.625, rounded half up.
    assert data["encounters_per_outing_hour"] == 0.63
    assert data["referrals_total"] == 5
    assert data["referrals_connected_rate"] == 0.4
    assert data["feedback_count"] == 5
    assert data["feedback_mean_score"] == 3.0

    response = summary(client, coordinator, team=team_b.pk, **MARCH)
    assert response.status_code == 200
    data = response.json()
    assert data["encounters_total"] == 1
    assert data["outings_done"] == 1
    assert data["referrals_total"] == 1
    assert data["feedback_count"] == 1
    assert data["feedback_mean_score"] == 1.0


def test_superuser_sees_everything(client, world, with_totp, superuser):
    with_totp(superuser)
    data = summary(client, superuser, **MARCH).json()
    # The team elsewhere adds one brief encounter; feedback with neither an
    # outing nor a responsible team counts too: 5 4 2 1 3 4.
    assert data["encounters_total"] == 10
    assert data["feedback_count"] == 6
    assert data["feedback_mean_score"] == 3.17


def test_worker_of_another_team_sees_only_their_own(client, world, worker_b):
    data = summary(client, worker_b, **MARCH).json()
    assert data["encounters_total"] == 1
    assert data["by_municipality"]["297"] == 1
    assert data["persons_reached"] == 0
    assert data["outings_done"] == 1
    assert data["outing_hours"] == 2.0
    assert data["referrals_total"] == 1
    assert data["referrals_connected_rate"] == 1.0
    assert data["feedback_count"] == 2
    assert data["feedback_mean_score"] == 2.0


def test_user_without_teams_gets_zeros(client, world):
    loner = UserFactory(role=Role.WORKER)
    data = summary(client, loner, **MARCH).json()
    assert data["encounters_total"] == 0
    assert data["by_site_type"] == zeros(SiteType.values)
    assert data["by_month"] == {"2026-03": 0}
    assert data["feedback_count"] == 0


def test_empty_period_has_zeros_and_null_ratios(client, world, worker_a):
    data = summary(client, worker_a, start="2025-06-01", end="2025-06-30").json()
    assert data == {
        "encounters_total": 0,
        "encounters_anonymous": 0,
        "encounters_with_person": 0,
        "encounters_conversation": 0,
        "tallied_contacts": 0,
        "persons_reached": 0,
        "persons_new": 0,
        "persons_engaged": 0,
        "contact_frequency": {"1": 0, "2_5": 0, "6_9": 0, "10_plus": 0},
        "outings_done": 0,
        "outing_hours": 0.0,
        "encounters_per_outing_hour": None,
        "by_site_type": zeros(SiteType.values),
        "by_municipality": all_municipalities(),
        "by_month": {"2025-06": 0},
        "by_need": zeros(Need.values),
        "by_gender": zeros(Gender.values),
        "by_age_group": zeros(AgeGroup.values),
        "by_contact_kind": zeros(ContactKind.values),
        "referrals_total": 0,
        "referrals_by_service": zeros(ServiceKind.values),
        "referrals_by_status": zeros(ReferralStatus.values),
        "referrals_connected_rate": None,
        "feedback_count": 0,
        "feedback_mean_score": None,
    }


def test_by_municipality_lists_every_municipality_in_the_database(client, world, worker_a):
    data = summary(client, worker_a, **MARCH).json()
    assert len(data["by_municipality"]) == Municipality.objects.count() == 19
    assert set(data["by_municipality"]) == {"140", "171", "204", "239", "263", "297", "402", "420", "595"} | {
        "686",
        "687",
        "749",
        "762",
        "778",
        "844",
        "857",
        "915",
        "921",
        "925",
    }


# Dates in Helsinki --------------------------------------------------------------


@pytest.mark.django_db
def test_months_follow_the_helsinki_date_and_empty_months_are_listed(client, team_a, worker_a):
    site = FieldSiteFactory(team=team_a)
    times = [
        # UTC instants and the Helsinki month they belong to.
        (datetime.datetime(2025, 10, 31, 21, 59, tzinfo=UTC), None),  # 23:59 on 31 October: before
        (datetime.datetime(2025, 10, 31, 22, 0, tzinfo=UTC), "2025-11"),  # 00:00 on 1 November
        (datetime.datetime(2026, 1, 31, 21, 30, tzinfo=UTC), "2026-01"),  # 23:30 on 31 January
        (datetime.datetime(2026, 1, 31, 22, 30, tzinfo=UTC), "2026-02"),  # 00:30 on 1 February
        (datetime.datetime(2026, 3, 31, 20, 30, tzinfo=UTC), "2026-03"),  # 23:30 on 31 March, summer time
        (datetime.datetime(2026, 3, 31, 21, 30, tzinfo=UTC), "2026-04"),  # 00:30 on 1 April
        (datetime.datetime(2026, 4, 30, 20, 59, tzinfo=UTC), "2026-04"),  # 23:59 on 30 April
        (datetime.datetime(2026, 4, 30, 21, 0, tzinfo=UTC), None),  # 00:00 on 1 May: after
    ]
    for when, _month in times:
        # Through the service (as the API and forms do) and the factory (as imports may).
        encounter_create(actor=worker_a, team=team_a, site=site, occurred_at=when)
        EncounterFactory(team=team_a, site=site, occurred_at=when)
    stored = sorted(set(Encounter.objects.values_list("occurred_on", flat=True)))
    assert stored[0] == datetime.date(2025, 10, 31)
    assert datetime.date(2026, 2, 1) in stored
    assert datetime.date(2026, 4, 1) in stored

    response = summary(client, worker_a, start="2025-11-01", end="2026-04-30")
    assert response.status_code == 200
    assert response.json()["by_month"] == {
        "2025-11": 2,
        "2025-12": 0,
        "2026-01": 2,
        "2026-02": 2,
        "2026-03": 2,
        "2026-04": 4,
    }
    assert response.json()["encounters_total"] == 12


@pytest.mark.django_db
def test_a_one_day_period(client, team_a, worker_a):
    site = FieldSiteFactory(team=team_a)
    EncounterFactory(team=team_a, site=site, occurred_at=datetime.datetime(2026, 1, 31, 22, 30, tzinfo=UTC))
    EncounterFactory(team=team_a, site=site, occurred_at=datetime.datetime(2026, 1, 31, 21, 30, tzinfo=UTC))
    data = summary(client, worker_a, start="2026-02-01", end="2026-02-01").json()
    assert data["encounters_total"] == 1
    assert data["by_month"] == {"2026-02": 1}


# Persons ---------------------------------------------------------------------


@pytest.mark.django_db
def test_new_persons_are_those_first_met_in_the_period_whatever_the_filters(client, team_a, team_b, worker_a):
    kuopio = FieldSiteFactory(team=team_a, municipality=municipality("297"))
    kaavi = FieldSiteFactory(team=team_a, municipality=municipality("204"), site_type=SiteType.STREET)
    met_before_elsewhere = PersonFactory(team=team_a)
    met_first_elsewhere = PersonFactory(team=team_a)
    met_before_by_another_team = PersonFactory(team=team_a)
    met_twice_in_period = PersonFactory(team=team_a)
    met_only_before = PersonFactory(team=team_a)

    def meet(person, site, when, team=team_a):
        EncounterFactory(team=team, site=site, person=person, occurred_at=when)

    meet(met_before_elsewhere, kaavi, at(2026, 2, 20))
    meet(met_before_elsewhere, kuopio, at(2026, 3, 20))
    meet(met_first_elsewhere, kaavi, at(2026, 3, 2))
    meet(met_first_elsewhere, kuopio, at(2026, 3, 21))
    meet(met_before_by_another_team, kuopio, at(2026, 1, 5), team=team_b)
    meet(met_before_by_another_team, kuopio, at(2026, 3, 3))
    meet(met_twice_in_period, kuopio, at(2026, 3, 4))
    meet(met_twice_in_period, kuopio, at(2026, 3, 5))
    meet(met_only_before, kuopio, at(2026, 2, 5))

    data = summary(client, worker_a, municipality="297", **MARCH).json()
    assert data["persons_reached"] == 4
    # Only met_first_elsewhere and met_twice_in_period: the others were met
    # before March, at a site or by a team that the filters leave out.
    assert data["persons_new"] == 2
    assert data["encounters_with_person"] == 5

    data = summary(client, worker_a, site_type="street", **MARCH).json()
    assert (data["persons_reached"], data["persons_new"]) == (1, 1)
    data = summary(client, worker_a, **{"start": "2026-01-01", "end": "2026-03-31"}).json()
    assert (data["persons_reached"], data["persons_new"]) == (5, 5)
    data = summary(client, worker_a, **{"start": "2026-01-06", "end": "2026-03-31"}).json()
    assert (data["persons_reached"], data["persons_new"]) == (5, 4)


@pytest.mark.django_db
def test_merged_persons_count_once_from_their_earliest_encounter(client, team_a, worker_a):
    site = FieldSiteFactory(team=team_a)

    def meet(person, when):
        return EncounterFactory(team=team_a, site=site, person=person, occurred_at=when)

    def merge(duplicate, kept, *, move_encounters):
        Person.objects.filter(pk=duplicate.pk).update(merged_into=kept)
        if move_encounters:
            Encounter.objects.filter(person=duplicate).update(person=kept)
        rollups.persons_changed(duplicate.pk, kept.pk)  # as the merge service does

    # As a merge leaves them: the duplicate's February encounter now the kept record's.
    kept, duplicate = PersonFactory(team=team_a), PersonFactory(team=team_a)
    meet(kept, at(2026, 3, 10))
    meet(duplicate, at(2026, 2, 10))
    meet(duplicate, at(2026, 3, 11))
    merge(duplicate, kept, move_encounters=True)
    # Records still pointing at a merged person count as the kept one.
    kept2, duplicate2 = PersonFactory(team=team_a), PersonFactory(team=team_a)
    meet(kept2, at(2026, 3, 10))
    meet(duplicate2, at(2026, 2, 10))
    meet(duplicate2, at(2026, 3, 12))
    merge(duplicate2, kept2, move_encounters=False)
    # The kept record was met only before; the duplicate in the period.
    kept3, duplicate3 = PersonFactory(team=team_a), PersonFactory(team=team_a)
    meet(kept3, at(2026, 2, 1))
    meet(duplicate3, at(2026, 3, 13))
    merge(duplicate3, kept3, move_encounters=False)
    # Both first met in the period: one new person.
    kept4, duplicate4 = PersonFactory(team=team_a), PersonFactory(team=team_a)
    meet(kept4, at(2026, 3, 14))
    meet(duplicate4, at(2026, 3, 15))
    merge(duplicate4, kept4, move_encounters=False)
    # A chain: c into b, then b into a; c was met in February.
    a, b, c = PersonFactory(team=team_a), PersonFactory(team=team_a), PersonFactory(team=team_a)
    meet(a, at(2026, 3, 16))
    meet(b, at(2026, 3, 17))
    meet(c, at(2026, 2, 17))
    merge(c, b, move_encounters=False)
    merge(b, a, move_encounters=False)

    data = summary(client, worker_a, **MARCH).json()
    assert data["persons_reached"] == 5
    assert data["persons_new"] == 1
    assert data["encounters_with_person"] == 9


@pytest.mark.django_db
def test_merging_and_unmerging_through_the_service(client, team_a, worker_a):
    from encounters.services import person_merge, person_unmerge

    site = FieldSiteFactory(team=team_a)
    kept, duplicate = PersonFactory(team=team_a), PersonFactory(team=team_a)
    EncounterFactory(team=team_a, site=site, person=kept, occurred_at=at(2026, 3, 10))
    EncounterFactory(team=team_a, site=site, person=duplicate, occurred_at=at(2026, 2, 10))
    EncounterFactory(team=team_a, site=site, person=duplicate, occurred_at=at(2026, 3, 11))

    def persons():
        data = summary(client, worker_a, **MARCH).json()
        return data["persons_reached"], data["persons_new"]

    # Two records: the kept one is new in March, the duplicate was met in February.
    assert persons() == (2, 1)
    merge = person_merge(actor=worker_a, kept=kept, merged=duplicate)
    # One person, whose first encounter is the duplicate's February one.
    assert persons() == (1, 0)
    person_unmerge(actor=worker_a, merge=merge)
    assert persons() == (2, 1)


# Outings ------------------------------------------------------------------------


@pytest.mark.django_db
def test_outing_hours_are_duration_times_participants(client, team_a, worker_a, expert_a):
    colleague = UserFactory(teams=[team_a])
    site = FieldSiteFactory(team=team_a)
    # 1 h 20 min × 3 participants (one an expert by experience) = 4 h.
    outing = OutingFactory(
        team=team_a,
        site=site,
        date=datetime.date(2026, 3, 2),
        start_time=datetime.time(9, 40),
        end_time=datetime.time(11, 0),
        participants=[worker_a, colleague, expert_a],
        tallied_contacts=30,
    )
    # No participants recorded: no hours, but it was done.
    OutingFactory(team=team_a, site=site, date=datetime.date(2026, 3, 3), tallied_contacts=1)
    for minute in range(0, 50, 10):
        EncounterFactory(team=team_a, site=site, outing=outing, occurred_at=at(2026, 3, 2, 10, minute))
    # Logged late for the same outing: it belongs to the outing all the same.
    EncounterFactory(team=team_a, site=site, outing=outing, occurred_at=at(2026, 4, 2, tz=SUMMER))

    data = summary(client, worker_a, **MARCH).json()
    assert data["outings_done"] == 2
    assert data["tallied_contacts"] == 31
    assert data["outing_hours"] == 4.0
    assert data["encounters_total"] == 5
    assert data["encounters_per_outing_hour"] == 1.5


@pytest.mark.django_db
def test_outings_without_hours_give_no_rate(client, team_a, worker_a):
    site = FieldSiteFactory(team=team_a)
    outing = OutingFactory(
        team=team_a, site=site, date=datetime.date(2026, 3, 2), end_time=None, participants=[worker_a]
    )
    EncounterFactory(team=team_a, site=site, outing=outing, occurred_at=at(2026, 3, 2))
    OutingFactory(team=team_a, site=site, date=datetime.date(2026, 3, 3), status=OutingStatus.PLANNED)

    data = summary(client, worker_a, **MARCH).json()
    assert data["outings_done"] == 1
    assert data["outing_hours"] == 0.0
    assert data["encounters_per_outing_hour"] is None
    assert data["encounters_total"] == 1


@pytest.mark.django_db
def test_hours_round_to_two_decimals(client, team_a, worker_a):
    site = FieldSiteFactory(team=team_a)
    # 20 minutes × 1 = 0.333… h; one encounter ÷ 1/3 h = 3.
    outing = OutingFactory(
        team=team_a,
        site=site,
        date=datetime.date(2026, 3, 2),
        start_time=datetime.time(10),
        end_time=datetime.time(10, 20),
        participants=[worker_a],
    )
    EncounterFactory(team=team_a, site=site, outing=outing, occurred_at=at(2026, 3, 2))
    data = summary(client, worker_a, **MARCH).json()
    assert data["outing_hours"] == 0.33
    assert data["encounters_per_outing_hour"] == 3.0


# Referrals and feedback ----------------------------------------------------------


def test_referral_without_encounter_counts_only_without_place_filters(client, world, worker_a, team_a):
    kela = ServiceKind.KELA  # the one referral of March made without an encounter
    assert summary(client, worker_a, **MARCH).json()["referrals_by_service"][kela] == 1
    assert summary(client, worker_a, team=team_a.pk, **MARCH).json()["referrals_by_service"][kela] == 1
    assert summary(client, worker_a, municipality="297", **MARCH).json()["referrals_by_service"][kela] == 0
    assert summary(client, worker_a, site_type="street", **MARCH).json()["referrals_by_service"][kela] == 0


@pytest.mark.django_db
def test_referrals_count_by_current_status(client, team_a, worker_a):
    from encounters.services import referral_update

    referral = referral_create(
        actor=worker_a,
        team=team_a,
        service_kind=ServiceKind.HOUSING,
        status=ReferralStatus.MADE,
        referred_on=datetime.date(2026, 3, 2),
    )
    assert summary(client, worker_a, **MARCH).json()["referrals_connected_rate"] == 0.0
    referral_update(actor=worker_a, referral=referral, status=ReferralStatus.CONNECTED)
    data = summary(client, worker_a, **MARCH).json()
    assert data["referrals_by_status"] == zeros(ReferralStatus.values, connected=1)
    assert data["referrals_connected_rate"] == 1.0


@pytest.mark.django_db
def test_the_funnel_counts_how_far_each_referral_got_from_its_dates_and_status(team_a, worker_a):
    from encounters.services import referral_update

    def housing(status, *then):
        referral = referral_create(
            actor=worker_a,
            team=team_a,
            service_kind=ServiceKind.HOUSING,
            status=status,
            referred_on=datetime.date(2026, 3, 2),
        )
        for later in then:
            referral = referral_update(actor=worker_a, referral=referral, status=later)
        return referral

    housing(ReferralStatus.SUGGESTED)  # suggested only
    housing(ReferralStatus.SUGGESTED, ReferralStatus.DECLINED)  # never made
    housing(ReferralStatus.MADE)  # made
    housing(ReferralStatus.MADE, ReferralStatus.NOT_REACHED)  # made, then not reached: still made
    housing(ReferralStatus.CONNECTED)  # made and connected
    housing(ReferralStatus.MADE, ReferralStatus.CONNECTED, ReferralStatus.ENDED)  # connected, later ended
    report, funnel = summary_with_funnel(user=worker_a, start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31))
    assert funnel[ServiceKind.HOUSING] == {"suggested": 6, "made": 4, "connected": 2}
    assert funnel[ServiceKind.KELA] == {"suggested": 0, "made": 0, "connected": 0}
    assert report["referrals_by_status"] == zeros(
        ReferralStatus.values, suggested=1, declined=1, made=1, not_reached=1, connected=1, ended=1
    )


@pytest.mark.django_db
def test_feedback_mean_rounds_half_up(client, team_a, worker_a):
    site = FieldSiteFactory(team=team_a)
    for score in (5, 5, 5, 5, 1, 1, 1, 2):  # 25 / 8 = 3.125
        feedback_record(site=site, score=score, given_on=datetime.date(2026, 3, 9))
    data = summary(client, worker_a, **MARCH).json()
    assert data["feedback_count"] == 8
    assert data["feedback_mean_score"] == 3.13


# Parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"end": "2026-03-31"}, "start"),
        ({"start": "2026-03-01"}, "end"),
        ({"start": "", "end": "2026-03-31"}, "start"),
        ({"start": "2026-3-1", "end": "2026-03-31"}, "start"),
        ({"start": "2026-03-01", "end": "2026-1-5"}, "end"),
        ({"start": "2026-03-01T00:00", "end": "2026-03-31"}, "start"),
        ({"start": "2026-03-01", "end": "2026-03-31T00:00:00+02:00"}, "end"),
        ({"start": "20260301", "end": "2026-03-31"}, "start"),
        ({"start": "01.03.2026", "end": "2026-03-31"}, "start"),
        ({"start": "2026-02-30", "end": "2026-03-31"}, "start"),
        ({"start": " 2026-03-01", "end": "2026-03-31"}, "start"),
        ({"start": "２０２６-03-01", "end": "2026-03-31"}, "start"),  # noqa: RUF001 - full-width digits on purpose
        ({"start": "2026-03-02", "end": "2026-03-01"}, "end"),
        ({**MARCH, "municipality": "999"}, "municipality"),
        ({**MARCH, "municipality": "Kuopio"}, "municipality"),
        ({**MARCH, "site_type": "beach"}, "site_type"),
        ({**MARCH, "site_type": "Street"}, "site_type"),
        ({**MARCH, "team": "abc"}, "team"),
        ({**MARCH, "team": "1.5"}, "team"),
        ({**MARCH, "team": "-1"}, "team"),
        ({**MARCH, "team": "99999999999999999999999"}, "team"),
    ],
)
def test_bad_parameters_get_400_naming_the_parameter(client, world, worker_a, params, named):
    response = summary(client, worker_a, **params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [named]
    assert body[named]
    assert all(isinstance(message, str) and message for message in body[named])


def test_every_bad_parameter_is_named_at_once(client, world, worker_a):
    response = summary(client, worker_a, start="x", municipality="1", site_type="x", team="x")
    assert response.status_code == 400
    assert set(response.json()) == {"start", "end", "municipality", "site_type", "team"}


def test_messages_are_translated(client, world, worker_a):
    client.force_login(worker_a)
    english = client.get(URL, {"end": "2026-03-31"}, headers={"accept-language": "en"}).json()["start"][0]
    finnish = client.get(URL, {"end": "2026-03-31"}, headers={"accept-language": "fi"}).json()["start"][0]
    assert english == "This parameter is required."
    assert isinstance(finnish, str)
    assert finnish


def test_empty_and_unknown_parameters_are_ignored(client, world, worker_a):
    response = summary(client, worker_a, municipality="", site_type="", team="", colour="blue", **MARCH)
    assert response.status_code == 200
    assert response.json() == team_a_march()


def test_every_site_type_code_is_accepted(client, world, worker_a):
    for code in SiteType.values:
        assert summary(client, worker_a, site_type=code, **MARCH).status_code == 200


# Access ---------------------------------------------------------------------------------


def test_worker_gets_403_for_a_team_they_do_not_belong_to(client, world, worker_a, team_b, team_other_area):
    for team in (team_b, team_other_area):
        response = summary(client, worker_a, team=team.pk, **MARCH)
        assert response.status_code == 403
        assert list(response.json()) == ["team"]
        assert "encounters_total" not in response.json()


def test_bad_parameters_come_before_the_team_check(client, world, worker_a, team_b):
    response = summary(client, worker_a, team=team_b.pk, start="2026-03-01")
    assert response.status_code == 400
    assert list(response.json()) == ["end"]


def test_coordinator_gets_403_for_a_team_outside_their_area(client, world, with_totp, coordinator, team_other_area):
    with_totp(coordinator)
    response = summary(client, coordinator, team=team_other_area.pk, **MARCH)
    assert response.status_code == 403


def test_superuser_may_ask_for_any_team(client, world, with_totp, superuser, team_other_area):
    with_totp(superuser)
    response = summary(client, superuser, team=team_other_area.pk, **MARCH)
    assert response.status_code == 200
    assert response.json()["encounters_total"] == 1


def test_admin_role_sees_only_their_own_teams(client, world, with_totp, admin_user):
    # The admin role manages users and vocabularies, with no wider view of client data.
    with_totp(admin_user)
    response = summary(client, admin_user, **MARCH)
    assert response.status_code == 200
    assert response.json()["encounters_total"] == 0
    assert response.json()["feedback_count"] == 0


def test_expert_by_experience_has_no_reports(client, world, expert_a):
    response = summary(client, expert_a, **MARCH)
    assert response.status_code == 403
    assert "encounters_total" not in response.json()


def test_anonymous_is_refused(client, world):
    response = client.get(URL, MARCH)
    assert response.status_code in (401, 403)
    assert "encounters_total" not in response.json()


def test_coordinator_without_second_factor_gets_no_figures(client, world, coordinator):
    response = summary(client, coordinator, **MARCH)
    assert response.status_code in (302, 403)
    assert b"encounters_total" not in response.content


def test_scripts_authenticate_with_a_token(client, world, worker_a, coordinator, with_totp):
    from outreach.services import api_token_create

    for user in (worker_a, with_totp(coordinator)):
        _token, key = api_token_create(actor=user, user=user)
        response = client.get(URL, MARCH, headers={"authorization": f"Token {key}"})
        assert response.status_code == 200
        assert response.json()["encounters_total"] == (8 if user == worker_a else 9)
    assert client.get(URL, MARCH, headers={"authorization": "Token wrong"}).status_code == 401


def test_only_get_is_allowed(client, world, worker_a):
    client.force_login(worker_a)
    assert client.post(URL + "?start=2026-03-01&end=2026-03-31").status_code == 405
    assert client.delete(URL).status_code == 405


def test_url_name():
    assert reverse("api-summary") == URL


# Efficiency and schema ------------------------------------------------------------------


def test_query_count_does_not_grow_with_data(client, world, worker_a, team_a, django_assert_max_num_queries):
    client.force_login(worker_a)
    params = {**MARCH, "team": team_a.pk, "municipality": "297", "site_type": "food_distribution"}
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL, params).status_code == 200

    site = world["food"]
    outing = OutingFactory(team=team_a, site=site, date=datetime.date(2026, 3, 9), participants=[worker_a])
    for day in range(1, 29):
        person = PersonFactory(team=team_a)
        encounter = EncounterFactory(
            team=team_a, site=site, outing=outing, person=person, occurred_at=at(2026, 3, day), needs=[Need.HOUSING]
        )
        referral_create(actor=worker_a, team=team_a, service_kind=ServiceKind.KELA, encounter=encounter)
        feedback_record(site=site, outing=outing, score=4, given_on=datetime.date(2026, 3, day))
    with django_assert_max_num_queries(len(small)):
        assert client.get(URL, params).status_code == 200
    # Session and user, municipality and team look-ups, and the report itself.
    assert len(small) <= 16


def test_selector_runs_a_fixed_number_of_queries(world, worker_a, django_assert_max_num_queries):
    with django_assert_max_num_queries(11):
        summary_report(user=worker_a, start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31))


def test_long_periods_list_every_month(world, worker_a):
    report = summary_report(user=worker_a, start=datetime.date(2024, 12, 31), end=datetime.date(2026, 3, 1))
    months = ["2024-12"] + [f"2025-{month:02d}" for month in range(1, 13)] + ["2026-01", "2026-02", "2026-03"]
    assert list(report["by_month"]) == months
    assert report["by_month"]["2026-03"] == 1  # 00:10 on 1 March, the period's last day
    assert report["by_month"]["2026-02"] == 2


@pytest.mark.django_db
def test_schema_documents_the_summary():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][URL]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert set(parameters) == {"start", "end", "municipality", "site_type", "team"}
    assert parameters["start"]["required"]
    assert parameters["end"]["required"]
    assert {"200", "400", "403"} <= set(operation["responses"])
    assert "feedback_mean_score" in schema["components"]["schemas"]["SummaryReport"]["properties"]


def test_the_widest_possible_period(client, world, worker_a):
    response = summary(client, worker_a, start="0001-01-01", end="9999-12-31")
    assert response.status_code == 200
    data = response.json()
    assert len(data["by_month"]) == 9999 * 12
    assert data["encounters_total"] == 11  # every one of team A's
    assert data["by_month"]["2026-03"] == 8


def test_a_team_outside_the_scope_and_a_missing_team_answer_alike(client, world, worker_a, team_b):
    # Existence of a team must not be probed: both get the same 403 and body.
    missing = max(Team.objects.values_list("pk", flat=True)) + 1000
    foreign = summary(client, worker_a, team=team_b.pk, **MARCH)
    unknown = summary(client, worker_a, team=missing, **MARCH)

    assert foreign.status_code == unknown.status_code == 403
    assert foreign.json() == unknown.json()
    assert list(unknown.json()) == ["team"]

    # Nor through another bad parameter: the 400 names the same fields for both.
    foreign_bad = summary(client, worker_a, team=team_b.pk, start="2026-03-01")
    unknown_bad = summary(client, worker_a, team=missing, start="2026-03-01")
    assert foreign_bad.status_code == unknown_bad.status_code == 400
    assert foreign_bad.json() == unknown_bad.json() == {"end": foreign_bad.json()["end"]}


def test_a_superuser_gets_400_for_a_missing_team(client, world, with_totp, superuser):
    with_totp(superuser)
    missing = max(Team.objects.values_list("pk", flat=True)) + 1000

    response = summary(client, superuser, team=missing, **MARCH)

    assert response.status_code == 400
    assert list(response.json()) == ["team"]
