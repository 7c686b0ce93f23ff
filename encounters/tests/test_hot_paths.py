"""Query counts of the field's hot paths under load (docs/SCALING.md): saving an encounter from the
quick log, a tally tap, the outing page. A count that grows with the data, or creeps up with a change,
fails here before it shows in the load test."""

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from encounters.models import Encounter
from encounters.tests.factories import EncounterFactory
from outreach.models import TallyEvent
from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import OutingStatus


@pytest.fixture
def outing(team_a, worker_a):
    today = timezone.localdate()
    return OutingFactory(
        team=team_a,
        site=FieldSiteFactory(team=team_a),
        date=today,
        start_time=datetime.time(0, 0),
        end_time=None,
        status=OutingStatus.PLANNED,
        started_at=timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 0))),
        participants=[worker_a],
    )


def quick_log() -> dict:
    return {
        "client_uuid": str(uuid.uuid4()),
        "depth": "conversation",
        "gender": "female",
        "age_group": "30_39",
        "contact_kind": "field",
        "needs": ["housing"],
        "person": "",
        "referral_service_kind": "",
        "referral_status": "suggested",
    }


def save(client, outing) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.post(reverse("encounters:encounter_create", args=[outing.pk]), quick_log())
    assert response.status_code == 302
    return len(captured.captured_queries), response.status_code


def test_saving_an_encounter_costs_the_same_queries_however_many_the_outing_has(client, worker_a, outing):
    client.force_login(worker_a)
    save(client, outing)  # the session's first write
    first, _ = save(client, outing)
    for _ in range(20):
        EncounterFactory(team=outing.team, site=outing.site, outing=outing, occurred_at=timezone.now())
    later, _ = save(client, outing)
    assert Encounter.objects.filter(outing=outing).count() == 23
    assert later == first
    # December 2026: 14 on SQLite, 12 on PostgreSQL (17 and 18 before 8 December;
    # up to 33 before that; 47 before model validation stopped asking what the
    # INSERT's constraints answer): the session (from the database here, from
    # Redis in production) and its user, the outing, the user's teams,
    # create_once's transaction (here a savepoint in the test's transaction),
    # the insert with its history row, the links to the outing's participants
    # (one INSERT … SELECT), the rollup lock, the three counts added in place
    # and whether the outing is done (only then is its slice recomputed) in one
    # statement (PostgreSQL; four on SQLite, which has no lock), the audit
    # entry. No write of the session: the undo rides in a cookie.
    # docs/SCALING.md lists what each costs.
    assert first == 14 - 2 * (connection.vendor == "postgresql")


@pytest.mark.django_db(transaction=True)
def test_a_save_is_one_transaction_without_a_savepoint(client, worker_a, outing):
    """As in production, outside a test's transaction: BEGIN, the save, COMMIT; the create service leaves
    its transaction to create_once, which opens no savepoint when it opens the transaction itself."""
    client.force_login(worker_a)
    with CaptureQueriesContext(connection) as captured:
        save(client, outing)
    statements = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in statements if "SAVEPOINT" in sql.upper()]
    encounter = Encounter.objects.get(outing=outing)
    assert list(encounter.workers.all()) == [worker_a]


def test_a_save_without_javascript_writes_nothing_to_the_session(client, worker_a, outing):
    client.force_login(worker_a)
    save(client, outing)
    with CaptureQueriesContext(connection) as captured:
        save(client, outing)
        assert client.get(reverse("encounters:outing_detail", args=[outing.pk])).status_code == 200
    statements = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in statements if "django_session" in sql and not sql.startswith("SELECT")]


def test_a_resent_save_answers_with_the_first_and_writes_nothing(client, worker_a, outing):
    client.force_login(worker_a)
    data = quick_log()
    url = reverse("encounters:encounter_create", args=[outing.pk])
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert Encounter.objects.filter(client_uuid=data["client_uuid"]).count() == 1


def test_a_tally_tap_is_a_handful_of_queries(client, worker_a, outing, django_assert_max_num_queries):
    client.force_login(worker_a)
    url = reverse("encounters:outing_tally", args=[outing.pk])
    client.post(url, {"delta": "1", "client_uuid": str(uuid.uuid4())})
    # 9 (12 before 8 December, when the service's transaction held create_once's savepoint and the
    # count was read after its UPDATE, not returned by it; 18 before that, 19 on PostgreSQL): the
    # tally of an outing still going on is in no rollup slice yet, so nothing is recomputed (nor
    # locked) until the outing is done.
    with django_assert_max_num_queries(9):
        response = client.post(url, {"delta": "1", "client_uuid": str(uuid.uuid4())})
    assert response.status_code == 302
    assert TallyEvent.objects.filter(outing=outing).count() == 2


def test_the_outing_page_does_not_grow_with_its_encounters(client, worker_a, outing):
    client.force_login(worker_a)
    url = reverse("encounters:outing_detail", args=[outing.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(25):
        EncounterFactory(team=outing.team, site=outing.site, outing=outing, occurred_at=timezone.now())
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_starting_an_outing_in_the_field_recomputes_no_rollup(client, worker_a, team_a):
    client.force_login(worker_a)
    site = FieldSiteFactory(team=team_a)
    url = reverse("encounters:outing_start")
    client.post(url, {"team": team_a.pk, "site": site.pk})
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, {"team": team_a.pk, "site": site.pk})
    assert response.status_code == 302
    statements = [query["sql"] for query in captured.captured_queries]
    # A started outing is not done: it is in no rollup slice until it is (its recompute was six
    # statements more, on PostgreSQL seven). 19 with the session read from the database, as here.
    assert not [sql for sql in statements if "outingdaycount" in sql.lower()]
    assert len(statements) <= 19


def test_a_save_with_htmx_costs_two_queries_more_than_without_however_many_the_outing_has(client, worker_a, outing):
    """The answer is the new entry and a key, not the quick log and the list drawn again: the user's
    writable teams (for the undo and the entry's Correct link) and one count of the list (how many, how
    many above the new one, the new one's referrals) are read, not the form's choices (partners,
    services) nor the outing's other entries."""
    client.force_login(worker_a)
    url = reverse("encounters:encounter_create", args=[outing.pk])

    def htmx_save() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, {**quick_log(), "quick_log_fresh": "1"}, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert response["HX-Reswap"] == "none"
        return len(captured.captured_queries)

    save(client, outing)
    save(client, outing)
    without, _ = save(client, outing)
    first = htmx_save()
    for _ in range(20):
        EncounterFactory(team=outing.team, site=outing.site, outing=outing, occurred_at=timezone.now())
    later = htmx_save()
    assert Encounter.objects.filter(outing=outing).count() == 25
    assert first == later == without + 2
