"""The coordinator's page that defines a survey (/reports/surveys/new/): the same rules as POST /api/v1/surveys/."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from outreach.models import AuditEntry
from reports.models import Survey

URL = "/reports/surveys/new/"


def management(total):
    return {"q-TOTAL_FORMS": str(total), "q-INITIAL_FORMS": "0", "q-MIN_NUM_FORMS": "0", "q-MAX_NUM_FORMS": "50"}


def question(index, kind, fi, sv, en, choices=None):
    data = {f"q-{index}-kind": kind, f"q-{index}-text_fi": fi, f"q-{index}-text_sv": sv, f"q-{index}-text_en": en}
    for code, lines in (choices or {}).items():
        data[f"q-{index}-choices_{code}"] = "\n".join(lines)
    return data


def payload(**changes):
    today = timezone.localdate()
    data = {
        "title": "Alkukysely",
        "opens_on": today.isoformat(),
        "closes_on": (today + datetime.timedelta(days=30)).isoformat(),
        **management(3),
        **question(0, "scale", "Kuinka tyytyväinen olet?", "Hur nöjd är du?", "How satisfied are you?"),
        **question(
            1,
            "multiple",
            "Mitä tarvitset?",
            "Vad behöver du?",
            "What do you need?",
            {"fi": ["Asunto", "Työ"], "sv": ["Bostad", "Arbete"], "en": ["Housing", " Work ", ""]},
        ),
        # the third question is left empty: it is left out
    }
    return data | changes


@pytest.fixture
def coordinator_client(client, coordinator, with_totp):
    with_totp(coordinator)
    client.force_login(coordinator)
    return client


def test_the_page_offers_three_empty_questions_and_dates(coordinator_client):
    response = coordinator_client.get(URL)
    assert response.status_code == 200
    assert len(response.context["questions"].forms) == 3
    assert response.context["form"]["opens_on"].value() == timezone.localdate()
    assert 'href="/reports/surveys/new/"' in coordinator_client.get(reverse("reports:surveys")).content.decode()


def test_a_coordinator_defines_a_survey_in_three_languages(coordinator_client):
    response = coordinator_client.post(URL, payload())
    survey = Survey.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:survey_detail", kwargs={"pk": survey.pk})
    questions = list(survey.questions.all())
    assert [(q.position, q.kind) for q in questions] == [(1, "scale"), (2, "multiple")]
    assert questions[0].text == {
        "fi": "Kuinka tyytyväinen olet?",
        "sv": "Hur nöjd är du?",
        "en": "How satisfied are you?",
    }
    assert [c.text for c in questions[1].choices.all()] == [
        {"fi": "Asunto", "sv": "Bostad", "en": "Housing"},
        {"fi": "Työ", "sv": "Arbete", "en": "Work"},
    ]
    assert AuditEntry.objects.filter(model="reports.survey", action="create", object_id=str(survey.pk)).count() == 1
    public = coordinator_client.get(reverse("survey_form", kwargs={"token": survey.token}), {"lang": "sv"})
    assert "Vad behöver du?" in public.content.decode()


def test_choices_hidden_by_a_scale_or_text_kind_are_left_out(coordinator_client):
    data = payload(**question(0, "text", "Muuta?", "Annat?", "Anything else?", {"fi": ["x"], "sv": ["y"]}))
    assert coordinator_client.post(URL, data).status_code == 302
    assert Survey.objects.get().questions.get(position=1).choices.count() == 0


def test_add_a_question_keeps_what_was_typed_and_saves_nothing(coordinator_client):
    response = coordinator_client.post(URL, payload(add_question="1", title=""))
    assert response.status_code == 200
    forms = response.context["questions"].forms
    assert len(forms) == 4
    assert forms[0]["text_sv"].value() == "Hur nöjd är du?"
    assert forms[3]["kind"].value() in (None, "")
    assert not response.context["form"].errors  # nothing checked yet
    assert 'id="new-question"' in response.content.decode()
    assert not Survey.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"closes_on": "2020-01-01"}, "closes_on", "A survey cannot close before it opens."),
        ({"q-0-text_en": ""}, None, "Question 1: Give the text in Finnish, Swedish and English (missing: en)."),
        ({"q-1-choices_sv": "Bostad"}, "q-1-choices_sv", "Give every choice in each language, one per line"),
        (
            {"q-1-choices_fi": "", "q-1-choices_sv": "", "q-1-choices_en": ""},
            None,
            "Question 2: A choice question needs at least two choices.",
        ),
        ({"q-0-kind": ""}, "q-0-kind", "Choose the kind of question."),
        ({"q-0-kind": "stars"}, "q-0-kind", "Select a valid choice."),
        (
            question(0, "", "", "", "") | question(1, "", "", "", "", {"fi": [], "sv": [], "en": []}),
            None,
            "Give at least one question.",
        ),
    ],
)
def test_a_bad_survey_gets_the_form_back_naming_the_field(coordinator_client, changes, field, message):
    response = coordinator_client.post(URL, payload(**changes))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    if field is not None:
        tag = re.search(rf'<[^>]*id="id_{field}"[^>]*>', page)
        assert tag is not None
        assert 'aria-invalid="true"' in tag.group(0)
    assert "Nothing was saved. What you entered is still in the form." in page
    assert not Survey.objects.exists()


def test_a_forged_management_form_is_refused_without_an_error_page(coordinator_client):
    response = coordinator_client.post(URL, payload(**{"q-TOTAL_FORMS": "x"}))
    assert response.status_code == 200
    assert not Survey.objects.exists()
    response = coordinator_client.post(URL, payload(**{"q-TOTAL_FORMS": "9999", "add_question": "1"}))
    assert len(response.context["questions"].forms) == 50


@pytest.mark.parametrize("role", ["worker_a", "expert_a", "admin_user"])
def test_only_coordinators_define_surveys_here(client, request, with_totp, role):
    user = request.getfixturevalue(role)
    with_totp(user)
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert client.post(URL, payload()).status_code == 403
    assert not Survey.objects.exists()


@pytest.mark.django_db
def test_signed_out_goes_to_sign_in(client):
    assert client.post(URL, payload()).status_code == 302
    assert not Survey.objects.exists()
