"""What model validation asks the database when an encounter is saved, and what it leaves to the INSERT.

`validate_model` (every service, so every door) skips the look-ups whose
answer the database's own constraints give at the INSERT: a foreign key to a
record loaded on the encounter, the unique check of the `client_uuid` of an
exactly-once create, and the check constraints that Python answers
(docs/SCALING.md §3). A refusal keeps its message and its field: the old
answer is Django's `full_clean()` with every check constraint asked of the
database.
"""

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from encounters import services
from encounters.models import ENCOUNTER_MAX_MINUTES, Encounter, domain_date
from encounters.tests.factories import EncounterFactory
from outreach import fields
from outreach.fields import FieldCheckConstraint, NotInPython
from outreach.models import Team
from outreach.services import validate_model
from outreach.tests.factories import FieldSiteFactory, OutingFactory, TeamFactory

MOMENT = datetime.datetime(2026, 5, 12, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=3)))
MISSING = 987654


@pytest.fixture
def site(team_a):
    return FieldSiteFactory(team=team_a)


@pytest.fixture
def encounter(worker_a, team_a, site):
    """An encounter as `encounter_create` builds it: its team, site, outing and author loaded."""
    return Encounter(
        team=team_a,
        site=site,
        outing=OutingFactory(team=team_a, site=site),
        created_by=worker_a,
        occurred_at=MOMENT,
        occurred_on=domain_date(MOMENT),
        anonymous=True,
    )


def _to_the_database(*args, **kwargs):
    """Every check constraint asked of the database, as Django does it."""
    raise NotInPython


def errors_of(call) -> dict[str, list[str]]:
    try:
        call()
    except ValidationError as error:
        return error.message_dict
    return {}


def constraint(name: str) -> FieldCheckConstraint:
    found = next(c for c in Encounter._meta.constraints if c.name == name)
    assert isinstance(found, FieldCheckConstraint)
    return found


# Foreign keys ---------------------------------------------------------------


def test_records_loaded_on_the_encounter_are_not_looked_up_again(encounter, django_assert_num_queries):
    with django_assert_num_queries(0):
        validate_model(encounter)


@pytest.mark.parametrize("name", ["team", "site", "outing", "created_by"])
def test_a_record_given_by_a_missing_id_is_refused_on_its_field(encounter, name):
    setattr(encounter, f"{name}_id", MISSING)  # the loaded record is forgotten with its id

    with CaptureQueriesContext(connection) as queries:
        refused = errors_of(lambda: validate_model(encounter))

    related = {"team": "team", "site": "field site", "outing": "outing", "created_by": "user"}[name]
    assert refused[name] == [f"{related} instance with id {MISSING} is not a valid choice."]
    assert refused == errors_of(encounter.full_clean)
    assert any(str(MISSING) in query["sql"] for query in queries.captured_queries)


def test_a_record_built_rather_than_read_is_looked_up(encounter, team_a):
    encounter.team = Team(pk=team_a.pk)  # proves nothing about the database

    with CaptureQueriesContext(connection) as queries:
        validate_model(encounter)

    assert [query for query in queries.captured_queries if '"outreach_team"' in query["sql"]]


def test_a_loaded_record_deleted_since_is_refused_by_the_database(encounter):
    gone = TeamFactory()
    encounter.team = gone
    Team.objects.filter(pk=gone.pk).delete()

    validate_model(encounter)  # what was read is not read again

    def save_and_check_now():  # the foreign key constraint is checked at the commit
        encounter.save()
        connection.check_constraints(table_names=[Encounter._meta.db_table])

    with pytest.raises(IntegrityError), transaction.atomic():
        save_and_check_now()


# Check constraints ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("encounter_anonymous_has_no_person", {"anonymous": False}),
        ("encounter_depth_valid", {"depth": "shouting"}),
        ("encounter_duration_plausible", {"duration_minutes": ENCOUNTER_MAX_MINUTES + 1}),
    ],
)
@pytest.mark.parametrize("language", ["en", "fi"])
def test_a_violated_constraint_gives_the_same_error_without_a_query(
    encounter, name, values, language, monkeypatch, django_assert_num_queries
):
    for attribute, value in values.items():
        setattr(encounter, attribute, value)
    checked = constraint(name)

    with translation.override(language), django_assert_num_queries(0):
        now = errors_of(lambda: checked.validate(Encounter, encounter))
    with monkeypatch.context() as patch, translation.override(language):
        patch.setattr(fields, "condition_holds", _to_the_database)
        before = errors_of(lambda: checked.validate(Encounter, encounter))
        message = str(checked.violation_error_message)

    assert now == before == {checked.field: [message]}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"anonymous": False}, "person"),
        ({"duration_minutes": ENCOUNTER_MAX_MINUTES + 1}, "duration_minutes"),
        ({"depth": "shouting"}, "depth"),  # the field's choices, before the constraint
    ],
)
def test_validation_refuses_as_before(encounter, values, field, monkeypatch):
    for attribute, value in values.items():
        setattr(encounter, attribute, value)

    now = errors_of(lambda: validate_model(encounter))
    monkeypatch.setattr(fields, "condition_holds", _to_the_database)
    before = errors_of(encounter.full_clean)

    assert list(now) == [field]
    assert now == before


def test_the_encounter_constraints_hold_for_a_valid_encounter(encounter, django_assert_num_queries):
    encounter.duration_minutes = ENCOUNTER_MAX_MINUTES
    with django_assert_num_queries(0):
        for name in ("encounter_anonymous_has_no_person", "encounter_depth_valid", "encounter_duration_plausible"):
            constraint(name).validate(Encounter, encounter)


def test_a_condition_python_does_not_answer_is_asked_of_the_database(encounter):
    no_secrets = FieldCheckConstraint(
        name="encounter_notes_without_secrets",
        field="notes",
        condition=~Q(notes__icontains="secret"),
        violation_error_message=_("An encounter has no secrets."),
    )
    encounter.notes = "A SECRET"

    with CaptureQueriesContext(connection) as queries:
        refused = errors_of(lambda: no_secrets.validate(Encounter, encounter))

    assert refused == {"notes": ["An encounter has no secrets."]}
    assert any('"_check"' in query["sql"] for query in queries.captured_queries)
    encounter.notes = "Talked."
    assert errors_of(lambda: no_secrets.validate(Encounter, encounter)) == {}


# The client UUID --------------------------------------------------------------


def test_an_exactly_once_create_leaves_the_uuid_to_the_insert(worker_a, team_a, site):
    key = uuid.uuid4()

    with CaptureQueriesContext(connection) as queries:
        services.encounter_create(actor=worker_a, team=team_a, site=site, occurred_at=MOMENT, client_uuid=key)

    selects = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT")]
    assert not [sql for sql in selects if '"client_uuid"' in sql]
    assert Encounter.objects.filter(client_uuid=key).count() == 1


def test_elsewhere_a_used_uuid_is_still_refused_on_its_field(encounter):
    encounter.client_uuid = EncounterFactory(client_uuid=uuid.uuid4()).client_uuid

    refused = errors_of(lambda: validate_model(encounter))

    assert refused == {"client_uuid": ["Encounter with this Client UUID already exists."]}
    assert refused == errors_of(encounter.full_clean)
