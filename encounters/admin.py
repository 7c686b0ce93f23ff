"""Client records in the admin: read through the selectors, written through the services.

Coordinators and admins see the persons, encounters, referrals, follow-ups,
consents and merges of the teams they would see in the app (a superuser sees
all); workers and experts by experience do not reach the admin at all. See
outreach/admin.py for the role rules.

Consents and merges are shown read-only: they are recorded with a person's
naming and merging, which the app does. A named person's identity code is
masked in lists.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from outreach.admin import (
    COORDINATION,
    NOBODY,
    PostSearchMixin,
    RoleAdmin,
    ScopedHistoryAdmin,
    ServiceAdmin,
    TeamListFilter,
    WritableTeamsMixin,
    code_labels,
    code_set_filter,
)
from outreach.models import AccessLogEntry
from outreach.resources import RecordImportExportMixin
from outreach.vocabulary import Action, Need

from . import permissions, services
from .models import (
    Consent,
    Encounter,
    EncounterDayCount,
    EncounterMixCount,
    FollowUp,
    Person,
    PersonDayCount,
    PersonFirstEncounter,
    PersonMerge,
    Referral,
    ReferralConfirmation,
    ReferralDayCount,
)
from .resources import EncounterResource, PersonResource, ReferralResource
from .selectors import (
    consents_visible_to,
    encounters_visible_to,
    follow_ups_visible_to,
    persons_visible_to,
    referrals_visible_to,
)

# Fields that identify a person or hold what they told: no admin URL filters on them
# (`?identity_code__startswith=13`, `?last_name__regex=…`). The search box,
# sent by POST, is the one way to look for a person, an identity code only
# by an exact match.
IDENTIFYING_FIELDS = frozenset({"identity_code", "first_name", "last_name", "phone", "email", "alias", "notes"})


class ClientRecordMixin(PostSearchMixin, WritableTeamsMixin):
    view_roles = COORDINATION
    admin_log = False
    list_max_show_all = 200

    def lookup_allowed(self, lookup, value, request=None):
        # Refused lookups answer 400 (DisallowedModelAdminLookup).
        if IDENTIFYING_FIELDS & set(lookup.split("__")):
            return False
        return super().lookup_allowed(lookup, value, request)

    def persons_of(self, obj) -> list:
        """The persons whose data a row or change page of this admin shows."""
        return [obj] if isinstance(obj, Person) else [getattr(obj, "person", None)]

    def _log_access(self, request, objs, action: str) -> None:
        persons = [person for obj in objs for person in self.persons_of(obj)]
        services.person_access_log(actor=request.user, persons=persons, action=action, door=AccessLogEntry.Door.ADMIN)

    def history_read(self, request, obj) -> None:
        # The change history shows old values too (a corrected identity code).
        self._log_access(request, [obj], AccessLogEntry.Action.HISTORY)

    def changelist_view(self, request, extra_context=None):
        # The list shows names (and a search by identity code finds them): each person shown is logged.
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            self._log_access(request, changelist.result_list, AccessLogEntry.Action.LIST)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The change page shows the full record (a named person's identity code too).
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if original is not None:
            self._log_access(request, [original], AccessLogEntry.Action.VIEW)
        return response

    def scoped_choices(self, request, model):
        if model is Person:
            return persons_visible_to(request.user)
        if model is Encounter:
            return encounters_visible_to(request.user)
        if model is Referral:
            return referrals_visible_to(request.user)
        return super().scoped_choices(request, model)


class _NullListFilter(admin.SimpleListFilter):
    """Yes/no on whether `field_name` is set."""

    field_name = ""

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(**{f"{self.field_name}__isnull": False})
        if self.value() == "no":
            return queryset.filter(**{f"{self.field_name}__isnull": True})
        return queryset


class MergedFilter(_NullListFilter):
    title = _("merged")
    parameter_name = field_name = "merged_into"


class WithdrawnFilter(_NullListFilter):
    title = _("withdrawn")
    parameter_name = field_name = "withdrawn_on"


class UndoneFilter(_NullListFilter):
    title = _("undone")
    parameter_name = field_name = "undone_at"


class DoneFilter(_NullListFilter):
    title = _("done")
    parameter_name = field_name = "done_on"


@admin.register(Person)
class PersonAdmin(RecordImportExportMixin, ClientRecordMixin, ScopedHistoryAdmin, ServiceAdmin):
    resource_classes = (PersonResource,)
    date_hierarchy = "created_at"
    list_display = (
        "__str__",
        "kind",
        "team",
        "birth_year",
        "gender",
        "identity_code_masked",
        "engaged_on",
        "is_merged",
    )
    list_filter = ("kind", "gender", TeamListFilter, MergedFilter)
    list_select_related = ("team",)
    # The identity code is searched only by an exact match, never by a part.
    search_fields = ("alias", "first_name", "last_name", "=identity_code")

    def get_queryset(self, request):
        return persons_visible_to(request.user, include_merged=True)

    def get_fields(self, request, obj=None):
        fields = ["team", "alias", "birth_year", "gender", "engaged_on", "notes"]
        if obj is not None:
            # A hold is put on a record that exists (retention leaves it alone).
            fields.append("legal_hold")
        if obj is not None and obj.kind == Person.Kind.NAMED:
            # Only a named person, who has consented, carries identifiers.
            fields[2:2] = ["first_name", "last_name", "identity_code", "phone", "email"]
        return fields + [name for name in self.get_readonly_fields(request, obj) if name not in fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # A person's encounters and referrals belong to their team, so the
        # team does not change here.
        return ["team", "kind", "merged_into", "retention_flagged_on", "created_by", "created_at"]

    @admin.display(description=_("personal identity code"))
    def identity_code_masked(self, obj):
        return obj.identity_code_masked

    @admin.display(description=_("merged"), boolean=True)
    def is_merged(self, obj):
        return obj.merged_into_id is not None

    def service_save(self, request, data, original):
        if original is None:
            return services.person_create(actor=request.user, **data)
        return services.person_update(actor=request.user, person=original, **data)


@admin.register(PersonMerge)
class PersonMergeAdmin(ClientRecordMixin, RoleAdmin):
    change_roles = NOBODY
    date_hierarchy = "merged_at"
    list_display = ("merged_at", "merged", "kept", "merged_by", "undone_at")
    list_filter = (UndoneFilter,)
    list_select_related = ("merged", "kept", "merged_by")

    def persons_of(self, obj):
        return [obj.kept, obj.merged]

    def get_queryset(self, request):
        persons = persons_visible_to(request.user, include_merged=True)
        return PersonMerge.objects.filter(kept__in=persons).select_related("merged", "kept", "merged_by", "undone_by")


@admin.register(Consent)
class ConsentAdmin(ClientRecordMixin, RoleAdmin):
    change_roles = NOBODY
    date_hierarchy = "given_on"
    list_display = ("person", "scope", "given_on", "withdrawn_on", "recorded_by")
    list_filter = ("scope", WithdrawnFilter)
    list_select_related = ("person", "recorded_by")
    search_fields = ("person__alias", "person__last_name")

    def get_queryset(self, request):
        return consents_visible_to(request.user)


@admin.register(Encounter)
class EncounterAdmin(RecordImportExportMixin, ClientRecordMixin, ScopedHistoryAdmin, ServiceAdmin):
    resource_classes = (EncounterResource,)
    delete_roles = COORDINATION
    date_hierarchy = "occurred_on"
    list_display = (
        "occurred_at",
        "site",
        "team",
        "contact_kind",
        "depth",
        "person",
        "need_labels",
        "duration_minutes",
    )
    list_filter = (
        "depth",
        "contact_kind",
        "anonymous",
        "site__site_type",
        "site__municipality",
        TeamListFilter,
        code_set_filter("needs", _("needs"), Need),
        code_set_filter("actions", _("actions taken"), Action),
    )
    list_select_related = ("site", "team", "person")
    search_fields = ("site__name", "person__alias")
    autocomplete_fields = ("site", "outing")
    # Not autocomplete: its search term (a name) would travel in the URL.
    raw_id_fields = ("person",)
    filter_horizontal = ("workers",)
    fields = (
        "team",
        "site",
        "outing",
        "occurred_at",
        "contact_kind",
        "depth",
        "person",
        "gender",
        "age_group",
        "first_contact",
        "needs",
        "actions",
        "duration_minutes",
        "workers",
        "notes",
        "anonymous",
        "client_uuid",
        "created_by",
        "created_at",
    )
    readonly_fields = ("anonymous", "client_uuid", "created_by", "created_at")
    # Counting millions of rows twice per page is not worth the number.
    show_full_result_count = False

    def get_queryset(self, request):
        return encounters_visible_to(request.user)

    @admin.display(description=_("needs"))
    def need_labels(self, obj):
        return code_labels(obj.needs, Need)

    def service_save(self, request, data, original):
        workers = list(data.pop("workers", []))
        if original is None:
            # Without workers, the service takes the outing's (or the actor).
            return services.encounter_create(actor=request.user, workers=workers or None, **data)
        unchanged = set(original.workers.values_list("pk", flat=True)) == {worker.pk for worker in workers}
        return services.encounter_update(
            actor=request.user, encounter=original, workers=None if unchanged else workers, **data
        )

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or permissions.can_delete_encounter(request.user, obj))

    def delete_model(self, request, obj):
        services.encounter_delete(actor=request.user, encounter=obj)


@admin.register(Referral)
class ReferralAdmin(RecordImportExportMixin, ClientRecordMixin, ScopedHistoryAdmin, ServiceAdmin):
    resource_classes = (ReferralResource,)
    date_hierarchy = "referred_on"
    list_display = ("referred_on", "service_kind", "status", "team", "partner", "person", "follow_up_due")
    list_filter = (
        "status",
        "service_kind",
        TeamListFilter,
        ("partner", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("team", "partner", "person")
    search_fields = ("person__alias", "partner__name")
    autocomplete_fields = ("encounter", "partner")
    raw_id_fields = ("person",)
    fields = (
        "team",
        "person",
        "encounter",
        "service_kind",
        "partner",
        "status",
        "referred_on",
        "follow_up_due",
        "outcome_notes",
        "status_changed_on",
        "made_on",
        "connected_on",
        "closed_on",
        "client_uuid",
        "created_by",
        "created_at",
    )
    readonly_fields = (
        "status_changed_on",
        "made_on",
        "connected_on",
        "closed_on",
        "client_uuid",
        "created_by",
        "created_at",
    )
    show_full_result_count = False

    def get_queryset(self, request):
        return referrals_visible_to(request.user)

    def service_save(self, request, data, original):
        if original is None:
            return services.referral_create(actor=request.user, **data)
        return services.referral_update(actor=request.user, referral=original, **data)


@admin.register(FollowUp)
class FollowUpAdmin(ClientRecordMixin, ServiceAdmin):
    date_hierarchy = "due_on"
    list_display = ("due_on", "done_on", "contact_kind", "team", "person", "referral", "assigned_to")
    list_filter = ("contact_kind", DoneFilter, TeamListFilter)
    list_select_related = ("team", "person", "referral", "assigned_to")
    search_fields = ("person__alias",)
    autocomplete_fields = ("referral",)
    raw_id_fields = ("person",)

    def get_queryset(self, request):
        return follow_ups_visible_to(request.user)

    def get_fields(self, request, obj=None):
        fields = ["team", "referral", "person", "assigned_to", "due_on", "contact_kind", "notes"]
        # A follow-up is made open and marked done when it is.
        return fields if obj is None else [*fields[:5], "done_on", *fields[5:]]

    def service_save(self, request, data, original):
        if original is None:
            return services.follow_up_create(actor=request.user, **data)
        return services.follow_up_update(actor=request.user, follow_up=original, **data)


# Report rollups: derived rows, kept by the services; shown read-only for support.


@admin.register(ReferralConfirmation)
class ReferralConfirmationAdmin(RoleAdmin):
    """The partners' confirmation links, for support: read-only; the link itself is never stored."""

    read_only = True
    date_hierarchy = "created_at"
    list_display = ("created_at", "referral_id", "created_by", "expires_at", "used_at", "outcome")
    list_filter = ("outcome",)
    list_select_related = ("created_by",)
    exclude = ("token_digest",)
    show_full_result_count = False


@admin.register(EncounterDayCount)
class EncounterDayCountAdmin(RoleAdmin):
    read_only = True
    date_hierarchy = "day"
    list_display = ("day", "team_id", "site_id", "total", "anonymous", "conversation")
    show_full_result_count = False


@admin.register(EncounterMixCount)
class EncounterMixCountAdmin(RoleAdmin):
    read_only = True
    date_hierarchy = "day"
    list_display = ("day", "team_id", "site_id", "gender", "age_group", "depth", "encounters")
    show_full_result_count = False


@admin.register(PersonDayCount)
class PersonDayCountAdmin(RoleAdmin):
    # Ids only: the list must not show persons' names.
    read_only = True
    date_hierarchy = "day"
    list_display = ("day", "person_id", "team_id", "site_id", "encounters")
    show_full_result_count = False


@admin.register(PersonFirstEncounter)
class PersonFirstEncounterAdmin(RoleAdmin):
    read_only = True
    list_display = ("person_id", "first_on")
    show_full_result_count = False


@admin.register(ReferralDayCount)
class ReferralDayCountAdmin(RoleAdmin):
    read_only = True
    date_hierarchy = "day"
    list_display = (
        "day",
        "team_id",
        "site_id",
        "service_kind",
        "status",
        "has_made_on",
        "has_connected_on",
        "referrals",
    )
    show_full_result_count = False
