"""Access tests generated from the role matrix (outreach/access_matrix.py).

Every URL pattern of the product's apps must have a row in the matrix, so that
no view can be added without saying who may use it; each row is then tried
for each role on a record of team A, and the answer must be the one status
the matrix states. Team B's worker must not find team A's records anywhere.
"""

import datetime
import io
import re
from unittest.mock import ANY

import pytest
from django.core.management import call_command
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from encounters.models import FollowUp
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from networks.models import Network, PartnerOrganisation
from networks.tests.factories import network_world
from outreach.access_matrix import EXCLUDED_PREFIXES, MATRIX, ROLES
from outreach.models import ApiToken
from outreach.tests.factories import FieldSiteFactory, OutingFactory, municipality
from outreach.vocabulary import OutingStatus
from reports.models import ClientFeedback, StructuralObservation, Survey, SurveyQuestion
from reports.services import feedback_link_create


def url_patterns():
    """{matrix key: route} of every pattern outside EXCLUDED, the API's format-suffix twins left out.

    Two patterns under one name would share a row and so hide one of them: the
    second gets its route as its key, which no row names.
    """
    found = {}
    for route, key in _walk_named(get_resolver().url_patterns):
        if route.startswith(EXCLUDED_PREFIXES) or "(?P<format>" in route or "<drf_format_suffix:format>" in route:
            continue
        found[route if key in found else key] = route
    return found


def _walk_named(patterns, prefix="", namespace=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}{entry.namespace}:"
            yield from _walk_named(entry.url_patterns, route, inner)
        else:
            yield route.replace("^", "").replace("$", ""), (f"{namespace}{entry.name}" if entry.name else route)


def test_every_url_pattern_is_in_the_matrix():
    missing = sorted(set(url_patterns()) - set(MATRIX))
    assert missing == [], f"URL patterns without a row in outreach/access_matrix.py: {missing}"


def test_every_matrix_row_is_a_url_pattern():
    assert sorted(set(MATRIX) - set(url_patterns())) == []


def test_every_row_states_every_role():
    for key, (get, write) in MATRIX.items():
        assert len(get) == len(ROLES), key
        assert len(write) == len(ROLES), key


def test_the_world_has_a_client_per_role(world):
    users, _ = world
    assert tuple(users) == ROLES


# The world: team A's records, and a client per role -----------------------


OBJECTS_BY_ROUTE = (
    ("tokens/", "token"),
    ("email-change/", "email_change_key"),
    ("persons/", "person"),
    ("encounters/", "encounter"),
    ("referrals/", "referral"),
    ("follow-ups/", "follow_up"),
    ("outings/", "outing"),
    ("reports/sites/", "site"),
    ("sites/", "site"),
    ("observations/", "observation"),
    ("feedback/comments/", "feedback"),
    ("surveys/", "survey"),
    ("teams/", "team"),
    ("municipalities/", "municipality"),
    ("partner-services/", "partner_service"),
    ("partners/", "partner"),
    ("contact-persons/", "contact"),
    ("networks/", "network"),
    ("memberships/", "membership"),
    ("agreements/", "agreement"),
    ("meeting-tasks/", "task"),
    ("meetings/", "meeting"),
    ("communication/", "communication"),
    ("directory/services/", "partner_service"),
    ("directory/contacts/", "contact"),
    ("network-work/tasks/", "task"),
)


@pytest.fixture
def world(team_a, team_b, worker_a, worker_b, expert_a, coordinator, admin_user, superuser, with_totp):
    site = FieldSiteFactory(team=team_a, name="Asema")
    outing = OutingFactory(team=team_a, site=site, participants=[worker_a, expert_a], status=OutingStatus.DONE)
    person = PersonFactory(team=team_a, alias="Kettu")
    encounter = EncounterFactory(team=team_a, site=site, outing=outing, person=person, anonymous=False)
    referral = ReferralFactory(team=team_a, person=person, encounter=encounter)
    follow_up = FollowUp.objects.create(team=team_a, person=person, referral=referral, due_on="2026-05-20")
    observation = StructuralObservation.objects.create(
        team=team_a, theme=StructuralObservation.Theme.choices[0][0], municipality=municipality(), description="x"
    )
    partner = PartnerOrganisation.objects.create(name="Partner A")
    network = Network.objects.create(name="Network A", coordinating_team=team_a)
    network_records = network_world(team_a, network, partner, coordinator)
    token = ApiToken.objects.create(user=worker_a, prefix="abc", digest="0" * 64)
    _link, feedback_token = feedback_link_create(
        actor=worker_a, site=site, outing=outing, expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    feedback = ClientFeedback.objects.create(site=site, outing=outing, score=4, comment="Hyvä")
    survey = Survey.objects.create(
        title="Kysely", opens_on="2026-01-01", closes_on="2099-12-31", token="survey-token", created_by=coordinator
    )
    SurveyQuestion.objects.create(survey=survey, position=1, kind="scale", text={"fi": "K", "sv": "F", "en": "Q"})
    users = {
        "anonymous": None,
        "worker_a": worker_a,
        "worker_b": worker_b,
        "expert_a": expert_a,
        "coordinator": with_totp(coordinator),
        "admin": with_totp(admin_user),
        "superuser": with_totp(superuser),
    }
    objects = {
        "site": site.pk,
        "outing": outing.pk,
        "person": person.pk,
        "encounter": encounter.pk,
        "referral": referral.pk,
        "follow_up": follow_up.pk,
        "observation": observation.pk,
        "partner": partner.pk,
        "network": network.pk,
        **network_records,
        "team": team_a.pk,
        "municipality": municipality().code,
        "token": token.pk,
        "email_change_key": "no-such-key",
        "feedback": feedback.pk,
        "survey": survey.pk,
        "feedback_token": feedback_token,
        "survey_token": survey.token,
    }
    return users, objects


def path_of(key, route, objects):
    kwargs = {}
    if "<int:pk>" in route or "(?P<pk>" in route or "<str:key>" in route or "(?P<code>" in route:
        # The record is the one named just before the id in the route
        # (`outings/<int:pk>/persons/` takes an outing): ids of different
        # tables coincide on a fresh SQLite database, not on PostgreSQL.
        before = re.split(r"<int:pk>|\(\?P<pk>|<str:key>|\(\?P<code>", route.rsplit("/v1/", 1)[-1])[0]
        # The longest marker that ends the path: `contact-persons/` is not `persons/`.
        _marker, obj = max(
            ((marker, name) for marker, name in OBJECTS_BY_ROUTE if before.endswith(marker)),
            key=lambda pair: len(pair[0]),
        )
        argument = "key" if "<str:key>" in route else "code" if "(?P<code>" in route else "pk"
        kwargs[argument] = objects[obj]
    if "<str:token>" in route:
        kwargs["token"] = objects["survey_token" if route.startswith("f/s/") else "feedback_token"]
    if key == route:  # unnamed
        return "/" + route
    return reverse(key, kwargs=kwargs)


def answers(users, path, method, api):
    """{role: status} of one request by each role, each rolled back afterwards."""
    from django.core.cache import cache
    from django.db import transaction
    from django.test import Client

    result = {}
    for role, user in users.items():
        cache.clear()
        client = APIClient() if api else Client()
        if user is not None:
            client.force_login(user)
        with transaction.atomic():
            if method == "get":
                response = client.get(path)
            elif api:
                call = client.patch if re.search(r"/\d+/$", path) else client.post
                response = call(path, {}, format="json")
            else:
                response = client.post(path, {})
            transaction.set_rollback(True)
        result[role] = response.status_code
    return result


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_each_role_gets_the_status_of_the_matrix(world, key):
    """GET, then a write (POST; PATCH on an API detail) with an empty body,
    as each role, each rolled back: exactly the statuses of the row."""
    users, objects = world
    route = url_patterns()[key]
    path = path_of(key, route, objects)
    api = route.startswith("api/")
    get, write = MATRIX[key]

    assert answers(users, path, "get", api) == dict(zip(ROLES, get, strict=True)), f"GET {path}"
    assert answers(users, path, "write", api) == dict(zip(ROLES, write, strict=True)), f"write {path}"


# Another team's record: 404 everywhere, absent from lists, search and exports ---


CLIENT_PAGES = (
    ("encounters:person_detail", "person"),
    ("encounters:person_contact_log", "person"),
    ("encounters:encounter_edit", "encounter"),
    ("encounters:referral_detail", "referral"),
    ("encounters:outing_detail", "outing"),
    ("encounters:outing_finish", "outing"),
    ("outreach:outing_edit", "outing"),
)
CLIENT_API = (
    ("person", "person"),
    ("encounter", "encounter"),
    ("referral", "referral"),
    ("follow-up", "follow_up"),
    ("outing", "outing"),
)


@pytest.fixture
def team_b_records(team_b, worker_b):
    """Team B's own records, so that every list and search below has something to show."""
    site = FieldSiteFactory(team=team_b, name="Tori")
    outing = OutingFactory(team=team_b, site=site, participants=[worker_b], status=OutingStatus.DONE)
    person = PersonFactory(team=team_b, alias="Kettunen")
    encounter = EncounterFactory(team=team_b, site=site, outing=outing, person=person, anonymous=False)
    referral = ReferralFactory(team=team_b, person=person, encounter=encounter)
    follow_up = FollowUp.objects.create(team=team_b, person=person, referral=referral, due_on="2026-05-20")
    return {
        "outing": outing.pk,
        "person": person.pk,
        "encounter": encounter.pk,
        "referral": referral.pk,
        "follow_up": follow_up.pk,
    }


def test_another_teams_worker_gets_404_for_every_client_record(world, client):
    users, objects = world
    client.force_login(users["worker_b"])
    api = APIClient()
    api.force_login(users["worker_b"])
    own = APIClient()
    own.force_login(users["worker_a"])

    for name, obj in CLIENT_PAGES:
        assert client.get(reverse(name, kwargs={"pk": objects[obj]})).status_code == 404, name
    for basename, obj in CLIENT_API:
        path = reverse(f"{basename}-detail", kwargs={"pk": objects[obj]})
        assert own.get(path).status_code == 200, path
        assert api.get(path).status_code == 404, path
        assert api.patch(path, {}, format="json").status_code == 404, path


def test_another_teams_records_are_absent_from_the_api_lists(world, team_b_records):
    users, objects = world
    api = APIClient()
    api.force_login(users["worker_b"])
    own = APIClient()
    own.force_login(users["worker_a"])

    for basename, obj in CLIENT_API:
        path = reverse(f"{basename}-list")
        seen_by_b = {row["id"] for row in api.get(path, {"page_size": 500}).json()["results"]}
        seen_by_a = {row["id"] for row in own.get(path, {"page_size": 500}).json()["results"]}
        assert team_b_records[obj] in seen_by_b, path
        assert objects[obj] not in seen_by_b, path
        assert objects[obj] in seen_by_a, path
        assert team_b_records[obj] not in seen_by_a, path
    # Filtered by team A's person, the lists answer as for a person who does not exist.
    for basename in ("encounter", "referral", "follow-up"):
        response = api.get(reverse(f"{basename}-list"), {"person": objects["person"]})
        missing = api.get(reverse(f"{basename}-list"), {"person": 999999})
        assert response.status_code == 400, basename
        assert response.json() == missing.json() == {"person": [ANY]}, basename


def test_another_teams_persons_are_absent_from_the_person_search(world, team_b_records, client):
    users, objects = world
    client.force_login(users["worker_b"])

    response = client.post(
        reverse("encounters:person_search", kwargs={"pk": team_b_records["outing"]}), {"person_query": "Kettu"}
    )

    assert response.status_code == 200
    assert [person.pk for person in response.context["person_results"]] == [team_b_records["person"]]
    client.force_login(users["worker_a"])
    response = client.post(
        reverse("encounters:person_search", kwargs={"pk": objects["outing"]}), {"person_query": "Kettu"}
    )
    assert [person.pk for person in response.context["person_results"]] == [objects["person"]]


@pytest.mark.parametrize("resource", ["persons", "outings", "encounters", "referrals"])
def test_another_teams_records_are_absent_from_export_records(world, team_b_records, tmp_path, resource):
    import csv

    users, objects = world
    key = resource.rstrip("s")

    def exported(user):
        path = tmp_path / f"{user.pk}.csv"
        call_command("export_records", resource, str(path), "--user", user.email, stdout=io.StringIO())
        with open(path, encoding="utf-8", newline="") as source:
            return {int(row["id"]) for row in csv.DictReader(source)}

    assert exported(users["worker_b"]) == {team_b_records[key]}
    assert exported(users["worker_a"]) == {objects[key]}
