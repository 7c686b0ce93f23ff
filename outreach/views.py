import datetime
import hashlib
import json
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views import defaults as error_views
from django.views.decorators.http import require_POST, require_safe

from . import services
from .forms import (
    AgendaFilterForm,
    GenerateOutingsForm,
    OutingCancelForm,
    OutingPlanForm,
    SiteFilterForm,
    SiteForm,
    apply_service_errors,
    season_label,
)
from .models import FieldSite, Outing, Team, User
from .permissions import can_ask_site_feedback, can_manage_outing, can_manage_site, can_manage_sites, can_plan
from .selectors import (
    access_changes_visible_to,
    get_outing_for_user,
    outings_visible_to,
    sites_visible_to,
    teams_visible_to,
    writable_team_ids,
)
from .vocabulary import OutingStatus

ACCESS_CHANGES_SHOWN = 20


# The offline-capable field pages (the service worker, static/js/outbox.js) ------------

# Static files the service worker keeps on the device at install, so that the
# field pages it keeps open without a connection. Any other file under
# /static/ is kept once fetched.
OFFLINE_ASSETS = (
    "css/app.css",
    "css/field.css",
    "js/field.js",
    "js/outbox.js",
    "vendor/htmx/htmx.min.js",
    "vendor/source-sans-3/source-sans-3-latin-400-normal.woff2",
    "vendor/source-sans-3/source-sans-3-latin-600-normal.woff2",
    "vendor/source-sans-3/source-sans-3-latin-700-normal.woff2",
    "vendor/source-sans-3/source-sans-3-latin-ext-400-normal.woff2",
    "vendor/source-sans-3/source-sans-3-latin-ext-600-normal.woff2",
    "vendor/source-sans-3/source-sans-3-latin-ext-700-normal.woff2",
    "icons/icon.svg",
    "icons/favicon-32.png",
    "icons/icon-192.png",
)
# Changed by hand when sw.js changes in a way the asset list does not show.
SERVICE_WORKER_REVISION = "1"
BRAND_COLOUR = "#00347a"


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, at the site's root so that its scope covers the field pages.

    Rendered, not a static file: it names the static files by their hashed
    names, and carries the idle time and its texts in the user's language. It
    keeps only static files and the copies of the field pages that those pages
    ask for (see `encounters.views.today_offline`), never an API answer.
    """
    assets = [static(path) for path in OFFLINE_ASSETS]
    language = get_language() or settings.LANGUAGE_CODE
    version = hashlib.sha256("\n".join([SERVICE_WORKER_REVISION, language, *assets]).encode()).hexdigest()[:12]
    context = {
        "version": version,
        "assets_json": json.dumps(assets),
        "static_prefix": static(""),
        "idle_ms": settings.OFFLINE_IDLE_TIMEOUT * 1000,
        "today_url": reverse("encounters:today"),
        "outing_prefix": reverse("encounters:today") + "outings/",
        "language": language,
        # The page shown for any other field page asked for without a connection.
        "texts": {
            "title": _("No connection"),
            "body": _(
                "This page is not kept on this device. Today and your current outing open without a connection "
                "once you have opened them online."
            ),
            "today": _("Today"),
        },
    }
    response = render(request, "outreach/sw.js", context, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_safe
def web_manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: the app on a phone's home screen opens at Today, without the browser's bar."""
    icons = [
        {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": static("icons/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
    ]
    manifest = {
        "id": "/",
        "name": _("Outreach work"),
        "short_name": _("Outreach"),
        "description": _("Records of outreach social work. Handle client data with care."),
        "lang": get_language() or settings.LANGUAGE_CODE,
        "start_url": reverse("encounters:today"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": BRAND_COLOUR,
        "background_color": "#ffffff",
        "icons": icons,
    }
    return JsonResponse(manifest, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


def icon_redirect(static_path: str):
    """A view that sends a browser's or a phone's own request for an icon at the site's root to the file in
    static/ (permanent, so it is asked for once)."""

    def view(request):
        return HttpResponsePermanentRedirect(static(static_path))

    return view


@login_required
def home(request):
    """The start page: what there is for the user's role.

    Every section is a bounded query (a few rows or one aggregate), so the
    page stays fast however much data there is.
    """
    user = request.user
    if user.is_worker or user.is_expert:
        # Their day in the field is their start page (encounters.views.today).
        return redirect("encounters:today")
    today = timezone.localdate()
    context: dict[str, Any] = {"today": today}
    if user.is_coordinator:
        month_start = today.replace(day=1)
        next_month = (month_start + datetime.timedelta(days=32)).replace(day=1)
        context["month_start"] = month_start
        context["teams"] = list(
            teams_visible_to(user)
            .annotate(
                outings_this_month=Count(
                    "outings", filter=Q(outings__date__gte=month_start, outings__date__lt=next_month)
                )
            )
            .order_by("name")
        )
        # Who was given or lost access to the coordinator's teams, and by whom.
        context["access_changes"] = list(access_changes_visible_to(user)[:ACCESS_CHANGES_SHOWN])
    if user.is_admin_role:
        context["counts"] = {
            "users": User.objects.filter(is_active=True).count(),
            "teams": Team.objects.filter(active=True).count(),
            "sites": FieldSite.objects.filter(active=True).count(),
        }
    return render(request, "outreach/home.html", context)


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


# Planning -------------------------------------------------------------------

RECENT_ACTIVITY_DAYS = 90


def _get_outing_to_plan(user: User, pk) -> Outing:
    """An outing whose plan the user may change: 404 where they cannot see it, 403 where they only see it."""
    outing = get_outing_for_user(user, pk)
    if not can_manage_outing(user, outing):
        raise PermissionDenied
    return outing


def _week_param(day: datetime.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _agenda_url(day: datetime.date | None = None, **params) -> str:
    if day is not None:
        params["week"] = _week_param(day)
    query = urlencode({name: value for name, value in params.items() if value not in (None, "")})
    return reverse("outreach:outing_list") + (f"?{query}" if query else "")


def _form_errors_message(form: forms.BaseForm) -> str:
    parts: list[str] = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        for error in errors:
            # An ErrorList yields message strings; the stubs also allow a ValidationError.
            parts.append(_("%(field)s: %(error)s") % {"field": label, "error": error} if label else str(error))
    return " ".join(parts)


@login_required
def outing_list(request):
    """The team calendar as an agenda: one week, day by day, planned, done and cancelled outings.

    One query for the outings and one for their participants, however many
    there are in the week.
    """
    user = request.user
    today = timezone.localdate()
    filters = AgendaFilterForm(request.GET or None, user=user)
    data = {}
    if filters.is_bound:
        # A bad parameter gets its message on the form; the good ones still apply.
        filters.is_valid()
        data = filters.cleaned_data
    monday = filters.monday(today)
    sunday = monday + datetime.timedelta(days=6)
    outings = outings_visible_to(user).filter(date__gte=monday, date__lte=sunday)
    if data.get("team"):
        outings = outings.filter(team=data["team"])
    if data.get("site"):
        outings = outings.filter(site=data["site"])
    if data.get("status"):
        outings = outings.filter(status=data["status"])
    outings = outings.prefetch_related(
        Prefetch("participants", queryset=User.objects.order_by("full_name", "email"))
    ).order_by("date", "start_time", "site__name", "pk")
    team_ids = set() if user.is_expert else writable_team_ids(user)
    planner = bool(team_ids)  # can_plan(user), without asking twice
    days: dict[datetime.date, list[Outing]] = {monday + datetime.timedelta(days=offset): [] for offset in range(7)}
    for outing in outings:
        outing.out_of_season = not outing.site.in_season(outing.date)
        outing.can_change = outing.status == OutingStatus.PLANNED and outing.team_id in team_ids
        days[outing.date].append(outing)
    kept = {
        "team": data["team"].pk if data.get("team") else None,
        "site": data["site"].pk if data.get("site") else None,
        "status": data.get("status"),
    }
    return render(
        request,
        "outreach/outing_list.html",
        {
            "filters": filters,
            "filtered": any(kept.values()),
            "days": list(days.items()),
            "outing_count": sum(len(day_outings) for day_outings in days.values()),
            "today": today,
            "monday": monday,
            "sunday": sunday,
            "week_number": monday.isocalendar()[1],
            "is_this_week": monday <= today <= sunday,
            "previous_url": _agenda_url(monday - datetime.timedelta(weeks=1), **kept),
            "next_url": _agenda_url(monday + datetime.timedelta(weeks=1), **kept),
            "this_week_url": _agenda_url(today, **kept),
            "clear_url": _agenda_url(monday),
            "can_plan": planner,
            "generate_form": GenerateOutingsForm(user=user) if planner else None,
        },
    )


@login_required
def outing_create(request):
    user = request.user
    if not can_plan(user):
        raise PermissionDenied
    if request.method == "POST":
        form = OutingPlanForm(request.POST, user=user)
        if form.is_valid():
            try:
                outing = services.outing_create(
                    actor=user,
                    team=form.cleaned_data["team"],
                    participants=form.cleaned_data["participants"],
                    **form.service_fields(),
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Outing planned: %(site)s, %(date)s.")
                    % {"site": outing.site.name, "date": date_format(outing.date, "SHORT_DATE_FORMAT")},
                )
                return redirect(_agenda_url(outing.date))
    else:
        form = OutingPlanForm(initial=_plan_initial(request, user), user=user)
    return render(request, "outreach/outing_form.html", {"form": form, "outing": None})


def _plan_initial(request, user: User) -> dict[str, Any]:
    """Prefill from the agenda's links: ?date=YYYY-MM-DD (a day of the agenda) and ?site=ID (a site of the list)."""
    initial: dict[str, Any] = {}
    try:
        initial["date"] = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        initial["date"] = timezone.localdate()
    site_id = request.GET.get("site", "")
    if site_id.isdigit():
        site = sites_visible_to(user).filter(pk=site_id, active=True).first()
        if site is not None:
            initial["site"] = site.pk
            if site.schedule_start_time is not None:
                initial["start_time"] = site.schedule_start_time
                initial["end_time"] = site.schedule_end_time
            if site.team_id in writable_team_ids(user):
                initial["team"] = site.team_id
    # ?team=ID: the team chosen on the form (its select reloads the participants with it).
    team_id = request.GET.get("team", "")
    if team_id.isdigit() and int(team_id) in writable_team_ids(user):
        initial["team"] = int(team_id)
    return initial


@login_required
def outing_edit(request, pk: int):
    user = request.user
    outing = _get_outing_to_plan(user, pk)
    if outing.status != OutingStatus.PLANNED:
        messages.error(request, _("Only a planned outing can be changed here."))
        return redirect(_agenda_url(outing.date))
    form = OutingPlanForm(request.POST or None, user=user, outing=outing)
    if request.method == "POST" and form.is_valid():
        try:
            services.outing_update(
                actor=user, outing=outing, participants=form.cleaned_data["participants"], **form.service_fields()
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Outing saved."))
            return redirect(_agenda_url(outing.date))
    return render(request, "outreach/outing_form.html", {"form": form, "outing": outing})


@login_required
def outing_cancel(request, pk: int):
    """Ask for confirmation (and an optional reason), then cancel. The outing stays, as cancelled."""
    user = request.user
    outing = _get_outing_to_plan(user, pk)
    if outing.status != OutingStatus.PLANNED:
        messages.error(request, _("Only a planned outing can be cancelled."))
        return redirect(_agenda_url(outing.date))
    form = OutingCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.outing_cancel(actor=user, outing=outing, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Outing cancelled. It stays in the agenda, marked cancelled."))
            return redirect(_agenda_url(outing.date))
    return render(request, "outreach/outing_cancel.html", {"form": form, "outing": outing})


@login_required
@require_POST
def outings_generate(request):
    """Plan the outings of the team's sites' recurring schedules (the button on the agenda)."""
    user = request.user
    if not can_plan(user):
        raise PermissionDenied
    form = GenerateOutingsForm(request.POST, user=user)
    if not form.is_valid():
        messages.error(request, _form_errors_message(form))
        return redirect(_agenda_url())
    try:
        created = services.outings_generate_from_schedule(
            actor=user, team=form.cleaned_data["team"], weeks=form.cleaned_data["weeks"]
        )
    except ValidationError as error:
        apply_service_errors(form, error)
        messages.error(request, _form_errors_message(form))
        return redirect(_agenda_url())
    if created:
        messages.success(
            request,
            ngettext(
                "%(count)d outing planned from the sites' recurring schedules.",
                "%(count)d outings planned from the sites' recurring schedules.",
                len(created),
            )
            % {"count": len(created)},
        )
        return redirect(_agenda_url(created[0].date, team=form.cleaned_data["team"].pk))
    messages.info(request, _("Nothing new to plan: the recurring schedules' outings are planned already."))
    return redirect(_agenda_url())


# Sites ----------------------------------------------------------------------


def sites_with_recent_activity(sites: QuerySet[FieldSite], today: datetime.date) -> QuerySet[FieldSite]:
    """Annotate each site with its activity in the last RECENT_ACTIVITY_DAYS days (today included).

    `recent_outings`: outings done there; `recent_encounters`: encounters
    there (by every team: a site's use is what it is); `latest_outing`: the
    date of the latest outing done there, however old.

    Correlated subqueries rather than Count() over joins: joining a site's
    outings and its encounters multiplies the two, which grows without bound
    with the data. The encounters are read from their day rollup (at most
    90 days × teams rows per site) rather than from every encounter row; the
    outings by the (site, date) index. One query for the
    whole list all the same.
    """
    since = today - datetime.timedelta(days=RECENT_ACTIVITY_DAYS - 1)
    # The encounters app keeps the rollup; the ground floor names no model
    # upstairs (see STYLE.md on dependencies), so it is looked up by name.
    encounter_days = apps.get_model("encounters", "EncounterDayCount")
    done_outings = Outing.objects.filter(site=OuterRef("pk"), status=OutingStatus.DONE, date__lte=today)

    def per_site(queryset, total):
        counted = queryset.order_by().values("site").annotate(n=total).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    return sites.annotate(
        recent_outings=per_site(done_outings.filter(date__gte=since), Count("pk")),
        recent_encounters=per_site(
            encounter_days._default_manager.filter(site=OuterRef("pk"), day__range=(since, today)), Sum("total")
        ),
        latest_outing=Subquery(done_outings.order_by("-date").values("date")[:1]),
    )


@login_required
def site_list(request):
    user = request.user
    today = timezone.localdate()
    filters = SiteFilterForm(request.GET or None)
    if filters.is_bound:
        filters.is_valid()
    sites = filters.filter(sites_with_recent_activity(sites_visible_to(user), today)).order_by("-active", "name")
    own_team_ids = writable_team_ids(user)
    team_ids = own_team_ids if can_manage_sites(user) else set()
    sites = list(sites)
    for site in sites:
        site.can_manage = can_manage_site(user, site, team_ids)
        site.can_ask_feedback = site.active and can_ask_site_feedback(user, site, own_team_ids)
        site.season = season_label(site)
    return render(
        request,
        "outreach/site_list.html",
        {
            "sites": sites,
            "filters": filters,
            "recent_days": RECENT_ACTIVITY_DAYS,
            "since": today - datetime.timedelta(days=RECENT_ACTIVITY_DAYS - 1),
            "can_manage_sites": can_manage_sites(user),
            "can_plan": can_plan(user, own_team_ids),
        },
    )


@login_required
def site_create(request):
    user = request.user
    if not can_manage_sites(user):
        raise PermissionDenied
    form = SiteForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.site_create(actor=user, **form.service_fields())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Site added: %(site)s.") % {"site": site.name})
            return redirect("outreach:site_list")
    return render(request, "outreach/site_form.html", {"form": form, "site": None})


def _get_site_to_manage(user: User, pk) -> FieldSite:
    site = get_object_or_404(sites_visible_to(user), pk=pk)
    if not can_manage_site(user, site):
        raise PermissionDenied
    return site


@login_required
def site_edit(request, pk: int):
    user = request.user
    site = _get_site_to_manage(user, pk)
    form = SiteForm(request.POST or None, instance=site, user=user)
    if request.method == "POST" and form.is_valid():
        # The form has written its values onto `site`; the service compares
        # against the stored record.
        stored = sites_visible_to(user).get(pk=site.pk)
        try:
            services.site_update(actor=user, site=stored, **form.service_fields())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Site saved: %(site)s.") % {"site": stored.name})
            return redirect("outreach:site_list")
    site.refresh_from_db()
    return render(request, "outreach/site_form.html", {"form": form, "site": site})


@login_required
@require_POST
def site_deactivate(request, pk: int):
    """Hide a site from planning; it stays in the list (filter: inactive) and in every record."""
    site = _get_site_to_manage(request.user, pk)
    services.site_update(actor=request.user, site=site, active=False)
    planned = Outing.objects.filter(site=site, status=OutingStatus.PLANNED, date__gte=timezone.localdate()).count()
    message = _("Site deactivated: %(site)s. It is no longer offered for planning.") % {"site": site.name}
    if planned:
        message += " " + ngettext(
            "%(count)d outing planned there stays planned; cancel it in the agenda if it will not happen.",
            "%(count)d outings planned there stay planned; cancel them in the agenda if they will not happen.",
            planned,
        ) % {"count": planned}
    messages.success(request, message)
    return redirect("outreach:site_list")


@login_required
@require_POST
def site_reactivate(request, pk: int):
    site = _get_site_to_manage(request.user, pk)
    services.site_update(actor=request.user, site=site, active=True)
    messages.success(request, _("Site reactivated: %(site)s.") % {"site": site.name})
    return redirect("outreach:site_list")


# Error pages ---------------------------------------------------------------

API_PREFIX = "/api/"


def page_not_found(request, exception=None):
    """404: JSON under /api/ (an unknown path or an id that is not a number), the HTML page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return error_views.page_not_found(request, exception)


def server_error(request):
    """500: JSON under /api/, the HTML page elsewhere; neither says more than that something failed."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": _("A server error occurred.")}, status=500)
    return error_views.server_error(request)
