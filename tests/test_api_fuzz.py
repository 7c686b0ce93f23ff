"""Property-based fuzzing of the API against its own OpenAPI schema: no input gets a 5xx.

Schemathesis generates requests from the schema, both valid ones (positive)
and ones that break it (negative: wrong types, unknown codes, missing
fields), and sends them through the WSGI application with an API key, as a
script would. The budget is small so that the suite stays quick; the runs
are derandomized, so a failure reproduces.
"""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach.services import api_token_create
from outreach.tests.factories import FieldSiteFactory, OutingFactory

MAX_EXAMPLES = 25

# (path, method, who, fixed path parameters)
OPERATIONS = [
    ("/api/v1/encounters/", "GET", "worker", None),
    ("/api/v1/encounters/", "POST", "worker", None),
    ("/api/v1/encounters/{id}/", "PATCH", "worker", "encounter"),
    ("/api/v1/outings/", "POST", "worker", None),
    ("/api/v1/outings/{id}/tally/", "POST", "worker", "outing"),
    ("/api/v1/persons/", "POST", "worker", None),
    ("/api/v1/referrals/", "POST", "worker", None),
    ("/api/v1/referrals/{id}/", "PATCH", "worker", "referral"),
    ("/api/v1/sites/", "POST", "superuser", None),
    ("/api/v1/partners/", "GET", "worker", None),
    ("/api/v1/reports/summary/", "GET", "worker", None),
    ("/api/v1/reports/reach/", "GET", "worker", None),
    ("/api/v1/reports/extract/", "GET", "worker", None),
]


@pytest.fixture(scope="module")
def api_schema():
    raw = SchemaGenerator().get_schema(request=None, public=True)
    # Render and parse again: the generated schema holds lazy translations.
    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(raw)))


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, kept inside the test's transaction.

    Like Django's test client, stop the request signals from closing the
    database connection: on PostgreSQL that would end the transaction that
    holds the test's data.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def records(worker_a, team_a, expert_a):
    site = FieldSiteFactory()
    outing = OutingFactory(team=team_a, site=site, participants=[worker_a, expert_a])
    person = PersonFactory(team=team_a)
    encounter = EncounterFactory(team=team_a, site=site, outing=outing, person=person, created_by=worker_a)
    referral = ReferralFactory(team=team_a, person=person, encounter=encounter)
    return {"outing": outing.pk, "encounter": encounter.pk, "referral": referral.pk}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize(
    ("path", "method", "who", "record"), OPERATIONS, ids=[f"{m} {p}" for p, m, _w, _r in OPERATIONS]
)
def test_no_input_gets_a_server_error(
    api_schema, wsgi_app, records, worker_a, superuser, path, method, who, record, mode
):
    user = {"worker": worker_a, "superuser": superuser}[who]
    _token, key = api_token_create(actor=None, user=user)
    operation = api_schema[path][method]
    path_parameters = {"id": records[record]} if record else None
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        response = case.call(app=wsgi_app, headers={"Authorization": f"Token {key}"})
        assert response.status_code < 500, (case.as_curl_command(), response.status_code, response.text[:500])

    check()
