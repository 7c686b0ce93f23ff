"""Who may write what, for the ground floor: users, teams, sites and outings.

Plain predicates, answered from the user's role and teams. The services call
them and raise `PermissionDenied` (or a ValidationError naming the field) when
the answer is no, so that every door into the data (pages, API, admin,
imports) obeys one rule. The doors ask the same predicates only to decide
which buttons and choices to show.

Reads are scoped separately, by the `*_visible_to(user)` selectors.
"""

import datetime

from django.core.exceptions import PermissionDenied

from .models import FieldSite, Outing, Team, User
from .selectors import writable_team_ids
from .vocabulary import Role


def is_coordinator_or_admin(user: User) -> bool:
    """Coordinators, administrators and superusers: those who manage sites, partners and networks."""
    return bool(user.is_authenticated and user.is_active) and (
        user.is_superuser or user.role in (Role.COORDINATOR, Role.ADMIN)
    )


def manages_every_site(user: User) -> bool:
    """Administrators and superusers manage the sites of every team."""
    return bool(user.is_authenticated and user.is_active) and (user.is_superuser or user.is_admin_role)


def can_write_team(user: User, team: Team | None, team_ids: set[int] | None = None) -> bool:
    """Whether the user may record work for `team` (create and change its records).

    `team_ids` (the user's `writable_team_ids`) saves a query when a page asks
    this for many records.
    """
    if team is None or not user.is_authenticated or not user.is_active:
        return False
    return team.pk in (writable_team_ids(user) if team_ids is None else team_ids)


def can_manage_sites(user: User) -> bool:
    """Whether the user may add sites at all (and see the buttons for it)."""
    return is_coordinator_or_admin(user)


def can_manage_site(user: User, site: FieldSite, team_ids: set[int] | None = None) -> bool:
    """Coordinators manage the sites of the teams they steer and those of no team; admins and superusers all."""
    if not can_manage_sites(user):
        return False
    if manages_every_site(user) or site.team_id is None:
        return True
    return site.team_id in (writable_team_ids(user) if team_ids is None else team_ids)


def can_assign_site_team(user: User, team: Team | None, team_ids: set[int] | None = None) -> bool:
    """Whether the user may make `team` (None: no team) responsible for a site."""
    if not can_manage_sites(user):
        return False
    if team is None or manages_every_site(user):
        return True
    return team.pk in (writable_team_ids(user) if team_ids is None else team_ids)


def can_plan(user: User, team_ids: set[int] | None = None) -> bool:
    """Workers, coordinators and superusers plan the outings of teams they may write for; experts do not."""
    return not user.is_expert and bool(writable_team_ids(user) if team_ids is None else team_ids)


def can_manage_outing(user: User, outing: Outing, team_ids: set[int] | None = None) -> bool:
    """Plan, change, start, finish or cancel the outing: not experts, and only for a team the user writes for."""
    return not user.is_expert and can_write_team(user, outing.team, team_ids)


def may_keep_outing_offline(
    user: User, outing: Outing, today: datetime.date | None = None, participants: list[User] | None = None
) -> bool:
    """A copy of the outing page may be kept on the device for use without a connection: only the user's own
    current outing (started today, not finished or cancelled, and the user takes part).

    `participants`: the outing's, where the caller has them already (no query then)."""
    from django.utils import timezone

    if not outing.is_in_progress or outing.date != (today or timezone.localdate()):
        return False
    if participants is not None:
        return user in participants
    return outing.participants.filter(pk=user.pk).exists()


def can_tally(user: User, outing: Outing) -> bool:
    """Add to the outing's tally: an expert who takes part, or anyone who writes for the outing's team."""
    if user.is_expert:
        return outing.participants.filter(pk=user.pk).exists()
    return can_write_team(user, outing.team)


def ensure(allowed: bool) -> None:
    """Raise PermissionDenied unless `allowed`: the services' one way of saying no."""
    if not allowed:
        raise PermissionDenied


def can_ask_site_feedback(user: User, site: FieldSite, team_ids: set[int] | None = None) -> bool:
    """Make a client feedback link for a site: those who write for the site's team, experts aside."""
    return not user.is_expert and can_write_team(user, site.team, team_ids)
