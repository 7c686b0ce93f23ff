"""The team's persons over time: the persons page and its search, a new person with its duplicate check,
the identity code's reveal, the engagement, and the worker's My follow-ups.

Searches are POSTs (what was typed stays out of URLs and server logs); every
page that shows persons writes their access-log rows.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from outreach.models import AccessLogEntry, Team, User
from outreach.selectors import writable_team_ids
from outreach.types import authed_user

from . import permissions, services
from .forms import FollowUpContactForm, FollowUpPostponeForm, PersonCreateForm, PersonListForm
from .models import FollowUp, Person
from .selectors import (
    INACTIVE_AFTER_DAYS,
    PERSONS_PAGE_SIZE,
    PersonFilter,
    SimilarPerson,
    follow_ups_visible_to,
    get_person_for_user,
    my_follow_ups,
    persons_last_contact,
    persons_listed,
    persons_similar,
)

# The persons page counts at most this many matches: counting all of a team's 100,000 persons for each
# keystroke would cost more than the search. Beyond it the page says "more than" and asks to narrow.
PERSONS_COUNTED = 1000


class CappedPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        persons: QuerySet[Person] = self.object_list  # type: ignore[assignment]  # the persons page's queryset
        # Unordered: the count stops at the cap instead of sorting every match first.
        return persons.order_by().values("pk")[: PERSONS_COUNTED + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > PERSONS_COUNTED


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _form_errors(form: forms.Form) -> ValidationError:
    return ValidationError(
        [f"{form.fields[name].label}: {error}" for name, errors in form.errors.items() for error in errors]
    )


def _log_shown(user: User, persons: list[Person], action: str) -> None:
    services.person_access_log(actor=user, persons=persons, action=action, door=AccessLogEntry.Door.PAGE)


# The persons page ---------------------------------------------------------------------------


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    """The team's persons, with filters, and a search by alias, name or birth year.

    The filter and the page number may be in the address (no personal data);
    the search text comes by POST only, and with htmx the rows are answered
    as the worker types.
    """
    user = authed_user(request)
    today = timezone.localdate()
    data: QueryDict
    if request.method == "POST":
        data = request.POST
    else:
        data = request.GET.copy()
        data.pop("q", None)  # a search typed into an address is not taken: it would be in the logs
    form = PersonListForm(data, user=user)
    if not form.is_valid():
        return render(request, "encounters/person_list.html", {"form": form, "page": None}, status=400)
    query, status = form.cleaned_data["q"], form.cleaned_data["status"]
    persons = persons_listed(user, today=today, query=query, status=status, team=form.cleaned_data.get("team"))
    page = CappedPaginator(persons, PERSONS_PAGE_SIZE).get_page(form.cleaned_data.get("page") or 1)
    rows = list(page.object_list)
    last_contact = persons_last_contact(rows)
    inactive_before = today - datetime.timedelta(days=INACTIVE_AFTER_DAYS)
    for person in rows:
        person.last_contact = last_contact.get(person.pk)  # type: ignore[attr-defined]
        person.is_inactive = (  # type: ignore[attr-defined]
            (person.last_contact or timezone.localtime(person.created_at).date()) < inactive_before  # type: ignore[attr-defined]
        )
    _log_shown(user, rows, AccessLogEntry.Action.SEARCH if query else AccessLogEntry.Action.LIST)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "persons": rows,
        "query": query,
        "status": status,
        "filters": PersonFilter.choices,
        "can_create": permissions.keeps_person_records(user) and bool(writable_team_ids(user)),
    }
    template = "encounters/_person_rows.html" if _htmx(request) else "encounters/person_list.html"
    return render(request, template, context)


# A new person, duplicates offered first ----------------------------------------------------------


def similar_for_new_person(user: User, *, team: Team, alias: str, birth_year: int | None, gender: str) -> list:
    """The likely duplicates shown before a new pseudonymous person is made (person form, quick log),
    with their access-log rows: they are persons shown to the worker."""
    found = persons_similar(user, team=team, alias=alias, birth_year=birth_year, gender=gender)
    _log_shown(user, [match.person for match in found], AccessLogEntry.Action.SEARCH)
    return found


@login_required
def person_create_view(request: HttpRequest) -> HttpResponse:
    """A new pseudonymous person. Likely duplicates in the team are offered first: "this is them"
    opens that record, "a new person" (`confirm_new`) creates it anyway."""
    user = authed_user(request)
    if not permissions.keeps_person_records(user):
        raise PermissionDenied
    form = PersonCreateForm(request.POST or None, user=user)
    similar: list[SimilarPerson] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("confirm_new") != "1":
            similar = similar_for_new_person(
                user, team=data["team"], alias=data["alias"], birth_year=data["birth_year"], gender=data["gender"]
            )
        if not similar:
            try:
                person = services.person_create(actor=user, **data)
            except ValidationError as error:
                for name, errors in error.message_dict.items():
                    for message in errors:
                        form.add_error(name if name in form.fields else None, message)
            else:
                messages.success(request, _("Person added."))
                return redirect("encounters:person_detail", pk=person.pk)
    return render(request, "encounters/person_create.html", {"form": form, "similar": similar})


# Identity code and engagement ---------------------------------------------------------------------


@login_required
@require_POST
def person_identity_code_reveal_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a named person's whole identity code: an explicit action, written to the access log."""
    user = authed_user(request)
    person = get_person_for_user(user, pk)
    if not permissions.keeps_person_records(user):
        raise PermissionDenied
    if not person.identity_code:
        raise Http404
    code = services.person_identity_code_reveal(actor=user, person=person)
    context = {"person": person, "revealed_code": code}
    if _htmx(request):
        return render(request, "encounters/_identity_code.html", context)
    return render(request, "encounters/person_identity_code.html", context)


@login_required
@require_POST
def person_engage_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Ongoing support agreed": the engagement date is today."""
    user = authed_user(request)
    person = get_person_for_user(user, pk)
    if not permissions.can_edit_person(user, person):
        raise PermissionDenied
    services.person_engage(actor=user, person=person)
    messages.success(request, _("Ongoing support agreed: the engagement date is recorded."))
    return redirect(reverse("encounters:person_detail", args=[person.pk]) + "#details")


# My follow-ups ----------------------------------------------------------------------------------


def _my_follow_ups_context(user: User, **extra: Any) -> dict[str, Any]:
    context = my_follow_ups(user, today=timezone.localdate())
    _log_shown(
        user,
        [
            follow_up.person
            for follow_up in context["overdue"] + context["this_week"] + context["next_week"]
            if follow_up.person
        ],
        AccessLogEntry.Action.LIST,
    )
    context["contact_kinds"] = FollowUpContactForm.base_fields["contact_kind"].choices  # type: ignore[attr-defined]
    context["postpone_days"] = services.FOLLOW_UP_POSTPONE_DAYS
    context.update(extra)
    return context


@login_required
def my_follow_ups_view(request: HttpRequest) -> HttpResponse:
    """What is overdue and what is due this week, across persons and referrals, each with one tap to record
    the contact and one to postpone it. Person records are the workers': experts by experience get 403."""
    user = authed_user(request)
    if not permissions.keeps_person_records(user):
        raise PermissionDenied
    return render(request, "encounters/my_follow_ups.html", _my_follow_ups_context(user))


def _my_follow_up(user: User, pk: int) -> FollowUp:
    if not permissions.keeps_person_records(user):
        raise PermissionDenied
    try:
        # Any open follow-up of the user's teams: a colleague may make the call on someone else's behalf.
        return follow_ups_visible_to(user).get(pk=pk, done_on__isnull=True)
    except FollowUp.DoesNotExist:
        raise Http404 from None


def _refused(request: HttpRequest, user: User, error: ValidationError) -> HttpResponse:
    for message in error.messages:
        messages.error(request, message)
    return render(request, "encounters/my_follow_ups.html", _my_follow_ups_context(user), status=400)


def _follow_up_action(
    request: HttpRequest, pk: int, form_class: type[forms.Form], act: Callable[[User, FollowUp, dict], str]
) -> HttpResponse:
    """My follow-ups' buttons: the form parsed, the service called by `act`, its message shown."""
    user = authed_user(request)
    follow_up = _my_follow_up(user, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        return _refused(request, user, _form_errors(form))
    try:
        message = act(user, follow_up, form.cleaned_data)
    except ValidationError as error:
        return _refused(request, user, error)
    messages.success(request, message)
    return redirect("encounters:my_follow_ups")


@login_required
@require_POST
def follow_up_record_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The follow-up contact took place: an encounter (phone or meeting) and the follow-up done, at once."""

    def record(user: User, follow_up: FollowUp, data: dict) -> str:
        services.follow_up_record_contact(actor=user, follow_up=follow_up, **data)
        return _("Contact recorded and the follow-up marked done.")

    return _follow_up_action(request, pk, FollowUpContactForm, record)


@login_required
@require_POST
def follow_up_postpone_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Postpone a follow-up by a week, or to the date chosen."""

    def postpone(user: User, follow_up: FollowUp, data: dict) -> str:
        follow_up = services.follow_up_postpone(actor=user, follow_up=follow_up, due_on=data["due_on"])
        return _("Follow-up postponed to %(date)s.") % {"date": date_format(follow_up.due_on, "SHORT_DATE_FORMAT")}

    return _follow_up_action(request, pk, FollowUpPostponeForm, postpone)
