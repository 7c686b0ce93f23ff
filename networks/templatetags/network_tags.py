"""Panels of network work on pages of other apps: the coordinator's home page and the Today page.

Template tags, so that the ground floor's home page shows them without its
code importing this app.
"""

from typing import Any

from django import template
from django.utils import timezone

from ..permissions import can_manage_networks
from ..selectors import agreement_reviews_due, open_tasks_for_coordinator, open_tasks_of

register = template.Library()

SHOWN = 10


@register.inclusion_tag("networks/_tasks_panel.html", takes_context=True)
def my_network_tasks(context: dict[str, Any]) -> dict[str, Any]:
    """The user's own open meeting tasks (the Today page)."""
    user = context["request"].user
    return {
        "request": context["request"],
        "tasks": list(open_tasks_of(user)[:SHOWN]),
        "today": timezone.localdate(),
        "panel_id": "my-network-tasks",
        "show_owner": False,
        "can_manage": can_manage_networks(user),
    }


@register.inclusion_tag("networks/_coordinator_panel.html", takes_context=True)
def coordinator_network_panel(context: dict[str, Any]) -> dict[str, Any]:
    """Every network's open and overdue tasks and the agreement reviews due (the coordinator's home page)."""
    user = context["request"].user
    today = timezone.localdate()
    tasks = list(open_tasks_for_coordinator(user)[:SHOWN])
    return {
        "request": context["request"],
        "tasks": tasks,
        "overdue": sum(1 for task in tasks if task.is_overdue(today)),
        "reviews": list(agreement_reviews_due(user, today)[:SHOWN]),
        "today": today,
        "can_manage": can_manage_networks(user),
    }
