"""Structural observations and client feedback in the admin, for coordinators and admins.

See outreach/admin.py for the role rules.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from outreach.admin import COORDINATION, NOBODY, RoleAdmin, ServiceAdmin, TeamListFilter
from outreach.types import authed_user

from . import services
from .comments import masked
from .models import (
    ClientFeedback,
    FeedbackDayCount,
    FeedbackLink,
    PeriodEvaluation,
    StructuralObservation,
    Survey,
    SurveyAnswer,
    SurveyChoice,
    SurveyQuestion,
    SurveyResponse,
)
from .selectors import feedback_visible_to, observations_visible_to


class ReportedFilter(admin.SimpleListFilter):
    title = _("reported")
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(reported_on__isnull=self.value() == "no")
        return queryset


@admin.register(StructuralObservation)
class StructuralObservationAdmin(ServiceAdmin):
    view_roles = COORDINATION
    delete_roles = COORDINATION
    date_hierarchy = "observed_on"
    list_display = ("observed_on", "theme", "municipality", "site", "team", "reported_to", "reported_on")
    list_filter = ("theme", ReportedFilter, "municipality", TeamListFilter)
    list_select_related = ("municipality", "site", "team")
    search_fields = ("description", "reported_to")
    autocomplete_fields = ("site",)
    readonly_fields = ("created_by",)

    def get_queryset(self, request):
        # Scoped like every other record: a coordinator of another area
        # neither lists, reads nor deletes these.
        return observations_visible_to(request.user)

    def service_save(self, request, data, original):
        if original is None:
            return services.observation_create(actor=authed_user(request), **data)
        return services.observation_update(actor=authed_user(request), observation=original, **data)


@admin.register(ClientFeedback)
class ClientFeedbackAdmin(RoleAdmin):
    """Clients' answers are read and, when spam, deleted; never written or edited here."""

    view_roles = COORDINATION
    change_roles = NOBODY
    delete_roles = COORDINATION
    date_hierarchy = "given_on"
    list_display = ("given_on", "site", "outing", "score", "got_help", "talk_again", "language", "comment_flagged")
    list_filter = (
        "score",
        "got_help",
        "talk_again",
        "comment_flagged",
        "comment_hidden",
        "language",
        "site__site_type",
    )
    list_select_related = ("site", "outing", "outing__site")
    search_fields = ("site__name",)
    autocomplete_fields = ("site", "outing")
    # The comment is shown masked, as everywhere else (reports.comments).
    exclude = ("comment", "link")
    readonly_fields = ("masked_comment",)

    def get_queryset(self, request):
        return feedback_visible_to(request.user)

    def delete_model(self, request, obj):
        services.feedback_delete(actor=request.user, feedback=obj)

    @admin.display(description=_("comment"))
    def masked_comment(self, obj: ClientFeedback) -> str:
        return masked(obj.comment)


@admin.register(PeriodEvaluation)
class PeriodEvaluationAdmin(RoleAdmin):
    """Read only: coordinators write a period's evaluation on its period report page (services)."""

    view_roles = COORDINATION
    read_only = True
    list_display = ("start", "end", "updated_by", "updated_at")
    list_select_related = ("updated_by",)
    search_fields = ("successes", "challenges", "lessons")


# Feedback links and surveys are made by their services (pages, API); the admin only reads them. Single
# survey answers and links are for superusers: coordinators read results with the 7-answer rule.


@admin.register(FeedbackLink)
class FeedbackLinkAdmin(RoleAdmin):
    view_roles = NOBODY
    read_only = True
    list_display = ("created_at", "site", "outing", "expires_at", "created_by")
    list_select_related = ("site", "outing", "outing__site", "created_by")
    exclude = ("digest",)


@admin.register(Survey)
class SurveyAdmin(RoleAdmin):
    view_roles = COORDINATION
    read_only = True
    list_display = ("title", "opens_on", "closes_on", "closed_at")
    exclude = ("token",)


@admin.register(SurveyQuestion)
class SurveyQuestionAdmin(RoleAdmin):
    view_roles = NOBODY
    read_only = True
    list_display = ("survey", "position", "kind", "__str__")
    list_select_related = ("survey",)


@admin.register(SurveyChoice)
class SurveyChoiceAdmin(RoleAdmin):
    view_roles = NOBODY
    read_only = True
    list_display = ("question", "position", "__str__")
    list_select_related = ("question",)


@admin.register(SurveyResponse)
class SurveyResponseAdmin(RoleAdmin):
    view_roles = NOBODY
    read_only = True
    list_display = ("survey", "given_on", "language")
    list_select_related = ("survey",)


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(RoleAdmin):
    view_roles = NOBODY
    read_only = True
    list_display = ("response", "question", "scale")
    list_select_related = ("response", "question")
    exclude = ("text",)
    readonly_fields = ("masked_text",)

    @admin.display(description=_("text answer"))
    def masked_text(self, obj: SurveyAnswer) -> str:
        return masked(obj.text)


@admin.register(FeedbackDayCount)
class FeedbackDayCountAdmin(RoleAdmin):
    """A report rollup: derived rows, kept by the services; shown read-only for support."""

    read_only = True
    date_hierarchy = "day"
    list_display = ("day", "site_id", "outing_team_id", "answers", "score_sum")
    show_full_result_count = False
