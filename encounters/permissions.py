"""Who may write which client records: persons, encounters, referrals, follow-ups.

Plain predicates, as in `outreach.permissions`: the services call them and
refuse; pages, the API, the admin and imports ask them only to show or hide
a button or a choice.
"""

import datetime

from django.utils import timezone

from outreach.models import Team, User
from outreach.permissions import can_write_team
from outreach.selectors import writable_team_ids

from .models import Encounter, Person, Referral, domain_date

# A worker corrects their own entries for this many days after logging them;
# after that the figures have gone into reports, and only a coordinator may.
ENCOUNTER_EDIT_DAYS = 14

# A deleted encounter can be brought back by the one who deleted it for this
# many seconds, as a quick log can be undone for as long after saving.
ENCOUNTER_UNDO_SECONDS = 10


def keeps_person_records(user: User) -> bool:
    """Person records, referrals and follow-ups are kept by the workers; experts by experience log anonymous work."""
    return user.is_authenticated and user.is_active and not user.is_expert


def can_create_person(user: User, team: Team | None) -> bool:
    return keeps_person_records(user) and can_write_team(user, team)


def can_edit_person(user: User, person: Person) -> bool:
    """Change (or name) a person: a worker of the person's team; never a record merged into another."""
    return keeps_person_records(user) and person.merged_into_id is None and can_write_team(user, person.team)


def can_log_encounter(user: User, team: Team | None) -> bool:
    """Log an encounter for `team`: its members (experts too: in their outings, checked with the links)
    and those who write for it."""
    if team is None:
        return False
    if user.is_expert:
        return user.teams.filter(pk=team.pk).exists()
    return can_write_team(user, team)


def can_edit_encounter(user: User, encounter: Encounter, *, writable_teams: set[int] | None = None) -> bool:
    """Its author corrects an entry within ENCOUNTER_EDIT_DAYS of logging it; a coordinator at any time.

    `writable_teams` (the user's `writable_team_ids`) saves a query per row
    when a page asks this for a list of encounters.
    """
    if user.is_superuser:
        return True
    if writable_teams is None:
        writable_teams = writable_team_ids(user)
    if user.is_coordinator:
        return encounter.team_id in writable_teams
    if encounter.created_by_id != user.pk:
        return False
    logged_on = domain_date(encounter.created_at)
    if logged_on < domain_date(timezone.now()) - datetime.timedelta(days=ENCOUNTER_EDIT_DAYS):
        return False
    return user.is_expert or encounter.team_id in writable_teams


def can_delete_encounter(user: User, encounter: Encounter, *, writable_teams: set[int] | None = None) -> bool:
    """A mistaken entry is deleted by its author on the day it was logged, or by a coordinator.

    Later, the record has been counted in reports that others have read, so
    only a coordinator (of a team they steer) or a superuser may remove it.
    """
    if user.is_superuser:
        return True
    if writable_teams is None:
        writable_teams = writable_team_ids(user)
    if user.is_coordinator:
        return encounter.team_id in writable_teams
    if encounter.created_by_id != user.pk:
        return False
    if domain_date(encounter.created_at) != domain_date(timezone.now()):
        return False
    return user.is_expert or encounter.team_id in writable_teams


def can_delete_referral(user: User, referral: Referral, *, writable_teams: set[int] | None = None) -> bool:
    """As for encounters: the author on the day it was made, a coordinator of its team, a superuser."""
    if user.is_superuser:
        return True
    if writable_teams is None:
        writable_teams = writable_team_ids(user)
    if user.is_coordinator:
        return referral.team_id in writable_teams
    return (
        referral.created_by_id == user.pk
        and domain_date(referral.created_at) == domain_date(timezone.now())
        and referral.team_id in writable_teams
    )
