"""Structural observations and client feedback in the admin, for coordinators and admins.

See outreach/admin.py for the role rules.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from outreach.admin import COORDINATION, NOBODY, RoleAdmin, ServiceAdmin, TeamListFilter
from outreach.types import authed_user

from . import services
from .models import ClientFeedback, FeedbackDayCount, PeriodEvaluation, StructuralObservation
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
    list_display = ("given_on", "site", "outing", "score", "language")
    list_filter = ("score", "language", "site__site_type", "site__municipality")
    list_select_related = ("site", "outing", "outing__site")
    search_fields = ("site__name", "comment")
    autocomplete_fields = ("site", "outing")

    def get_queryset(self, request):
        return feedback_visible_to(request.user)

    def delete_model(self, request, obj):
        services.feedback_delete(actor=request.user, feedback=obj)


@admin.register(PeriodEvaluation)
class PeriodEvaluationAdmin(RoleAdmin):
    """Read only: coordinators write a period's evaluation on its period report page (services)."""

    view_roles = COORDINATION
    read_only = True
    list_display = ("start", "end", "updated_by", "updated_at")
    list_select_related = ("updated_by",)
    search_fields = ("successes", "challenges", "lessons")


@admin.register(FeedbackDayCount)
class FeedbackDayCountAdmin(RoleAdmin):
    """A report rollup: derived rows, kept by the services; shown read-only for support."""

    read_only = True
    date_hierarchy = "day"
    list_display = ("day", "site_id", "outing_team_id", "answers", "score_sum")
    show_full_result_count = False
