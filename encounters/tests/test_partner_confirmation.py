"""Referrals confirmed by the partner: a one-time link, no account, nothing of the person shown."""

import datetime
import hashlib
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from encounters.models import Person, Referral, ReferralConfirmation
from encounters.services import referral_confirmation_create
from encounters.tests.factories import ReferralFactory
from networks.models import ContactPerson, PartnerOrganisation
from outreach.models import AuditEntry
from outreach.tests.api_helpers import api_client
from outreach.tests.factories import UserFactory
from outreach.vocabulary import ReferralStatus, Role

IDENTITY_CODE = "131052-308T"


@pytest.fixture
def named(team_a):
    return Person.objects.create(
        team=team_a,
        kind=Person.Kind.NAMED,
        alias="Kettu",
        first_name="Maija",
        last_name="Meikäläinen",
        identity_code=IDENTITY_CODE,
    )


@pytest.fixture
def partner():
    organisation = PartnerOrganisation.objects.create(name="Asumisneuvonta")
    ContactPerson.objects.create(partner=organisation, name="Liisa Partner", email="liisa@partner.example")
    return organisation


@pytest.fixture
def referral(team_a, named, partner, worker_a):
    return ReferralFactory(
        team=team_a,
        person=named,
        partner=partner,
        created_by=worker_a,
        service_kind="housing",
        referred_on=datetime.date(2026, 11, 20),
    )


def link_for(referral, worker, **kwargs):
    """A confirmation link's path, as the worker's page shows it."""
    _confirmation, token = referral_confirmation_create(actor=worker, referral=referral, **kwargs)
    return reverse("partner_confirmation", kwargs={"key": token})


def answer(path, outcome, **extra):
    return Client().post(path, {"outcome": outcome, **extra})


# The partner's answer --------------------------------------------------------------------------


def test_arrived_moves_a_suggested_referral_through_made_to_connected(referral, worker_a):
    path = link_for(referral, worker_a)

    response = answer(path, "arrived", partner_name="Liisa", note="Came on Monday")

    assert response.status_code == 200
    assert "the person arrived" in response.content.decode()
    referral.refresh_from_db()
    today = timezone.localdate()
    assert (referral.status, referral.made_on, referral.connected_on, referral.status_changed_on) == (
        "connected",
        today,
        today,
        today,
    )
    assert referral.version == 2
    latest = referral.history.latest("history_date")
    assert (latest.history_change_reason, latest.history_user) == ("confirmed by partner", None)
    confirmation = ReferralConfirmation.objects.get()
    assert (confirmation.outcome, confirmation.partner_name, confirmation.note) == (
        "arrived",
        "Liisa",
        "Came on Monday",
    )
    assert confirmation.used_at is not None
    entry = AuditEntry.objects.filter(model="encounters.referral", action="update").get()
    assert (entry.actor, entry.changes) == (None, ["confirmed_by_partner", "status"])


def test_arrived_moves_a_made_referral_to_connected(referral, worker_a):
    Referral.objects.filter(pk=referral.pk).update(status="made", made_on=datetime.date(2026, 11, 21))
    path = link_for(referral, worker_a)

    assert answer(path, "arrived").status_code == 200

    referral.refresh_from_db()
    assert (referral.status, referral.made_on) == ("connected", datetime.date(2026, 11, 21))


def test_did_not_arrive_moves_the_referral_to_not_reached(referral, worker_a):
    path = link_for(referral, worker_a)

    response = answer(path, "not_arrived")

    assert response.status_code == 200
    assert "did not arrive" in response.content.decode()
    referral.refresh_from_db()
    assert (referral.status, referral.closed_on, referral.connected_on) == ("not_reached", timezone.localdate(), None)


def test_a_link_used_twice_answers_410_and_changes_nothing(referral, worker_a):
    path = link_for(referral, worker_a)
    assert answer(path, "not_arrived").status_code == 200

    again = answer(path, "arrived")
    opened = Client().get(path)

    assert again.status_code == 410
    assert opened.status_code == 410
    assert "used already" in again.content.decode()
    referral.refresh_from_db()
    assert referral.status == "not_reached"
    assert ReferralConfirmation.objects.get().outcome == "not_arrived"


def test_an_expired_link_answers_410_and_changes_nothing(referral, worker_a, settings):
    path = link_for(referral, worker_a)
    ReferralConfirmation.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    opened = Client().get(path)
    response = answer(path, "arrived")

    assert (opened.status_code, response.status_code) == (410, 410)
    assert "expired" in response.content.decode()
    referral.refresh_from_db()
    assert (referral.status, referral.version) == ("suggested", 1)
    assert ReferralConfirmation.objects.get().used_at is None


def test_the_link_expires_after_the_settings_days(referral, worker_a, settings):
    settings.REFERRAL_CONFIRMATION_DAYS = 7

    confirmation, _token = referral_confirmation_create(actor=worker_a, referral=referral)

    assert confirmation.expires_at - confirmation.created_at == datetime.timedelta(days=7)


def test_the_default_expiry_is_30_days(referral, worker_a):
    confirmation, _token = referral_confirmation_create(actor=worker_a, referral=referral)

    assert confirmation.expires_at - confirmation.created_at == datetime.timedelta(days=30)


@pytest.mark.parametrize("key", ["forged", "a" * 43, "1"])
def test_a_forged_link_answers_404_with_a_friendly_page_and_changes_nothing(referral, worker_a, key):
    link_for(referral, worker_a)
    path = reverse("partner_confirmation", kwargs={"key": key})

    opened = Client().get(path)
    response = answer(path, "arrived")

    assert (opened.status_code, response.status_code) == (404, 404)
    assert "This link is not valid" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "suggested"


def test_an_answer_the_status_rules_refuse_answers_409_and_changes_nothing(referral, worker_a):
    path = link_for(referral, worker_a)
    # Closed by the worker after the link was sent: declined is final.
    Referral.objects.filter(pk=referral.pk).update(status="declined", closed_on=timezone.localdate())

    response = answer(path, "arrived")

    assert response.status_code == 409
    assert "cannot be confirmed any more" in response.content.decode()
    referral.refresh_from_db()
    assert (referral.status, referral.version) == ("declined", 1)
    assert ReferralConfirmation.objects.get().used_at is None


def test_not_arrived_for_a_connected_referral_is_refused(referral, worker_a):
    path = link_for(referral, worker_a)
    Referral.objects.filter(pk=referral.pk).update(status="connected", connected_on=timezone.localdate())

    assert answer(path, "not_arrived").status_code == 409
    referral.refresh_from_db()
    assert referral.status == "connected"


def test_an_answer_without_an_outcome_names_the_field(referral, worker_a):
    path = link_for(referral, worker_a)

    response = Client().post(path, {"outcome": "maybe"})

    assert response.status_code == 400
    assert 'id="id_outcome_error"' in response.content.decode() or "errorlist" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "suggested"
    assert ReferralConfirmation.objects.get().used_at is None


def test_the_page_shows_the_service_date_and_reference_and_no_personal_data(referral, worker_a):
    path = link_for(referral, worker_a)

    response = Client().get(path)

    assert response.status_code == 200
    text = response.content.decode()
    assert f"R-{referral.pk:06d}" in text
    assert "Housing" in text
    assert "20.11.2026" in text or "11/20/2026" in text
    for personal in ("Kettu", "Maija", "Meikäläinen", IDENTITY_CODE, "Asumisneuvonta", referral.team.name):
        assert personal not in text
    assert f"/field/persons/{referral.person_id}/" not in text


def test_only_a_digest_of_the_token_is_stored(referral, worker_a):
    confirmation, token = referral_confirmation_create(actor=worker_a, referral=referral)

    confirmation.refresh_from_db()
    assert len(token) >= 43  # 256 bits
    assert confirmation.token_digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(ReferralConfirmation.objects.values().get())
    assert token not in str(list(AuditEntry.objects.values()))


def test_links_are_not_made_for_a_closed_referral(referral, worker_a):
    from django.core.exceptions import ValidationError

    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.ENDED)
    referral.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        referral_confirmation_create(actor=worker_a, referral=referral)

    assert "status" in refused.value.message_dict
    assert not ReferralConfirmation.objects.exists()


def test_the_link_pages_are_rate_limited_without_storing_the_address(referral, worker_a, settings):
    settings.PARTNER_LINK_RATE_LIMIT = 2
    path = link_for(referral, worker_a)
    client = Client(REMOTE_ADDR="203.0.113.7")

    statuses = [client.get(path).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert "Too many requests" in client.get(path).content.decode()
    assert Client(REMOTE_ADDR="203.0.113.8").get(path).status_code == 200
    keys = list(cache._cache.keys())  # type: ignore[attr-defined]  # the test settings' local-memory cache
    assert any("partner-link:" in key for key in keys)
    assert not any("203.0.113" in key for key in keys)


# The worker's side: the referral page and the API ------------------------------------------------


def test_the_worker_makes_a_link_from_the_referral_page_and_sees_it_once(client, worker_a, referral):
    client.force_login(worker_a)

    page = client.get(reverse("encounters:referral_detail", args=[referral.pk]))
    assert "Create a link for the partner" in page.content.decode()
    assert 'value="liisa@partner.example"' in page.content.decode()  # the partner's contact person
    response = client.post(reverse("encounters:referral_confirmation_link", args=[referral.pk]), {"send_to": ""})

    assert response.status_code == 200
    text = response.content.decode()
    found = re.search(r'value="(http://testserver/partner/referrals/[^"]+)"', text)
    assert found is not None
    url = found.group(1)
    assert Client().get(url).status_code == 200
    assert not mail.outbox
    # Shown once: the page opened again lists the link as waiting, without it.
    again = client.get(reverse("encounters:referral_detail", args=[referral.pk])).content.decode()
    assert url not in again
    assert "not answered yet" in again


def test_the_link_is_emailed_to_the_partners_contact_after_commit(
    client, worker_a, referral, django_capture_on_commit_callbacks
):
    client.force_login(worker_a)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("encounters:referral_confirmation_link", args=[referral.pk]), {"send_to": "liisa@partner.example"}
        )

    assert response.status_code == 200
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["liisa@partner.example"]
    assert f"R-{referral.pk:06d}" in message.subject
    assert "http://testserver/partner/referrals/" in message.body
    for personal in ("Kettu", "Maija", "Meikäläinen", IDENTITY_CODE):
        assert personal not in message.body
    assert ReferralConfirmation.objects.get().sent_to == "liisa@partner.example"


def test_a_bad_address_is_named_and_makes_no_link(client, worker_a, referral):
    client.force_login(worker_a)

    response = client.post(reverse("encounters:referral_confirmation_link", args=[referral.pk]), {"send_to": "nope"})

    assert response.status_code == 400
    assert "id_send_to" in response.content.decode()
    assert not ReferralConfirmation.objects.exists()


@pytest.mark.parametrize(("user_fixture", "status"), [("worker_b", 404), ("expert_a", 404)])
def test_the_link_page_is_refused_to_another_team_and_experts(client, request, referral, user_fixture, status):
    client.force_login(request.getfixturevalue(user_fixture))

    response = client.post(reverse("encounters:referral_confirmation_link", args=[referral.pk]), {})

    assert response.status_code == status
    assert not ReferralConfirmation.objects.exists()


def test_the_api_answers_the_url_and_the_expiry(worker_a, referral):
    response = api_client(worker_a).post(f"/api/v1/referrals/{referral.pk}/confirmation-link/", {}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"url", "expires_at"}
    assert body["url"].startswith("http://testserver/partner/referrals/")
    expires = datetime.datetime.fromisoformat(body["expires_at"])
    assert abs(expires - (timezone.now() + datetime.timedelta(days=30))) < datetime.timedelta(minutes=1)
    path = body["url"].removeprefix("http://testserver")
    assert answer(path, "arrived").status_code == 200
    referral.refresh_from_db()
    assert referral.status == "connected"


def test_the_api_refuses_a_closed_referral_naming_status(worker_a, referral):
    Referral.objects.filter(pk=referral.pk).update(status="ended")

    response = api_client(worker_a).post(f"/api/v1/referrals/{referral.pk}/confirmation-link/", {}, format="json")

    assert response.status_code == 400
    assert "status" in response.json()


@pytest.mark.parametrize(("user_fixture", "status"), [("worker_b", 404), ("expert_a", 403), ("admin_user", 404)])
def test_the_api_refuses_another_team_experts_and_admins(request, referral, user_fixture, status):
    user = request.getfixturevalue(user_fixture)

    response = api_client(user).post(f"/api/v1/referrals/{referral.pk}/confirmation-link/", {}, format="json")

    assert response.status_code == status
    assert not ReferralConfirmation.objects.exists()


def test_a_coordinator_of_another_area_gets_404(referral, team_other_area):
    stranger = UserFactory(role=Role.COORDINATOR, teams=[team_other_area])

    response = api_client(stranger).post(f"/api/v1/referrals/{referral.pk}/confirmation-link/", {}, format="json")

    assert response.status_code == 404


def test_anonymous_api_callers_get_401(referral):
    assert api_client().post(f"/api/v1/referrals/{referral.pk}/confirmation-link/", {}).status_code == 401


# Today -------------------------------------------------------------------------------------------


def test_the_worker_sees_the_partners_answer_on_today(client, worker_a, worker_b, referral):
    path = link_for(referral, worker_a)
    answer(path, "arrived", partner_name="Liisa")
    client.force_login(worker_a)

    text = client.get(reverse("encounters:today")).content.decode()

    assert "Confirmed by partners" in text
    assert "Kettu: Housing" in text
    assert "confirmed by partner" in text
    assert "Connected" in text
    client.force_login(worker_b)
    assert "Confirmed by partners" not in client.get(reverse("encounters:today")).content.decode()


def test_the_referral_page_shows_the_partners_answer(client, worker_a, referral):
    answer(link_for(referral, worker_a), "not_arrived", partner_name="Liisa", note="No show")
    client.force_login(worker_a)

    text = client.get(reverse("encounters:referral_detail", args=[referral.pk])).content.decode()

    assert "Confirmed by partner" in text
    assert "Did not arrive" in text
    assert "Liisa" in text
    assert "No show" in text


def test_today_lists_confirmations_in_a_bounded_number_of_queries(
    client, worker_a, team_a, named, django_assert_max_num_queries
):
    for _ in range(5):
        referral = ReferralFactory(team=team_a, person=named, referred_on=timezone.localdate())
        answer(link_for(referral, worker_a), "arrived")
    client.force_login(worker_a)

    with django_assert_max_num_queries(30):
        response = client.get(reverse("encounters:today"))

    assert response.content.decode().count("confirmed by partner") == 5


def test_the_link_page_is_not_for_search_engines(referral, worker_a):
    response = Client().get(link_for(referral, worker_a))

    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_a_link_emailed_without_a_request_is_made_under_the_site_url(
    referral, worker_a, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://etsiva.example.fi/"

    with django_capture_on_commit_callbacks(execute=True):
        referral_confirmation_create(actor=worker_a, referral=referral, send_to="liisa@partner.example")

    assert "https://etsiva.example.fi/partner/referrals/" in mail.outbox[0].body
