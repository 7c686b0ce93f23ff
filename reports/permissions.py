"""Who may read and write reports: the one place that says so (services raise, pages hide)."""

from outreach.models import FieldSite, Outing, User
from outreach.permissions import can_ask_site_feedback, can_write_team


def can_read_reports(user: User) -> bool:
    """Workers (for their own teams), coordinators and admins; experts by experience have no reporting role."""
    return bool(user.is_authenticated and user.is_active and not user.is_expert)


def can_record_observations(user: User) -> bool:
    """Whoever works in the field or leads it records structural observations."""
    return bool(
        user.is_authenticated and user.is_active and (user.is_superuser or user.is_worker or user.is_coordinator)
    )


def can_manage_reports(user: User) -> bool:
    """Coordinators write the period's evaluation and mark observations as reported upward."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.is_coordinator))


def can_ask_feedback(user: User, site: FieldSite, outing: Outing | None = None) -> bool:
    """Make a feedback link: for an outing, its team's workers (and coordinators) or an expert taking part;
    for a site alone, those who write for the site's team."""
    if not user.is_authenticated or not user.is_active:
        return False
    if outing is not None:
        if user.is_expert:
            return outing.participants.filter(pk=user.pk).exists()
        return can_write_team(user, outing.team)
    return can_ask_site_feedback(user, site)


def can_read_feedback_results(user: User) -> bool:
    """Feedback figures by site and comments, and survey results: coordinators (and superusers)."""
    return can_manage_reports(user)
