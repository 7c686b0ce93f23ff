"""Who may write what in the partner directory, the networks and the communication log.

Plain predicates called by `networks.services` (which raise PermissionDenied);
pages and the API ask them only to decide which buttons to show.
"""

from outreach.models import Team, User
from outreach.permissions import can_write_team, is_coordinator_or_admin


def can_manage_networks(user: User) -> bool:
    """Partners, their services and contacts, networks, memberships, agreements, meetings and tasks:
    coordinators and administrators (DESIGN.md), and superusers."""
    return is_coordinator_or_admin(user)


def can_read_contacts(user: User) -> bool:
    """Partner staff's names and contact details are personal data: staff who refer people read them,
    experts by experience do not."""
    return bool(user.is_authenticated and user.is_active) and (user.is_superuser or not user.is_expert)


def can_log_communication(user: User) -> bool:
    """Workers and coordinators record the communication duty's work; experts by experience do not."""
    return bool(user.is_authenticated and user.is_active) and (user.is_superuser or not user.is_expert)


def can_write_communication(user: User, team: Team | None) -> bool:
    """An activity of a team: written by those who write for that team, or by a coordinator or admin."""
    if not can_log_communication(user):
        return False
    return is_coordinator_or_admin(user) or can_write_team(user, team)
