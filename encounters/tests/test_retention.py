"""`manage.py retention`: dry run by default, the policy of the settings, legal holds, idempotent, logged."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from encounters.models import Encounter, FollowUp, Person
from encounters.services import person_access_log
from encounters.tests.factories import EncounterFactory, PersonFactory
from outreach.models import AccessLogEntry, AuditEntry
from outreach.tests.factories import FieldSiteFactory


def ago(days):
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def site(team_a):
    return FieldSiteFactory(team=team_a)


@pytest.fixture
def records(team_a, site, worker_a):
    old_anonymous = EncounterFactory(team=team_a, site=site, occurred_at=ago(800), notes="Kertoi velkaongelmista")
    new_anonymous = EncounterFactory(team=team_a, site=site, occurred_at=ago(30), notes="Tuore")
    gone = Person.objects.create(
        team=team_a,
        kind=Person.Kind.NAMED,
        first_name="Maija",
        last_name="Meikäläinen",
        identity_code="131052-308T",
        notes="Muistiinpano",
        created_at=ago(7 * 365),
    )
    EncounterFactory(team=team_a, site=site, person=gone, anonymous=False, occurred_at=ago(6 * 365))
    held = PersonFactory(team=team_a, created_at=ago(7 * 365), legal_hold=True)
    active = PersonFactory(team=team_a, created_at=ago(7 * 365))
    EncounterFactory(team=team_a, site=site, person=active, anonymous=False, occurred_at=ago(100))
    followed = PersonFactory(team=team_a, created_at=ago(7 * 365))
    FollowUp.objects.create(team=team_a, person=followed, due_on=ago(60).date(), done_on=ago(60).date())
    person_access_log(actor=worker_a, persons=[gone], action="view")
    return {"old": old_anonymous, "new": new_anonymous, "gone": gone, "held": held, "active": active}


def run(*args):
    out = StringIO()
    call_command("retention", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_counts_and_changes_nothing(records):
    output = run()

    assert "Dry run" in output
    assert "anonymous_notes_cleared: 1" in output
    assert "persons_flagged: 1" in output
    assert "persons_on_legal_hold: 1" in output
    assert Encounter.objects.get(pk=records["old"].pk).notes == "Kertoi velkaongelmista"
    assert Person.objects.filter(retention_flagged_on__isnull=False).count() == 0
    entry = AuditEntry.objects.get(model="encounters.person", object_id="")
    assert "dry_run" in entry.changes
    assert "persons_flagged=1" in entry.changes


def test_apply_clears_old_anonymous_notes_and_flags_persons_out_of_contact(records):
    run("--apply")

    assert Encounter.objects.get(pk=records["old"].pk).notes == ""
    assert Encounter.objects.get(pk=records["new"].pk).notes == "Tuore"
    flagged = set(Person.objects.filter(retention_flagged_on__isnull=False).values_list("pk", flat=True))
    assert flagged == {records["gone"].pk}
    assert Person.objects.get(pk=records["gone"].pk).identity_code == "131052-308T"


def test_a_second_run_changes_nothing_more(records):
    run("--apply")

    output = run("--apply")

    assert "anonymous_notes_cleared: 0" in output
    assert "persons_flagged: 0" in output
    assert AuditEntry.objects.filter(model="encounters.person", object_id="").count() == 2


def test_pseudonymising_strips_identifiers_but_keeps_the_record_and_its_access_log(records, settings):
    settings.RETENTION_PERSON_ACTION = "pseudonymise"

    output = run("--apply")

    assert "persons_pseudonymised: 1" in output
    gone = Person.objects.get(pk=records["gone"].pk)
    assert (gone.kind, gone.first_name, gone.last_name, gone.identity_code, gone.notes) == (
        "pseudonymous",
        "",
        "",
        "",
        "",
    )
    assert gone.alias == f"#{gone.pk}"
    # The earlier read stays in the log, and the stripping is logged as an edit by the system.
    rows = AccessLogEntry.objects.filter(person_id=gone.pk).order_by("id")
    assert [(row.action, row.actor_id, row.door) for row in rows][-1] == ("edit", None, "command")
    assert rows.filter(action="view").count() == 1
    held = Person.objects.get(pk=records["held"].pk)
    assert held.retention_flagged_on is None
    assert "persons_pseudonymised: 0" in run("--apply")


def test_an_unknown_policy_is_refused(records, settings):
    from django.core.management.base import CommandError

    settings.RETENTION_PERSON_ACTION = "delete"

    with pytest.raises(CommandError, match="pseudonymise"):
        run("--apply")
    assert Encounter.objects.get(pk=records["old"].pk).notes == "Kertoi velkaongelmista"
