"""The client feedback and survey endpoints: feedback links, feedback results and comments, surveys."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from outreach.models import FieldSite, Outing
from outreach.selectors import outings_visible_to, sites_visible_to
from outreach.types import authed_user
from outreach.vocabulary import SurveyQuestionKind

from . import services
from .api import ERROR_RESPONSES, PERIOD_PARAMETERS, parse_report_parameters
from .feedback_selectors import GROUPS, feedback_breakdown, feedback_comments
from .permissions import can_read_feedback_results
from .validators import SURVEY_MAX_QUESTIONS


class CanReadFeedbackResults(BasePermission):
    message = _("Only coordinators see client feedback results.")

    def has_permission(self, request, view):
        return can_read_feedback_results(request.user)


# Feedback links --------------------------------------------------------------


class FeedbackLinkInputSerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=FieldSite.objects.none())
    outing = serializers.PrimaryKeyRelatedField(queryset=Outing.objects.none(), required=False, allow_null=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # none when the schema is generated
        if request is not None:
            self.fields["site"].queryset = sites_visible_to(request.user)  # type: ignore[attr-defined]
            self.fields["outing"].queryset = outings_visible_to(request.user)  # type: ignore[attr-defined]


class FeedbackLinkOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField(help_text="The feedback form; the token in it is shown only this once.")
    expires_at = serializers.DateTimeField()


def feedback_url(request, token: str) -> str:
    return request.build_absolute_uri(reverse("feedback_form", kwargs={"token": token}))


class FeedbackLinkCreateView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="feedback_links_create",
        summary="Make a feedback link (and QR code) for a site and optionally an outing",
        description=(
            "For sites of the caller's teams, or an outing the caller takes part in (experts by experience). "
            "`expires_at` defaults to the end of the outing's day, or of today (Europe/Helsinki); a time in the "
            "past is refused. The link carries no personal data and cannot be guessed."
        ),
        request=FeedbackLinkInputSerializer,
        responses={201: FeedbackLinkOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request):
        serializer = FeedbackLinkInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        link, token = services.feedback_link_create(
            actor=request.user, site=data["site"], outing=data.get("outing"), expires_at=data.get("expires_at")
        )
        body = {"id": link.pk, "url": feedback_url(request, token), "expires_at": link.expires_at}
        return Response(FeedbackLinkOutputSerializer(body).data, status=status.HTTP_201_CREATED)


# Results ---------------------------------------------------------------------

_DISTRIBUTION = {"type": "object", "additionalProperties": {"type": "integer"}, "nullable": True}


class FeedbackReportView(APIView):
    permission_classes = (IsAuthenticated, CanReadFeedbackResults)

    @extend_schema(
        operation_id="reports_feedback",
        summary="Client feedback by site, site type or team",
        description=(
            "The answers given in the period (the summary's filters apply). A row with fewer than 7 answers "
            "(`REPORTS_FEEDBACK_MIN_ANSWERS`) has `suppressed: true` and nulls instead of figures; its count is "
            "given as is. Coordinators only."
        ),
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("group", OpenApiTypes.STR, enum=list(GROUPS), required=True, description="Rows by."),
        ],
        responses={
            200: inline_serializer(
                "FeedbackReport",
                {
                    "group": serializers.ChoiceField(choices=GROUPS),
                    "rows": inline_serializer(
                        "FeedbackReportRow",
                        {
                            "key": serializers.CharField(help_text="Site or team id, or site-type code"),
                            "label": serializers.CharField(),
                            "count": serializers.IntegerField(),
                            "suppressed": serializers.BooleanField(),
                            "mean_score": serializers.FloatField(allow_null=True),
                            "got_help": serializers.DictField(child=serializers.IntegerField(), allow_null=True),
                            "talk_again": serializers.DictField(child=serializers.IntegerField(), allow_null=True),
                        },
                        many=True,
                    ),
                },
            ),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request):
        group = request.query_params.get("group") or ""
        errors = {}
        if not group:
            errors = {"group": [_("This parameter is required.")]}
        elif group not in GROUPS:
            errors = {"group": [_("Unknown group; use site, site_type or team.")]}
        parameters = parse_report_parameters(request.query_params, authed_user(request), extra_errors=errors)
        return Response(feedback_breakdown(user=request.user, group=group, **parameters))


class FeedbackCommentsView(APIView):
    permission_classes = (IsAuthenticated, CanReadFeedbackResults)

    @extend_schema(
        operation_id="feedback_comments",
        summary="Client comments of a period, identifiers masked",
        description=(
            "Comments given in the period (the summary's filters apply), newest first. What looks like a personal "
            "identity code, a phone number or an e-mail address is shown as `[hidden]` and the comment is "
            "`flagged`; comments a coordinator hid are left out. Coordinators only."
        ),
        parameters=PERIOD_PARAMETERS,
        responses={
            200: inline_serializer(
                "FeedbackComments",
                {
                    "results": inline_serializer(
                        "FeedbackComment",
                        {
                            "id": serializers.IntegerField(),
                            "given_on": serializers.DateField(),
                            "site": serializers.IntegerField(),
                            "text": serializers.CharField(),
                            "flagged": serializers.BooleanField(),
                        },
                        many=True,
                    )
                },
            ),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request):
        parameters = parse_report_parameters(request.query_params, authed_user(request))
        rows = feedback_comments(user=request.user, **parameters)
        return Response(
            {
                "results": [
                    {key: row[key] for key in ("id", "given_on", "site", "text", "flagged")}
                    | {"site_name": row["site_name"]}
                    for row in rows
                ]
            }
        )


# Surveys -------------------------------------------------------------------


class TranslatedTextField(serializers.DictField):
    child = serializers.CharField(allow_blank=True)


class SurveyQuestionInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SurveyQuestionKind.values)
    text = TranslatedTextField()
    choices = serializers.ListField(child=TranslatedTextField(), required=False, max_length=30)


class SurveyInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    opens_on = serializers.DateField()
    closes_on = serializers.DateField()
    questions = serializers.ListField(child=SurveyQuestionInputSerializer(), max_length=SURVEY_MAX_QUESTIONS)


def survey_url(request, token: str) -> str:
    return request.build_absolute_uri(reverse("survey_form", kwargs={"token": token}))


class SurveyCreateView(APIView):
    permission_classes = (IsAuthenticated, CanReadFeedbackResults)

    @extend_schema(
        operation_id="surveys_create",
        summary="Define a client survey and publish it by link",
        description=(
            "Questions of kind scale (1–5), single or multiple choice, or free text; every question and choice "
            "in fi, sv and en. Answers with the survey's id and its public `url`. Coordinators only."
        ),
        request=SurveyInputSerializer,
        responses={
            201: inline_serializer("SurveyCreated", {"id": serializers.IntegerField(), "url": serializers.URLField()}),
            **ERROR_RESPONSES,
        },
    )
    def post(self, request):
        serializer = SurveyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        survey = services.survey_create(actor=request.user, **data)
        return Response({"id": survey.pk, "url": survey_url(request, survey.token)}, status=status.HTTP_201_CREATED)
