"""The admin in Finnish and Swedish: no English left in the index's headings and captions."""

import pytest
from django.utils import translation

ENGLISH = ("Model name", "Add link", "Change or view list link", "Users, teams and outings", "Encounters and persons")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fi", ["Mallin nimi", "Lisäyslinkki", "Käyttäjät, tiimit ja jalkautumiset"]),
        ("sv", ["Modellens namn", "Dagliga summor av fältbesök", "Användare, team och fältbesök"]),
    ],
)
def test_the_admin_index_speaks_the_users_language(client, admin_user, with_totp, language, expected):
    client.force_login(with_totp(admin_user))
    client.cookies["django_language"] = language

    with translation.override(language):
        response = client.get("/admin/")

    content = response.content.decode()
    assert response.status_code == 200
    for text in expected:
        assert text in content
    for text in ENGLISH:
        assert text not in content


def test_a_worker_is_not_let_into_the_admin(client, worker_a):
    client.force_login(worker_a)

    response = client.get("/admin/")

    assert response.status_code == 302
