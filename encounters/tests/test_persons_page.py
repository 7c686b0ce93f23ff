"""The persons page (filters, search by POST, htmx rows, pages), the person's timeline, the masked
identity code and its logged reveal, and "ongoing support agreed"."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from encounters.models import Consent, FollowUp, Person, PersonMerge
from encounters.selectors import PERSONS_PAGE_SIZE
from encounters.services import person_engage
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach.models import AccessLogEntry, AuditEntry
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import OutingFactory
from outreach.vocabulary import Gender, OutingStatus, ReferralStatus

CODE = "131052-308T"


def url(name: str, *args) -> str:
    return reverse(f"encounters:{name}", args=args)


def listed(response) -> list[str]:
    return [person.alias for person in response.context["persons"]]


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def regular(team_a, today):
    """Met last month, several times."""
    person = PersonFactory(team=team_a, alias="Kettu", birth_year=1985, gender=Gender.FEMALE)
    for days in (40, 35, 30):
        EncounterFactory(
            team=team_a,
            person=person,
            anonymous=False,
            occurred_at=timezone.now() - datetime.timedelta(days=days),
        )
    return person


@pytest.fixture
def gone(team_a, today):
    """Last met half a year ago: inactive."""
    person = PersonFactory(team=team_a, alias="Susi", birth_year=1970)
    Person.objects.filter(pk=person.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    EncounterFactory(
        team=team_a, person=person, anonymous=False, occurred_at=timezone.now() - datetime.timedelta(days=180)
    )
    return person


@pytest.fixture
def named(team_a):
    return Person.objects.create(
        team=team_a,
        kind=Person.Kind.NAMED,
        first_name="Maija",
        last_name="Meikäläinen",
        identity_code=CODE,
        birth_year=1952,
    )


# The list and its filters ----------------------------------------------------------------------


def test_the_list_shows_the_teams_persons_and_logs_them(client, worker_a, regular, gone, team_b):
    PersonFactory(team=team_b, alias="Other team")
    client.force_login(worker_a)

    response = client.get(url("person_list"))

    assert response.status_code == 200
    assert listed(response) == ["Kettu", "Susi"]
    assert "Other team" not in response.content.decode()
    logged = AccessLogEntry.objects.filter(action="list", door="page", actor=worker_a)
    assert sorted(logged.values_list("person_id", flat=True)) == sorted([regular.pk, gone.pk])


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", ["Kettu"]),
        ("inactive", ["Susi"]),
        ("engaged", ["Susi"]),
        ("open_referrals", ["Kettu"]),
        ("follow_ups_due", ["Susi"]),
        ("", ["Kettu", "Susi"]),
    ],
)
def test_the_filters(client, worker_a, team_a, regular, gone, today, status, expected):
    Person.objects.filter(pk=gone.pk).update(engaged_on=today - datetime.timedelta(days=300))
    ReferralFactory(team=team_a, person=regular, status=ReferralStatus.MADE)
    ReferralFactory(team=team_a, person=gone, status=ReferralStatus.ENDED)
    FollowUp.objects.create(team=team_a, person=gone, due_on=today)
    FollowUp.objects.create(team=team_a, person=regular, due_on=today + datetime.timedelta(days=30))
    client.force_login(worker_a)

    response = client.get(url("person_list"), {"status": status})

    assert listed(response) == expected


def test_an_unknown_filter_is_a_400_naming_it(client, worker_a, regular):
    client.force_login(worker_a)

    response = client.get(url("person_list"), {"status": "everyone"})

    assert response.status_code == 400
    assert "status" in response.context["form"].errors
    assert not AccessLogEntry.objects.exists()


def test_a_done_follow_up_recently_keeps_a_person_active(client, worker_a, team_a, gone, today):
    FollowUp.objects.create(team=team_a, person=gone, due_on=today, done_on=today)
    client.force_login(worker_a)

    assert listed(client.get(url("person_list"), {"status": "active"})) == ["Susi"]


# The search -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), [("ett", ["Kettu"]), ("KETTU", ["Kettu"]), ("1970", ["Susi"])])
def test_the_search_by_alias_or_birth_year(client, worker_a, regular, gone, query, expected):
    client.force_login(worker_a)

    response = client.post(url("person_list"), {"q": query})

    assert response.status_code == 200
    assert listed(response) == expected
    assert AccessLogEntry.objects.filter(action="search").count() == 1


def test_the_search_by_name(client, worker_a, regular, named):
    client.force_login(worker_a)

    response = client.post(url("person_list"), {"q": "meikä"})

    assert [person.pk for person in response.context["persons"]] == [named.pk]
    # The field name (initials) in the list, never the name.
    assert "Meikäläinen" not in response.content.decode()


def test_the_search_text_is_never_taken_from_the_address(client, worker_a, regular, gone):
    client.force_login(worker_a)

    response = client.get(url("person_list"), {"q": "Kettu"})

    assert listed(response) == ["Kettu", "Susi"]


def test_the_search_never_finds_another_teams_person(client, worker_b, regular):
    client.force_login(worker_b)

    response = client.post(url("person_list"), {"q": "Kettu"})

    assert listed(response) == []
    assert not AccessLogEntry.objects.exists()


def test_htmx_gets_the_rows_as_the_worker_types(client, worker_a, regular, gone):
    client.force_login(worker_a)

    response = client.post(url("person_list"), {"q": "sus"}, HTTP_HX_REQUEST="true")

    assert next(template.name for template in response.templates) == "encounters/_person_rows.html"
    assert "Susi" in response.content.decode()
    assert "Kettu" not in response.content.decode()


def test_pages_and_a_bounded_number_of_queries(client, worker_a, team_a, django_assert_max_num_queries):
    for number in range(PERSONS_PAGE_SIZE + 5):
        person = PersonFactory(team=team_a, alias=f"Kettu {number:02}")
        EncounterFactory(team=team_a, person=person, anonymous=False)
    client.force_login(worker_a)

    # Session, user, form's teams, team ids, count, page, last contacts, the access-log insert: not per row.
    with django_assert_max_num_queries(9):
        response = client.post(url("person_list"), {"q": "kettu", "page": "2"})

    assert response.status_code == 200
    assert len(response.context["persons"]) == 5
    assert response.context["page"].number == 2
    assert 'name="page" value="1"' in response.content.decode()


def test_the_count_stops_at_the_cap_unsorted_and_the_page_names_its_teams(client, worker_a, team_a):
    """What keeps the search fast with 100,000 persons (benchmarks/person_search_bench.py): the capped
    count is not sorted first, and the page filters by the team ids as values, so that PostgreSQL reads
    the (team, alias, last name, first name, id) index in order and stops at the page."""
    PersonFactory.create_batch(3, team=team_a)
    client.force_login(worker_a)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(url("person_list"), {"q": ""})

    assert response.status_code == 200
    person_queries = [query["sql"] for query in queries if 'FROM "encounters_person"' in query["sql"]]
    count = next(sql for sql in person_queries if "COUNT(" in sql)
    assert "ORDER BY" not in count
    page = next(sql for sql in person_queries if "COUNT(" not in sql and "LIMIT" in sql)
    assert f'"encounters_person"."team_id" IN ({team_a.pk})' in page
    assert "outreach_user_teams" not in page
    assert 'ORDER BY "encounters_person"."alias" ASC, "encounters_person"."last_name" ASC' in page


def test_an_expert_sees_only_the_pseudonymous_persons_of_their_outings(client, expert_a, team_a, regular, named):
    outing = OutingFactory(team=team_a, participants=[expert_a], status=OutingStatus.DONE)
    EncounterFactory(team=team_a, site=outing.site, outing=outing, person=regular, anonymous=False)
    EncounterFactory(team=team_a, site=outing.site, outing=outing, person=named, anonymous=False)
    PersonFactory(team=team_a, alias="Not met")
    client.force_login(expert_a)

    response = client.get(url("person_list"))

    assert listed(response) == ["Kettu"]
    assert listed(client.post(url("person_list"), {"q": "Meik"})) == []


def test_the_navigation_links_the_persons_page(client, worker_a, coordinator, with_totp):
    for user in (worker_a, with_totp(coordinator)):
        client.force_login(user)
        assert f'href="{url("person_list")}"' in client.get(url("today")).content.decode()


# The timeline ----------------------------------------------------------------------------------------


def test_the_timeline_has_everything_newest_first(client, worker_a, team_a, named, today):
    EncounterFactory(
        team=team_a,
        person=named,
        anonymous=False,
        needs=["housing"],
        occurred_at=timezone.now() - datetime.timedelta(days=20),
    )
    EncounterFactory(
        team=team_a,
        person=named,
        anonymous=False,
        needs=["housing", "livelihood"],
        occurred_at=timezone.now() - datetime.timedelta(days=2),
    )
    ReferralFactory(
        team=team_a,
        person=named,
        status=ReferralStatus.CONNECTED,
        referred_on=today - datetime.timedelta(days=15),
        made_on=today - datetime.timedelta(days=14),
        connected_on=today - datetime.timedelta(days=5),
    )
    FollowUp.objects.create(team=team_a, person=named, due_on=today + datetime.timedelta(days=3))
    Consent.objects.create(person=named, scope=Consent.Scope.PERSONAL_DATA, given_on=today - datetime.timedelta(days=1))
    person_engage(actor=worker_a, person=named)
    duplicate = PersonFactory(team=team_a)
    PersonMerge.objects.create(kept=named, merged=duplicate, merged_by=worker_a)
    client.force_login(worker_a)

    response = client.get(url("person_detail", named.pk))

    events = response.context["timeline"]["events"]
    assert [event.kind for event in events] == [
        "follow_up_due",
        "merge",
        "engagement",
        "consent",
        "encounter",
        "referral",
        "referral",
        "referral",
        "encounter",
    ]
    assert [event.on for event in events] == sorted((event.on for event in events), reverse=True)
    needs = {str(row["label"]): row["count"] for row in response.context["timeline"]["needs_over_time"]}
    assert needs == {"Housing": 2, "Livelihood": 1}


def test_the_timeline_is_a_bounded_number_of_queries(
    client, worker_a, team_a, named, today, django_assert_max_num_queries
):
    for _days in range(10):
        EncounterFactory(team=team_a, person=named, anonymous=False, needs=["housing"])
        referral = ReferralFactory(team=team_a, person=named, status=ReferralStatus.MADE)
        FollowUp.objects.create(team=team_a, person=named, referral=referral, due_on=today)
        Consent.objects.create(person=named, scope=Consent.Scope.CONTACT, given_on=today)
        PersonMerge.objects.create(kept=named, merged=PersonFactory(team=team_a), merged_by=worker_a)
    client.force_login(worker_a)

    with django_assert_max_num_queries(11):
        response = client.get(url("person_detail", named.pk))

    assert len(response.context["timeline"]["events"]) >= 50


def test_another_teams_timeline_is_a_404(client, worker_b, named):
    client.force_login(worker_b)

    assert client.get(url("person_detail", named.pk)).status_code == 404


# The identity code ---------------------------------------------------------------------------------


def test_the_identity_code_is_masked_on_the_person_page(client, worker_a, named):
    client.force_login(worker_a)

    content = client.get(url("person_detail", named.pk)).content.decode()

    assert "131052-***T" in content
    assert CODE not in content


def test_revealing_it_is_a_post_that_is_logged(client, worker_a, named):
    client.force_login(worker_a)

    response = client.post(url("person_identity_code_reveal", named.pk))

    assert response.status_code == 200
    assert CODE in response.content.decode()
    entry = AccessLogEntry.objects.get(action="reveal")
    assert (entry.person_id, entry.actor, entry.door) == (named.pk, worker_a, "page")


def test_the_reveal_answers_htmx_with_the_code_only(client, worker_a, named):
    client.force_login(worker_a)

    response = client.post(url("person_identity_code_reveal", named.pk), HTTP_HX_REQUEST="true")

    assert [template.name for template in response.templates] == ["encounters/_identity_code.html"]
    assert CODE in response.content.decode()


def test_the_reveal_is_not_a_get(client, worker_a, named):
    client.force_login(worker_a)

    assert client.get(url("person_identity_code_reveal", named.pk)).status_code == 405
    assert not AccessLogEntry.objects.exists()


def test_another_team_cannot_reveal(client, worker_b, named):
    client.force_login(worker_b)

    assert client.post(url("person_identity_code_reveal", named.pk)).status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_the_api_shows_it_masked_and_reveals_it_with_a_log_row(worker_a, named):
    client = api_client(worker_a)

    read = client.get(f"/api/v1/persons/{named.pk}/")
    revealed = client.post(f"/api/v1/persons/{named.pk}/identity-code/")

    assert read.json()["identity_code"] == "131052-***T"
    assert revealed.status_code == 200
    assert revealed.json() == {"identity_code": CODE}
    assert AccessLogEntry.objects.filter(action="reveal", door="api", person_id=named.pk).count() == 1


def test_the_api_keeps_the_code_when_the_masked_one_is_sent_back(worker_a, named):
    client = api_client(worker_a)
    data = client.get(f"/api/v1/persons/{named.pk}/").json()

    response = client.put(f"/api/v1/persons/{named.pk}/", {**data, "notes": "Soitti"}, format="json")

    assert response.status_code == 200, response.json()
    named.refresh_from_db()
    assert (named.identity_code, named.notes) == (CODE, "Soitti")


def test_the_api_refuses_the_reveal_to_another_team_and_experts(worker_b, expert_a, named):
    assert api_client(worker_b).post(f"/api/v1/persons/{named.pk}/identity-code/").status_code == 404
    assert api_client(expert_a).post(f"/api/v1/persons/{named.pk}/identity-code/").status_code == 404
    assert not AccessLogEntry.objects.exists()


# Engagement -------------------------------------------------------------------------------------------


def test_ongoing_support_agreed_sets_the_engagement_date(client, worker_a, regular, today):
    client.force_login(worker_a)

    response = client.post(url("person_engage", regular.pk))

    assert response.status_code == 302
    regular.refresh_from_db()
    assert regular.engaged_on == today
    entry = AuditEntry.objects.get(
        model="encounters.person", object_id=str(regular.pk), action=AuditEntry.Action.UPDATE
    )
    assert (entry.actor, entry.changes) == (worker_a, ["engaged_on"])


def test_a_second_press_keeps_the_first_date(client, worker_a, regular, today):
    Person.objects.filter(pk=regular.pk).update(engaged_on=today - datetime.timedelta(days=10))
    client.force_login(worker_a)

    client.post(url("person_engage", regular.pk))

    regular.refresh_from_db()
    assert regular.engaged_on == today - datetime.timedelta(days=10)
    assert not AuditEntry.objects.filter(model="encounters.person", action=AuditEntry.Action.UPDATE).exists()


def test_the_button_is_on_the_person_page_until_pressed(client, worker_a, regular):
    client.force_login(worker_a)
    button = f'action="{url("person_engage", regular.pk)}"'

    assert button in client.get(url("person_detail", regular.pk)).content.decode()
    client.post(url("person_engage", regular.pk))
    assert button not in client.get(url("person_detail", regular.pk)).content.decode()


@pytest.mark.parametrize(("role", "status"), [("worker_b", 404), ("expert_a", 403)])
def test_who_may_not_agree_on_support(client, request, team_a, regular, role, status):
    user = request.getfixturevalue(role)
    outing = OutingFactory(team=team_a, participants=[request.getfixturevalue("expert_a")], status=OutingStatus.DONE)
    EncounterFactory(team=team_a, site=outing.site, outing=outing, person=regular, anonymous=False)
    client.force_login(user)

    assert client.post(url("person_engage", regular.pk)).status_code == status
    regular.refresh_from_db()
    assert regular.engaged_on is None
