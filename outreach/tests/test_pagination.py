"""The list APIs' bounded count (outreach.api_support.BoundedCountPaginator).

Up to API_EXACT_COUNT_LIMIT rows the count is exact and costs one bounded
query; above it PostgreSQL gives its planner's estimate, flagged
`count_is_estimate`, and `next` is decided by one row more than the page.
"""

import pytest
from django.db import connection

from encounters.tests.factories import EncounterFactory, PersonFactory
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import FieldSiteFactory

URL = "/api/v1/encounters/"


@pytest.fixture
def eight(team_a):
    site = FieldSiteFactory(team=team_a)
    return [EncounterFactory(team=team_a, site=site) for _ in range(8)]


def test_at_or_under_the_limit_the_count_is_exact_and_the_envelope_as_documented(worker_a, eight, settings):
    settings.API_EXACT_COUNT_LIMIT = 8
    body = api_client(worker_a).get(URL, {"page_size": 5}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 8
    assert body["next"].endswith("page=2&page_size=5")
    last = api_client(worker_a).get(URL, {"page_size": 5, "page": 2}).json()
    assert last["count"] == 8
    assert last["next"] is None
    assert len(last["results"]) == 3


def test_the_exact_count_stops_reading_at_the_limit(worker_a, eight, settings, django_assert_max_num_queries):
    settings.API_EXACT_COUNT_LIMIT = 8
    with django_assert_max_num_queries(4) as captured:
        api_client(worker_a).get(URL, {"page_size": 5})
    counts = [query["sql"] for query in captured.captured_queries if "COUNT(" in query["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 9" in counts[0]


def test_above_the_limit_the_count_is_an_estimate_on_postgresql(worker_a, eight, settings):
    settings.API_EXACT_COUNT_LIMIT = 3
    client = api_client(worker_a)
    first = client.get(URL, {"page_size": 5}).json()
    second = client.get(URL, {"page_size": 5, "page": 2}).json()
    if connection.vendor == "postgresql":
        assert first["count_is_estimate"] is True
        assert first["count"] >= 4  # never less than what was counted
        assert second["count_is_estimate"] is True
    else:  # SQLite counts exactly
        assert "count_is_estimate" not in first
        assert first["count"] == 8
    # Either way the pages are right: five, then three and no next page.
    assert len(first["results"]) == 5
    assert first["next"].endswith("page=2&page_size=5")
    assert len(second["results"]) == 3
    assert second["next"] is None
    assert second["previous"] is not None
    assert {row["id"] for row in first["results"]} | {row["id"] for row in second["results"]} == {
        encounter.pk for encounter in eight
    }


def test_a_page_past_the_end_is_404_json_whether_counted_or_estimated(worker_a, eight, settings):
    for limit in (100, 3):
        settings.API_EXACT_COUNT_LIMIT = limit
        response = api_client(worker_a).get(URL, {"page_size": 5, "page": 3})
        assert response.status_code == 404
        assert "detail" in response.json()
        assert api_client(worker_a).get(URL, {"page": "x"}).status_code == 404


def test_the_person_list_uses_the_same_count(worker_a, team_a, settings):
    settings.API_EXACT_COUNT_LIMIT = 2
    for _ in range(3):
        PersonFactory(team=team_a)
    body = api_client(worker_a).get("/api/v1/persons/").json()
    assert len(body["results"]) == 3
    assert body.get("count_is_estimate", False) is (connection.vendor == "postgresql")
