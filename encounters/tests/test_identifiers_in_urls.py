"""Names and identity codes never travel in URLs, and no door finds a person by part of an identity code."""

import pytest
from django.urls import reverse

from encounters.models import Person
from encounters.tests.factories import ReferralFactory
from outreach.tests.api_helpers import api_client

IDENTITY_CODE = "131052-308T"


@pytest.fixture
def named(team_a):
    return Person.objects.create(
        team=team_a, kind=Person.Kind.NAMED, first_name="Maija", last_name="Meikäläinen", identity_code=IDENTITY_CODE
    )


@pytest.fixture
def admin_client(client, with_totp, coordinator):
    client.force_login(with_totp(coordinator))
    return client


CHANGELIST = "admin:encounters_person_changelist"


def test_the_admin_person_search_goes_by_post_and_keeps_the_text_out_of_the_address(admin_client, named):
    response = admin_client.post(reverse(CHANGELIST), {"q": "Meikäläinen", "_search": "1"})

    assert response.status_code == 302
    assert "Meik" not in response.url
    page = admin_client.get(response.url)
    assert list(page.context["cl"].result_list) == [named]
    content = page.content.decode()
    # The page's own links (filters, sorting, pages) carry no search text either.
    assert "q=" not in content
    assert 'method="post" role="search"' in content


def test_a_search_text_in_the_query_string_is_refused(admin_client, named):
    response = admin_client.get(reverse(CHANGELIST), {"q": IDENTITY_CODE})

    assert response.status_code == 302
    assert IDENTITY_CODE not in response.url


@pytest.mark.parametrize(
    "lookup",
    [
        "identity_code__startswith",
        "identity_code__endswith",
        "identity_code__regex",
        "identity_code__icontains",
        "identity_code",
        "last_name__startswith",
    ],
)
def test_admin_url_lookups_on_identifying_fields_are_refused(admin_client, named, lookup):
    response = admin_client.get(reverse(CHANGELIST), {lookup: "1310"})

    assert response.status_code == 400


def test_admin_lookups_through_a_relation_are_refused(admin_client, named, team_a):
    ReferralFactory(team=team_a, person=named)

    response = admin_client.get(
        reverse("admin:encounters_referral_changelist"), {"person__identity_code__startswith": "13"}
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/persons/", "identity_code__startswith"),
        ("/api/v1/persons/", "identity_code__regex"),
        ("/api/v1/persons/", "identity_code"),
        ("/api/v1/encounters/", "person__identity_code__endswith"),
        ("/api/v1/referrals/", "person__identity_code__startswith"),
    ],
)
def test_api_filters_on_identity_codes_are_refused(worker_a, named, path, param):
    response = api_client(worker_a).get(path, {param: "1310"})

    assert response.status_code == 400
    assert param in response.json()
