"""Who may see what: the one place that scopes querysets by role and team.

Every view, API endpoint, export and admin page reads through these. The
rules:

- A superuser sees everything.
- A coordinator sees the teams they belong to and every other team of the
  same areas.
- A worker and an admin (role) see the teams they belong to. The admin role
  manages users and vocabularies; it gets no wider view of client data.
- An expert by experience sees only the outings they take part in (and, in
  `encounters.selectors`, never a named person).
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import AccessChange, FieldSite, Outing, Team, User


def teams_visible_to(user: User) -> QuerySet[Team]:
    if not user.is_authenticated or not user.is_active:
        return Team.objects.none()
    if user.is_superuser:
        return Team.objects.all()
    own = Q(members=user)
    if user.is_coordinator:
        own |= Q(area__isnull=False, area__teams__members=user)
    return Team.objects.filter(id__in=Team.objects.filter(own).values("id"))


def visible_team_ids(user: User) -> QuerySet:
    """The ids of `teams_visible_to(user)` as a subquery to filter by (`team_id__in=`).

    For a member of teams (not a coordinator) it reads their memberships alone:
    one table, no nesting, where `team__in=teams_visible_to(user)` joins and
    nests two. PostgreSQL plans an outing looked up by id about 0.3 ms faster
    so (0.68 -> 0.33 ms of planning), on every field request.
    """
    if not user.is_authenticated or not user.is_active or user.is_superuser or user.is_coordinator:
        return teams_visible_to(user).values("id")
    return User.teams.through.objects.filter(user_id=user.pk).values("team_id")


def team_ids_visible_to(user: User) -> set[int]:
    return set(teams_visible_to(user).values_list("id", flat=True))


def member_team_ids(user: User) -> set[int]:
    """Teams the user belongs to: where they may write."""
    if not user.is_authenticated:
        return set()
    return set(user.teams.values_list("id", flat=True))


def writable_team_ids(user: User) -> set[int]:
    """Teams whose records the user may create and change."""
    if user.is_superuser:
        return set(Team.objects.values_list("id", flat=True))
    if user.is_coordinator:
        return team_ids_visible_to(user)
    return member_team_ids(user)


def sites_visible_to(user: User) -> QuerySet[FieldSite]:
    """Sites are places, not people: every signed-in user sees them all."""
    if not user.is_authenticated or not user.is_active:
        return FieldSite.objects.none()
    return FieldSite.objects.select_related("municipality", "team")


def outings_visible_to(user: User) -> QuerySet[Outing]:
    if not user.is_authenticated or not user.is_active:
        return Outing.objects.none()
    outings = Outing.objects.select_related("site", "site__municipality", "team")
    if user.is_superuser:
        return outings
    if user.is_expert:
        return outings.filter(participants=user)
    return outings.filter(team_id__in=visible_team_ids(user))


def get_outing_for_user(user: User, pk) -> Outing:
    try:
        return outings_visible_to(user).get(pk=pk)
    except (Outing.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def users_visible_to(user: User) -> QuerySet[User]:
    """Colleagues: members of the teams the user sees (everyone, for admins)."""
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    if user.is_superuser or user.is_admin_role:
        return User.objects.all()
    return User.objects.filter(Q(teams__in=teams_visible_to(user)) | Q(pk=user.pk)).distinct()


def access_changes_visible_to(user: User) -> QuerySet[AccessChange]:
    """Role and team changes of users in the teams a coordinator sees (all, for superusers and admins)."""
    if not user.is_authenticated or not user.is_active or user.is_worker or user.is_expert:
        return AccessChange.objects.none()
    changes = AccessChange.objects.select_related("user", "actor").prefetch_related("teams_added", "teams_removed")
    if user.is_superuser or user.is_admin_role:
        return changes
    return changes.filter(id__in=AccessChange.objects.filter(teams__in=teams_visible_to(user)).values("id"))
