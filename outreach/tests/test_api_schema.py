"""The OpenAPI schema and docs, and input that must never crash the API."""

import io
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings

from encounters.models import Encounter
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import FieldSiteFactory


def test_schema_generates_and_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stderr=io.StringIO())

    schema = target.read_text()
    for path in [
        "/api/v1/sites/",
        "/api/v1/outings/",
        "/api/v1/outings/{id}/tally/",
        "/api/v1/encounters/",
        "/api/v1/persons/",
        "/api/v1/persons/{id}/make-named/",
        "/api/v1/referrals/",
        "/api/v1/follow-ups/",
        "/api/v1/partners/",
        "/api/v1/networks/",
        "/api/v1/teams/",
        "/api/v1/municipalities/",
        "/api/v1/users/me/",
    ]:
        assert f"  {path}:" in schema, path
    assert "'409':" in schema
    assert "tokenAuth" in schema


def test_every_operation_lists_its_error_responses(worker_a):
    schema = api_client(worker_a).get("/api/schema/", {"format": "json"}).json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in ("post", "put", "patch"):
                assert "400" in codes, (method, path)
    create = schema["paths"]["/api/v1/encounters/"]["post"]["responses"]
    assert {"200", "201", "409"} <= set(create)


def test_schema_needs_authentication():
    assert api_client().get("/api/schema/").status_code == 401


def test_docs_for_a_signed_in_user_use_the_apps_own_assets(client, worker_a):
    client.force_login(worker_a)

    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    for source in sources:
        assert source.startswith("/"), source
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()


def test_docs_send_an_anonymous_visitor_to_sign_in():
    response = Client().get("/api/docs/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# Input that must never crash ------------------------------------------------

ENCOUNTERS = "/api/v1/encounters/"


@pytest.mark.parametrize(
    "body",
    [
        "{",
        "[]",
        "null",
        '"text"',
        "42",
        '{"site": NaN}',
        '{"occurred_at": Infinity}',
        "[" * 100_000 + "]" * 100_000,
        b"\xff\xfe\x00garbage",
        '{"site": {"id": 1}, "needs": {"a": 1}, "team": [1], "person": {}}',
        '{"notes": "\\u0000"}',
    ],
)
def test_malformed_bodies_are_4xx(worker_a, body):
    FieldSiteFactory()

    response = api_client(worker_a).post(ENCOUNTERS, body, content_type="application/json")

    assert 400 <= response.status_code < 500
    assert not Encounter.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_huge_payloads_are_refused(worker_a):
    site = FieldSiteFactory()
    body = json.dumps({"site": site.pk, "occurred_at": "2026-05-12T10:00:00+03:00", "notes": "x" * 20_000})

    response = api_client(worker_a).post(ENCOUNTERS, body, content_type="application/json")

    assert response.status_code == 413
    assert not Encounter.objects.exists()


def test_other_content_types_are_refused(worker_a):
    response = api_client(worker_a).post(ENCOUNTERS, "site=1", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/encounters/99999999999999999999999999/",
        "/api/v1/encounters/-1/",
        "/api/v1/encounters/abc/",
        "/api/v1/municipalities/2970/",
    ],
)
def test_odd_ids_in_urls_are_404(worker_a, path):
    assert api_client(worker_a).get(path).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"page": "abc"},
        {"page": "0"},
        {"page_size": "-5"},
        {"page_size": "many"},
        {"ordering": "nonsense,-occurred_at"},
        {"date_after": "0000-01-01"},
        {"date_after": "99999-01-01"},
        {"site": "\x00"},
        {"need": ""},
    ],
)
def test_odd_query_parameters_are_never_a_server_error(worker_a, query):
    response = api_client(worker_a).get(ENCOUNTERS, query)

    assert response.status_code < 500


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_the_json_parser_caps_the_body_whatever_content_length_claims():
    from outreach.api_support import LimitedJSONParser, PayloadTooLarge

    parser = LimitedJSONParser()
    assert parser.parse(io.BytesIO(b'{"a": 1}'), parser_context={}) == {"a": 1}
    with pytest.raises(PayloadTooLarge):
        parser.parse(io.BytesIO(b'{"a": "' + b"x" * 200 + b'"}'), parser_context={})
