"""Bulk import and export of partner organisations, their services and contact persons.

The same machinery as every other resource (`outreach.resources`): the API's
serializers parse each row, the services write it with the acting user, the
import is all or nothing with `line N: column: message`, formula cells are
guarded. A coordinator's own spreadsheet has no ids: a row without an `id`
is the record of the same name (for services and contacts: of the same
organisation) when there is one, so importing the same sheet again changes
nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from outreach.models import User
from outreach.resources import ServiceResource, _as_text, is_blank

from . import services
from .api import ContactPersonSerializer, PartnerSerializer, PartnerServiceSerializer
from .models import ContactPerson, PartnerOrganisation, PartnerService
from .permissions import can_manage_networks
from .selectors import contacts_visible_to, partner_services_visible_to, partners_visible_to


class DirectoryResource(ServiceResource):
    """Directory records: managed by coordinators and admins; a row without an id finds its record by name."""

    def can_import(self, user: User) -> bool:
        return can_manage_networks(user)

    def natural_key(self, row: Any) -> dict[str, Any] | None:
        name = _as_text(row.get("name") or "").strip()
        return {"name": name} if name else None

    def get_instance(self, instance_loader, row):
        found = super().get_instance(instance_loader, row)
        if found is not None or not is_blank(row.get("id")):
            return found
        key = self.natural_key(row)
        if key is None:
            return None
        self.check_repeat("name", tuple(sorted(key.items())), row)
        return self.existing_queryset().filter(**key).first()


class PartnerResource(DirectoryResource):
    serializer_class = PartnerSerializer

    class Meta:
        model = PartnerOrganisation
        name = "partners"
        # The API's fields but the partner's contact persons, which are a resource of their own.
        fields = tuple(name for name in PartnerSerializer.Meta.fields if name != "contacts")

    def scope(self, user: User) -> QuerySet:
        return partners_visible_to(user).prefetch_related("municipalities")

    def create(self, values):
        return services.partner_create(actor=self.acting_user, **values)

    def update(self, instance, changes):
        return services.partner_update(actor=self.acting_user, partner=instance, **changes)


class _OfPartnerResource(DirectoryResource):
    def natural_key(self, row: Any) -> dict[str, Any] | None:
        name = _as_text(row.get("name") or "").strip()
        partner = _as_text(row.get("partner") or "").strip()
        if not name or not partner.isdigit() or len(partner) > 18:
            return None
        return {"name": name, "partner_id": int(partner)}


class PartnerServiceResource(_OfPartnerResource):
    serializer_class = PartnerServiceSerializer

    class Meta:
        model = PartnerService
        name = "partner_services"
        fields = tuple(PartnerServiceSerializer.Meta.fields)

    def scope(self, user: User) -> QuerySet:
        return partner_services_visible_to(user).select_related("partner").prefetch_related("municipalities")

    def create(self, values):
        return services.partner_service_create(actor=self.acting_user, **values)

    def update(self, instance, changes):
        return services.partner_service_update(actor=self.acting_user, service=instance, **changes)


class ContactPersonResource(_OfPartnerResource):
    """Partner staff: personal data, exported only to those who may read them (`contacts_visible_to`)."""

    serializer_class = ContactPersonSerializer

    class Meta:
        model = ContactPerson
        name = "contact_persons"
        fields = tuple(ContactPersonSerializer.Meta.fields)

    def scope(self, user: User) -> QuerySet:
        return contacts_visible_to(user).select_related("partner")

    def create(self, values):
        return services.contact_create(actor=self.acting_user, **values)

    def update(self, instance, changes):
        return services.contact_update(actor=self.acting_user, contact=instance, **changes)
