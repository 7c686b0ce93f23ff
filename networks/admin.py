"""Partners and networks in the admin, for coordinators and admins.

Every record here is saved through networks.services; partners, services and
networks are deactivated rather than deleted, memberships end with
`left_on`: referrals and meetings keep pointing at them. Partners, their
services and contact persons import and export as the API's columns
(networks.resources). See outreach/admin.py for the role rules.
"""

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from outreach.admin import COORDINATION, ServiceAdmin, TeamListFilter, code_labels, code_set_filter
from outreach.resources import RecordImportExportMixin
from outreach.vocabulary import ServiceKind

from . import services
from .models import (
    CommunicationActivity,
    ContactPerson,
    CooperationAgreement,
    MeetingTask,
    Network,
    NetworkMeeting,
    NetworkMembership,
    PartnerOrganisation,
    PartnerService,
)
from .resources import ContactPersonResource, PartnerResource, PartnerServiceResource


class DirectoryAdmin(ServiceAdmin):
    """Saved by `create(actor=…, **data)` / `update(actor=…, <record>=original, **data)`."""

    view_roles = COORDINATION
    create: Any = None
    update: Any = None
    record_argument = ""

    def service_save(self, request, data, original):
        if original is None:
            return type(self).create(actor=request.user, **data)
        return type(self).update(actor=request.user, **{self.record_argument: original}, **data)


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(RecordImportExportMixin, DirectoryAdmin):
    resource_classes = (PartnerResource,)
    create, update, record_argument = services.partner_create, services.partner_update, "partner"
    list_display = ("name", "kind", "service_labels", "phone", "active")
    list_filter = ("kind", "active", code_set_filter("services", _("services offered"), ServiceKind), "municipalities")
    search_fields = ("name", "description")
    filter_horizontal = ("municipalities",)

    @admin.display(description=_("services offered"))
    def service_labels(self, obj):
        return code_labels(obj.services, ServiceKind)


@admin.register(PartnerService)
class PartnerServiceAdmin(RecordImportExportMixin, DirectoryAdmin):
    resource_classes = (PartnerServiceResource,)
    create, update, record_argument = services.partner_service_create, services.partner_service_update, "service"
    list_display = ("name", "partner", "service_kind", "active")
    list_filter = ("service_kind", "active", "municipalities")
    list_select_related = ("partner",)
    search_fields = ("name", "partner__name", "description")
    autocomplete_fields = ("partner",)
    filter_horizontal = ("municipalities",)


@admin.register(ContactPerson)
class ContactPersonAdmin(RecordImportExportMixin, DirectoryAdmin):
    resource_classes = (ContactPersonResource,)
    create, update, record_argument = services.contact_create, services.contact_update, "contact"
    delete_roles = COORDINATION
    list_display = ("name", "partner", "role", "email", "phone", "active")
    list_filter = ("active", "partner__kind")
    list_select_related = ("partner",)
    search_fields = ("name", "email", "partner__name")
    autocomplete_fields = ("partner",)


@admin.register(Network)
class NetworkAdmin(DirectoryAdmin):
    create, update, record_argument = services.network_create, services.network_update, "network"
    list_display = ("name", "kind", "coordinating_team", "active")
    list_filter = ("kind", "active")
    list_select_related = ("coordinating_team",)
    search_fields = ("name", "purpose")
    autocomplete_fields = ("member_contacts",)


@admin.register(NetworkMembership)
class NetworkMembershipAdmin(DirectoryAdmin):
    create, update, record_argument = services.membership_create, services.membership_update, "membership"
    list_display = ("organisation", "network", "joined_on", "left_on")
    list_filter = ("network",)
    list_select_related = ("organisation", "network")
    search_fields = ("organisation__name", "network__name")
    autocomplete_fields = ("organisation", "representatives")


@admin.register(CooperationAgreement)
class CooperationAgreementAdmin(DirectoryAdmin):
    create, update, record_argument = services.agreement_create, services.agreement_update, "agreement"
    date_hierarchy = "agreed_on"
    list_display = ("title", "network", "agreed_on", "review_on", "ends_on")
    list_filter = ("network",)
    list_select_related = ("network",)
    search_fields = ("title", "description")
    autocomplete_fields = ("parties",)


@admin.register(NetworkMeeting)
class NetworkMeetingAdmin(DirectoryAdmin):
    create, update, record_argument = services.meeting_create, services.meeting_update, "meeting"
    date_hierarchy = "date"
    list_display = ("date", "network", "participant_count")
    list_filter = ("network",)
    list_select_related = ("network",)
    search_fields = ("network__name", "topics", "decisions")
    autocomplete_fields = ("organisations", "contacts")
    filter_horizontal = ("staff",)


@admin.register(MeetingTask)
class MeetingTaskAdmin(DirectoryAdmin):
    create, update, record_argument = services.task_create, services.task_update, "task"
    list_display = ("title", "meeting", "owner_user", "owner_contact", "due_on", "done_on")
    list_filter = ("meeting__network",)
    list_select_related = ("meeting__network", "owner_user", "owner_contact")
    search_fields = ("title",)
    autocomplete_fields = ("owner_contact",)

    def service_save(self, request, data, original):
        if original is not None:
            data.pop("meeting", None)
        return super().service_save(request, data, original)


@admin.register(CommunicationActivity)
class CommunicationActivityAdmin(DirectoryAdmin):
    create, update, record_argument = services.communication_create, services.communication_update, "activity"
    date_hierarchy = "date"
    list_display = ("date", "title", "kind", "team", "audience", "audience_size")
    list_filter = ("kind", TeamListFilter)
    list_select_related = ("team",)
    search_fields = ("title", "audience", "description")
    readonly_fields = ("created_by",)
