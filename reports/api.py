"""The reports API: the summary report of DESIGN.md's external contracts."""

import datetime
import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from outreach.models import Municipality
from outreach.selectors import teams_visible_to
from outreach.vocabulary import (
    AgeGroup,
    ContactKind,
    Gender,
    Need,
    ReferralStatus,
    ServiceKind,
    SiteType,
)

from .selectors import summary_report

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


def _parse_date(value: str | None, errors: dict, name: str) -> datetime.date | None:
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


def _parse_parameters(request) -> dict:
    """Read the summary's query parameters; raise 400 naming each bad one, 403 for a team not the user's.

    An empty parameter is as good as absent, and unknown ones are ignored.
    """
    params = request.query_params
    errors: dict = {}
    start = _parse_date(params.get("start"), errors, "start")
    end = _parse_date(params.get("end"), errors, "end")
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
            team = teams_visible_to(request.user).filter(pk=int(team_id)).first()
            foreign_team = team is None and not request.user.is_superuser
            if team is None and not foreign_team:
                errors["team"] = [_("Unknown team.")]
        else:
            errors["team"] = [_("Unknown team.")]

    if errors:
        raise ValidationError(errors)
    if foreign_team:
        raise PermissionDenied({"team": [_("You cannot see this team's figures.")]})
    return {"start": start, "end": end, "municipality": municipality, "site_type": site_type, "team": team}


class SummaryReportView(APIView):
    permission_classes = [CanReadReports]

    @extend_schema(
        operation_id="reports_summary",
        summary="Summary report for a period",
        description=(
            "Encounters, persons, outings, referrals and client feedback for the period start–end "
            "(inclusive; encounters by their date in Europe/Helsinki), within the teams the caller sees. "
            "An empty or unknown parameter is ignored."
        ),
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="First day, YYYY-MM-DD."),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="Last day, YYYY-MM-DD."),
            OpenApiParameter(
                "municipality", OpenApiTypes.STR, description="Statistics Finland municipality code, e.g. 297."
            ),
            OpenApiParameter("site_type", OpenApiTypes.STR, enum=SiteType.values, description="Site type code."),
            OpenApiParameter("team", OpenApiTypes.INT, description="Team id; the caller must see the team."),
        ],
        responses={
            200: OpenApiResponse(SummaryReportSerializer, description="The figures for the period."),
            400: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description='A bad parameter; the body names it, e.g. {"start": ["..."]}.',
            ),
            403: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="An expert by experience (no reporting role), or a `team` id the caller does not see, "
                "whether or not such a team exists (the body names `team`).",
            ),
        },
    )
    def get(self, request):
        parameters = _parse_parameters(request)
        return Response(summary_report(user=request.user, **parameters))
