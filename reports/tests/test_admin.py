"""Structural observations and client feedback in the admin."""

import datetime
import uuid

import pytest
from django.urls import reverse

from outreach.models import AccessLogEntry, AuditEntry, Disclosure
from outreach.tests.factories import FieldSiteFactory, OutingFactory, municipality
from reports.models import ClientFeedback, PeriodEvaluation, StructuralObservation
from reports.selectors import summary_report
from reports.services import feedback_record


@pytest.fixture
def signed_in(client, with_totp):
    def sign_in(user):
        if user.requires_mfa:
            with_totp(user)
        client.force_login(user)
        return client

    return sign_in


def test_expert_gets_no_feedback_admin(signed_in, expert_a):
    client = signed_in(expert_a)

    response = client.get(reverse("admin:reports_clientfeedback_changelist"), follow=True)

    assert response.status_code == 403


def test_coordinator_records_structural_observation(signed_in, coordinator, team_a):
    site = FieldSiteFactory()
    client = signed_in(coordinator)

    response = client.post(
        reverse("admin:reports_structuralobservation_add"),
        {
            "team": team_a.pk,
            "theme": StructuralObservation.Theme.HOUSING,
            "municipality": municipality("297").pk,
            "site": site.pk,
            "observed_on": "2026-05-12",
            "description": "Asunnottomien määrä kasvaa ruokajakelussa.",
        },
    )

    assert response.status_code == 302
    observation = StructuralObservation.objects.get()
    assert (observation.site, observation.created_by) == (site, coordinator)
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.object_id) == (coordinator, AuditEntry.Action.CREATE, str(observation.pk))


def test_observation_reported_before_observed_is_refused(signed_in, coordinator, team_a):
    client = signed_in(coordinator)

    response = client.post(
        reverse("admin:reports_structuralobservation_add"),
        {
            "team": team_a.pk,
            "theme": StructuralObservation.Theme.OTHER,
            "municipality": municipality("297").pk,
            "observed_on": "2026-05-12",
            "reported_on": "2026-05-01",
            "description": "x",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not StructuralObservation.objects.exists()
    assert not AuditEntry.objects.exists()


def test_feedback_changelist_query_count(signed_in, coordinator, team_a, django_assert_max_num_queries):
    for n in range(30):
        site = FieldSiteFactory()
        feedback_record(site=site, outing=OutingFactory(team=team_a, site=site), score=1 + n % 5, language="fi")
    client = signed_in(coordinator)

    with django_assert_max_num_queries(13):
        response = client.get(reverse("admin:reports_clientfeedback_changelist"))

    assert len(response.context["cl"].result_list) == 30


def test_superuser_opens_a_change_page_of_every_model(signed_in, superuser, coordinator, team_a, with_totp):
    """One record of each of our models, opened as a superuser: every change form renders."""
    from django.contrib import admin
    from django.utils import timezone

    from encounters.models import Consent, FollowUp, PersonMerge, ReferralConfirmation
    from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
    from networks.models import (
        CommunicationActivity,
        ContactPerson,
        CooperationAgreement,
        MeetingTask,
        Network,
        NetworkMeeting,
        NetworkMembership,
        PartnerOrganisation,
        PartnerService,
    )
    from outreach.models import AccessChange, EmailChange, TallyEvent
    from outreach.services import api_token_create

    site = FieldSiteFactory()
    outing = OutingFactory(team=team_a, site=site, participants=[coordinator])
    named = PersonFactory(team=team_a, kind="named", alias="", first_name="Maija", identity_code="131052-308T")
    kept, merged = PersonFactory(team=team_a), PersonFactory(team=team_a)
    referral = ReferralFactory(team=team_a, person=named)
    partner = PartnerOrganisation.objects.create(name="Kela", services=["kela"])
    records = [
        site,
        outing,
        coordinator,
        team_a,
        team_a.area,
        municipality("297"),
        AuditEntry.objects.create(actor=coordinator, action="view", model="encounters.person", object_id="1"),
        AccessLogEntry.objects.create(actor=coordinator, action="view", person_id=1),
        Disclosure.objects.create(kind="export", recipient="THL", categories=[], legal_basis="statutory"),
        TallyEvent.objects.create(outing=outing, client_uuid=uuid.uuid4(), delta=1, tallied_after=1),
        api_token_create(actor=coordinator, user=with_totp(coordinator))[0],
        AccessChange.objects.create(user=coordinator, old_role="worker", new_role="coordinator"),
        EmailChange.objects.create(user=coordinator, old_email="a@example.org", new_email="b@example.org", digest="0"),
        named,
        EncounterFactory(team=team_a, site=site, outing=outing, needs=["housing"]),
        referral,
        FollowUp.objects.create(team=team_a, referral=referral, due_on="2026-06-01"),
        Consent.objects.create(person=named, scope=Consent.Scope.PERSONAL_DATA),
        PersonMerge.objects.create(kept=kept, merged=merged),
        ReferralConfirmation.objects.create(
            referral=referral, token_digest="0" * 64, created_by=coordinator, expires_at=timezone.now()
        ),
        partner,
        ContactPerson.objects.create(partner=partner, name="Liisa"),
        Network.objects.create(name="Katuverkosto"),
        NetworkMeeting.objects.create(network=Network.objects.get(), date="2026-05-20"),
        PartnerService.objects.create(partner=partner, name="Asiointi", service_kind="kela"),
        NetworkMembership.objects.create(network=Network.objects.get(), organisation=partner),
        CooperationAgreement.objects.create(network=Network.objects.get(), title="Sopimus", agreed_on="2026-01-01"),
        MeetingTask.objects.create(meeting=NetworkMeeting.objects.get(), title="Tehtävä"),
        CommunicationActivity.objects.create(kind="article", title="Etsivä työ Kuopiossa"),
        StructuralObservation.objects.create(team=team_a, theme="other", municipality=site.municipality),
        feedback_record(site=site, outing=outing, score=5),
        PeriodEvaluation.objects.create(start="2026-04-01", end="2026-06-30", lessons="Fewer street outings."),
    ]
    # Client feedback links and a survey with one answer to each kind of record.
    from reports.models import SurveyAnswer, SurveyChoice, SurveyResponse
    from reports.services import feedback_link_create, survey_create

    records.append(feedback_link_create(actor=coordinator, site=FieldSiteFactory(team=team_a))[0])
    texts = {"fi": "Kysymys", "sv": "Fråga", "en": "Question"}
    survey = survey_create(
        actor=coordinator,
        title="Alkukysely",
        opens_on=datetime.date(2026, 1, 1),
        closes_on=datetime.date(2026, 12, 31),
        questions=[{"kind": "single", "text": texts, "choices": [texts, texts]}],
    )
    question = survey.questions.get()
    response = SurveyResponse.objects.create(survey=survey)
    records += [survey, question, SurveyChoice.objects.filter(question=question).first()]
    records += [response, SurveyAnswer.objects.create(response=response, question=question, text="Soita 0401234567")]
    # The report rollups, kept (here by the factories) for the encounters and the outing above.
    from encounters.models import (
        EncounterDayCount,
        EncounterMixCount,
        PersonDayCount,
        PersonFirstEncounter,
        ReferralDayCount,
    )
    from outreach.models import OutingDayCount, OutingEncounterCount, OutingWorkerDayCount
    from reports.models import FeedbackDayCount

    EncounterFactory(team=team_a, site=site, person=kept)
    rollup_models = (EncounterDayCount, EncounterMixCount, PersonDayCount, PersonFirstEncounter, ReferralDayCount)
    outing_models = (OutingDayCount, OutingWorkerDayCount, OutingEncounterCount)
    records += [model.objects.get() for model in (*rollup_models, *outing_models, FeedbackDayCount)]
    ours = {m for m in admin.site._registry if m._meta.app_label in {"outreach", "encounters", "networks", "reports"}}
    assert ours == {type(record) for record in records}
    client = signed_in(superuser)

    for record in records:
        meta = record._meta
        response = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk]))
        assert response.status_code == 200, meta.label


@pytest.fixture
def other_area_coordinator(team_other_area):
    from outreach.tests.factories import UserFactory
    from outreach.vocabulary import Role

    return UserFactory(email="coordinator.elsewhere@example.org", role=Role.COORDINATOR, teams=[team_other_area])


def test_another_areas_coordinator_cannot_list_read_or_delete_observations(
    signed_in, other_area_coordinator, coordinator, team_a
):
    observation = StructuralObservation.objects.create(
        team=team_a, theme="housing", municipality=municipality("297"), description="Asunnottomuus kasvaa."
    )
    client = signed_in(other_area_coordinator)

    listing = client.get(reverse("admin:reports_structuralobservation_changelist"))
    assert listing.status_code == 200
    assert "Asunnottomuus" not in listing.content.decode()
    assert listing.context["cl"].result_count == 0
    change = reverse("admin:reports_structuralobservation_change", args=[observation.pk])
    assert client.get(change).status_code == 302  # the admin's "does not exist" redirect to its index
    delete = reverse("admin:reports_structuralobservation_delete", args=[observation.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    bulk = client.post(
        reverse("admin:reports_structuralobservation_changelist"),
        {"action": "delete_selected", "_selected_action": [observation.pk], "post": "yes"},
    )
    assert bulk.status_code == 302
    assert StructuralObservation.objects.filter(pk=observation.pk).exists()

    own = signed_in(coordinator).get(reverse("admin:reports_structuralobservation_changelist"))
    assert own.context["cl"].result_count == 1


def test_another_areas_coordinator_cannot_list_read_or_delete_feedback(
    signed_in, other_area_coordinator, coordinator, team_a
):
    outing = OutingFactory(team=team_a)
    at_outing = feedback_record(site=outing.site, outing=outing, score=2, comment="Outing comment")
    at_site = feedback_record(site=FieldSiteFactory(team=team_a), score=4, comment="Site comment")
    client = signed_in(other_area_coordinator)

    listing = client.get(reverse("admin:reports_clientfeedback_changelist"))
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 0
    for feedback in (at_outing, at_site):
        assert client.get(reverse("admin:reports_clientfeedback_change", args=[feedback.pk])).status_code == 302
        client.post(reverse("admin:reports_clientfeedback_delete", args=[feedback.pk]), {"post": "yes"})
    assert ClientFeedback.objects.count() == 2

    own = signed_in(coordinator).get(reverse("admin:reports_clientfeedback_changelist"))
    assert own.context["cl"].result_count == 2


def test_coordinator_reads_and_deletes_feedback_but_never_edits_an_answer(signed_in, coordinator, team_a):
    outing = OutingFactory(team=team_a)
    answer = feedback_record(site=outing.site, outing=outing, score=2, given_on=outing.date)
    client = signed_in(coordinator)

    assert client.get(reverse("admin:reports_clientfeedback_add")).status_code == 403
    change = client.post(reverse("admin:reports_clientfeedback_change", args=[answer.pk]), {"score": 5})
    assert change.status_code == 403
    answer.refresh_from_db()
    assert answer.score == 2

    client.post(reverse("admin:reports_clientfeedback_delete", args=[answer.pk]), {"post": "yes"})

    assert not ClientFeedback.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DELETE, model="reports.clientfeedback").count() == 1
    figures = summary_report(user=coordinator, start=outing.date, end=outing.date)
    assert figures["feedback_count"] == 0


def test_observation_changed_in_the_admin_goes_through_the_service(signed_in, coordinator, team_a):
    observation = StructuralObservation.objects.create(
        team=team_a, theme=StructuralObservation.Theme.OTHER, municipality=municipality("297"), description="x"
    )
    change = reverse("admin:reports_structuralobservation_change", args=[observation.pk])
    form = {
        "team": team_a.pk,
        "theme": StructuralObservation.Theme.OTHER,
        "municipality": municipality("297").pk,
        "observed_on": observation.observed_on.isoformat(),
        "description": "x",
        "reported_to": "Kunnanhallitus",
        "reported_on": "",
    }
    client = signed_in(coordinator)

    refused = client.post(change, form)

    assert refused.status_code == 200
    assert "reported_on" in refused.context["adminform"].form.errors
    assert not AuditEntry.objects.exists()

    saved = client.post(change, {**form, "reported_on": observation.observed_on.isoformat()})

    assert saved.status_code == 302
    observation.refresh_from_db()
    assert observation.reported_to == "Kunnanhallitus"
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, sorted(entry.changes)) == (
        coordinator,
        AuditEntry.Action.UPDATE,
        ["reported_on", "reported_to"],
    )
