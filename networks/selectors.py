"""Reads of the partner directory, networks, meetings and the communication log, scoped to the user.

Organisations, their services and networks are not people: every signed-in
user reads them. Partner staff's names and contact details are personal data
(`can_read_contacts`), and the communication log is case work's neighbour
that experts by experience do not keep.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from outreach.models import User
from outreach.permissions import is_coordinator_or_admin

from .models import (
    CommunicationActivity,
    ContactPerson,
    CooperationAgreement,
    MeetingTask,
    Network,
    NetworkMeeting,
    NetworkMembership,
    PartnerOrganisation,
    PartnerService,
    in_force_on,
)
from .permissions import can_log_communication, can_read_contacts

# How far ahead a coming review of an agreement is shown to the coordinator.
REVIEW_NOTICE_DAYS = 30


def _signed_in(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def partners_visible_to(user: User) -> QuerySet[PartnerOrganisation]:
    return PartnerOrganisation.objects.all() if _signed_in(user) else PartnerOrganisation.objects.none()


def partner_services_visible_to(user: User) -> QuerySet[PartnerService]:
    return PartnerService.objects.all() if _signed_in(user) else PartnerService.objects.none()


def contacts_visible_to(user: User) -> QuerySet[ContactPerson]:
    return ContactPerson.objects.all() if can_read_contacts(user) else ContactPerson.objects.none()


def networks_visible_to(user: User) -> QuerySet[Network]:
    return Network.objects.all() if _signed_in(user) else Network.objects.none()


def memberships_visible_to(user: User) -> QuerySet[NetworkMembership]:
    return NetworkMembership.objects.all() if _signed_in(user) else NetworkMembership.objects.none()


def agreements_visible_to(user: User) -> QuerySet[CooperationAgreement]:
    return CooperationAgreement.objects.all() if _signed_in(user) else CooperationAgreement.objects.none()


def meetings_visible_to(user: User) -> QuerySet[NetworkMeeting]:
    return NetworkMeeting.objects.all() if _signed_in(user) else NetworkMeeting.objects.none()


def tasks_visible_to(user: User) -> QuerySet[MeetingTask]:
    return MeetingTask.objects.all() if _signed_in(user) else MeetingTask.objects.none()


def communication_visible_to(user: User) -> QuerySet[CommunicationActivity]:
    if not can_log_communication(user):
        return CommunicationActivity.objects.none()
    return CommunicationActivity.objects.all()


def service_targets(
    user: User, *, service_kind: str | None = None, municipality_id: int | None = None
) -> QuerySet[PartnerService]:
    """The partner services a referral may name: active, of active partners, fitting the kind and the
    municipality (a service naming no municipality serves them all)."""
    services = partner_services_visible_to(user).filter(active=True, partner__active=True)
    if service_kind:
        services = services.filter(service_kind=service_kind)
    if municipality_id:
        services = services.filter(Q(municipalities=municipality_id) | Q(municipalities__isnull=True))
    return services.select_related("partner").distinct().order_by("name", "pk")


def directory_search(
    user: User, *, text: str = "", municipality_id: int | None = None, service_kind: str | None = None
) -> QuerySet[PartnerService]:
    """The directory's answer: active services by municipality, kind and free text (service, partner,
    description), with their partners."""
    services = service_targets(user, service_kind=service_kind, municipality_id=municipality_id)
    for word in text.split()[:5]:
        services = services.filter(
            Q(name__icontains=word)
            | Q(partner__name__icontains=word)
            | Q(description__icontains=word)
            | Q(how_to_refer__icontains=word)
        )
    return services.prefetch_related("municipalities")


# What is due: tasks and reviews --------------------------------------------------


def open_tasks_of(user: User) -> QuerySet[MeetingTask]:
    """Tasks the user owns that are not done, the earliest due first (Today page)."""
    if not _signed_in(user):
        return MeetingTask.objects.none()
    return (
        MeetingTask.objects.filter(owner_user=user, done_on__isnull=True)
        .select_related("meeting__network")
        .order_by("due_on", "pk")
    )


def open_tasks_for_coordinator(user: User) -> QuerySet[MeetingTask]:
    """Every network's open tasks, for those who manage the networks (the coordinator's home page)."""
    if not is_coordinator_or_admin(user):
        return MeetingTask.objects.none()
    return (
        MeetingTask.objects.filter(done_on__isnull=True)
        .select_related("meeting__network", "owner_user", "owner_contact")
        .order_by("due_on", "pk")
    )


def agreement_reviews_due(user: User, today: datetime.date | None = None) -> QuerySet[CooperationAgreement]:
    """Agreements in force whose review is due within REVIEW_NOTICE_DAYS, or overdue."""
    if not is_coordinator_or_admin(user):
        return CooperationAgreement.objects.none()
    today = today or timezone.localdate()
    return (
        CooperationAgreement.objects.filter(review_on__lte=today + datetime.timedelta(days=REVIEW_NOTICE_DAYS))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=today))
        .select_related("network")
        .order_by("review_on", "pk")
    )


# Network evaluation ------------------------------------------------------------


def evaluation_networks(user: User) -> QuerySet[Network]:
    """Networks whose evaluation the user sees: all for coordinators and admins, those a worker's team
    coordinates for the worker, none for anyone else."""
    if is_coordinator_or_admin(user):
        return Network.objects.all()
    if not _signed_in(user) or user.is_expert:
        return Network.objects.none()
    return Network.objects.filter(coordinating_team__in=user.teams.all())


def may_see_network_evaluation(user: User) -> bool:
    return is_coordinator_or_admin(user) or evaluation_networks(user).exists()


def _two_decimals(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def network_evaluation(user: User, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """The network evaluation of a period, both dates inclusive (see README, "Network evaluation")."""
    networks = list(evaluation_networks(user).order_by("name", "pk"))
    ids = [network.pk for network in networks]
    meetings = NetworkMeeting.objects.filter(network__in=ids, date__gte=start, date__lte=end)
    held = dict(meetings.values("network").annotate(n=Count("pk")).values_list("network", "n"))
    present = NetworkMeeting.organisations.through.objects.filter(networkmeeting__in=meetings)
    by_network = present.values("networkmeeting__network").annotate(n=Count("pk"))
    present_by = {row["networkmeeting__network"]: row["n"] for row in by_network}
    members = dict(
        NetworkMembership.objects.filter(in_force_on(end, "joined_on", "left_on"), network__in=ids)
        .values("network")
        .annotate(n=Count("organisation", distinct=True))
        .values_list("network", "n")
    )
    agreements = dict(
        CooperationAgreement.objects.filter(in_force_on(end, "agreed_on", "ends_on"), network__in=ids)
        .values("network")
        .annotate(n=Count("pk"))
        .values_list("network", "n")
    )
    tasks = (
        MeetingTask.objects.filter(meeting__network__in=ids, meeting__date__lte=end)
        .filter(Q(done_on__isnull=True) | Q(done_on__gt=end))
        .values("meeting__network")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=end)))
    )
    task_counts = {row["meeting__network"]: row for row in tasks}
    rows = []
    for network in networks:
        count = held.get(network.pk, 0)
        counts = task_counts.get(network.pk, {})
        rows.append(
            {
                "id": network.pk,
                "name": network.name,
                "kind": network.kind,
                "meetings_held": count,
                "member_organisations": members.get(network.pk, 0),
                "organisations_present_mean": _two_decimals(present_by.get(network.pk, 0) / count) if count else None,
                "agreements_in_force": agreements.get(network.pk, 0),
                "tasks_open": counts.get("open", 0),
                "tasks_overdue": counts.get("overdue", 0),
            }
        )
    return {"start": start, "end": end, "networks": rows, "communication": communication_figures(user, start, end)}


def communication_figures(user: User, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Communication activities dated in the period: how many, by kind (every code), audience reached."""
    activities = communication_visible_to(user).filter(date__gte=start, date__lte=end)
    if not is_coordinator_or_admin(user):
        activities = activities.filter(team__in=user.teams.all())
    by_kind = dict.fromkeys(CommunicationActivity.Kind.values, 0)
    by_kind.update(dict(activities.values("kind").annotate(n=Count("pk")).values_list("kind", "n")))
    reached = activities.aggregate(total=Sum("audience_size"))["total"] or 0
    return {"activities": sum(by_kind.values()), "by_kind": by_kind, "audience_reached": reached}
