"""What got in the way of new users in the field: names, gender, follow-ups, deletion, the header."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from encounters.forms import PersonMakeNamedForm
from encounters.models import Encounter, FollowUp, Person
from encounters.tests.factories import EncounterFactory, PersonFactory
from encounters.tests.test_field_views import quick_log
from outreach.models import Municipality
from outreach.tests.factories import FieldSiteFactory, OutingFactory, TeamFactory, UserFactory
from outreach.vocabulary import OutingStatus, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def outing(team_a, worker_a, today):
    return OutingFactory(
        team=team_a,
        site=FieldSiteFactory(team=team_a),
        date=today,
        start_time=datetime.time(0, 0),
        status=OutingStatus.PLANNED,
        started_at=timezone.now(),
        participants=[worker_a],
    )


@pytest.fixture
def named(team_a):
    return PersonFactory(
        team=team_a, kind=Person.Kind.NAMED, alias="Kettu", first_name="Eija", last_name="Hämäläinen", gender="female"
    )


def test_the_field_pages_call_a_named_person_by_alias_and_the_person_page_by_name(
    client, worker_a, team_a, outing, named, today
):
    EncounterFactory(team=team_a, site=outing.site, outing=outing, person=named, created_by=worker_a)
    FollowUp.objects.create(team=team_a, person=named, assigned_to=worker_a, due_on=today)
    client.force_login(worker_a)

    outing_page = client.get(reverse("encounters:outing_detail", args=[outing.pk])).content.decode()
    today_page = client.get(reverse("encounters:today")).content.decode()
    person_page = client.get(reverse("encounters:person_detail", args=[named.pk])).content.decode()

    for content in (outing_page, today_page):
        assert "Kettu" in content
        assert "Hämäläinen" not in content
    assert "Eija Hämäläinen" in person_page


def test_an_encounter_takes_the_persons_gender_as_well_as_the_age_group(client, worker_a, outing, named):
    client.force_login(worker_a)

    response = client.post(
        reverse("encounters:encounter_create", args=[outing.pk]),
        quick_log(person=str(named.pk), gender="", age_group=""),
    )

    assert response.status_code == 302
    assert Encounter.objects.get().gender == "female"


def test_a_follow_up_on_today_says_what_it_is_about_and_takes_a_note_when_done(client, worker_a, team_a, named, today):
    follow_up = FollowUp.objects.create(
        team=team_a, person=named, assigned_to=worker_a, due_on=today, notes="Call about the housing application."
    )
    client.force_login(worker_a)

    content = client.get(reverse("encounters:today")).content.decode()
    assert "Call about the housing application." in content
    assert 'name="note"' in content
    response = client.post(reverse("encounters:follow_up_done", args=[follow_up.pk]), {"note": "Reached by phone."})

    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.done_on == today
    assert follow_up.notes == "Call about the housing application.\nReached by phone."


def test_the_referral_status_beside_mark_done_is_labelled(client, worker_a, team_a, named, today):
    from encounters.tests.factories import ReferralFactory

    referral = ReferralFactory(team=team_a, person=named, status="made")
    FollowUp.objects.create(team=team_a, referral=referral, person=named, assigned_to=worker_a, due_on=today)
    client.force_login(worker_a)

    content = client.get(reverse("encounters:today"), HTTP_ACCEPT_LANGUAGE="fi").content.decode()

    assert "(Tehty)" not in content
    assert "ohjauksen tila: tehty" in content


def test_the_outing_header_does_not_repeat_a_team_named_after_the_municipality(client, worker_a, today):
    kuopio = Municipality.objects.get(code="297")
    team = TeamFactory(name=kuopio.name)
    worker_a.teams.add(team)
    outing = OutingFactory(team=team, site=FieldSiteFactory(team=team, municipality=kuopio), date=today)
    client.force_login(worker_a)

    content = client.get(reverse("encounters:outing_detail", args=[outing.pk])).content.decode()

    assert f"{kuopio.name} · {kuopio.name}" not in content
    assert kuopio.name in content


def test_the_coordinators_navigation_has_today(client, coordinator, with_totp):
    client.force_login(with_totp(coordinator))

    content = client.get(reverse("home")).content.decode()

    assert f'href="{reverse("encounters:today")}"' in content


def test_the_identity_code_error_shows_with_the_other_errors_at_once():
    form = PersonMakeNamedForm(
        {"named-first_name": "Eija", "named-identity_code": "010101-123X", "named-consent_given_on": ""},
        prefix="named",
    )

    assert not form.is_valid()
    assert {"identity_code", "consent_given_on", "consent_scopes"} <= set(form.errors)


def test_the_planning_form_offers_only_the_chosen_teams_members(client, team_a, team_b, with_totp, worker_a, worker_b):
    coordinator = UserFactory(role=Role.COORDINATOR, teams=[team_a, team_b])
    client.force_login(with_totp(coordinator))

    both = client.get(reverse("outreach:outing_create"))
    only_a = client.get(reverse("outreach:outing_create"), {"team": team_b.pk})

    assert set(both.context["form"].fields["participants"].queryset) >= {worker_a, worker_b}
    offered = set(only_a.context["form"].fields["participants"].queryset)
    assert worker_b in offered
    assert worker_a not in offered
