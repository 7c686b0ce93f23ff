"""Loose JSON shapes are refused and times match the schema (issue 8, defect 13)."""

import datetime
import io

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from encounters.models import Encounter, Referral
from outreach.models import Outing
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import FieldSiteFactory, OutingFactory


@pytest.fixture
def site(db):
    return FieldSiteFactory()


def encounter_body(site, **extra):
    return {
        "site": site.pk,
        "occurred_at": "2026-05-12T10:30:00+03:00",
        "contact_kind": "field",
        "depth": "brief",
        **extra,
    }


@pytest.mark.parametrize("workers", [{}, {"1": 1}, "", 0])
def test_workers_must_be_a_list(worker_a, site, workers):
    response = api_client(worker_a).post("/api/v1/encounters/", encounter_body(site, workers=workers), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["workers"]
    assert not Encounter.objects.exists()


@pytest.mark.parametrize("participants", [{}, {"a": 1}])
def test_outing_participants_must_be_a_list(worker_a, site, participants):
    body = {"site": site.pk, "date": "2026-05-19", "start_time": "10:00", "participants": participants}

    response = api_client(worker_a).post("/api/v1/outings/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["participants"]
    assert not Outing.objects.exists()


@pytest.mark.parametrize("notes", [0, 1.5, True, ["x"], {"a": "b"}])
def test_outcome_notes_must_be_text(worker_a, team_a, notes):
    response = api_client(worker_a).post(
        "/api/v1/referrals/", {"service_kind": "kela", "outcome_notes": notes}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["outcome_notes"]
    assert not Referral.objects.exists()


def test_encounter_notes_must_be_text(worker_a, site):
    response = api_client(worker_a).post("/api/v1/encounters/", encounter_body(site, notes=0), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["notes"]


def test_a_list_of_workers_still_works(worker_a, site):
    response = api_client(worker_a).post(
        "/api/v1/encounters/", encounter_body(site, workers=[worker_a.pk]), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["workers"] == [worker_a.pk]


def test_time_fields_match_the_schema(worker_a, team_a, tmp_path):
    import re

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target), stderr=io.StringIO())
    schema = yaml.safe_load(target.read_text())
    outing = schema["components"]["schemas"]["Outing"]["properties"]
    site = schema["components"]["schemas"]["Site"]["properties"]
    declared = [outing["start_time"], outing["end_time"], site["schedule_start_time"], site["schedule_end_time"]]
    for field in declared:
        assert field.get("format") != "time", field  # RFC 3339 full-time needs seconds and an offset
        assert field["pattern"]
    pattern = re.compile(outing["start_time"]["pattern"])

    OutingFactory(team=team_a, start_time="10:00", end_time="12:30")
    row = api_client(worker_a).get("/api/v1/outings/").json()["results"][0]

    assert row["start_time"] == "10:00"
    assert pattern.match(row["start_time"])
    assert pattern.match(row["end_time"])


@pytest.mark.parametrize("value", ["10:00:00", "10:00"])
def test_times_are_accepted_with_or_without_seconds(worker_a, site, value):
    next_week = timezone.localdate() + datetime.timedelta(days=7)
    body = {"site": site.pk, "date": next_week.isoformat(), "start_time": value}

    response = api_client(worker_a).post("/api/v1/outings/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["start_time"] == "10:00"


@pytest.mark.parametrize("value", ["10", "10:00+02:00", "1000", "10.00"])
def test_other_time_shapes_are_refused(worker_a, site, value):
    next_week = timezone.localdate() + datetime.timedelta(days=7)
    body = {"site": site.pk, "date": next_week.isoformat(), "start_time": value}

    response = api_client(worker_a).post("/api/v1/outings/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["start_time"]
