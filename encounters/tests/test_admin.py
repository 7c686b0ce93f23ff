"""Client records in the admin: scoped by the selectors, saved by the services, identity codes masked."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from encounters.models import Consent, Encounter, FollowUp, Person, Referral
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach.models import AuditEntry
from outreach.tests.factories import FieldSiteFactory, OutingFactory
from outreach.vocabulary import ReferralStatus, ServiceKind

IDENTITY_CODE = "131052-308T"


def url(name, *args):
    return reverse(f"admin:encounters_{name}", args=args)


@pytest.fixture
def signed_in(client, with_totp):
    def sign_in(user):
        if user.requires_mfa:
            with_totp(user)
        client.force_login(user)
        return client

    return sign_in


def named_person(team, **fields):
    defaults = {
        "kind": Person.Kind.NAMED,
        "alias": "",
        "first_name": "Matti",
        "last_name": "Meikäläinen",
        "identity_code": IDENTITY_CODE,
    }
    return PersonFactory(team=team, **{**defaults, **fields})


def encounter_form(team, site, **overrides):
    data = {
        "team": team.pk,
        "site": site.pk,
        "outing": "",
        "occurred_at_0": "2026-05-12",
        "occurred_at_1": "10:30",
        "contact_kind": "field",
        "depth": "conversation",
        "person": "",
        "gender": "unknown",
        "age_group": "30_39",
        "first_contact": "unknown",
        "needs": ["housing", "mental_health"],
        "actions": ["advice"],
        "duration_minutes": "15",
        "notes": "",
    }
    data.update(overrides)
    return data


# Who sees which records ---------------------------------------------------------


@pytest.mark.parametrize("user_fixture", ["worker_a", "expert_a"])
def test_worker_and_expert_never_see_client_changelists(request, signed_in, user_fixture, team_a):
    user = request.getfixturevalue(user_fixture)
    PersonFactory(team=team_a, alias="Visible only in the app")
    client = signed_in(user)

    for name in ["person_changelist", "encounter_changelist", "referral_changelist", "consent_changelist"]:
        response = client.get(url(name), follow=True)
        assert response.status_code == 403
        assert b"Visible only in the app" not in response.content


def test_coordinator_sees_only_visible_teams_persons(signed_in, coordinator, team_a, team_b, team_other_area):
    own = PersonFactory(team=team_a, alias="Own team")
    same_area = PersonFactory(team=team_b, alias="Same area")
    elsewhere = PersonFactory(team=team_other_area, alias="Elsewhere")
    client = signed_in(coordinator)

    response = client.get(url("person_changelist"))

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {own, same_area}
    assert b"Elsewhere" not in response.content
    # Opening it by id finds nothing either.
    response = client.get(url("person_change", elsewhere.pk))
    assert response.status_code == 302
    assert b"Elsewhere" not in client.get(response.url).content


def test_coordinator_sees_only_visible_teams_encounters(signed_in, coordinator, team_a, team_other_area):
    site = FieldSiteFactory()
    own = EncounterFactory(team=team_a, site=site, notes="own")
    other = EncounterFactory(team=team_other_area, site=site, person=PersonFactory(team=team_other_area, alias="Far"))
    client = signed_in(coordinator)

    response = client.get(url("encounter_changelist"))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]
    assert client.get(url("encounter_change", other.pk)).status_code == 302


def test_coordinator_sees_only_visible_teams_referrals_and_follow_ups(signed_in, coordinator, team_a, team_other_area):
    own = ReferralFactory(team=team_a)
    ReferralFactory(team=team_other_area)
    FollowUp.objects.create(team=team_other_area, referral=ReferralFactory(team=team_other_area), due_on="2026-06-01")
    mine = FollowUp.objects.create(team=team_a, referral=own, due_on="2026-06-01")
    client = signed_in(coordinator)

    assert list(client.get(url("referral_changelist")).context["cl"].result_list) == [own]
    assert list(client.get(url("followup_changelist")).context["cl"].result_list) == [mine]


def test_admin_role_sees_client_records_of_own_teams_only(signed_in, admin_user, team_a, team_b):
    admin_user.teams.add(team_a)
    own = PersonFactory(team=team_a)
    PersonFactory(team=team_b)
    client = signed_in(admin_user)

    assert list(client.get(url("person_changelist")).context["cl"].result_list) == [own]


def test_superuser_sees_all_persons(signed_in, superuser, team_a, team_other_area):
    persons = {PersonFactory(team=team_a), PersonFactory(team=team_other_area)}
    client = signed_in(superuser)

    assert set(client.get(url("person_changelist")).context["cl"].result_list) == persons


def test_coordinator_autocomplete_offers_visible_persons_only(signed_in, coordinator, team_a, team_other_area):
    PersonFactory(team=team_a, alias="Kalle A")
    PersonFactory(team=team_other_area, alias="Kalle B")
    client = signed_in(coordinator)

    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "encounters", "model_name": "encounter", "field_name": "person", "term": "Kalle"},
    )

    assert response.status_code == 200
    assert [item["text"] for item in response.json()["results"]] == ["Kalle A"]


def test_team_filter_offers_visible_teams_only(signed_in, coordinator, team_a, team_b, team_other_area):
    own = PersonFactory(team=team_a)
    PersonFactory(team=team_b)
    client = signed_in(coordinator)

    response = client.get(url("person_changelist"), {"team": team_a.pk})

    assert list(response.context["cl"].result_list) == [own]
    assert b"Team B" in response.content
    assert b"Team elsewhere" not in response.content


# Identity codes -------------------------------------------------------------------


def test_identity_code_is_masked_in_the_list(signed_in, coordinator, team_a):
    named_person(team_a)
    client = signed_in(coordinator)

    response = client.get(url("person_changelist"))

    assert response.status_code == 200
    assert b"131052-***T" in response.content
    assert IDENTITY_CODE.encode() not in response.content


def admin_search(client, name, query):
    """The admin's search box: a POST, then the change list at an address without the text."""
    response = client.post(url(name), {"q": query, "_search": "1"})
    assert response.status_code == 302
    assert query not in response.url
    return client.get(response.url)


def test_identity_code_is_searched_by_exact_match_only(signed_in, coordinator, team_a):
    person = named_person(team_a)
    client = signed_in(coordinator)

    assert list(admin_search(client, "person_changelist", IDENTITY_CODE).context["cl"].result_list) == [person]
    assert list(admin_search(client, "person_changelist", "131052").context["cl"].result_list) == []
    assert list(admin_search(client, "person_changelist", "308T").context["cl"].result_list) == []


def test_pseudonymous_person_form_has_no_identifier_fields(signed_in, coordinator, team_a):
    person = PersonFactory(team=team_a)
    client = signed_in(coordinator)

    form = client.get(url("person_change", person.pk)).context["adminform"].form

    assert not {"first_name", "last_name", "identity_code", "phone", "email"} & set(form.fields)


# Saving through the services ---------------------------------------------------------


def test_saving_an_encounter_in_the_admin_writes_an_audit_entry(signed_in, coordinator, team_a, worker_a):
    site = FieldSiteFactory()
    person = PersonFactory(team=team_a)
    client = signed_in(coordinator)

    response = client.post(url("encounter_add"), encounter_form(team_a, site, person=person.pk, workers=[worker_a.pk]))

    assert response.status_code == 302
    encounter = Encounter.objects.get()
    assert (encounter.team, encounter.site, encounter.person) == (team_a, site, person)
    assert encounter.anonymous is False
    assert encounter.needs == ["mental_health", "housing"]
    assert encounter.actions == ["advice"]
    assert encounter.occurred_on == datetime.date(2026, 5, 12)
    assert list(encounter.workers.all()) == [worker_a]
    assert encounter.created_by == coordinator
    # One entry: the service's trial run during validation was rolled back.
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.model, entry.object_id) == (
        coordinator,
        AuditEntry.Action.CREATE,
        "encounters.encounter",
        str(encounter.pk),
    )


def test_changing_an_encounter_in_the_admin_writes_an_update_entry(signed_in, coordinator, team_a):
    site = FieldSiteFactory()
    encounter = EncounterFactory(team=team_a, site=site, needs=["housing"])
    client = signed_in(coordinator)

    response = client.post(
        url("encounter_change", encounter.pk), encounter_form(team_a, site, needs=["housing", "livelihood"])
    )

    assert response.status_code == 302
    encounter.refresh_from_db()
    assert encounter.needs == ["housing", "livelihood"]
    entry = AuditEntry.objects.get()
    assert entry.action == AuditEntry.Action.UPDATE
    assert "needs" in entry.changes


def test_code_set_fields_are_checkboxes_in_the_admin(signed_in, coordinator):
    client = signed_in(coordinator)

    response = client.get(url("encounter_add"))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'type="checkbox" name="needs" value="housing"' in content
    assert 'type="checkbox" name="actions" value="referral"' in content


def test_unknown_need_is_refused_on_the_form(signed_in, coordinator, team_a):
    client = signed_in(coordinator)

    response = client.post(url("encounter_add"), encounter_form(team_a, FieldSiteFactory(), needs=["flying"]))

    assert response.status_code == 200
    assert "needs" in response.context["adminform"].form.errors
    assert not Encounter.objects.exists()


def test_service_error_is_shown_on_the_encounter_form(signed_in, coordinator, team_a, team_b):
    # Both teams are visible to the coordinator, so the pickers allow them;
    # the service refuses an outing of another team than the encounter's.
    site = FieldSiteFactory()
    outing = OutingFactory(team=team_b, site=site)
    client = signed_in(coordinator)

    response = client.post(url("encounter_add"), encounter_form(team_a, site, outing=outing.pk))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["outing"] == ["The outing belongs to another team."]
    assert not Encounter.objects.exists()
    assert not AuditEntry.objects.exists()


def test_person_out_of_reach_cannot_be_posted(signed_in, coordinator, team_a, team_other_area):
    stranger = PersonFactory(team=team_other_area)
    client = signed_in(coordinator)

    response = client.post(url("encounter_add"), encounter_form(team_a, FieldSiteFactory(), person=stranger.pk))

    assert response.status_code == 200
    assert "person" in response.context["adminform"].form.errors
    assert not Encounter.objects.exists()


def test_deleting_an_encounter_goes_through_the_service(signed_in, coordinator, team_a):
    encounter = EncounterFactory(team=team_a)
    client = signed_in(coordinator)

    response = client.post(url("encounter_delete", encounter.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Encounter.objects.exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_id) == (AuditEntry.Action.DELETE, str(encounter.pk))


def test_person_created_in_the_admin_is_pseudonymous(signed_in, coordinator, team_a):
    client = signed_in(coordinator)

    response = client.post(
        url("person_add"), {"team": team_a.pk, "alias": "Lintu", "birth_year": "1975", "gender": "male"}
    )

    assert response.status_code == 302
    person = Person.objects.get()
    assert (person.kind, person.alias, person.team, person.created_by) == (
        Person.Kind.PSEUDONYMOUS,
        "Lintu",
        team_a,
        coordinator,
    )
    assert AuditEntry.objects.get().action == AuditEntry.Action.CREATE


def test_named_person_identity_code_is_checked(signed_in, coordinator, team_a):
    person = named_person(team_a)
    client = signed_in(coordinator)

    response = client.post(
        url("person_change", person.pk),
        {
            "alias": "",
            "first_name": "Matti",
            "last_name": "Meikäläinen",
            "identity_code": "131052-308X",
            "phone": "",
            "email": "",
            "gender": "unknown",
        },
    )

    assert response.status_code == 200
    assert "identity_code" in response.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.identity_code == IDENTITY_CODE
    assert not AuditEntry.objects.exists()


def test_referral_status_moves_only_forward_in_the_admin(signed_in, coordinator, team_a):
    referral = ReferralFactory(team=team_a, status=ReferralStatus.DECLINED)
    client = signed_in(coordinator)

    response = client.post(
        url("referral_change", referral.pk),
        {
            "team": team_a.pk,
            "service_kind": ServiceKind.HOUSING,
            "status": ReferralStatus.CONNECTED,
            "referred_on": "2026-05-12",
        },
    )

    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    referral.refresh_from_db()
    assert (referral.status, referral.service_kind) == (ReferralStatus.DECLINED, ServiceKind.ADULT_SOCIAL_WORK)
    assert not AuditEntry.objects.exists()


def test_referral_created_in_the_admin(signed_in, coordinator, team_a):
    client = signed_in(coordinator)

    response = client.post(
        url("referral_add"),
        {
            "team": team_a.pk,
            "service_kind": ServiceKind.KELA,
            "status": ReferralStatus.MADE,
            "referred_on": "2026-05-10",
        },
    )

    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.status, referral.made_on) == (ReferralStatus.MADE, datetime.date(2026, 5, 10))
    assert AuditEntry.objects.get().model == "encounters.referral"


def test_follow_up_marked_done_in_the_admin(signed_in, coordinator, team_a):
    follow_up = FollowUp.objects.create(team=team_a, referral=ReferralFactory(team=team_a), due_on="2026-06-01")
    client = signed_in(coordinator)

    response = client.post(
        url("followup_change", follow_up.pk),
        {
            "team": team_a.pk,
            "referral": follow_up.referral_id,
            "due_on": "2026-06-01",
            "done_on": "2026-06-02",
            "contact_kind": "phone",
        },
    )

    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.done_on == datetime.date(2026, 6, 2)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.changes) == (AuditEntry.Action.UPDATE, ["done_on"])


def test_consents_and_merges_are_read_only(signed_in, coordinator, team_a):
    person = named_person(team_a)
    consent = Consent.objects.create(person=person, scope=Consent.Scope.PERSONAL_DATA)
    client = signed_in(coordinator)

    assert client.get(url("consent_changelist")).status_code == 200
    assert client.get(url("consent_add")).status_code == 403
    assert client.post(url("consent_change", consent.pk), {"scope": "contact"}).status_code == 403
    assert client.get(url("personmerge_add")).status_code == 403


# Query counts -----------------------------------------------------------------------


def test_person_changelist_query_count(signed_in, coordinator, team_a, team_b, django_assert_max_num_queries):
    for n in range(15):
        PersonFactory(team=team_a if n % 2 else team_b)
        named_person(team_a, first_name=f"Named {n}")
    client = signed_in(coordinator)

    with django_assert_max_num_queries(13):  # 13th: the access-log rows of the persons shown
        response = client.get(url("person_changelist"))

    assert len(response.context["cl"].result_list) == 30


def test_encounter_changelist_query_count(signed_in, coordinator, team_a, django_assert_max_num_queries):
    for n in range(30):
        EncounterFactory(
            team=team_a,
            site=FieldSiteFactory(),
            person=PersonFactory(team=team_a) if n % 2 else None,
            needs=["housing"],
        )
    client = signed_in(coordinator)

    with django_assert_max_num_queries(13):  # 13th: the access-log rows of the persons shown
        response = client.get(url("encounter_changelist"))

    assert len(response.context["cl"].result_list) == 30


def test_referral_changelist_query_count(signed_in, coordinator, team_a, django_assert_max_num_queries):
    for _ in range(30):
        ReferralFactory(team=team_a, person=PersonFactory(team=team_a))
    client = signed_in(coordinator)

    with django_assert_max_num_queries(13):  # 13th: the access-log rows of the persons shown
        response = client.get(url("referral_changelist"))

    assert len(response.context["cl"].result_list) == 30


def test_bulk_delete_is_all_or_nothing(signed_in, admin_user, team_a, worker_a):
    # An admin may delete only what they logged today; the selection holds
    # one of theirs and one of a worker's, so nothing is deleted.
    admin_user.teams.add(team_a)
    own = EncounterFactory(team=team_a, created_by=admin_user, created_at=timezone.now())
    theirs = EncounterFactory(team=team_a, created_by=worker_a)
    client = signed_in(admin_user)

    response = client.post(
        url("encounter_changelist"),
        {"action": "delete_selected", "_selected_action": [own.pk, theirs.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert Encounter.objects.count() == 2
    assert not AuditEntry.objects.exists()
