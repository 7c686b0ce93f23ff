"""The reports API: the summary report of DESIGN.md's external contracts."""

import csv
import datetime
import re
from collections.abc import Mapping

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from outreach.models import Municipality, User
from outreach.replica import reads_from_replica
from outreach.selectors import teams_visible_to
from outreach.types import authed_user
from outreach.vocabulary import (
    AgeGroup,
    ContactKind,
    Depth,
    Gender,
    Need,
    ReferralStatus,
    ServiceKind,
    SiteType,
)

from .selectors import (
    EXTRACT_DIMENSIONS,
    REACH_GROUPS,
    extract_rows,
    reach_report,
    summary_report,
    suppress_extract,
    suppression_threshold,
)

# Only this form: `date.fromisoformat` would also take 20260105 and the
# like, and strptime takes 2026-1-5.
DATE_FORMAT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_ID = 2**63 - 1


class CanReadReports(BasePermission):
    """Signed-in workers, coordinators and admins; experts by experience have no reporting role."""

    message = _("Experts by experience have no access to reports.")

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and not user.is_expert)


def _codes(enum) -> str:
    return ", ".join(enum.values)


def _counts_by(enum, help_text):
    return serializers.DictField(child=serializers.IntegerField(), help_text=f"{help_text}: {_codes(enum)}")


class SummaryReportSerializer(serializers.Serializer):
    """The shape of the summary report, for the schema; the view returns the selector's dict."""

    encounters_total = serializers.IntegerField()
    encounters_anonymous = serializers.IntegerField()
    encounters_with_person = serializers.IntegerField()
    encounters_conversation = serializers.IntegerField()
    tallied_contacts = serializers.IntegerField()
    persons_reached = serializers.IntegerField()
    persons_new = serializers.IntegerField()
    persons_engaged = serializers.IntegerField(
        help_text="Persons reached in the period whose engagement was agreed on or before the end date"
    )
    contact_frequency = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Persons reached, by their number of encounters in the period: 1, 2_5, 6_9, 10_plus",
    )
    outings_done = serializers.IntegerField()
    outing_hours = serializers.FloatField()
    encounters_per_outing_hour = serializers.FloatField(allow_null=True)
    by_site_type = _counts_by(SiteType, "Encounters by site type")
    by_municipality = serializers.DictField(
        child=serializers.IntegerField(), help_text="Encounters by Statistics Finland municipality code"
    )
    by_month = serializers.DictField(child=serializers.IntegerField(), help_text="Encounters by month, YYYY-MM")
    by_need = _counts_by(Need, "Encounters by need (an encounter counts under each of its needs)")
    by_gender = _counts_by(Gender, "Encounters by gender")
    by_age_group = _counts_by(AgeGroup, "Encounters by age group")
    by_contact_kind = _counts_by(ContactKind, "Encounters by contact kind")
    referrals_total = serializers.IntegerField()
    referrals_by_service = _counts_by(ServiceKind, "Referrals by service kind")
    referrals_by_status = _counts_by(ReferralStatus, "Referrals by current status")
    referrals_connected_rate = serializers.FloatField(allow_null=True)
    feedback_count = serializers.IntegerField()
    feedback_mean_score = serializers.FloatField(allow_null=True)


def parse_report_date(value: str | None, errors: dict, name: str) -> datetime.date | None:
    if not value:
        errors[name] = [_("This parameter is required.")]
        return None
    if DATE_FORMAT.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    errors[name] = [_("Enter a valid date in the form YYYY-MM-DD.")]
    return None


def parse_report_parameters(params: Mapping[str, str], user: User, *, extra_errors: dict | None = None) -> dict:
    """Read the summary's query parameters (API and report pages alike).

    Raises DRF's ValidationError naming each bad one (400), PermissionDenied for a team not the user's (403).
    An empty parameter is as good as absent, and unknown ones are ignored.
    """
    errors: dict = dict(extra_errors or {})
    start = parse_report_date(params.get("start"), errors, "start")
    end = parse_report_date(params.get("end"), errors, "end")
    if start and end and end < start:
        errors["end"] = [_("The end date cannot be before the start date.")]

    municipality = None
    if code := params.get("municipality"):
        municipality = Municipality.objects.filter(code=code).first()
        if municipality is None:
            errors["municipality"] = [_("Unknown municipality code.")]

    site_type = params.get("site_type") or None
    if site_type is not None and site_type not in SiteType.values:
        errors["site_type"] = [_("Unknown site type.")]

    # A team id the caller does not see answers 403 naming `team` whether or
    # not such a team exists: answering 400 ("unknown id") for a missing team
    # and 403 for another area's would let anyone list the teams by probing
    # ids. DESIGN.md gives 403 for "a team they do not belong to", which a
    # team that does not exist also is; 400 stays for a value that is no id
    # at all. A superuser sees every team, so for them a missing id is 400.
    team = None
    foreign_team = False
    if team_id := params.get("team"):
        if team_id.isascii() and team_id.isdigit() and int(team_id) <= MAX_ID:
            team = teams_visible_to(user).filter(pk=int(team_id)).first()
            foreign_team = team is None and not user.is_superuser
            if team is None and not foreign_team:
                errors["team"] = [_("Unknown team.")]
        else:
            errors["team"] = [_("Unknown team.")]

    if errors:
        raise ValidationError(errors)
    if foreign_team:
        raise PermissionDenied({"team": [_("You cannot see this team's figures.")]})
    return {"start": start, "end": end, "municipality": municipality, "site_type": site_type, "team": team}


# The parameters and error answers that every report endpoint shares.
PERIOD_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="First day, YYYY-MM-DD."),
    OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="Last day, YYYY-MM-DD."),
    OpenApiParameter("municipality", OpenApiTypes.STR, description="Statistics Finland municipality code, e.g. 297."),
    OpenApiParameter("site_type", OpenApiTypes.STR, enum=SiteType.values, description="Site type code."),
    OpenApiParameter("team", OpenApiTypes.INT, description="Team id; the caller must see the team."),
]
ERROR_RESPONSES = {
    400: OpenApiResponse(
        response=OpenApiTypes.OBJECT,
        description='A bad parameter; the body names it, e.g. {"start": ["..."]}.',
    ),
    403: OpenApiResponse(
        response=OpenApiTypes.OBJECT,
        description="An expert by experience (no reporting role), or a `team` id the caller does not see, "
        "whether or not such a team exists (the body names `team`).",
    ),
}


class SummaryReportView(APIView):
    permission_classes = (CanReadReports,)

    @extend_schema(
        operation_id="reports_summary",
        summary="Summary report for a period",
        description=(
            "Encounters, persons, outings, referrals and client feedback for the period start–end "
            "(inclusive; encounters by their date in Europe/Helsinki), within the teams the caller sees. "
            "An empty or unknown parameter is ignored."
        ),
        parameters=PERIOD_PARAMETERS,
        responses={
            200: OpenApiResponse(SummaryReportSerializer, description="The figures for the period."),
            **ERROR_RESPONSES,
        },
    )
    @reads_from_replica
    def get(self, request):
        parameters = parse_report_parameters(request.query_params, authed_user(request))
        return Response(summary_report(user=request.user, **parameters))


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class IntegerOrStringField(serializers.Field):
    """For the schema: a value that is an integer or a string (the views return plain dicts)."""

    def to_representation(self, value):
        return value


class ReachRowSerializer(serializers.Serializer):
    key = IntegerOrStringField(help_text="Site id (integer), site-type code or municipality code, after `group`")
    name = serializers.CharField(required=False, help_text="The site's name (only when grouped by site)")
    outings_done = serializers.IntegerField()
    outing_hours = serializers.FloatField()
    encounters = serializers.IntegerField()
    conversations = serializers.IntegerField()
    tallied_contacts = serializers.IntegerField()
    contacts_per_outing_hour = serializers.FloatField(allow_null=True)
    conversations_per_outing_hour = serializers.FloatField(allow_null=True)


class ReachReportSerializer(serializers.Serializer):
    """The shape of the reach report, for the schema; the view returns the selector's dict."""

    group = serializers.ChoiceField(choices=REACH_GROUPS)
    rows = ReachRowSerializer(many=True)


class ReachReportView(APIView):
    permission_classes = (CanReadReports,)

    @extend_schema(
        operation_id="reports_reach",
        summary="Reach per outing hour, by site, site type or municipality",
        description=(
            "The done outings of the period (by outing date) within the teams the caller sees: outings, "
            "hours (duration × participants, experts by experience included), the encounters and conversations "
            "logged in those outings, tallied contacts, and contacts (encounters + tallied) and conversations "
            "per outing hour (two decimals; null without hours). Encounters logged without an outing are in "
            "the summary, not here. Grouped by `site` (sites with such outings), `site_type` (every code) or "
            "`municipality` (municipalities with such outings)."
        ),
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("group", OpenApiTypes.STR, enum=list(REACH_GROUPS), required=True, description="Rows by."),
        ],
        responses={200: OpenApiResponse(ReachReportSerializer, description="One row per key."), **ERROR_RESPONSES},
    )
    @reads_from_replica
    def get(self, request):
        group = request.query_params.get("group") or ""
        parameters = parse_report_parameters(
            request.query_params, authed_user(request), extra_errors=_group_errors(group)
        )
        return Response(reach_report(user=request.user, group=group, **parameters))


def _group_errors(group: str) -> dict:
    if not group:
        return {"group": [_("This parameter is required.")]}
    if group not in REACH_GROUPS:
        return {"group": [_("Unknown group; use site, site_type or municipality.")]}
    return {}


class ExtractRowSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    municipality = serializers.CharField(help_text="Statistics Finland municipality code")
    site_type = serializers.ChoiceField(choices=SiteType.values)
    gender = serializers.ChoiceField(choices=Gender.values)
    age_group = serializers.ChoiceField(choices=AgeGroup.values)
    depth = serializers.ChoiceField(choices=Depth.values)
    encounters = IntegerOrStringField(help_text='An integer when at least the threshold, else the string "<5"')


class ExtractSerializer(serializers.Serializer):
    """The shape of the extract, for the schema; the view returns the selector's rows."""

    suppressed_below = serializers.IntegerField()
    rows = ExtractRowSerializer(many=True)


class ExtractView(APIView):
    permission_classes = (CanReadReports,)

    @extend_schema(
        operation_id="reports_extract",
        summary="Anonymised statistics extract",
        description=(
            "Encounters of the period (by their date in Europe/Helsinki) within the teams the caller sees, one "
            "row per month × municipality × site type × gender × age group × depth with at least one encounter. "
            'Counts below `suppressed_below` are given as the string "<5". No identifiers, free text or '
            "person ids. `format=csv` gives the same rows as CSV."
        ),
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="json (default) or csv."),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(ExtractSerializer, description="The extract."),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The same rows as CSV."),
            **ERROR_RESPONSES,
        },
    )
    @reads_from_replica
    def get(self, request):
        parameters = parse_report_parameters(request.query_params, authed_user(request))
        threshold = suppression_threshold()
        rows = suppress_extract(extract_rows(user=request.user, **parameters), threshold)
        if request.query_params.get("format") == "csv":
            return _extract_csv(rows, parameters)
        return Response({"suppressed_below": threshold, "rows": rows})

    def perform_content_negotiation(self, request, force=False):
        # `format=csv` is answered by get() itself; errors stay JSON.
        if request.query_params.get("format") == "csv":
            renderer = JSONRenderer()
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force=force)


def _extract_csv(rows: list[dict], parameters: dict) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="extract-{parameters["start"]:%Y%m%d}-{parameters["end"]:%Y%m%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow([*EXTRACT_DIMENSIONS, "encounters"])
    for row in rows:
        writer.writerow([row[name] for name in (*EXTRACT_DIMENSIONS, "encounters")])
    return response
