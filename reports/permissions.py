"""Who may read and write reports: the one place that says so (services raise, pages hide)."""

from outreach.models import User


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
