"""The summary's contact frequency and engaged persons, the reach endpoint and the statistics extract.

On the same hand-made March 2026 as test_summary (its `world` fixture); every
figure is worked out in the comments.
"""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from encounters.services import person_merge, person_update
from encounters.tests.factories import EncounterFactory, PersonFactory
from outreach.tests.factories import FieldSiteFactory, OutingFactory, municipality
from outreach.vocabulary import AgeGroup, Depth, Gender, OutingStatus, SiteType
from reports.selectors import extract_rows, reach_report, summary_report, suppress_extract
from reports.tests.test_summary import MARCH, SUMMER, at, summary
from reports.tests.test_summary import world as world

REACH = "/api/v1/reports/reach/"
EXTRACT = "/api/v1/reports/extract/"


def reach(client, user, **params):
    client.force_login(user)
    return client.get(REACH, params)


def extract(client, user, **params):
    client.force_login(user)
    return client.get(EXTRACT, params)


def site_type_row(key, **figures):
    row = {
        "key": key,
        "outings_done": 0,
        "outing_hours": 0.0,
        "encounters": 0,
        "conversations": 0,
        "tallied_contacts": 0,
        "contacts_per_outing_hour": None,
        "conversations_per_outing_hour": None,
    }
    row.update(figures)
    return row


# Contact frequency and engaged persons ------------------------------------------------------


@pytest.mark.django_db
def test_contact_frequency_buckets_and_engaged_persons(client, team_a, worker_a):
    site = FieldSiteFactory(team=team_a)
    other_site = FieldSiteFactory(team=team_a, site_type=SiteType.STREET)

    def meet(person, times, first_day=1, where=site):
        for n in range(times):
            EncounterFactory(team=team_a, site=where, person=person, occurred_at=at(2026, 3, first_day + n))

    once, five, six, nine, ten = (PersonFactory(team=team_a) for _ in range(5))
    meet(once, 1)
    meet(five, 5)
    meet(six, 6)
    meet(nine, 9)
    meet(ten, 10)
    # A duplicate merged through the service: 3 + 2 encounters, one person in 2_5.
    kept, duplicate = PersonFactory(team=team_a), PersonFactory(team=team_a)
    meet(kept, 3)
    meet(duplicate, 2, first_day=20)
    person_merge(actor=worker_a, kept=kept, merged=duplicate)
    # Met only before the period: not reached, even if engaged.
    before = PersonFactory(team=team_a, engaged_on=datetime.date(2026, 1, 5))
    EncounterFactory(team=team_a, site=site, person=before, occurred_at=at(2026, 2, 10))
    # Engagement: on the last day counts, the day after does not, long before does.
    person_update(actor=worker_a, person=once, engaged_on=datetime.date(2026, 3, 31))
    person_update(actor=worker_a, person=five, engaged_on=datetime.date(2026, 4, 1))
    person_update(actor=worker_a, person=ten, engaged_on=datetime.date(2025, 6, 1))
    # Ten met once more at the street: 11 in all, but 1 under a street filter.
    meet(ten, 1, first_day=25, where=other_site)

    data = summary(client, worker_a, **MARCH).json()
    assert data["persons_reached"] == 6
    assert data["contact_frequency"] == {"1": 1, "2_5": 2, "6_9": 2, "10_plus": 1}
    assert sum(data["contact_frequency"].values()) == data["persons_reached"]
    assert data["persons_engaged"] == 2

    data = summary(client, worker_a, site_type="street", **MARCH).json()
    assert data["contact_frequency"] == {"1": 1, "2_5": 0, "6_9": 0, "10_plus": 0}
    assert data["persons_engaged"] == 1

    # Up to 15 March: once 1, five 5, six 6, nine 9, ten 10 (1–10 March), kept 3.
    data = summary(client, worker_a, start="2026-03-01", end="2026-03-15").json()
    assert data["contact_frequency"] == {"1": 1, "2_5": 2, "6_9": 2, "10_plus": 1}
    # Engagement agreed on 31 March is after this period's end.
    assert data["persons_engaged"] == 1


def test_contact_frequency_of_the_world(client, world, worker_a):
    data = summary(client, worker_a, **MARCH).json()
    # p_new met at e3 and e6, p_old at e4.
    assert data["contact_frequency"] == {"1": 1, "2_5": 1, "6_9": 0, "10_plus": 0}
    assert data["persons_engaged"] == 0


def test_empty_period_contact_frequency_is_zeros(client, world, worker_a):
    data = summary(client, worker_a, start="2025-06-01", end="2025-06-30").json()
    assert data["contact_frequency"] == {"1": 0, "2_5": 0, "6_9": 0, "10_plus": 0}
    assert data["persons_engaged"] == 0


# Reach -----------------------------------------------------------------------------------


def test_reach_by_site(client, world, worker_a):
    response = reach(client, worker_a, group="site", **MARCH)
    assert response.status_code == 200
    food, street = world["food"], world["street"]
    assert response.json() == {
        "group": "site",
        "rows": [
            # o1 (2.5 h × 2 participants, the expert counts) and o3 (no end
            # time: no hours); planned o4, cancelled o5 and February's o6
            # count nowhere. Encounters e1 e2 e3 (conversations e1 e3);
            # tallies 12 + 4. (3 + 16) ÷ 5 = 3.8 contacts and 2 ÷ 5 = 0.4
            # conversations an hour.
            {
                "key": food.pk,
                "name": "Food",
                "outings_done": 2,
                "outing_hours": 5.0,
                "encounters": 3,
                "conversations": 2,
                "tallied_contacts": 16,
                "contacts_per_outing_hour": 3.8,
                "conversations_per_outing_hour": 0.4,
            },
            # o2: 1 h × 1, e4, tally 3.
            {
                "key": street.pk,
                "name": "Street",
                "outings_done": 1,
                "outing_hours": 1.0,
                "encounters": 1,
                "conversations": 1,
                "tallied_contacts": 3,
                "contacts_per_outing_hour": 4.0,
                "conversations_per_outing_hour": 1.0,
            },
        ],
    }


def test_reach_by_site_type_lists_every_code(client, world, worker_a):
    data = reach(client, worker_a, group="site_type", **MARCH).json()
    assert data == {
        "group": "site_type",
        "rows": [
            site_type_row(
                "food_distribution",
                outings_done=2,
                outing_hours=5.0,
                encounters=3,
                conversations=2,
                tallied_contacts=16,
                contacts_per_outing_hour=3.8,
                conversations_per_outing_hour=0.4,
            ),
            site_type_row("day_centre"),
            site_type_row("event"),
            site_type_row(
                "street",
                outings_done=1,
                outing_hours=1.0,
                encounters=1,
                conversations=1,
                tallied_contacts=3,
                contacts_per_outing_hour=4.0,
                conversations_per_outing_hour=1.0,
            ),
            site_type_row("other"),
        ],
    }


def test_reach_by_municipality_for_the_coordinator(client, world, with_totp, coordinator):
    with_totp(coordinator)
    rows = reach(client, coordinator, group="municipality", **MARCH).json()["rows"]
    # Kaavi: the street. Kuopio: food plus team B's day centre (o7: 2 h × 1,
    # tally 9, e11): 3 outings, 7 h, 4 encounters (3 conversations), tallies 25;
    # 29 ÷ 7 = 4.142… and 3 ÷ 7 = 0.428….
    assert [row["key"] for row in rows] == ["204", "297"]
    assert rows[1] == {
        "key": "297",
        "outings_done": 3,
        "outing_hours": 7.0,
        "encounters": 4,
        "conversations": 3,
        "tallied_contacts": 25,
        "contacts_per_outing_hour": 4.14,
        "conversations_per_outing_hour": 0.43,
    }


def test_reach_without_hours_has_null_ratios(client, world, worker_a):
    # 19 March: only o3, done without an end time.
    data = reach(client, worker_a, group="site", start="2026-03-19", end="2026-03-19").json()
    assert data["rows"] == [
        {
            "key": world["food"].pk,
            "name": "Food",
            "outings_done": 1,
            "outing_hours": 0.0,
            "encounters": 0,
            "conversations": 0,
            "tallied_contacts": 4,
            "contacts_per_outing_hour": None,
            "conversations_per_outing_hour": None,
        }
    ]


def test_reach_of_an_empty_period(client, world, worker_a):
    assert reach(client, worker_a, group="site", start="2025-06-01", end="2025-06-30").json() == {
        "group": "site",
        "rows": [],
    }
    rows = reach(client, worker_a, group="site_type", start="2025-06-01", end="2025-06-30").json()["rows"]
    assert rows == [site_type_row(code) for code in SiteType.values]
    assert reach(client, worker_a, group="municipality", start="2025-06-01", end="2025-06-30").json()["rows"] == []


def test_reach_counts_the_encounters_of_the_outing_whatever_their_date(client, world, worker_a):
    # Logged at o2 (12 March) but dated 1 April: reach by outing, the summary by date.
    EncounterFactory(team=world["o2"].team, site=world["street"], outing=world["o2"], occurred_at=at(2026, 4, 1))
    rows = reach(client, worker_a, group="site", **MARCH).json()["rows"]
    assert rows[1]["encounters"] == 2
    assert summary(client, worker_a, **MARCH).json()["encounters_total"] == 8


def test_reach_filters(client, world, worker_a, team_a):
    rows = reach(client, worker_a, group="site", municipality="204", **MARCH).json()["rows"]
    assert [row["name"] for row in rows] == ["Street"]
    rows = reach(client, worker_a, group="site", site_type="food_distribution", team=team_a.pk, **MARCH).json()["rows"]
    assert [row["name"] for row in rows] == ["Food"]


def test_reach_agrees_with_the_summary(client, world, with_totp, coordinator):
    with_totp(coordinator)
    data = summary(client, coordinator, **MARCH).json()
    rows = reach(client, coordinator, group="site_type", **MARCH).json()["rows"]
    assert sum(row["outings_done"] for row in rows) == data["outings_done"]
    assert sum(row["outing_hours"] for row in rows) == data["outing_hours"]
    assert sum(row["tallied_contacts"] for row in rows) == data["tallied_contacts"]
    # 5 encounters ÷ 8 h = 0.625, rounded half up as the summary does.
    assert sum(row["encounters"] for row in rows) == 5
    assert data["encounters_per_outing_hour"] == 0.63


def test_reach_with_a_multi_participant_outing_and_cancelled_ones(client, team_a, worker_a, expert_a):
    site = FieldSiteFactory(team=team_a, site_type=SiteType.EVENT)
    day = datetime.date(2026, 3, 5)
    # 1.5 h × 2 = 3 h; a cancelled and a planned one at the same site add nothing.
    OutingFactory(team=team_a, site=site, date=day, start_time=datetime.time(9), end_time=datetime.time(10, 30),
                  participants=[worker_a, expert_a], tallied_contacts=7)  # fmt: skip
    for status in (OutingStatus.CANCELLED, OutingStatus.PLANNED):
        OutingFactory(team=team_a, site=site, date=day, status=status, participants=[worker_a], tallied_contacts=50)
    rows = reach(client, worker_a, group="site", **MARCH).json()["rows"]
    assert rows == [
        {
            "key": site.pk,
            "name": site.name,
            "outings_done": 1,
            "outing_hours": 3.0,
            "encounters": 0,
            "conversations": 0,
            "tallied_contacts": 7,
            "contacts_per_outing_hour": 2.33,
            "conversations_per_outing_hour": 0.0,
        }
    ]


# Who may see reach and the extract ------------------------------------------------------------


@pytest.mark.parametrize("url", [REACH, EXTRACT])
def test_expert_is_refused(client, world, expert_a, url):
    client.force_login(expert_a)
    response = client.get(url, {**MARCH, "group": "site"})
    assert response.status_code == 403
    assert "rows" not in response.json()


@pytest.mark.parametrize("url", [REACH, EXTRACT])
def test_anonymous_is_refused(client, world, url):
    # Not signed in: 401, as the token authentication asks for credentials.
    response = client.get(url, {**MARCH, "group": "site"})
    assert response.status_code == 401
    assert "rows" not in response.json()


@pytest.mark.parametrize("url", [REACH, EXTRACT])
def test_another_teams_filter_is_403_naming_team(client, world, worker_a, team_b, url):
    client.force_login(worker_a)
    response = client.get(url, {**MARCH, "group": "site", "team": team_b.pk})
    assert response.status_code == 403
    assert "team" in response.json()
    # A team that does not exist answers alike, so that ids cannot be probed.
    missing = client.get(url, {**MARCH, "group": "site", "team": 99999})
    assert missing.status_code == 403
    assert missing.json() == response.json()


@pytest.mark.parametrize("url", [REACH, EXTRACT])
@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"start": "2026-3-1", "end": "2026-03-31"}, "start"),
        ({"start": "2026-03-01"}, "end"),
        ({"start": "2026-03-31", "end": "2026-03-01"}, "end"),
        ({**MARCH, "municipality": "999"}, "municipality"),
        ({**MARCH, "site_type": "beach"}, "site_type"),
        ({**MARCH, "team": "abc"}, "team"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, world, worker_a, url, params, name):
    client.force_login(worker_a)
    response = client.get(url, {**params, "group": "site"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert name in response.json()


@pytest.mark.parametrize("group", ["", "sites", "team"])
def test_reach_needs_a_known_group(client, world, worker_a, group):
    response = reach(client, worker_a, group=group, **MARCH)
    assert response.status_code == 400
    assert list(response.json()) == ["group"]


def test_reach_without_group_names_group(client, world, worker_a):
    client.force_login(worker_a)
    response = client.get(REACH, MARCH)
    assert response.status_code == 400
    assert "group" in response.json()


def test_worker_sees_only_their_teams_reach(client, world, worker_b):
    rows = reach(client, worker_b, group="site", **MARCH).json()["rows"]
    assert [row["name"] for row in rows] == ["Day B"]


def test_url_names():
    assert reverse("api-reach") == REACH
    assert reverse("api-extract") == EXTRACT


# The extract ------------------------------------------------------------------------------


def test_extract_rows_are_combinations_with_small_counts_suppressed(client, world, worker_a):
    response = extract(client, worker_a, start="2026-03-01", end="2026-04-30")
    assert response.status_code == 200
    data = response.json()
    assert data["suppressed_below"] == 5
    # March's eight encounters fall in eight combinations; 00:30 on 1 April
    # in Helsinki is April's. Every count is 1–4: "<5".
    assert [
        (row["month"], row["municipality"], row["site_type"], row["gender"], row["age_group"], row["depth"])
        for row in data["rows"]
    ] == [
        ("2026-03", "204", "street", "female", "50_64", "conversation"),
        ("2026-03", "204", "street", "male", "30_39", "conversation"),
        ("2026-03", "204", "street", "unknown", "unknown", "brief"),
        ("2026-03", "297", "food_distribution", "female", "18_29", "conversation"),
        ("2026-03", "297", "food_distribution", "male", "30_39", "brief"),
        ("2026-03", "297", "food_distribution", "male", "30_39", "conversation"),
        ("2026-03", "297", "food_distribution", "other", "65_plus", "brief"),
        ("2026-03", "297", "food_distribution", "unknown", "unknown", "brief"),
        ("2026-04", "297", "food_distribution", "unknown", "unknown", "conversation"),
    ]
    assert {row["encounters"] for row in data["rows"]} == {"<5"}
    # Codes and counts only: no ids, names or notes.
    assert all(set(row) == {"month", "municipality", "site_type", "gender", "age_group", "depth", "encounters"}
               for row in data["rows"])  # fmt: skip


def test_extract_counts_of_five_or_more_are_integers(client, world, worker_a, team_a):
    for minute in range(5):
        EncounterFactory(team=team_a, site=world["street"], occurred_at=at(2026, 3, 20, 12, minute),
                         gender=Gender.FEMALE, age_group=AgeGroup.AGE_40_49, depth=Depth.BRIEF)  # fmt: skip
    rows = extract(client, worker_a, **MARCH).json()["rows"]
    row = next(row for row in rows if row["age_group"] == "40_49")
    assert row["encounters"] == 5
    assert type(row["encounters"]) is int


def test_extract_threshold_is_a_setting(client, world, worker_a, settings):
    settings.REPORTS_SUPPRESSION_THRESHOLD = 2
    data = extract(client, worker_a, **MARCH).json()
    assert data["suppressed_below"] == 2
    # Each of March's eight combinations holds one encounter: "<2".
    assert {row["encounters"] for row in data["rows"]} == {"<2"}


def test_extract_agrees_with_the_summary(client, world, with_totp, coordinator, team_a):
    with_totp(coordinator)
    kuopio = municipality("297")
    for filters in ({}, {"municipality": kuopio}, {"team": team_a, "site_type": "street"}):
        period = {"user": coordinator, "start": datetime.date(2026, 3, 1), "end": datetime.date(2026, 3, 31)}
        figures = summary_report(**period, **filters)
        rows = extract_rows(**period, **filters)
        assert sum(row["encounters"] for row in rows) == figures["encounters_total"]
        for code, count in figures["by_gender"].items():
            assert sum(row["encounters"] for row in rows if row["gender"] == code) == count
        for code, count in figures["by_municipality"].items():
            assert sum(row["encounters"] for row in rows if row["municipality"] == code) == count


def test_extract_as_csv(client, world, worker_a):
    response = extract(client, worker_a, format="csv", **MARCH)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="extract-20260301-20260331.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["month", "municipality", "site_type", "gender", "age_group", "depth", "encounters"]
    json_rows = extract(client, worker_a, **MARCH).json()["rows"]
    assert rows[1:] == [[str(value) for value in row.values()] for row in json_rows]


def test_extract_csv_errors_stay_json(client, world, worker_a):
    response = extract(client, worker_a, format="csv", start="2026-03-01")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "end" in response.json()


def test_suppress_extract_hides_one_to_four_and_keeps_zero():
    rows = [{"month": "2026-03", "encounters": n} for n in (0, 1, 4, 5, 12)]
    assert [row["encounters"] for row in suppress_extract(rows, 5)] == [0, "<5", "<5", 5, 12]


def test_extract_of_an_empty_period(client, world, worker_a):
    assert extract(client, worker_a, start="2025-06-01", end="2025-06-30").json() == {
        "suppressed_below": 5,
        "rows": [],
    }


def test_extract_across_dst_keeps_helsinki_dates(client, team_a, worker_a):
    site = FieldSiteFactory(team=team_a)
    # 23:30 on 28 March (winter, +2) and 00:30 on 30 March (summer, +3): both March;
    # 23:30 on 31 March (+3) is March, 00:10 on 1 April (+3) April.
    for when in (
        datetime.datetime(2026, 3, 28, 21, 30, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 29, 21, 30, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 31, 20, 30, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 31, 21, 10, tzinfo=datetime.UTC),
    ):
        EncounterFactory(team=team_a, site=site, occurred_at=when)
    rows = extract_rows(user=worker_a, start=datetime.date(2026, 3, 1), end=datetime.date(2026, 4, 30))
    assert [(row["month"], row["encounters"]) for row in rows] == [("2026-03", 3), ("2026-04", 1)]
    assert summary(client, worker_a, start="2026-03-01", end="2026-04-30").json()["by_month"] == {
        "2026-03": 3,
        "2026-04": 1,
    }
    assert SUMMER.utcoffset(None) == datetime.timedelta(hours=3)


# Query counts --------------------------------------------------------------------------------


def test_query_counts_do_not_grow_with_data(client, world, worker_a, team_a, django_assert_num_queries):
    start, end = datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)

    def counts():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        result = []
        for call in (
            lambda: summary_report(user=worker_a, start=start, end=end),
            lambda: reach_report(user=worker_a, start=start, end=end, group="site"),
            lambda: reach_report(user=worker_a, start=start, end=end, group="site_type"),
            lambda: extract_rows(user=worker_a, start=start, end=end),
        ):
            with CaptureQueriesContext(connection) as queries:
                call()
            result.append(len(queries))
        return result

    small = counts()
    site = world["food"]
    for day in range(1, 29):
        outing = OutingFactory(team=team_a, site=site, date=datetime.date(2026, 3, day), participants=[worker_a])
        person = PersonFactory(team=team_a)
        EncounterFactory(team=team_a, site=site, outing=outing, person=person, occurred_at=at(2026, 3, day))
    assert counts() == small
    # Summary: the user's team ids, encounters, municipalities, persons, outings, referrals, feedback.
    assert small == [7, 2, 1, 1]
    with django_assert_num_queries(1):
        extract_rows(user=worker_a, start=start, end=end)
