"""Field work in a phone browser: the worker's day, the outing page with its quick log and tally.

These pages combine outings (outreach) with encounters, referrals and
follow-ups, so they live here, the highest app they need. Every read goes
through the selectors (a worker of another team, or an expert by experience
not on the outing, gets 404) and every write through the services, which
hold the rules and write the audit entries.

Each form works without JavaScript (a plain POST and a redirect); with htmx
the same views answer with the part of the page that changed.
"""

import contextlib
import datetime
import hashlib
import logging
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from outreach.exceptions import Conflict, LinkUnusable, StaleVersion
from outreach.models import AccessLogEntry, Outing, User
from outreach.permissions import may_keep_outing_offline
from outreach.selectors import get_outing_for_user, writable_team_ids
from outreach.services import (
    outing_finish,
    outing_start,
    outing_start_planned,
    outing_tally_add,
    outing_tally_record,
    was_replayed,
)
from outreach.types import authed_user
from outreach.vocabulary import Need, OutingStatus, ReferralStatus

from . import permissions, services
from .forms import (
    AccessLogRangeForm,
    ConfirmationLinkForm,
    ContactLogForm,
    EncounterForm,
    FollowUpForm,
    OutingFinishForm,
    OutingStartForm,
    PartnerConfirmationForm,
    PersonForm,
    PersonMakeNamedForm,
    PersonMergeForm,
    PersonSearchForm,
    ReferralForm,
    ReferralStatusForm,
    TallyForm,
    age_group_for,
    local_datetime,
)
from .models import Encounter, FollowUp, Person, PersonMerge, Referral
from .person_views import similar_for_new_person
from .selectors import (
    INACTIVE_AFTER_DAYS,
    PERSON_RESULTS_SHOWN,
    can_read_access_log,
    consents_visible_to,
    encounters_visible_to,
    follow_ups_visible_to,
    get_encounter_for_user,
    get_person_for_user,
    get_referral_for_user,
    outing_summary,
    partner_contact_email,
    partner_link,
    person_timeline,
    person_timeline_encounters,
    persons_matching,
    persons_visible_to,
    referral_confirmations,
    referrals_visible_to,
    worker_day,
)

logger = logging.getLogger(__name__)

FOLLOW_UP_NOTE_MAX = 1000
# The undo of a quick log is offered this long (field.js hides it then; the
# entry can still be deleted from the list the same day).
UNDO_SECONDS = permissions.ENCOUNTER_UNDO_SECONDS
# An outing page lists at most this many encounters (newest first).
ENCOUNTERS_SHOWN = 200
# Without JavaScript the quick log's undo rides over the redirect to the
# outing page in a signed cookie (the user, the outing and the encounter's
# ids; nothing of the client), read once by that page: no write of the
# session for every save.
UNDO_COOKIE = "field_undo"
UNDO_COOKIE_SALT = "encounters.views.field_undo"
UNDO_COOKIE_SECONDS = 60
# The encounter just deleted, whose delete can be undone (encounter_restore).
RESTORE_SESSION_KEY = "field_restore"
# Sent by a quick log the page drew as new: after its save the browser clears it (static/js/field.js
# listens for QUICK_LOG_SAVED) instead of the server drawing the form again.
FRESH_FORM_FIELD = "quick_log_fresh"
QUICK_LOG_SAVED = "quick-log-saved"
# A person page lists this many of their encounters (newest first), with the total.
PERSON_ENCOUNTERS_SHOWN = 50


def _now() -> datetime.datetime:
    return timezone.localtime()


# Today -----------------------------------------------------------------------------------


@login_required
def today(request):
    """The worker's day: outings in progress, planned and unfinished, follow-ups due, and Start outing."""
    context = worker_day(request.user, _now())
    shown = [follow_up.person for follow_up in context.get("follow_ups", [])]
    shown += [confirmation.referral.person for confirmation in context.get("partner_confirmations", [])]
    _log_shown(request.user, shown, AccessLogEntry.Action.LIST)
    context["restore"] = _pending_restore(request)
    context["offline_url"] = reverse("encounters:today_offline")
    return render(request, "encounters/today.html", context)


@login_required
def outing_start_view(request):
    """Start an outing now: pick the site, tick who comes along."""
    user = request.user
    if user.is_expert:
        raise PermissionDenied
    form = OutingStartForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            outing = outing_start(
                actor=user,
                team=form.cleaned_data["team"],
                site=form.cleaned_data["site"],
                participants=form.cleaned_data["participants"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Outing started. Log encounters below."))
            return redirect("encounters:outing_detail", pk=outing.pk)
    return render(request, "encounters/outing_start.html", {"form": form})


@login_required
@require_POST
def outing_start_planned_view(request, pk):
    """Start one of today's planned outings now."""
    outing = get_outing_for_user(request.user, pk)
    try:
        outing_start_planned(actor=request.user, outing=outing)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("encounters:today")
    messages.success(request, _("Outing started. Log encounters below."))
    return redirect("encounters:outing_detail", pk=outing.pk)


@login_required
@require_POST
def follow_up_done(request, pk):
    """Mark a follow-up done today (from the Today page).

    The device's outbox sends a mark made without a connection with `Accept:
    application/json` and gets JSON; a follow-up done already answers as done
    (a resend after a lost answer marks it once).
    """
    if _wants_json(request):
        follow_up = follow_ups_visible_to(request.user).filter(pk=pk).first()
        if follow_up is None:
            return _json_refusal(404, _("This follow-up is no longer on your list. Check Today's follow-ups."))
        if follow_up.done_on is not None:
            return JsonResponse({"id": follow_up.pk, "done_on": follow_up.done_on.isoformat(), "replayed": True})
    try:
        follow_up = follow_ups_visible_to(request.user).get(pk=pk, done_on__isnull=True)
    except FollowUp.DoesNotExist:
        raise Http404 from None
    changes: dict[str, Any] = {"done_on": timezone.localdate()}
    # An optional word on how it went, added to the follow-up's notes.
    note = request.POST.get("note", "").strip()[:FOLLOW_UP_NOTE_MAX]
    if note:
        changes["notes"] = f"{follow_up.notes}\n{note}".strip()
    services.follow_up_update(actor=request.user, follow_up=follow_up, **changes)
    if _wants_json(request):
        done_on = follow_up.done_on.isoformat() if follow_up.done_on else None
        return JsonResponse({"id": follow_up.pk, "done_on": done_on}, status=201)
    messages.success(request, _("Follow-up marked done."))
    # The person and referral pages send their own address, to come back to them.
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("encounters:today")


# The outing page -------------------------------------------------------------------------


def _can_log(outing: Outing) -> bool:
    """Encounters are logged at outings that have begun (or are over), never at cancelled ones."""
    return outing.status != OutingStatus.CANCELLED and outing.date <= _now().date()


def _outing_encounters(user: User, outing: Outing, writable: set[int] | None = None) -> list[Encounter]:
    """The outing's encounters the user may see, newest first (the list's first ENCOUNTERS_SHOWN)."""
    encounters: list[Encounter] = list(
        encounters_visible_to(user)
        .filter(outing=outing)
        .annotate(referral_count=Count("referrals"))
        .order_by("-occurred_at", "-id")[:ENCOUNTERS_SHOWN]
    )
    return _listed(user, encounters, writable)


def _listed(user: User, encounters: list[Encounter], writable: set[int] | None = None) -> list[Encounter]:
    """Ready the outing list's entries (each with its `referral_count`) to be drawn, and log the persons
    they show; `writable`: the user's writable teams when the caller has them."""
    if writable is None and not user.is_superuser:
        writable = writable_team_ids(user)
    need_labels = dict(Need.choices)
    for encounter in encounters:
        encounter.need_labels = [need_labels[code] for code in encounter.needs]
        encounter.can_edit = permissions.can_edit_encounter(user, encounter, writable_teams=writable)
        encounter.can_delete = permissions.can_delete_encounter(user, encounter, writable_teams=writable)
        if user.is_expert:
            # The selector hides encounters with named persons; the list shows no persons to experts at all.
            encounter.person = None
    _log_shown(user, [encounter.person for encounter in encounters], AccessLogEntry.Action.LIST)
    return encounters


def _list_context(user: User, outing: Outing, writable: set[int] | None = None) -> dict[str, Any]:
    """The outing's list: its entries and how many there are in all (more than the list shows on a long outing)."""
    encounters = _outing_encounters(user, outing, writable)
    count = len(encounters)
    if count >= ENCOUNTERS_SHOWN:
        count = encounters_visible_to(user).filter(outing=outing).count()
    return {"encounters": encounters, "encounter_count": count}


def _list_after_save(user: User, outing: Outing, encounter: Encounter, writable: set[int]) -> dict[str, Any]:
    """How an htmx answer changes the page's list after a save: the new entry put on top of it
    (`list_update` "entry") when that is where a fresh list would show it, else the list drawn again
    ("full": the first entry, a repeated send, an entry dated before others, or a list at its length).

    One query: how many the user sees, how many of them a fresh list shows above the new one, whether
    the new one is among them (the selector decides) and its referrals; the entry is the saved one."""
    if not was_replayed(encounter):
        this = Q(pk=encounter.pk)
        above = Q(occurred_at__gt=encounter.occurred_at) | Q(occurred_at=encounter.occurred_at, pk__gt=encounter.pk)
        counts = (
            encounters_visible_to(user)
            .filter(outing=outing)
            .aggregate(
                shown=Count("pk", distinct=True),
                above=Count("pk", distinct=True, filter=above),
                this=Count("pk", distinct=True, filter=this),
                referrals=Count("referrals", filter=this),
            )
        )
        if 1 < counts["shown"] <= ENCOUNTERS_SHOWN and not counts["above"]:
            # As the list's query annotates it.
            encounter.referral_count = counts["referrals"]  # type: ignore[attr-defined]
            entries = [encounter] if counts["this"] else []
            return {
                "list_update": "entry",
                "encounters": _listed(user, entries, writable),
                "encounter_count": counts["shown"],
            }
    return {"list_update": "full", **_list_context(user, outing, writable)}


def _log_shown(user: User, persons, action: str) -> None:
    """The access-log rows for the persons a page shows (see services.person_access_log)."""
    services.person_access_log(actor=user, persons=persons, action=action, door=AccessLogEntry.Door.PAGE)


def _encounter_form(user: User, outing: Outing, data=None) -> EncounterForm:
    return EncounterForm(data, user=user, team=outing.team, municipality_id=outing.site.municipality_id)


def _log_context(request, outing: Outing, form: EncounterForm | None = None, **extra) -> dict:
    user = request.user
    context: dict[str, Any] = {
        "outing": outing,
        "can_log": _can_log(outing),
        "form": form if form is not None else _encounter_form(user, outing),
        "fresh_form_field": FRESH_FORM_FIELD,
        "undo_seconds": UNDO_SECONDS,
        "person_query_min": PersonSearchForm.MIN_LENGTH,
    }
    context.update(extra)
    undo = context.get("undo")
    if undo is not None:
        undo.can_undo = permissions.can_delete_encounter(user, undo)
    return context


def _page_context(request, outing: Outing, form: EncounterForm | None = None, **extra) -> dict:
    user = request.user
    context = _log_context(request, outing, form, **extra)
    participants = list(outing.participants.all())
    context.update(_list_context(user, outing))
    context.update(
        {
            "participants": participants,
            "tally_form": TallyForm(),
            "can_finish": not user.is_expert and outing.status != OutingStatus.CANCELLED,
            "in_progress": outing.is_in_progress,
            "summary": outing_summary(user, outing) if outing.status == OutingStatus.DONE else None,
        }
    )
    return context


def _undo_cookie_path(outing: Outing) -> str:
    return reverse("encounters:outing_detail", args=[outing.pk])


def _remember_undo(response: HttpResponse, request: HttpRequest, outing: Outing, encounter: Encounter) -> None:
    """Carry the encounter just logged over the redirect to the outing page (no-JavaScript path)."""
    response.set_signed_cookie(
        UNDO_COOKIE,
        f"{request.user.pk}:{outing.pk}:{encounter.pk}",
        salt=UNDO_COOKIE_SALT,
        max_age=UNDO_COOKIE_SECONDS,
        path=_undo_cookie_path(outing),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _pop_undo(request: HttpRequest, response: HttpResponse, outing: Outing) -> Encounter | None:
    """The encounter just logged, if the cookie of `_remember_undo` names it; the cookie is offered once."""
    if UNDO_COOKIE not in request.COOKIES:
        return None
    response.delete_cookie(UNDO_COOKIE, path=_undo_cookie_path(outing), samesite="Lax")
    user = authed_user(request)
    value = request.get_signed_cookie(UNDO_COOKIE, default="", salt=UNDO_COOKIE_SALT, max_age=UNDO_COOKIE_SECONDS) or ""
    user_id, _sep, rest = value.partition(":")
    outing_id, _sep, encounter_id = rest.partition(":")
    if user_id != str(user.pk) or outing_id != str(outing.pk) or not encounter_id.isdigit():
        return None
    try:
        return get_encounter_for_user(user, int(encounter_id))
    except Http404:
        return None


def _pending_restore(request) -> dict | None:
    """The delete just made, with its undo, on the page the delete led to for UNDO_SECONDS."""
    restore = request.session.get(RESTORE_SESSION_KEY)
    if not restore:
        return None
    deleted_at = datetime.datetime.fromisoformat(restore["at"])
    if timezone.now() - deleted_at > datetime.timedelta(seconds=UNDO_SECONDS):
        return None
    return {"encounter": restore["encounter"], "undo_seconds": UNDO_SECONDS}


@login_required
@require_POST
def encounter_restore(request, pk):
    """Undo a delete: the one who deleted the encounter brings it back within UNDO_SECONDS."""
    user = request.user
    restore = request.session.get(RESTORE_SESSION_KEY) or {}
    workers = User.objects.filter(pk__in=restore.get("workers", [])) if restore.get("encounter") == pk else None
    try:
        encounter = services.encounter_restore(actor=user, encounter_id=pk, workers=workers or [])
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("encounters:today")
    request.session.pop(RESTORE_SESSION_KEY, None)
    messages.success(request, _("The encounter was brought back."))
    if encounter.outing_id is not None:
        return redirect(reverse("encounters:outing_detail", args=[encounter.outing_id]) + "#log")
    return redirect("encounters:encounter_edit", pk=encounter.pk)


@login_required
def outing_detail(request, pk):
    outing = get_outing_for_user(request.user, pk)
    response = HttpResponse()
    context = _page_context(
        request, outing, undo=_pop_undo(request, response, outing), restore=_pending_restore(request)
    )
    context["offline_url"] = _offline_copy_url(request.user, outing, context["participants"])
    response.content = render_to_string("encounters/outing_detail.html", context, request)
    return response


# The copies kept on the device for work without a connection ---------------------------
# The service worker (outreach.views.service_worker) keeps these under the
# address of the page itself and shows them when the network is gone. They
# hold nothing of any client: no follow-ups, no list of encounters, no person
# search; the outing's copy only for the user's own current outing.


@login_required
@require_safe
def today_offline(request: HttpRequest) -> HttpResponse:
    """The copy of Today kept on the device: the outings, without follow-ups (they name persons)."""
    context = worker_day(authed_user(request), _now())
    context.update({"offline_copy": True, "follow_ups": [], "restore": None})
    return render(request, "encounters/today.html", context)


@login_required
@require_safe
def outing_offline(request: HttpRequest, pk: int) -> HttpResponse:
    """The copy of the outing page kept on the device: the quick log and the tally, no encounters or persons.

    Only of the user's own current outing (`may_keep_outing_offline`); any other outing gets 404.
    """
    user = authed_user(request)
    outing = get_outing_for_user(user, pk)
    participants = list(outing.participants.all())
    if not may_keep_outing_offline(user, outing, _now().date(), participants):
        raise Http404
    context = {
        "outing": outing,
        "offline_copy": True,
        "can_log": _can_log(outing),
        "form": _encounter_form(user, outing),
        "fresh_form_field": FRESH_FORM_FIELD,
        "participants": participants,
        "tally_form": TallyForm(),
        "can_finish": False,
        "in_progress": outing.is_in_progress,
        "undo_seconds": UNDO_SECONDS,
        "person_query_min": PersonSearchForm.MIN_LENGTH,
    }
    return render(request, "encounters/outing_detail.html", context)


def _offline_copy_url(user: User, outing: Outing, participants: list[User]) -> str:
    """The address of the outing page's copy for the device, or "" where none may be kept."""
    if may_keep_outing_offline(user, outing, _now().date(), participants):
        return reverse("encounters:outing_offline", args=[outing.pk])
    return ""


@login_required
@require_POST
def encounter_create(request, pk):
    """Save the quick log. Nothing typed is lost on an error: the form comes back as it was sent."""
    user = request.user
    outing = get_outing_for_user(user, pk)
    if not _can_log(outing):
        if _wants_json(request):
            return _json_refusal(409, _closed_outing_message(outing))
        raise PermissionDenied
    form = _encounter_form(user, outing, _linking_offered_person(request))
    if "search_persons" in request.POST and form.can_link_person:
        # The search button of the no-JavaScript page: draw the page again with the results.
        search = PersonSearchForm(request.POST)
        context = _page_context(request, outing, form, person_results=_person_results(user, outing, search))
        return render(request, "encounters/outing_detail.html", context)
    similar = _duplicates_first(request, outing.team, form)
    if similar:
        if request.htmx:
            return render(request, "encounters/_outing_log.html", _log_context(request, outing, form, similar=similar))
        return render(request, "encounters/outing_detail.html", _page_context(request, outing, form, similar=similar))
    if form.is_valid():
        try:
            encounter = _save_quick_log(user, outing, form)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            return _quick_log_saved(request, outing, encounter)
    if _wants_json(request):
        return _json_form_errors(form)
    if request.htmx:
        return render(request, "encounters/_outing_log.html", _log_context(request, outing, form))
    return render(request, "encounters/outing_detail.html", _page_context(request, outing, form))


def _linking_offered_person(request: HttpRequest):
    """The form's data, with "this is them" (`link_person`) chosen among the offered duplicates: the
    encounter is linked to that person and no new person is made."""
    chosen = request.POST.get("link_person", "")
    if not chosen:
        return request.POST
    data = request.POST.copy()
    data["person"] = chosen
    for name in ("new_alias", "new_birth_year", "new_gender"):
        data[name] = ""
    return data


def _duplicates_first(request: HttpRequest, team, form: EncounterForm) -> list:
    """The team's likely duplicates of the new person the form would create, unless the worker has
    answered "a new person" (`new_person_confirmed`): they are offered before anything is saved."""
    if request.POST.get("new_person_confirmed") == "1" or not form.is_valid():
        return []
    data = form.cleaned_data
    if not data.get("new_alias"):
        return []
    key = data.get("client_uuid")
    if key is not None and Encounter.objects.filter(client_uuid=key).exists():
        # The same log sent again (a double tap): the service answers with what the first send made.
        return []
    return similar_for_new_person(
        authed_user(request),
        team=team,
        alias=data["new_alias"],
        birth_year=data.get("new_birth_year"),
        gender=data.get("new_gender") or "",
    )


def _quick_log_saved(request: HttpRequest, outing: Outing, encounter: Encounter) -> HttpResponse:
    """The answer to a saved quick log: JSON for the outbox, the log part for htmx, else the page again."""
    if _wants_json(request):
        replayed = was_replayed(encounter)
        body = {
            "id": encounter.pk,
            "client_uuid": str(encounter.client_uuid),
            "replayed": replayed,
            "outing_finished": outing.status == OutingStatus.DONE,
        }
        return JsonResponse(body, status=200 if replayed else 201)
    if getattr(request, "htmx", False):
        return _htmx_saved(request, outing, encounter)
    response = redirect(reverse("encounters:outing_detail", args=[outing.pk]) + "#log")
    _remember_undo(response, request, outing, encounter)
    return response


def _htmx_saved(request: HttpRequest, outing: Outing, encounter: Encounter) -> HttpResponse:
    """The htmx answer to a saved quick log: what was saved with its undo, and the list's new entry.

    A form the page drew as new (it sends FRESH_FORM_FIELD) is cleared by the browser (field.js, on
    the QUICK_LOG_SAVED event) and given the answer's new `client_uuid`: the server does not draw it
    again. A form drawn again after an error holds what was sent as its defaults, so it is drawn anew."""
    user = authed_user(request)
    form_kept = request.POST.get(FRESH_FORM_FIELD) == "1"
    if form_kept:
        context: dict[str, Any] = {"outing": outing, "undo": encounter, "undo_seconds": UNDO_SECONDS}
        context.update(form_kept=True, client_uuid=uuid.uuid4())
    else:
        context = _log_context(request, outing)
        context["undo"] = encounter
    writable = writable_team_ids(user)
    encounter.can_undo = permissions.can_delete_encounter(user, encounter, writable_teams=writable)
    context.update(_list_after_save(user, outing, encounter, writable))
    response = render(request, "encounters/_quick_log_answer.html", context)
    if form_kept:
        response["HX-Reswap"] = "none"
        response["HX-Trigger"] = QUICK_LOG_SAVED
    return response


# Form prefixes for the errors of each service called by the quick log.
PERSON_ERROR_FIELDS = {"alias": "new_alias", "birth_year": "new_birth_year", "gender": "new_gender"}
REFERRAL_ERROR_FIELDS = {
    "service_kind": "referral_service_kind",
    "partner": "referral_partner",
    "partner_service": "referral_partner_service",
    "status": "referral_status",
}


def _add_service_errors(form, error: ValidationError, field_map: dict | None = None) -> None:
    """Put a service's errors on the form fields they name (or above the form)."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for name, errors in error.message_dict.items():
        target = (field_map or {}).get(name, name)
        if target not in form.fields:
            target = None
        for message in errors:
            form.add_error(target, message)


def _wants_json(request: HttpRequest) -> bool:
    """The device's outbox (static/js/outbox.js) sends what was logged without a connection and asks for JSON,
    so that it can tell saved from refused; the pages' own forms get HTML as before."""
    return "application/json" in request.headers.get("Accept", "")


def _json_refusal(status: int, message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def _json_form_errors(form: forms.Form) -> JsonResponse:
    """400 with the form's errors by field (translated), the first of them as `detail`."""
    errors = {name or "__all__": [str(message) for message in messages] for name, messages in form.errors.items()}
    first = next(iter(errors.values()), [_("The entry is not valid.")])[0]
    return JsonResponse({"detail": first, "errors": errors}, status=400)


def _closed_outing_message(outing: Outing) -> str:
    if outing.status == OutingStatus.CANCELLED:
        return _(
            "The outing was cancelled meanwhile, so nothing more can be logged at it. "
            "Log the entry at the outing where it happened, or remove it."
        )
    return _(
        "The outing has not begun yet, so nothing can be logged at it. "
        "Log the entry at the outing where it happened, or remove it."
    )


def _occurred_at(outing: Outing, logged_at: datetime.datetime | None = None) -> datetime.datetime:
    """Now, at an outing of today; otherwise the outing's start (an entry made afterwards).

    An entry made without a connection and sent later by the device's outbox
    carries the time it was made (`logged_at`): that time, when it falls on
    the outing's day and is not in the future.
    """
    now = timezone.now()
    if logged_at is not None and logged_at <= now and timezone.localdate(logged_at) == outing.date:
        return logged_at
    if outing.date == timezone.localdate(now):
        return now
    return local_datetime(outing.date, outing.start_time)


def _save_quick_log(user: User, outing: Outing, form: EncounterForm) -> Encounter:
    """Save the quick log through its service (person, encounter and referral, all or nothing)."""
    data = form.cleaned_data
    try:
        encounter = services.quick_log_save(
            actor=user,
            outing=outing,
            occurred_at=_occurred_at(outing, data.get("logged_at")),
            person=data.get("person"),
            new_alias=data.get("new_alias") or "",
            new_birth_year=data.get("new_birth_year"),
            new_gender=data.get("new_gender") or "",
            referral_service_kind=data.get("referral_service_kind") or "",
            referral_partner=data.get("referral_partner"),
            referral_partner_service=data.get("referral_partner_service"),
            referral_status=data.get("referral_status") or ReferralStatus.SUGGESTED,
            client_uuid=data.get("client_uuid"),
            **form.encounter_fields(),
        )
    except Conflict:
        raise ValidationError(_("This form was sent already. Reload the page and log the encounter again.")) from None
    if not was_replayed(encounter):
        logger.info("Encounter %s logged at outing %s", encounter.pk, outing.pk)
    return encounter


def _renamed(error: ValidationError, field_map: dict) -> ValidationError:
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({field_map.get(name, name): errors for name, errors in error.error_dict.items()})


def _person_results(user: User, outing: Outing, search: PersonSearchForm):
    if not search.is_valid():
        return []
    query = search.cleaned_data["person_query"].strip()
    if len(query) < PersonSearchForm.MIN_LENGTH:
        return None
    results = persons_matching(user, team=outing.team, query=query)
    _log_shown(user, results, AccessLogEntry.Action.SEARCH)
    return results


@login_required
@require_POST
def person_search(request, pk):
    """Persons of the outing's team by alias or name, as the worker types (htmx).

    A POST, so that the names typed stay out of URLs and server logs.
    Experts by experience log anonymous encounters only and get 404.
    """
    user = request.user
    outing = get_outing_for_user(user, pk)
    if user.is_expert:
        raise Http404
    results = _person_results(user, outing, PersonSearchForm(request.POST))
    return render(
        request,
        "encounters/_person_results.html",
        {"person_results": results, "person_query_min": PersonSearchForm.MIN_LENGTH},
    )


@login_required
@require_POST
def outing_tally(request, pk):
    """+1 or −1 on the tally of brief contacts; an F() update in the service, so no tap is lost."""
    user = request.user
    outing = get_outing_for_user(user, pk)
    if not _can_log(outing):
        if _wants_json(request):
            return _json_refusal(409, _closed_outing_message(outing))
        raise PermissionDenied
    form = TallyForm(request.POST)
    if _wants_json(request):
        return _tally_json(user, outing, form)
    if form.is_valid():
        # The same tap sent again (its client_uuid is known) is counted once;
        # a UUID of another tap changes nothing.
        with contextlib.suppress(Conflict):
            data = form.cleaned_data
            outing_tally_add(actor=user, outing=outing, delta=data["delta"], client_uuid=data["client_uuid"])
    if request.htmx:
        # The count as committed (a replayed tap's savepoint rolled back what this object was told).
        outing.refresh_from_db(fields=["tallied_contacts"])
        response = render(request, "encounters/_tally.html", {"outing": outing, "tally_form": TallyForm()})
        if not form.is_valid():
            response.status_code = 400
        return response
    if not form.is_valid():
        messages.error(request, _("The tally was not changed."))
    return redirect(reverse("encounters:outing_detail", args=[outing.pk]) + "#tally")


def _tally_json(user: User, outing: Outing, form: TallyForm) -> JsonResponse:
    """The tally's answer to the device's outbox: 201 counted, 200 counted before (a resend), 400 or 409."""
    if not form.is_valid():
        return _json_form_errors(form)
    data = form.cleaned_data
    try:
        event = outing_tally_record(actor=user, outing=outing, delta=data["delta"], client_uuid=data["client_uuid"])
    except Conflict:
        return _json_refusal(409, _("This tap was sent already with other content. Tap again if it is missing."))
    replayed = was_replayed(event)
    body = {
        "outing": outing.pk,
        "delta": data["delta"],
        "tallied_contacts": event.tallied_after,
        "replayed": replayed,
        "outing_finished": outing.status == OutingStatus.DONE,
    }
    return JsonResponse(body, status=200 if replayed else 201)


@login_required
def outing_finish_view(request, pk):
    """End the outing: end time, observations and notes, with a summary of what was logged."""
    user = request.user
    outing = get_outing_for_user(user, pk)
    if user.is_expert or outing.status == OutingStatus.CANCELLED:
        raise PermissionDenied
    form = OutingFinishForm(request.POST or None, outing=outing)
    if request.method == "POST" and form.is_valid():
        try:
            outing_finish(actor=user, outing=outing, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Outing finished."))
            return redirect("encounters:outing_detail", pk=outing.pk)
    context = {
        "outing": outing,
        "form": form,
        "summary": outing_summary(user, outing),
        "participants": list(outing.participants.all()),
    }
    return render(request, "encounters/outing_finish.html", context)


# Correcting and deleting encounters --------------------------------------------------------


def _back_to(encounter: Encounter) -> str:
    if encounter.outing_id:
        return reverse("encounters:outing_detail", args=[encounter.outing_id]) + "#log"
    return reverse("encounters:today")


def _encounter_referrals(user: User, encounter: Encounter) -> list:
    return list(referrals_visible_to(user).filter(encounter=encounter).order_by("-id"))


@login_required
def encounter_edit(request, pk):
    """Correct an encounter: its author within 14 days of logging it, a coordinator later."""
    user = request.user
    encounter = get_encounter_for_user(user, pk)
    if not permissions.can_edit_encounter(user, encounter):
        raise PermissionDenied
    initial = EncounterForm.initial_for(encounter)
    data = _linking_offered_person(request) if request.method == "POST" else None
    form = EncounterForm(
        data,
        user=user,
        team=encounter.team,
        editing=True,
        initial=initial,
        municipality_id=encounter.site.municipality_id,
    )
    similar = _duplicates_first(request, encounter.team, form) if data is not None and form.can_link_person else []
    if request.method == "POST" and "search_persons" not in request.POST and not similar and form.is_valid():
        fields = form.encounter_fields()
        occurred = timezone.localtime(encounter.occurred_at)
        fields["occurred_at"] = local_datetime(occurred.date(), form.cleaned_data["occurred_time"])
        try:
            with transaction.atomic():
                # The person part of the form is drawn only for encounters of an outing (its search needs one).
                if form.can_link_person and ("person" in request.POST or form.cleaned_data.get("new_alias")):
                    person = form.cleaned_data.get("person")
                    if form.cleaned_data.get("new_alias"):
                        try:
                            person = services.person_create(
                                actor=user,
                                team=encounter.team,
                                alias=form.cleaned_data["new_alias"],
                                birth_year=form.cleaned_data.get("new_birth_year"),
                                gender=form.cleaned_data.get("new_gender") or fields["gender"],
                            )
                        except ValidationError as error:
                            raise _renamed(error, PERSON_ERROR_FIELDS) from None
                    fields["person"] = person
                services.encounter_update(
                    actor=user, encounter=encounter, expected_version=form.expected_version(), **fields
                )
        except StaleVersion as error:
            form.refuse_stale(error)
            encounter = get_encounter_for_user(user, pk)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Encounter corrected."))
            return redirect(_back_to(encounter))
    person_results = None
    if request.method == "POST" and "search_persons" in request.POST and encounter.outing is not None:
        person_results = _person_results(user, encounter.outing, PersonSearchForm(request.POST))
    referral_form = (
        ReferralForm(prefix="referral", user=user, municipality_id=encounter.site.municipality_id)
        if not user.is_expert
        else None
    )
    return _render_encounter_edit(request, encounter, form, referral_form, person_results, similar)


def _render_encounter_edit(request, encounter: Encounter, form, referral_form, person_results=None, similar=()):
    user = request.user
    _log_shown(user, [encounter.person], AccessLogEntry.Action.VIEW)
    context = {
        "encounter": encounter,
        "form": form,
        "referral_form": referral_form,
        "referrals": _encounter_referrals(user, encounter),
        "can_delete": permissions.can_delete_encounter(user, encounter),
        "person_results": person_results,
        "person_query_min": PersonSearchForm.MIN_LENGTH,
        "similar": similar,
    }
    return render(request, "encounters/encounter_edit.html", context)


@login_required
@require_POST
def referral_add(request, pk):
    """Add a referral to a logged encounter."""
    user = request.user
    encounter = get_encounter_for_user(user, pk)
    if user.is_expert:
        raise PermissionDenied
    form = ReferralForm(request.POST, prefix="referral", user=user, municipality_id=encounter.site.municipality_id)
    if form.is_valid():
        try:
            services.referral_create(actor=user, team=encounter.team, encounter=encounter, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Referral added."))
            return redirect(reverse("encounters:encounter_edit", args=[encounter.pk]) + "#referrals")
    initial = EncounterForm.initial_for(encounter)
    encounter_form = EncounterForm(user=user, team=encounter.team, editing=True, initial=initial)
    return _render_encounter_edit(request, encounter, encounter_form, form)


@login_required
@require_POST
def encounter_delete(request, pk):
    """Delete an entry (its author the same day, a coordinator later). The quick log's undo comes here too."""
    user = request.user
    encounter = get_encounter_for_user(user, pk)
    outing = encounter.outing
    undo = request.POST.get("undo") == "1"
    encounter_id = encounter.pk
    workers = list(encounter.workers.values_list("pk", flat=True))
    try:
        services.encounter_delete(actor=user, encounter=encounter, with_referrals=undo)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return redirect(_back_to(encounter))
    if request.htmx and outing is not None:
        # The undo: what was done and the list again; the form on the page keeps what is being typed.
        context = {"outing": outing, "deleted": True, "form_kept": True, "list_update": "full"}
        context.update(_list_context(user, outing))
        response = render(request, "encounters/_quick_log_answer.html", context)
        response["HX-Reswap"] = "none"
        return response
    if undo:
        messages.success(request, _("The encounter was deleted."))
    else:
        # The delete's own undo, offered as long as the quick log's (see encounter_restore).
        request.session[RESTORE_SESSION_KEY] = {
            "encounter": encounter_id,
            "workers": workers,
            "at": timezone.now().isoformat(),
        }
    if outing is not None:
        return redirect(reverse("encounters:outing_detail", args=[outing.pk]) + "#log")
    return redirect("encounters:today")


# The person page -------------------------------------------------------------------------


def _last_contact(person: Person, last_encounter_on, follow_ups: list[FollowUp]) -> datetime.date | None:
    """The latest encounter or done follow-up: both are contacts with the person."""
    dates = [follow_up.done_on for follow_up in follow_ups if follow_up.done_on]
    if last_encounter_on:
        dates.append(last_encounter_on)
    return max(dates, default=None)


def _person_context(request, person: Person, form=None, follow_up_form=None, named_form=None) -> dict:
    user = request.user
    today = _now().date()
    encounters = encounters_visible_to(user).filter(person=person)
    totals = encounters.order_by().aggregate(count=Count("id"), last=Max("occurred_on"))
    # One read for the list and the timeline.
    recent = person_timeline_encounters(user, person)
    shown = recent[:PERSON_ENCOUNTERS_SHOWN]
    need_labels = dict(Need.choices)
    for encounter in shown:
        encounter.need_labels = [need_labels[code] for code in encounter.needs]
    # Experts by experience see neither referrals nor follow-ups (the selector gives them none).
    referrals = (
        [] if user.is_expert else list(referrals_visible_to(user).filter(person=person).order_by("-referred_on", "-id"))
    )
    follow_ups = list(
        follow_ups_visible_to(user).filter(person=person).order_by(F("done_on").desc(nulls_first=True), "due_on", "id")
    )
    last_contact = _last_contact(person, totals["last"], follow_ups)
    since = last_contact or timezone.localtime(person.created_at).date()
    merged = person.merged_into_id is not None
    can_write = not merged
    merge_context = _person_merge_context(user, person, named_form=named_form)
    return {
        "person": person,
        "merged": merged,
        **merge_context,
        "encounters": shown,
        "encounter_count": totals["count"],
        "encounters_more": totals["count"] - len(shown),
        "referrals": referrals,
        "follow_ups": follow_ups,
        "open_follow_ups": [follow_up for follow_up in follow_ups if follow_up.done_on is None],
        "done_follow_ups": [follow_up for follow_up in follow_ups if follow_up.done_on is not None],
        "last_contact": last_contact,
        "inactive": since < today - datetime.timedelta(days=INACTIVE_AFTER_DAYS),
        "inactive_after_days": INACTIVE_AFTER_DAYS,
        "today": today,
        # Person records are kept by the workers (encounters.services.person_update).
        "form": (form or PersonForm(person=person)) if can_write and not user.is_expert else None,
        "follow_up_form": (follow_up_form or FollowUpForm(prefix="follow_up"))
        if can_write and not user.is_expert
        else None,
        "can_read_access_log": can_read_access_log(user),
        # As the edit form: the service asks permissions.can_edit_person.
        "can_engage": can_write and not user.is_expert and person.engaged_on is None,
        "can_reveal": bool(person.identity_code) and permissions.keeps_person_records(user),
        "timeline": person_timeline(
            user,
            person,
            encounters=recent,
            referrals=referrals,
            follow_ups=follow_ups,
            consents=merge_context.get("consents", []),
            merges=[*merge_context.get("merge_history", []), *filter(None, [merge_context.get("active_merge")])],
        ),
    }


@login_required
def person_detail(request, pk):
    """One person: details, activity, encounters, referrals and follow-ups.

    Opening a client record is logged (who, when, which record): access
    logging of client data, whether or not anything is changed.
    """
    person = get_person_for_user(request.user, pk)
    _log_shown(request.user, [person], AccessLogEntry.Action.VIEW)
    return render(request, "encounters/person_detail.html", _person_context(request, person))


@login_required
def person_contact_log(request, pk):
    """Log a phone call, a meeting or another contact with the person, without an outing."""
    user = request.user
    person = get_person_for_user(user, pk)
    if person.merged_into_id is not None or user.is_expert:
        raise PermissionDenied
    form = ContactLogForm(request.POST or None, user=user, person=person)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        occurred_at = local_datetime(data["date"], data["time"])
        try:
            services.encounter_create(
                actor=user,
                team=person.team,
                site=data["site"],
                occurred_at=occurred_at,
                person=person,
                contact_kind=data["contact_kind"],
                depth=data["depth"],
                gender=person.gender,
                age_group=age_group_for(person.birth_year, occurred_at.year) if person.birth_year else "unknown",
                needs=data["needs"],
                duration_minutes=data["duration_minutes"],
                notes=data["notes"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Contact logged."))
            return redirect(reverse("encounters:person_detail", args=[person.pk]) + "#encounters")
    return render(request, "encounters/person_contact.html", {"person": person, "form": form})


@login_required
@require_POST
def person_edit(request, pk):
    """Change the pseudonymous details (alias, birth year, gender, engagement, notes)."""
    user = request.user
    person = get_person_for_user(user, pk)
    if person.merged_into_id is not None or user.is_expert:
        raise PermissionDenied
    form = PersonForm(request.POST, person=person)
    if form.is_valid():
        try:
            expected = form.expected_version()
            services.person_update(actor=user, person=person, expected_version=expected, **form.cleaned_data)
        except StaleVersion as error:
            form.refuse_stale(error)
            person = get_person_for_user(user, pk)
        except ValidationError as error:
            _add_service_errors(form, error)
            # The service set the values on the instance before it refused them.
            person = get_person_for_user(user, pk)
        else:
            messages.success(request, _("Person's details saved."))
            return redirect("encounters:person_detail", pk=person.pk)
    return render(request, "encounters/person_detail.html", _person_context(request, person, form=form))


@login_required
@require_POST
def person_follow_up_add(request, pk):
    """Add a follow-up for a person (without a referral)."""
    user = request.user
    person = get_person_for_user(user, pk)
    if user.is_expert or person.merged_into_id is not None:
        raise PermissionDenied
    form = FollowUpForm(request.POST, prefix="follow_up")
    if form.is_valid():
        try:
            services.follow_up_create(actor=user, team=person.team, person=person, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Follow-up added."))
            return redirect(reverse("encounters:person_detail", args=[person.pk]) + "#follow-ups")
    context = _person_context(request, person, follow_up_form=form)
    return render(request, "encounters/person_detail.html", context)


# Merging duplicates and naming a person ----------------------------------------------------------


def _person_merge_context(user: User, person: Person, named_form: PersonMakeNamedForm | None = None) -> dict:
    """The person page's merge history, undo, consents and the forms to merge and to name.

    Person records are kept by the workers: an expert by experience sees none of this.
    """
    if user.is_expert:
        return {}
    merged = person.merged_into_id is not None
    history = PersonMerge.objects.filter(kept=person).select_related("merged", "merged_by", "undone_by")
    active_merge = None
    if merged:
        active_merge = (
            PersonMerge.objects.filter(merged=person, undone_at__isnull=True)
            .select_related("kept", "merged_by")
            .order_by("-merged_at")
            .first()
        )
    consents = []
    if person.kind == Person.Kind.NAMED:
        consents = list(consents_visible_to(user).filter(person=person).order_by("-given_on", "scope"))
    return {
        "merge_history": list(history.order_by("-merged_at")),
        "active_merge": active_merge,
        # A merge is undone only while its kept record is not merged itself: undo the later merge first.
        "can_undo_merge": active_merge is not None and active_merge.kept.merged_into_id is None,
        "consents": consents,
        "merge_search_form": PersonSearchForm() if not merged else None,
        "person_query_min": PersonSearchForm.MIN_LENGTH,
        "named_form": (named_form or PersonMakeNamedForm(prefix="named"))
        if not merged and person.kind == Person.Kind.PSEUDONYMOUS
        else None,
    }


def _merge_candidates(user: User, kept: Person, search: PersonSearchForm) -> list[Person] | None:
    """The team's other unmerged persons matching the search; None when too little was typed."""
    if not search.is_valid():
        return None
    query = search.cleaned_data["person_query"].strip()
    if len(query) < PersonSearchForm.MIN_LENGTH:
        return None
    results = list(
        persons_visible_to(user)
        .filter(team_id=kept.team_id)
        .exclude(pk=kept.pk)
        .filter(Q(alias__icontains=query) | Q(first_name__icontains=query) | Q(last_name__icontains=query))
        .order_by("alias", "last_name", "first_name")[:PERSON_RESULTS_SHOWN]
    )
    _log_shown(user, results, AccessLogEntry.Action.SEARCH)
    return results


def _merge_side(user: User, person: Person) -> dict:
    """What the confirmation shows of one record: its details and how much is linked to it."""
    return {
        "person": person,
        "encounters": encounters_visible_to(user).filter(person=person).count(),
        "referrals": referrals_visible_to(user).filter(person=person).count(),
        "follow_ups": follow_ups_visible_to(user).filter(person=person).count(),
    }


def _writable_person(request: HttpRequest, pk: int) -> Person:
    """A person whose record the user may change: not an expert's, not a merged one (403)."""
    user = authed_user(request)
    person = get_person_for_user(user, pk)
    if user.is_expert or person.merged_into_id is not None:
        raise PermissionDenied
    return person


@login_required
@require_POST
def person_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge a duplicate into this record: find it, compare the two side by side, then merge.

    All steps are POSTs to this address, so that the names searched for stay
    out of URLs and logs: a search lists the candidates, a chosen `merged`
    shows the comparison, and `confirm` merges.
    """
    user = authed_user(request)
    kept = _writable_person(request, pk)
    search = PersonSearchForm(request.POST)
    context: dict[str, Any] = {"person": kept, "search": search, "person_query_min": PersonSearchForm.MIN_LENGTH}
    if "merged" not in request.POST:
        context["form"] = PersonMergeForm(user=user, kept=kept)
        context["person_results"] = _merge_candidates(user, kept, search)
        return render(request, "encounters/person_merge.html", context)
    form = PersonMergeForm(request.POST, user=user, kept=kept)
    context["form"] = form
    if not form.is_valid():
        # Not a choice this user may make (another team's record, a merged one, this one).
        context["person_results"] = _merge_candidates(user, kept, search)
        return render(request, "encounters/person_merge.html", context, status=400)
    merged = form.cleaned_data["merged"]
    if request.POST.get("confirm") == "1":
        try:
            services.person_merge(actor=user, kept=kept, merged=merged)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The duplicate was merged into this record. The merge can be undone in the merge history."),
            )
            return redirect("encounters:person_detail", pk=kept.pk)
    context.update({"kept_side": _merge_side(user, kept), "merged_side": _merge_side(user, merged)})
    return render(request, "encounters/person_merge_confirm.html", context)


@login_required
@require_POST
def person_unmerge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo the merge of this (merged) record: what moved to the kept record comes back."""
    user = authed_user(request)
    person = get_person_for_user(user, pk)
    if user.is_expert:
        raise PermissionDenied
    merge = (
        PersonMerge.objects.filter(merged=person, undone_at__isnull=True)
        .select_related("kept", "merged")
        .order_by("-merged_at")
        .first()
    )
    if person.merged_into_id is None or merge is None:
        messages.error(request, _("This record is not merged into another one."))
        return redirect("encounters:person_detail", pk=person.pk)
    if merge.kept.merged_into_id is not None:
        messages.error(request, _("The kept record has since been merged into another one. Undo that merge first."))
        return redirect("encounters:person_detail", pk=person.pk)
    try:
        restored = services.person_unmerge(actor=user, merge=merge)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("encounters:person_detail", pk=person.pk)
    messages.success(request, _("The merge was undone. This record has its encounters, referrals and follow-ups back."))
    return redirect("encounters:person_detail", pk=restored.pk)


@login_required
@require_POST
def person_make_named_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a pseudonymous person's consent and name: the record becomes named."""
    user = authed_user(request)
    person = _writable_person(request, pk)
    if person.kind != Person.Kind.PSEUDONYMOUS:
        raise PermissionDenied
    form = PersonMakeNamedForm(request.POST, prefix="named")
    if form.is_valid():
        try:
            services.person_make_named(actor=user, person=person, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
            # The service set the values on the instance before it refused them.
            person = get_person_for_user(user, pk)
        else:
            messages.success(request, _("Consent recorded. The person's record is now named."))
            return redirect("encounters:person_detail", pk=person.pk)
    context = _person_context(request, person, named_form=form)
    return render(request, "encounters/person_detail.html", context)


# The referral page -----------------------------------------------------------------------


def _get_referral(user: User, pk) -> Referral:
    """Referrals are the workers' case work: experts by experience get 404, as for another team's."""
    if user.is_expert:
        raise Http404
    return get_referral_for_user(user, pk)


def _referral_context(
    request, referral: Referral, status_form=None, follow_up_form=None, link_form=None, new_link=None
) -> dict:
    follow_ups = list(
        follow_ups_visible_to(request.user)
        .filter(referral=referral)
        .order_by(F("done_on").desc(nulls_first=True), "due_on", "id")
    )
    return {
        "referral": referral,
        "person": referral.person,
        "status_form": status_form or ReferralStatusForm(referral=referral),
        "follow_up_form": follow_up_form or FollowUpForm(prefix="follow_up"),
        "open_follow_ups": [follow_up for follow_up in follow_ups if follow_up.done_on is None],
        "done_follow_ups": [follow_up for follow_up in follow_ups if follow_up.done_on is not None],
        "today": _now().date(),
        "confirmations": referral_confirmations(request.user, referral),
        "can_ask_confirmation": referral.status in services.CONFIRMABLE_STATUSES,
        "link_form": link_form or ConfirmationLinkForm(initial={"send_to": partner_contact_email(referral)}),
        "new_link": new_link,
    }


@login_required
def referral_detail(request, pk):
    referral = _get_referral(request.user, pk)
    _log_shown(request.user, [referral.person], AccessLogEntry.Action.VIEW)
    return render(request, "encounters/referral_detail.html", _referral_context(request, referral))


@login_required
@require_POST
def referral_status(request, pk):
    """Move the status forward, and set the follow-up date and outcome notes."""
    user = request.user
    referral = _get_referral(user, pk)
    form = ReferralStatusForm(request.POST, referral=referral)
    if form.is_valid():
        try:
            # The service locks the row and checks the step (and the version) against those stored now.
            expected = form.expected_version()
            referral = services.referral_update(
                actor=user, referral=referral, expected_version=expected, **form.cleaned_data
            )
        except StaleVersion as error:
            form.refuse_stale(error)
            referral = _get_referral(user, pk)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Referral saved."))
            return redirect("encounters:referral_detail", pk=referral.pk)
    context = _referral_context(request, referral, status_form=form)
    return render(request, "encounters/referral_detail.html", context)


@login_required
@require_POST
def referral_follow_up_add(request, pk):
    user = request.user
    referral = _get_referral(user, pk)
    form = FollowUpForm(request.POST, prefix="follow_up")
    if form.is_valid():
        try:
            services.follow_up_create(actor=user, team=referral.team, referral=referral, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Follow-up added."))
            return redirect(reverse("encounters:referral_detail", args=[referral.pk]) + "#follow-ups")
    context = _referral_context(request, referral, follow_up_form=form)
    return render(request, "encounters/referral_detail.html", context)


@login_required
@require_POST
def referral_confirmation_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the partner's confirmation link, shown here once (only its digest is kept), or e-mail it."""
    user = authed_user(request)
    referral = _get_referral(user, pk)
    form = ConfirmationLinkForm(request.POST)
    new_link = None
    if form.is_valid():
        try:
            confirmation, token = services.referral_confirmation_create(
                actor=user,
                referral=referral,
                send_to=form.cleaned_data["send_to"],
                link_for=lambda token: partner_link(request, token),
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            new_link = {"url": partner_link(request, token), "expires_at": confirmation.expires_at}
            form = ConfirmationLinkForm()
            if confirmation.sent_to:
                messages.success(request, _("The link was sent to %(email)s.") % {"email": confirmation.sent_to})
    _log_shown(user, [referral.person], AccessLogEntry.Action.VIEW)
    context = _referral_context(request, referral, link_form=form, new_link=new_link)
    return render(request, "encounters/referral_detail.html", context, status=200 if new_link else 400)


# The partner's confirmation page (no account) --------------------------------------------------


def partner_confirmation(request: HttpRequest, key: str) -> HttpResponse:
    response = _partner_confirmation(request, key)
    # The address is a credential: not for search engines.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _partner_confirmation(request: HttpRequest, key: str) -> HttpResponse:
    """The partner answers whether the person arrived: the service, the date and a reference, nothing else.

    Open without an account: the link is the credential. A forged link is a
    404, a used or expired one a 410, each with a page that says so; none
    changes anything. Requests are rate-limited per client (a salted hash of
    its address, kept in the cache only).
    """
    if partner_link_rate_exceeded(request):
        return render(request, "encounters/partner_confirmation_gone.html", {"reason": "busy"}, status=429)
    try:
        confirmation = services.referral_confirmation_usable(key)
    except LinkUnusable as error:
        return _partner_link_gone(request, error)
    form = PartnerConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_confirm_by_partner(token=key, **form.cleaned_data)
        except LinkUnusable as error:
            return _partner_link_gone(request, error)
        except ValidationError as error:
            if services.REFERRAL_CLOSED in [e.code for e in getattr(error, "error_dict", {}).get("outcome", [])]:
                gone = {"reason": "closed"}
                return render(request, "encounters/partner_confirmation_gone.html", gone, status=409)
            _add_service_errors(form, error)
        else:
            done = {"outcome": form.cleaned_data["outcome"]}
            return render(request, "encounters/partner_confirmation_done.html", done)
    referral = confirmation.referral
    context: dict[str, Any] = {"form": form, "reference": referral.reference, "referral": referral}
    return render(request, "encounters/partner_confirmation.html", context, status=400 if form.is_bound else 200)


def _partner_link_gone(request: HttpRequest, error: LinkUnusable) -> HttpResponse:
    status = 404 if error.reason == "unknown" else 410
    return render(request, "encounters/partner_confirmation_gone.html", {"reason": error.reason}, status=status)


def partner_link_rate_exceeded(request: HttpRequest) -> bool:
    """Whether this client has asked the partner's pages too often in the window (PARTNER_LINK_RATE_*).

    The client is counted under a hash of its address salted with the secret
    key and the day: the address itself is neither stored nor recoverable.
    """
    from django.conf import settings
    from django.core.cache import cache

    salt = f"{settings.SECRET_KEY}:{timezone.localdate().isoformat()}"
    address = request.META.get("REMOTE_ADDR", "")
    key = "partner-link:" + hashlib.sha256(f"{salt}:{address}".encode()).hexdigest()[:32]
    cache.add(key, 0, timeout=settings.PARTNER_LINK_RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=settings.PARTNER_LINK_RATE_WINDOW)
        count = 1
    return count > settings.PARTNER_LINK_RATE_LIMIT


# The person's access log ---------------------------------------------------------------------


@login_required
def person_access_log_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Who has used this person's data: for a coordinator to give the client (Client Data Act 703/2023).

    The last ACCESS_LOG_DEFAULT_DAYS by default; older entries with a typed
    reason, sent by POST so that it stays out of URLs. `format=pdf` prints it.
    Producing the log (on screen or as PDF) writes a row of its own.
    """
    user = authed_user(request)
    if not can_read_access_log(user):
        raise PermissionDenied
    person = get_person_for_user(user, pk)
    default_since = services.access_log_default_since()
    bound = request.method == "POST"
    form = AccessLogRangeForm(request.POST if bound else None, default_since=default_since)
    as_pdf = (request.POST if bound else request.GET).get("format") == "pdf"
    context: dict[str, Any] = {"person": person, "form": form, "default_since": default_since}
    if bound and not form.is_valid():
        return render(request, "encounters/person_access_log.html", context, status=400)
    since = form.cleaned_data["since"] if bound else default_since
    reason = form.cleaned_data["reason"] if bound else ""
    rows = services.person_access_log_report(actor=user, person=person, since=since, reason=reason, printed=as_pdf)
    context.update({"rows": rows, "since": since, "reason": reason, "produced_at": timezone.localtime()})
    if as_pdf:
        return _pdf_response(request, "encounters/person_access_log_print.html", context, f"access-log-{person.pk}.pdf")
    return render(request, "encounters/person_access_log.html", context)


def _pdf_response(request: HttpRequest, template: str, context: dict, filename: str) -> HttpResponse:
    """A page rendered to PDF by WeasyPrint, with no resource fetched from outside the template."""
    from weasyprint import HTML  # imported when printing: it loads Pango

    html = render_to_string(template, context, request=request)
    response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def person_data_export_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A copy of everything about this person, as JSON or PDF, for the person's own request.

    Coordinators only; each copy made is logged (access log and disclosure log).
    """
    user = authed_user(request)
    if not can_read_access_log(user):
        raise PermissionDenied
    person = get_person_for_user(user, pk)
    chosen = request.GET.get("format", "")
    if chosen not in ("json", "pdf"):
        return render(request, "encounters/person_data_export.html", {"person": person})
    data = services.person_data_subject_export(actor=user, person=person)
    if chosen == "json":
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.json"'
        response["Cache-Control"] = "no-store"
        return response
    context = {"person": person, "data": data, "produced_at": timezone.localtime()}
    return _pdf_response(request, "encounters/person_data_print.html", context, f"person-{person.pk}.pdf")
