"""Partners and networks in the admin, for coordinators and admins.

Partners and networks are saved through networks.services and deactivated
rather than deleted: referrals and meetings keep pointing at them. Contact
persons, meetings and communication activities have no service; RoleAdmin
writes their audit entries. See outreach/admin.py for the role rules.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from outreach.admin import COORDINATION, RoleAdmin, ServiceAdmin, TeamListFilter, code_labels, code_set_filter
from outreach.vocabulary import ServiceKind

from . import services
from .models import CommunicationActivity, ContactPerson, Network, NetworkMeeting, PartnerOrganisation


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(ServiceAdmin):
    view_roles = COORDINATION
    list_display = ["name", "kind", "service_labels", "phone", "active"]
    list_filter = ["kind", "active", code_set_filter("services", _("services offered"), ServiceKind), "municipalities"]
    search_fields = ["name", "description"]
    filter_horizontal = ["municipalities"]

    @admin.display(description=_("services offered"))
    def service_labels(self, obj):
        return code_labels(obj.services, ServiceKind)

    def service_save(self, request, data, original):
        if original is None:
            return services.partner_create(actor=request.user, **data)
        return services.partner_update(actor=request.user, partner=original, **data)


@admin.register(ContactPerson)
class ContactPersonAdmin(RoleAdmin):
    view_roles = COORDINATION
    delete_roles = COORDINATION
    list_display = ["name", "partner", "role", "email", "phone", "active"]
    list_filter = ["active", "partner__kind"]
    list_select_related = ["partner"]
    search_fields = ["name", "email", "partner__name"]
    autocomplete_fields = ["partner"]


@admin.register(Network)
class NetworkAdmin(ServiceAdmin):
    view_roles = COORDINATION
    list_display = ["name", "kind", "coordinating_team", "active"]
    list_filter = ["kind", "active"]
    list_select_related = ["coordinating_team"]
    search_fields = ["name", "purpose"]
    autocomplete_fields = ["member_contacts"]

    def service_save(self, request, data, original):
        if original is None:
            return services.network_create(actor=request.user, **data)
        return services.network_update(actor=request.user, network=original, **data)


@admin.register(NetworkMeeting)
class NetworkMeetingAdmin(RoleAdmin):
    view_roles = COORDINATION
    delete_roles = COORDINATION
    date_hierarchy = "date"
    list_display = ["date", "network", "participant_count"]
    list_filter = ["network"]
    list_select_related = ["network"]
    search_fields = ["network__name", "topics", "decisions"]
    autocomplete_fields = ["organisations", "contacts"]
    filter_horizontal = ["staff"]


@admin.register(CommunicationActivity)
class CommunicationActivityAdmin(RoleAdmin):
    view_roles = COORDINATION
    delete_roles = COORDINATION
    date_hierarchy = "date"
    list_display = ["date", "title", "kind", "team", "audience", "audience_size"]
    list_filter = ["kind", TeamListFilter]
    list_select_related = ["team"]
    search_fields = ["title", "audience", "description"]
    readonly_fields = ["created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
