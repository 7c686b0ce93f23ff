"""The referrals and follow-ups API: /api/v1/referrals/ and /api/v1/follow-ups/."""

import datetime
import uuid

import pytest
from django.utils import timezone

from encounters.models import FollowUp, Referral
from encounters.rules import REFERRAL_TRANSITIONS
from encounters.selectors import referrals_visible_to
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from networks.models import PartnerOrganisation
from outreach.models import AuditEntry
from outreach.tests.api_helpers import api_client, ids, results
from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import ReferralStatus

URL = "/api/v1/referrals/"
FOLLOW_UPS = "/api/v1/follow-ups/"


def detail(pk) -> str:
    return f"{URL}{pk}/"


@pytest.fixture
def person_a(team_a):
    return PersonFactory(team=team_a)


@pytest.fixture
def encounter_a(team_a, person_a):
    return EncounterFactory(team=team_a, person=person_a)


def test_worker_refers_from_an_encounter(worker_a, team_a, person_a, encounter_a):
    partner = PartnerOrganisation.objects.create(name="Kuopion Kriisikeskus")

    response = api_client(worker_a).post(
        URL, {"encounter": encounter_a.pk, "service_kind": "mental_health_substance", "partner": partner.pk}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {"id", "person", "encounter", "service_kind", "partner", "team", "status", "referred_on"} <= set(body)
    assert body["team"] == team_a.pk
    assert body["status"] == "suggested"
    # The encounter's person is linked, and the date defaults to today.
    assert body["person"] == person_a.pk
    assert body["referred_on"] == timezone.localdate().isoformat()
    referral = Referral.objects.get()
    assert referral.partner == partner
    assert referral.created_by == worker_a
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, model="encounters.referral").exists()


def test_a_referral_entered_afterwards_may_have_any_status_and_date(worker_a, person_a):
    response = api_client(worker_a).post(
        URL, {"person": person_a.pk, "service_kind": "kela", "status": "connected", "referred_on": "2026-03-02"}
    )

    assert response.status_code == 201, response.json()
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.CONNECTED
    assert referral.referred_on == datetime.date(2026, 3, 2)
    assert referral.connected_on is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("service_kind", "bank"),
        ("status", "done"),
        ("referred_on", "2026-02-30"),
        ("referred_on", "1066-10-14"),
        ("partner", 987654),
        ("client_uuid", "x"),
    ],
)
def test_invalid_referral_gets_400_naming_the_field(worker_a, person_a, field, value):
    data = {"person": person_a.pk, "service_kind": "kela", field: value}

    response = api_client(worker_a).post(URL, data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Referral.objects.exists()


def test_an_inactive_partner_is_refused(worker_a, person_a):
    partner = PartnerOrganisation.objects.create(name="Closed", active=False)

    response = api_client(worker_a).post(URL, {"person": person_a.pk, "service_kind": "kela", "partner": partner.pk})

    assert response.status_code == 400
    assert "partner" in response.json()


def test_ids_of_another_team_are_refused(worker_a, team_b):
    person_b = PersonFactory(team=team_b)
    encounter_b = EncounterFactory(team=team_b)
    client = api_client(worker_a)

    for field, value in [("person", person_b.pk), ("encounter", encounter_b.pk), ("team", team_b.pk)]:
        response = client.post(URL, {"service_kind": "kela", field: value}, format="json")
        assert response.status_code == 400, field
        assert field in response.json()
    assert not Referral.objects.exists()


def test_a_worker_sees_their_teams_referrals_only(worker_a, team_a, team_b):
    own = ReferralFactory(team=team_a)
    other = ReferralFactory(team=team_b)
    client = api_client(worker_a)

    assert ids(client.get(URL)) == {own.pk}
    assert client.get(detail(other.pk)).status_code == 404
    assert client.patch(detail(other.pk), {"status": "made"}, format="json").status_code == 404
    other.refresh_from_db()
    assert other.status == ReferralStatus.SUGGESTED


def test_an_expert_sees_no_referrals_in_the_api(expert_a, team_a, person_a):
    # Service kinds and outcome notes are case work: an expert by experience
    # gets 403 even for a referral made at an outing they took part in.
    outing = OutingFactory(team=team_a, participants=[expert_a])
    in_outing = ReferralFactory(team=team_a, encounter=EncounterFactory(team=team_a, outing=outing, site=outing.site))
    ReferralFactory(team=team_a, person=person_a)
    client = api_client(expert_a)

    listing = client.get(URL)
    assert listing.status_code == 403
    assert "results" not in listing.json()
    assert client.get(detail(in_outing.pk)).status_code == 403
    assert client.get(URL, {"encounter": str(in_outing.encounter_id)}).status_code == 403
    assert client.post(URL, {"service_kind": "kela"}, format="json").status_code == 403
    assert client.patch(detail(in_outing.pk), {"status": "made"}, format="json").status_code == 403
    assert Referral.objects.count() == 2


def test_an_expert_sees_no_referrals_through_the_selector(expert_a, team_a):
    outing = OutingFactory(team=team_a, participants=[expert_a])
    ReferralFactory(team=team_a, encounter=EncounterFactory(team=team_a, outing=outing, site=outing.site))

    assert not referrals_visible_to(expert_a).exists()


ALLOWED = [(current, new) for current, targets in REFERRAL_TRANSITIONS.items() for new in sorted(targets)]
REFUSED = [
    ("made", "suggested"),
    ("connected", "made"),
    ("connected", "suggested"),
    ("connected", "declined"),
    ("declined", "made"),
    ("not_reached", "connected"),
    ("ended", "connected"),
    ("ended", "suggested"),
    ("suggested", "connected"),
]


@pytest.mark.parametrize(("current", "new"), ALLOWED)
def test_status_moves_forward(worker_a, team_a, current, new):
    referral = ReferralFactory(
        team=team_a, status=current, connected_on=datetime.date(2026, 5, 12) if current == "connected" else None
    )

    response = api_client(worker_a).patch(detail(referral.pk), {"status": new}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == new
    referral.refresh_from_db()
    assert referral.status == new
    assert referral.status_changed_on == timezone.localdate()


@pytest.mark.parametrize(("current", "new"), REFUSED)
def test_status_never_moves_backward_or_sideways(worker_a, team_a, current, new):
    referral = ReferralFactory(
        team=team_a, status=current, connected_on=datetime.date(2026, 5, 12) if current == "connected" else None
    )

    response = api_client(worker_a).patch(detail(referral.pk), {"status": new}, format="json")

    assert response.status_code == 400
    assert "status" in response.json()
    referral.refresh_from_db()
    assert referral.status == current


@pytest.mark.parametrize("status", ["suggested", "declined", "ended"])
def test_saving_the_same_status_is_no_change(worker_a, team_a, status):
    referral = ReferralFactory(team=team_a, status=status)

    response = api_client(worker_a).patch(detail(referral.pk), {"status": status, "outcome_notes": "Called."})

    assert response.status_code == 200
    referral.refresh_from_db()
    assert referral.outcome_notes == "Called."


def test_the_same_referral_sent_twice_is_one(worker_a, person_a, encounter_a):
    client = api_client(worker_a)
    data = {"encounter": encounter_a.pk, "person": None, "service_kind": "housing", "client_uuid": str(uuid.uuid4())}

    first = client.post(URL, data, format="json")
    second = client.post(URL, data, format="json")

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json() == first.json()
    assert Referral.objects.count() == 1


def test_a_referral_uuid_reused_for_other_content_or_by_another_team_is_a_conflict(worker_a, worker_b, person_a):
    key = str(uuid.uuid4())
    assert (
        api_client(worker_a).post(URL, {"person": person_a.pk, "service_kind": "kela", "client_uuid": key}).status_code
        == 201
    )

    assert (
        api_client(worker_a)
        .post(URL, {"person": person_a.pk, "service_kind": "housing", "client_uuid": key})
        .status_code
        == 409
    )
    assert api_client(worker_b).post(URL, {"service_kind": "kela", "client_uuid": key}).status_code == 409
    assert Referral.objects.get().service_kind == "kela"


def test_filters(worker_a, team_a, person_a):
    site = FieldSiteFactory(site_type="street")
    street = ReferralFactory(
        team=team_a, status="made", encounter=EncounterFactory(team=team_a, site=site), service_kind="housing"
    )
    old = ReferralFactory(team=team_a, referred_on=datetime.date(2025, 1, 5), person=person_a)
    client = api_client(worker_a)

    assert ids(client.get(URL, {"status": "made"})) == {street.pk}
    assert ids(client.get(URL, {"service_kind": "housing"})) == {street.pk}
    assert ids(client.get(URL, {"site_type": "street"})) == {street.pk}
    assert ids(client.get(URL, {"date_before": "2025-12-31"})) == {old.pk}
    assert ids(client.get(URL, {"person": person_a.pk})) == {old.pk}
    assert client.get(URL, {"status": "done"}).status_code == 400


def test_referral_list_query_count(worker_a, team_a, person_a, django_assert_max_num_queries):
    for _ in range(25):
        ReferralFactory(team=team_a, person=person_a)

    with django_assert_max_num_queries(3):
        assert len(results(api_client(worker_a).get(URL))) == 25


# Follow-ups ----------------------------------------------------------------


def test_worker_plans_and_marks_a_follow_up_done(worker_a, team_a, person_a):
    referral = ReferralFactory(team=team_a, person=person_a)
    client = api_client(worker_a)

    due_on = timezone.localdate() + datetime.timedelta(days=3)
    response = client.post(FOLLOW_UPS, {"referral": referral.pk, "due_on": due_on.isoformat()})

    assert response.status_code == 201, response.json()
    assert response.json()["team"] == team_a.pk
    assert response.json()["person"] == person_a.pk
    assert response.json()["assigned_to"] == worker_a.pk
    follow_up = FollowUp.objects.get()
    assert ids(client.get(FOLLOW_UPS, {"done": "false"})) == {follow_up.pk}

    done_on = due_on + datetime.timedelta(days=1)
    done = client.patch(f"{FOLLOW_UPS}{follow_up.pk}/", {"done_on": done_on.isoformat()}, format="json")

    assert done.status_code == 200
    follow_up.refresh_from_db()
    assert follow_up.done_on == done_on
    assert ids(client.get(FOLLOW_UPS, {"done": "true"})) == {follow_up.pk}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE, model="encounters.followup").exists()


def test_a_follow_up_needs_a_referral_or_a_person(worker_a):
    response = api_client(worker_a).post(FOLLOW_UPS, {"due_on": "2026-06-01"})

    assert response.status_code == 400
    assert "person" in response.json()
    assert not FollowUp.objects.exists()


def test_follow_ups_are_the_workers_own(worker_a, worker_b, expert_a, team_a, person_a):
    follow_up = FollowUp.objects.create(team=team_a, person=person_a, due_on=datetime.date(2026, 6, 1))

    assert api_client(worker_b).get(f"{FOLLOW_UPS}{follow_up.pk}/").status_code == 404
    assert results(api_client(expert_a).get(FOLLOW_UPS)) == []
    assert api_client(expert_a).post(FOLLOW_UPS, {"person": person_a.pk, "due_on": "2026-06-01"}).status_code == 403
    response = api_client(worker_b).post(FOLLOW_UPS, {"person": person_a.pk, "due_on": "2026-06-01"})
    assert response.status_code == 400
    assert "person" in response.json()
    assert FollowUp.objects.count() == 1


def test_follow_up_list_query_count(worker_a, team_a, person_a, django_assert_max_num_queries):
    for day in range(1, 21):
        FollowUp.objects.create(team=team_a, person=person_a, due_on=datetime.date(2026, 6, day), assigned_to=worker_a)

    with django_assert_max_num_queries(3):
        assert len(results(api_client(worker_a).get(FOLLOW_UPS))) == 20
