"""The network evaluation: `GET /api/v1/reports/networks/?start=…&end=…` and its figures for the pages.

The figures are `networks.selectors.network_evaluation`'s; this module adds
the query parameters, who may ask (coordinators and admins, and the workers
of a network's coordinating team) and the schema.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from networks.models import CommunicationActivity
from networks.selectors import may_see_network_evaluation, network_evaluation
from outreach.types import authed_user

from .api import ERROR_RESPONSES, parse_report_date
from .tables import PLAIN, RATIO, Column, Row, Table


class CanSeeNetworkEvaluation(BasePermission):
    message = _("Only coordinators and the workers of a network's coordinating team see its evaluation.")

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated) and may_see_network_evaluation(user)


class NetworkFiguresSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    meetings_held = serializers.IntegerField(help_text="Meetings dated in the period")
    member_organisations = serializers.IntegerField(
        help_text="Distinct organisations with a membership in force on `end` (joined on or before it, "
        "not left on or before it)"
    )
    organisations_present_mean = serializers.FloatField(
        allow_null=True,
        help_text="Mean number of organisations present at the period's meetings; null without meetings",
    )
    agreements_in_force = serializers.IntegerField(help_text="Agreed on or before `end`, not ended on or before it")
    tasks_open = serializers.IntegerField(help_text="Tasks of meetings up to `end` not done on or before `end`")
    tasks_overdue = serializers.IntegerField(help_text="Open tasks due before `end`")


class CommunicationFiguresSerializer(serializers.Serializer):
    activities = serializers.IntegerField()
    by_kind = serializers.DictField(
        child=serializers.IntegerField(), help_text="By kind: " + ", ".join(CommunicationActivity.Kind.values)
    )
    audience_reached = serializers.IntegerField(help_text="The sum of the audience sizes given")


class NetworkEvaluationSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    networks = NetworkFiguresSerializer(many=True)
    communication = CommunicationFiguresSerializer()


def parse_period(request: Request) -> tuple[Any, Any]:
    errors: dict = {}
    start = parse_report_date(request.query_params.get("start"), errors, "start")
    end = parse_report_date(request.query_params.get("end"), errors, "end")
    if start and end and end < start:
        errors["end"] = [_("The end date cannot be before the start date.")]
    if errors:
        raise ValidationError(errors)
    return start, end


class NetworkReportView(APIView):
    permission_classes = (CanSeeNetworkEvaluation,)

    @extend_schema(
        operation_id="reports_networks",
        summary="Network evaluation for a period",
        description="Per network the meetings held, members, organisations present, agreements in force and "
        "tasks open and overdue; and the communication activities of the period (dates inclusive).",
        parameters=[
            OpenApiParameter("start", str, required=True, description="First day, YYYY-MM-DD."),
            OpenApiParameter("end", str, required=True, description="Last day, YYYY-MM-DD."),
        ],
        responses={200: OpenApiResponse(NetworkEvaluationSerializer), **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        start, end = parse_period(request)
        user = authed_user(request)
        return Response(NetworkEvaluationSerializer(network_evaluation(user, start, end)).data)


# The period report's table ----------------------------------------------------------


def network_table(user: Any, start: Any, end: Any) -> Table:
    """The network evaluation as a table of the period report (page, PDF, XLSX, CSV `table=networks`).

    The figures count meetings, organisations, agreements and tasks, not people: no small-count hiding.
    """
    figures = network_evaluation(user, start, end)
    columns = [
        Column("meetings_held", _("Meetings held"), PLAIN),
        Column("member_organisations", _("Member organisations"), PLAIN),
        Column("organisations_present_mean", _("Organisations present (mean)"), RATIO, derived_from=("meetings_held",)),
        Column("agreements_in_force", _("Agreements in force"), PLAIN),
        Column("tasks_open", _("Tasks open"), PLAIN),
        Column("tasks_overdue", _("Tasks overdue"), PLAIN),
    ]
    rows = [
        Row(str(network["id"]), network["name"], [network[column.key] for column in columns])
        for network in figures["networks"]
    ]
    return Table(
        "networks",
        _("Network work"),
        columns,
        rows,
        chart=[],
        note=_("Members and agreements in force on the last day of the period; tasks open on that day."),
    )
