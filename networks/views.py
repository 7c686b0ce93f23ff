"""Pages of the partner directory, the networks and the communication log.

Workers read the directory (searched as they type: the text goes by POST,
never in the address) and log communication; coordinators and admins also
edit partners, services, contacts, networks, memberships, agreements,
meetings and tasks here, outside the admin. Reads go through
`networks.selectors`, writes through `networks.services`.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from outreach.forms import apply_service_errors
from outreach.types import AuthedHttpRequest

from . import selectors, services
from .forms import (
    AgreementForm,
    CommunicationForm,
    ContactPersonForm,
    DirectorySearchForm,
    MeetingForm,
    MembershipForm,
    PartnerForm,
    PartnerServiceForm,
    PeriodForm,
    RecordForm,
    TaskDoneForm,
    task_formset,
)
from .models import CommunicationActivity
from .permissions import can_log_communication, can_manage_networks, can_read_contacts

DIRECTORY_RESULTS = 50


def _ensure_manager(request: AuthedHttpRequest) -> None:
    if not can_manage_networks(request.user):
        raise PermissionDenied


def _fresh(instance: models.Model) -> models.Model:
    """The record as stored: a bound ModelForm has written its values onto the one it was given."""
    return type(instance)._default_manager.get(pk=instance.pk)


def _record_form(
    request: AuthedHttpRequest,
    *,
    form_class: type[RecordForm],
    instance: models.Model | None,
    save: Any,
    title: str,
    back: str,
    form_kwargs: dict | None = None,
    after: Callable[[Any], str] | None = None,
) -> HttpResponse:
    """A create or edit page of one record: the form parses, `save(fields, original)` calls the service."""
    form = form_class(request.POST or None, instance=instance, **(form_kwargs or {}))
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.service_fields(), _fresh(instance) if instance is not None else None)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Saved: %(record)s.") % {"record": saved})
            return redirect(after(saved) if after else back)
    return render(request, "networks/record_form.html", {"form": form, "title": title, "back": back})


# The directory -----------------------------------------------------------------------


@login_required
def directory(request: AuthedHttpRequest) -> HttpResponse:
    """Partner services by municipality, service kind and free text; htmx redraws the results as one types."""
    form = DirectorySearchForm(request.POST if request.method == "POST" else request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        municipality = form.cleaned_data["municipality"]
        filters = {
            "text": form.cleaned_data["q"] if request.method == "POST" else "",
            "municipality_id": municipality.pk if municipality else None,
            "service_kind": form.cleaned_data["service_kind"] or None,
        }
    results = list(selectors.directory_search(request.user, **filters)[: DIRECTORY_RESULTS + 1])
    context = {
        "form": form,
        "results": results[:DIRECTORY_RESULTS],
        "more": len(results) > DIRECTORY_RESULTS,
        "can_manage": can_manage_networks(request.user),
        "partners": selectors.partners_visible_to(request.user).filter(active=True).order_by("name")
        if not form.is_bound
        else None,
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "networks/_directory_results.html", context)
    return render(request, "networks/directory.html", context)


@login_required
def partner_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    partner = get_object_or_404(selectors.partners_visible_to(request.user).prefetch_related("municipalities"), pk=pk)
    context = {
        "partner": partner,
        "services": list(partner.offered.prefetch_related("municipalities").order_by("-active", "name")),
        "contacts": list(
            selectors.contacts_visible_to(request.user).filter(partner=partner).order_by("-active", "name")
        )
        if can_read_contacts(request.user)
        else None,
        "memberships": list(partner.memberships.select_related("network").order_by("-joined_on")),
        "can_manage": can_manage_networks(request.user),
    }
    return render(request, "networks/partner_detail.html", context)


@login_required
def partner_create(request: AuthedHttpRequest) -> HttpResponse:
    _ensure_manager(request)
    return _record_form(
        request,
        form_class=PartnerForm,
        instance=None,
        save=lambda fields, _original: services.partner_create(actor=request.user, **fields),
        title=_("Add an organisation"),
        back=reverse("networks:directory"),
        after=lambda partner: reverse("networks:partner_detail", args=[partner.pk]),
    )


@login_required
def partner_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request)
    partner = get_object_or_404(selectors.partners_visible_to(request.user), pk=pk)
    return _record_form(
        request,
        form_class=PartnerForm,
        instance=partner,
        save=lambda fields, original: services.partner_update(actor=request.user, partner=original, **fields),
        title=_("Edit an organisation"),
        back=reverse("networks:partner_detail", args=[partner.pk]),
    )


@login_required
def service_create(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request)
    partner = get_object_or_404(selectors.partners_visible_to(request.user), pk=pk)
    return _record_form(
        request,
        form_class=PartnerServiceForm,
        instance=None,
        save=lambda fields, _original: services.partner_service_create(actor=request.user, partner=partner, **fields),
        title=_("Add a service of %(partner)s") % {"partner": partner.name},
        back=reverse("networks:partner_detail", args=[partner.pk]),
    )


@login_required
def service_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request)
    service = get_object_or_404(selectors.partner_services_visible_to(request.user), pk=pk)
    return _record_form(
        request,
        form_class=PartnerServiceForm,
        instance=service,
        save=lambda fields, original: services.partner_service_update(actor=request.user, service=original, **fields),
        title=_("Edit a service"),
        back=reverse("networks:partner_detail", args=[service.partner_id]),
    )


@login_required
def contact_create(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request)
    partner = get_object_or_404(selectors.partners_visible_to(request.user), pk=pk)
    return _record_form(
        request,
        form_class=ContactPersonForm,
        instance=None,
        save=lambda fields, _original: services.contact_create(actor=request.user, partner=partner, **fields),
        title=_("Add a contact person of %(partner)s") % {"partner": partner.name},
        back=reverse("networks:partner_detail", args=[partner.pk]),
    )


@login_required
def contact_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request)
    contact = get_object_or_404(selectors.contacts_visible_to(request.user), pk=pk)
    return _record_form(
        request,
        form_class=ContactPersonForm,
        instance=contact,
        save=lambda fields, original: services.contact_update(actor=request.user, contact=original, **fields),
        title=_("Edit a contact person"),
        back=reverse("networks:partner_detail", args=[contact.partner_id]),
    )


# Networks ------------------------------------------------------------------------------


@login_required
def network_list(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    context = {
        "networks": list(
            selectors.networks_visible_to(user)
            .select_related("coordinating_team")
            .annotate(meeting_count=models.Count("meetings"))
            .order_by("-active", "name")
        ),
        "reviews": list(selectors.agreement_reviews_due(user, today)[:20]),
        "tasks": list(selectors.open_tasks_for_coordinator(user)[:30]),
        "today": today,
        "can_evaluate": selectors.may_see_network_evaluation(user),
        "can_log": can_log_communication(user),
    }
    return render(request, "networks/network_list.html", context)


@login_required
def network_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    network = get_object_or_404(selectors.networks_visible_to(user).select_related("coordinating_team"), pk=pk)
    memberships = list(selectors.memberships_visible_to(user).filter(network=network).select_related("organisation"))
    context = {
        "network": network,
        "current": [m for m in memberships if m.current],
        "former": [m for m in memberships if not m.current],
        "agreements": list(selectors.agreements_visible_to(user).filter(network=network).prefetch_related("parties")),
        "meetings": list(
            selectors.meetings_visible_to(user)
            .filter(network=network)
            .annotate(task_count=models.Count("tasks"), present=models.Count("organisations", distinct=True))
            .order_by("-date")[:20]
        ),
        "can_manage": can_manage_networks(user),
        "today": timezone.localdate(),
    }
    return render(request, "networks/network_detail.html", context)


@login_required
def membership_create(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request)
    network = get_object_or_404(selectors.networks_visible_to(request.user), pk=pk)
    return _record_form(
        request,
        form_class=MembershipForm,
        instance=None,
        save=lambda fields, _original: services.membership_create(actor=request.user, network=network, **fields),
        title=_("Add a member to %(network)s") % {"network": network.name},
        back=reverse("networks:network_detail", args=[network.pk]),
    )


@login_required
def membership_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request)
    membership = get_object_or_404(selectors.memberships_visible_to(request.user), pk=pk)
    return _record_form(
        request,
        form_class=MembershipForm,
        instance=membership,
        save=lambda fields, original: services.membership_update(actor=request.user, membership=original, **fields),
        title=_("Edit a membership"),
        back=reverse("networks:network_detail", args=[membership.network_id]),
    )


@login_required
def agreement_create(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request)
    network = get_object_or_404(selectors.networks_visible_to(request.user), pk=pk)
    return _record_form(
        request,
        form_class=AgreementForm,
        instance=None,
        save=lambda fields, _original: services.agreement_create(actor=request.user, network=network, **fields),
        title=_("Add a cooperation agreement to %(network)s") % {"network": network.name},
        back=reverse("networks:network_detail", args=[network.pk]),
    )


@login_required
def agreement_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request)
    agreement = get_object_or_404(selectors.agreements_visible_to(request.user), pk=pk)
    return _record_form(
        request,
        form_class=AgreementForm,
        instance=agreement,
        save=lambda fields, original: services.agreement_update(actor=request.user, agreement=original, **fields),
        title=_("Edit a cooperation agreement"),
        back=reverse("networks:network_detail", args=[agreement.network_id]),
    )


# Meetings and tasks ---------------------------------------------------------------------


@login_required
def meeting_create(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Record a meeting with its decisions and the tasks agreed, all in one save."""
    _ensure_manager(request)
    user = request.user
    network = get_object_or_404(selectors.networks_visible_to(user), pk=pk)
    data = request.POST or None
    form = MeetingForm(data, user=user, initial={"date": timezone.localdate()})
    tasks = task_formset(data, user=user)
    if request.method == "POST" and form.is_valid() and tasks.is_valid():
        try:
            meeting = services.meeting_create(actor=user, network=network, tasks=tasks.tasks(), **form.service_fields())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Meeting recorded."))
            return redirect("networks:meeting_detail", pk=meeting.pk)
    context = {"form": form, "tasks": tasks, "network": network}
    return render(request, "networks/meeting_form.html", context)


@login_required
def meeting_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    meeting = get_object_or_404(
        selectors.meetings_visible_to(user).select_related("network").prefetch_related("organisations", "staff"),
        pk=pk,
    )
    context = {
        "meeting": meeting,
        "decisions": [line.strip() for line in meeting.decisions.splitlines() if line.strip()],
        "tasks": list(meeting.tasks.select_related("owner_user", "owner_contact__partner").order_by("due_on", "pk")),
        "can_manage": can_manage_networks(user),
        "can_read_contacts": can_read_contacts(user),
        "today": timezone.localdate(),
    }
    return render(request, "networks/meeting_detail.html", context)


@login_required
@require_POST
def task_done(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _ensure_manager(request)
    task = get_object_or_404(selectors.tasks_visible_to(request.user), pk=pk)
    form = TaskDoneForm(request.POST or {"done_on": timezone.localdate()})
    done_on = form.cleaned_data["done_on"] if form.is_valid() else timezone.localdate()
    with transaction.atomic():
        services.task_update(actor=request.user, task=task, done_on=done_on)
    messages.success(request, _("Task marked done: %(task)s.") % {"task": task.title})
    back = request.POST.get("next", "")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("networks:meeting_detail", args=[task.meeting_id])
    return redirect(back)


# Communication ----------------------------------------------------------------------------


@login_required
def communication(request: AuthedHttpRequest) -> HttpResponse:
    """The communication log: the latest activities, and a short form to add one."""
    user = request.user
    if not can_log_communication(user):
        raise PermissionDenied
    form = CommunicationForm(request.POST or None, user=user, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.communication_create(actor=user, **form.service_fields())
        except ValidationError as error:
            apply_service_errors(form, error)
        except PermissionDenied:
            form.add_error("team", _("You may not record activities of this team."))
        else:
            messages.success(request, _("Recorded: %(title)s.") % {"title": activity.title})
            return redirect("networks:communication")
    activities = list(selectors.communication_visible_to(user).select_related("team").order_by("-date", "-pk")[:30])
    return render(request, "networks/communication.html", {"form": form, "activities": activities})


# Evaluation -----------------------------------------------------------------------------


@login_required
def evaluation(request: AuthedHttpRequest) -> HttpResponse:
    """The network evaluation of a period: the figures of GET /api/v1/reports/networks/."""
    user = request.user
    if not selectors.may_see_network_evaluation(user):
        raise PermissionDenied
    today = timezone.localdate()
    start_of_year = today.replace(month=1, day=1)
    form = PeriodForm(request.GET or {"start": start_of_year, "end": today})
    if not form.is_valid():
        return render(request, "networks/evaluation.html", {"form": form, "figures": None}, status=400)
    figures = selectors.network_evaluation(user, form.cleaned_data["start"], form.cleaned_data["end"])
    kinds = [
        (CommunicationActivity.Kind(code).label, count) for code, count in figures["communication"]["by_kind"].items()
    ]
    return render(request, "networks/evaluation.html", {"form": form, "figures": figures, "kinds": kinds})
