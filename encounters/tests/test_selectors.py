"""Who sees which client records, role by role."""

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from encounters.models import Person
from encounters.selectors import (
    encounters_visible_to,
    follow_ups_visible_to,
    get_encounter_for_user,
    get_person_for_user,
    persons_visible_to,
    referrals_visible_to,
)
from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from outreach.selectors import outings_visible_to, teams_visible_to
from outreach.tests.factories import OutingFactory, UserFactory
from outreach.vocabulary import Role


@pytest.fixture
def records(team_a, team_b, team_other_area, expert_a):
    """Per team: a pseudonymous and a named person, an outing and encounters."""
    out: dict[str, dict[str, Any]] = {}
    for key, team in (("a", team_a), ("b", team_b), ("x", team_other_area)):
        alias = PersonFactory(team=team, alias=f"Alias {key}")
        named = PersonFactory(team=team, kind=Person.Kind.NAMED, alias="", first_name="Named", last_name=key)
        outing = OutingFactory(team=team)
        out[key] = {
            "alias": alias,
            "named": named,
            "outing": outing,
            "anonymous": EncounterFactory(team=team, site=outing.site, outing=outing),
            "with_alias": EncounterFactory(team=team, site=outing.site, outing=outing, person=alias),
            "with_named": EncounterFactory(team=team, site=outing.site, outing=outing, person=named),
            "no_outing": EncounterFactory(team=team),
            "referral": ReferralFactory(team=team, person=alias),
        }
    # The expert took part in team A's outing only.
    out["a"]["outing"].participants.add(expert_a)
    return out


def ids(queryset):
    return set(queryset.values_list("id", flat=True))


@pytest.mark.django_db
def test_worker_sees_own_team_only(worker_a, records):
    a = records["a"]
    assert ids(persons_visible_to(worker_a)) == {a["alias"].pk, a["named"].pk}
    assert ids(encounters_visible_to(worker_a)) == {
        a[k].pk for k in ("anonymous", "with_alias", "with_named", "no_outing")
    }
    assert ids(referrals_visible_to(worker_a)) == {a["referral"].pk}
    assert ids(outings_visible_to(worker_a)) == {a["outing"].pk}


@pytest.mark.django_db
def test_worker_of_team_a_gets_404_for_team_b_records(worker_a, records):
    b = records["b"]
    with pytest.raises(Http404):
        get_person_for_user(worker_a, b["alias"].pk)
    with pytest.raises(Http404):
        get_encounter_for_user(worker_a, b["anonymous"].pk)
    with pytest.raises(Http404):
        get_person_for_user(worker_a, "not-a-number")


@pytest.mark.django_db
def test_expert_sees_only_their_outings_and_never_named_persons(expert_a, records):
    a = records["a"]
    assert ids(outings_visible_to(expert_a)) == {a["outing"].pk}
    assert ids(encounters_visible_to(expert_a)) == {a["anonymous"].pk, a["with_alias"].pk}
    assert ids(persons_visible_to(expert_a)) == {a["alias"].pk}
    assert not persons_visible_to(expert_a).filter(kind=Person.Kind.NAMED).exists()
    assert ids(follow_ups_visible_to(expert_a)) == set()
    with pytest.raises(Http404):
        get_person_for_user(expert_a, a["named"].pk)


@pytest.mark.django_db
def test_coordinator_sees_every_team_of_their_area(coordinator, records, team_a, team_b, team_other_area):
    assert ids(teams_visible_to(coordinator)) == {team_a.pk, team_b.pk}
    seen = ids(encounters_visible_to(coordinator))
    assert records["b"]["with_named"].pk in seen
    assert records["x"]["anonymous"].pk not in seen
    assert records["x"]["alias"].pk not in ids(persons_visible_to(coordinator))


@pytest.mark.django_db
def test_coordinator_without_area_sees_own_teams(records, team_other_area):
    from outreach.tests.factories import TeamFactory

    lone = TeamFactory(name="No area")
    coordinator = UserFactory(role=Role.COORDINATOR, teams=[lone])
    assert ids(teams_visible_to(coordinator)) == {lone.pk}
    assert ids(encounters_visible_to(coordinator)) == set()


@pytest.mark.django_db
def test_admin_role_sees_no_client_data_beyond_their_teams(admin_user, records):
    assert ids(persons_visible_to(admin_user)) == set()
    assert ids(encounters_visible_to(admin_user)) == set()


@pytest.mark.django_db
def test_superuser_sees_everything(superuser, records):
    assert persons_visible_to(superuser).count() == 6
    assert encounters_visible_to(superuser).count() == 12


@pytest.mark.django_db
def test_inactive_and_anonymous_users_see_nothing(worker_a, records):
    assert ids(encounters_visible_to(AnonymousUser())) == set()  # type: ignore[arg-type]  # on purpose: the guard for no user
    worker_a.is_active = False
    worker_a.save()
    assert ids(encounters_visible_to(worker_a)) == set()
    assert ids(persons_visible_to(worker_a)) == set()


@pytest.mark.django_db
def test_merged_records_are_hidden_from_lists_but_reachable(worker_a, records):
    a = records["a"]
    duplicate = PersonFactory(team=a["alias"].team, alias="Dup", merged_into=a["alias"])
    assert duplicate.pk not in ids(persons_visible_to(worker_a))
    assert get_person_for_user(worker_a, duplicate.pk) == duplicate
