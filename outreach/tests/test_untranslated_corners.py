"""Pages and messages that spoke English (or bare Django) on the Finnish UI."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from outreach.models import User
from outreach.tests.factories import OutingFactory
from outreach.vocabulary import Role

pytestmark = pytest.mark.django_db


def test_the_403_page_has_the_layout_and_says_why_in_finnish(client, expert_a, team_a, settings):
    settings.DEBUG = False
    outing = OutingFactory(team=team_a, participants=[expert_a])
    client.force_login(expert_a)

    response = client.get(reverse("outreach:outing_cancel", args=[outing.pk]), HTTP_ACCEPT_LANGUAGE="fi")

    assert response.status_code == 403
    content = response.content.decode()
    assert 'class="site-header"' in content
    assert "Ei pääsyä" in content
    assert "403 Forbidden" not in content


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fi", "Tämä salasana on liian lyhyt"), ("sv", "Det här lösenordet är för kort")],
)
def test_password_validators_speak_the_users_language(language, expected):
    with translation.override(language), pytest.raises(ValidationError) as caught:
        validate_password("kissa")

    assert any(message.startswith(expected) for message in caught.value.messages), caught.value.messages


def test_password_changed_message_is_good_finnish():
    with translation.override("fi"):
        assert translation.gettext("Password successfully changed.") == "Salasanan vaihto onnistui."


def test_after_setting_a_password_the_page_leads_on_to_sign_in(client):
    response = client.get(reverse("account_reset_password_from_key_done"), HTTP_ACCEPT_LANGUAGE="fi")

    assert response.status_code == 200
    assert f'href="{reverse("account_login")}"' in response.content.decode()


def test_admin_section_headings_and_the_selector_help_are_translated(client, admin_user, with_totp):
    with_totp(admin_user)
    client.force_login(admin_user)

    index = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fi").content.decode()
    catalogue = client.get("/admin/jsi18n/", HTTP_ACCEPT_LANGUAGE="fi").content.decode()

    assert "Kohtaamiset ja henkilöt" in index
    assert "Encounters" not in index
    assert "Valitse %s merkitsem" in catalogue  # JSON escapes the ä


def test_admin_says_an_invitation_was_sent_when_it_creates_a_user(
    client, admin_user, team_a, with_totp, django_capture_on_commit_callbacks
):
    with_totp(admin_user)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:outreach_user_add"),
            {"email": "uusi@example.org", "full_name": "Uusi", "role": Role.WORKER, "teams": [team_a.pk]},
            follow=True,
        )

    assert User.objects.filter(email="uusi@example.org").exists()
    texts = [str(message) for message in response.context["messages"]]
    assert any("uusi@example.org" in text and "invitation" in text.lower() for text in texts), texts
