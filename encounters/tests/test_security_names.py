"""Names and aliases refuse bidirectional and zero-width characters (issue 8, defect 13)."""

import pytest
from django.core.exceptions import ValidationError

from encounters.models import Person
from encounters.services import person_create
from encounters.tests.factories import PersonFactory
from encounters.tests.test_api_persons import URL, detail, named_person
from outreach.services import user_update
from outreach.tests.api_helpers import api_client

SPOOFS = {
    "right-to-left override": "Matti\u202eigaM",
    "zero-width space": "Mat\u200btti",
    "zero-width joiner": "Mat\u200dti",
    "first strong isolate": "\u2068Matti\u2069",
    "byte order mark": "\ufeffMatti",
    "left-to-right mark": "Matti\u200e",
}


@pytest.mark.parametrize("alias", SPOOFS.values(), ids=SPOOFS.keys())
def test_the_api_refuses_an_alias_with_invisible_characters(worker_a, team_a, alias):
    response = api_client(worker_a).post(URL, {"alias": alias}, format="json")

    assert response.status_code == 400
    assert "alias" in response.json()
    assert not Person.objects.exists()


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_the_api_refuses_names_with_invisible_characters(worker_a, team_a, field):
    person = named_person(team_a)

    response = api_client(worker_a).patch(detail(person.pk), {field: SPOOFS["zero-width space"]}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    person.refresh_from_db()
    assert "\u200b" not in getattr(person, field)


def test_the_service_refuses_them_for_every_other_door(worker_a, team_a):
    with pytest.raises(ValidationError) as refused:
        person_create(actor=worker_a, team=team_a, alias=SPOOFS["right-to-left override"])

    assert "alias" in refused.value.message_dict


def test_ordinary_names_pass(worker_a, team_a):
    person = person_create(actor=worker_a, team=team_a, alias="Åke-Pekka Öhman (Ähtäri)")

    assert person.alias == "Åke-Pekka Öhman (Ähtäri)"
    assert PersonFactory(team=team_a, alias="Zoë").alias == "Zoë"


def test_user_names_refuse_them_too(admin_user, worker_a):
    with pytest.raises(ValidationError) as refused:
        user_update(actor=admin_user, user=worker_a, full_name="Wor\u202eker")

    assert "full_name" in refused.value.message_dict
