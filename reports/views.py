"""Report pages under /reports/: the dashboard, site evaluation, period report, structural observations."""

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework import exceptions as api_exceptions

from outreach.forms import apply_service_errors
from outreach.models import FieldSite
from outreach.replica import reads_from_replica
from outreach.selectors import get_outing_for_user, sites_visible_to, teams_visible_to, writable_team_ids
from outreach.types import authed_user
from outreach.vocabulary import SiteType

from . import api, dashboard, exports, selectors, services
from .dashboard import Period
from .forms import ObservationForm, ObservationReportedForm, PeriodEvaluationForm
from .permissions import can_manage_reports, can_read_reports, can_record_observations
from .selectors import suppression_threshold
from .tables import build_report, period_label, suppressed

PERIOD_KINDS = ("month", "quarter", "year", "custom")
FORMATS = ("html", "pdf", "xlsx", "csv")


class BadParameters(Exception):
    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


def _ensure_reader(user) -> None:
    if not can_read_reports(user):
        raise PermissionDenied


def _parse_report_parameters(request: HttpRequest) -> tuple[Period, dict]:
    """The period and the summary's filters from the query string.

    `period=month|quarter|year` with a `start` (default today) gives that
    calendar period around the day; otherwise `start` and `end` give a custom
    period, and neither gives this quarter. The filters are read and checked
    by the summary API's own parser, so a page and the API accept and refuse
    the same parameters; its errors name the parameter.
    """
    params = request.GET.copy()
    errors: dict = {}
    kind = params.get("period") or ""
    if kind and kind not in PERIOD_KINDS:
        raise BadParameters({"period": [_("Choose month, quarter, year or custom.")]})
    if kind in ("month", "quarter", "year"):
        day = timezone.localdate()
        if params.get("start"):
            day = api.parse_report_date(params.get("start"), errors, "start") or day
        if errors:
            raise BadParameters(errors)
        period = {"month": dashboard.month_period, "quarter": dashboard.quarter_period, "year": dashboard.year_period}[
            kind
        ](day)
        params["start"], params["end"] = period.start.isoformat(), period.end.isoformat()
    elif not params.get("start") and not params.get("end"):
        period = dashboard.quarter_period(timezone.localdate())
        params["start"], params["end"] = period.start.isoformat(), period.end.isoformat()
    try:
        parsed = api.parse_report_parameters(params, authed_user(request))
    except api_exceptions.ValidationError as error:
        detail = error.detail if isinstance(error.detail, dict) else {}
        raise BadParameters(
            {name: [str(message) for message in problems] for name, problems in detail.items()}
        ) from None
    except api_exceptions.PermissionDenied:
        raise PermissionDenied from None
    period = Period(parsed.pop("start"), parsed.pop("end"))
    return period, parsed


def _bad_request(request: HttpRequest, errors: dict) -> HttpResponse:
    return render(request, "reports/bad_request.html", {"errors": errors}, status=400)


def _filter_query(period: Period, filters: dict, **extra) -> str:
    """The query string of a period and its filters, for links between the pages."""
    params = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    if filters.get("municipality") is not None:
        params["municipality"] = filters["municipality"].code
    if filters.get("site_type"):
        params["site_type"] = filters["site_type"]
    if filters.get("team") is not None:
        params["team"] = str(filters["team"].pk)
    params.update({key: value for key, value in extra.items() if value})
    return urlencode(params)


def _filter_codes(filters: dict) -> dict[str, str]:
    return {
        "municipality": filters["municipality"].code if filters.get("municipality") is not None else "",
        "site_type": filters.get("site_type") or "",
        "team": str(filters["team"].pk) if filters.get("team") is not None else "",
    }


def _picker(request, period: Period, filters: dict, url_name: str) -> dict:
    """What the period picker shows: the kinds, the periods before and after, and the filters' choices."""
    today = timezone.localdate()
    shortcuts = [
        (_("This month"), dashboard.month_period(today)),
        (_("This quarter"), dashboard.quarter_period(today)),
        (_("This year"), dashboard.year_period(today)),
        (
            _("Last quarter"),
            dashboard.quarter_period(dashboard.quarter_period(today).start - datetime.timedelta(days=1)),
        ),
    ]
    url = reverse(url_name)
    return {
        "period": period,
        "period_label": period_label(period),
        "previous_url": f"{url}?{_filter_query(period.previous(), filters)}",
        "next_url": f"{url}?{_filter_query(period.following(), filters)}",
        "shortcuts": [
            {"label": label, "url": f"{url}?{_filter_query(shortcut, filters)}", "current": shortcut == period}
            for label, shortcut in shortcuts
        ],
        "codes": _filter_codes(filters),
        "choices": dashboard.filter_choices(request.user),
        "site_types": SiteType.choices,
        "query": _filter_query(period, filters),
    }


@login_required
@require_GET
@reads_from_replica
def dashboard_view(request):
    _ensure_reader(request.user)
    try:
        period, filters = _parse_report_parameters(request)
    except BadParameters as error:
        return _bad_request(request, error.errors)
    query = _filter_query(period, filters)

    def site_url(site_id) -> str:
        return f"{reverse('reports:site', args=[site_id])}?{query}"

    report = build_report(user=request.user, period=period, filters=filters, site_url=site_url)
    context = {
        **report,
        **_picker(request, period, filters, "reports:dashboard"),
        "can_manage": can_manage_reports(request.user),
        "report_url": f"{reverse('reports:period')}?{query}",
    }
    return render(request, "reports/dashboard.html", context)


@login_required
@require_GET
@reads_from_replica
def site_view(request, pk: int):
    _ensure_reader(request.user)
    site = get_object_or_404(sites_visible_to(request.user), pk=pk)
    try:
        period, filters = _parse_report_parameters(request)
    except BadParameters as error:
        return _bad_request(request, error.errors)
    evaluation = dashboard.site_evaluation(user=request.user, site=site, period=period, team=filters.get("team"))
    context = {
        "site": site,
        **evaluation,
        **_picker(request, period, filters, "reports:dashboard"),
        "dashboard_url": f"{reverse('reports:dashboard')}?{_filter_query(period, filters)}",
        "site_query": _filter_query(period, filters),
    }
    return render(request, "reports/site.html", context)


@login_required
@require_GET
@reads_from_replica
def period_report_view(request):
    _ensure_reader(request.user)
    try:
        period, filters = _parse_report_parameters(request)
    except BadParameters as error:
        return _bad_request(request, error.errors)
    report_format = request.GET.get("format") or "html"
    if report_format not in FORMATS:
        return _bad_request(request, {"format": [_("Choose pdf, xlsx or csv, or leave it out for the page.")]})
    report = build_report(user=request.user, period=period, filters=filters)
    report["tables"] = [suppressed(table) for table in report["tables"]]
    table = None
    if report_format == "csv":
        wanted = request.GET.get("table") or ""
        table = next((item for item in report["tables"] if item.key == wanted), None)
        if table is None:
            names = ", ".join(item.key for item in report["tables"])
            return _bad_request(request, {"table": [_("Choose one of the tables: %(names)s.") % {"names": names}]})
    services.report_produced(
        actor=request.user,
        start=period.start,
        end=period.end,
        report_format=report_format,
        filters=_filter_codes(filters),
    )
    query = _filter_query(period, filters)
    context = {
        **report,
        "labels": {"successes": _("Successes"), "challenges": _("Challenges"), "lessons": _("Lessons learned")},
        "period_label": period_label(period),
        "threshold": suppression_threshold(),
        "filters": filters,
        "generated_at": timezone.localtime(),
        "query": query,
    }
    if report_format == "pdf":
        return exports.pdf_response(request, context)
    if report_format == "xlsx":
        return exports.xlsx_response(context)
    if report_format == "csv" and table is not None:  # the table was checked above
        return exports.csv_response(context, table)
    context.update(_picker(request, period, filters, "reports:period"))
    context["can_manage"] = can_manage_reports(request.user)
    if context["can_manage"]:
        evaluation = report["evaluation"]
        context["evaluation_form"] = PeriodEvaluationForm(
            initial={
                "start": period.start,
                "end": period.end,
                "successes": evaluation.successes if evaluation else "",
                "challenges": evaluation.challenges if evaluation else "",
                "lessons": evaluation.lessons if evaluation else "",
            }
        )
    return render(request, "reports/period.html", context)


@login_required
@require_POST
def period_evaluation_view(request):
    if not can_manage_reports(request.user):
        raise PermissionDenied
    form = PeriodEvaluationForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, {name: list(errors) for name, errors in form.errors.items()})
    data = form.cleaned_data
    try:
        services.period_evaluation_save(
            actor=request.user,
            start=data["start"],
            end=data["end"],
            successes=data["successes"],
            challenges=data["challenges"],
            lessons=data["lessons"],
        )
    except ValidationError as error:
        return _bad_request(request, getattr(error, "message_dict", {"start": error.messages}))
    messages.success(request, _("The evaluation of the period was saved."))
    query = urlencode({"start": data["start"].isoformat(), "end": data["end"].isoformat()})
    return redirect(f"{reverse('reports:period')}?{query}#evaluation")


# Structural observations --------------------------------------------------------


@login_required
def observation_create_view(request):
    user = request.user
    if not can_record_observations(user):
        raise PermissionDenied
    teams = teams_visible_to(user).filter(pk__in=writable_team_ids(user)).order_by("name")
    initial: dict = {"observed_on": timezone.localdate()}
    outing = None
    if outing_id := request.GET.get("outing"):
        outing = get_outing_for_user(user, outing_id)
        initial.update({"site": outing.site, "municipality": outing.site.municipality, "team": outing.team})
    team_list = list(teams)
    if len(team_list) == 1:
        initial.setdefault("team", team_list[0])
    if "municipality" not in initial and len(team_list) >= 1:
        site = FieldSite.objects.filter(team__in=team_list).select_related("municipality").first()
        if site is not None:
            initial["municipality"] = site.municipality
    form = ObservationForm(request.POST or None, teams=teams, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.observation_create(
                actor=user,
                team=data["team"],
                theme=data["theme"],
                municipality=data["municipality"],
                site=data["site"],
                description=data["description"],
                observed_on=data["observed_on"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Thank you. The observation was recorded."))
            if outing is not None:
                return redirect("encounters:outing_detail", outing.pk)
            return redirect("reports:observations")
    return render(request, "reports/observation_form.html", {"form": form, "outing": outing})


@login_required
@require_GET
@reads_from_replica
def observation_list_view(request):
    user = request.user
    if not can_record_observations(user):
        raise PermissionDenied
    try:
        period, filters = _parse_report_parameters(request)
    except BadParameters as error:
        return _bad_request(request, error.errors)
    observations = dashboard.observations_in_period(user=user, start=period.start, end=period.end, **filters)
    context = {
        "observations": list(observations[:200]),
        "groups": dashboard.observations_by_theme_and_month(observations),
        "can_manage": can_manage_reports(user),
        "reported_form": ObservationReportedForm(),
        **_picker(request, period, filters, "reports:observations"),
    }
    return render(request, "reports/observation_list.html", context)


@login_required
@require_POST
def observation_reported_view(request, pk: int):
    user = request.user
    if not can_manage_reports(user):
        raise PermissionDenied
    observation = get_object_or_404(selectors.observations_visible_to(user), pk=pk)
    form = ObservationReportedForm(request.POST)
    back = request.POST.get("next") or ""
    if not back.startswith("/reports/observations/"):
        back = reverse("reports:observations")
    if form.is_valid():
        try:
            services.observation_mark_reported(
                actor=user,
                observation=observation,
                reported_to=form.cleaned_data["reported_to"],
                reported_on=form.cleaned_data["reported_on"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
    if form.errors:
        return render(
            request,
            "reports/observation_reported.html",
            {"form": form, "observation": observation, "next": back},
            status=400,
        )
    messages.success(request, _("The observation is marked as reported."))
    return redirect(back)


# A worker's own month ------------------------------------------------------------


@login_required
@require_GET
def own_work_view(request):
    """The worker's outings, hours and encounters this month and last; a panel on the Today page (htmx) or a
    page of its own."""
    _ensure_reader(request.user)
    this_month = dashboard.month_period(timezone.localdate())
    last_month = dashboard.month_period(this_month.start - datetime.timedelta(days=1))
    context = {"months": [dashboard.own_work(request.user, this_month), dashboard.own_work(request.user, last_month)]}
    template = "reports/_own_work.html" if request.headers.get("HX-Request") else "reports/own_work.html"
    return render(request, template, context)
