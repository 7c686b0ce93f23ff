"""REST API for partner organisations and networks.

Every signed-in user reads them (they are organisations, not clients);
coordinators, administrators and superusers create and change them. Neither
is deleted: set `active` to false, so that referrals and meetings keep their
links. Shared conventions are described in `outreach.drf`.
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from rest_framework import permissions, serializers

from outreach.drf import (
    ManagerWritePermission,
    MunicipalityCodeField,
    ServiceViewSet,
    VisibleRelatedField,
    municipality_filter,
    text_field,
)
from outreach.models import Team
from outreach.selectors import teams_visible_to
from outreach.types import authed_user
from outreach.vocabulary import ServiceKind

from .models import ContactPerson, Network, PartnerOrganisation
from .services import network_create, network_update, partner_create, partner_update


def _all_partners(user):
    return PartnerOrganisation.objects.all()


def _all_contacts(user):
    return ContactPerson.objects.all()


class ContactPersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPerson
        fields = ("id", "name", "title", "email", "phone", "active")
        read_only_fields = fields


class PartnerSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=PartnerOrganisation.Kind.choices, required=False)
    municipalities = MunicipalityCodeField(
        many=True, required=False, help_text=_("Statistics Finland codes of the municipalities served.")
    )
    services = serializers.ListField(
        child=serializers.ChoiceField(choices=ServiceKind.choices),
        required=False,
        max_length=50,
        help_text=_("Services offered: the service kinds referrals to this partner name."),
    )
    description = text_field()
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    contacts = ContactPersonSerializer(many=True, read_only=True)

    class Meta:
        model = PartnerOrganisation
        fields = (
            "id",
            "name",
            "kind",
            "municipalities",
            "services",
            "description",
            "website",
            "phone",
            "address",
            "active",
            "contacts",
        )


class PartnerFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=PartnerOrganisation.Kind.choices)
    municipality = municipality_filter("municipalities")
    service = filters.ChoiceFilter(
        choices=ServiceKind.choices, method="filter_service", help_text=_("Partners offering this service.")
    )
    name = filters.CharFilter(lookup_expr="icontains", help_text=_("Part of the name."))

    class Meta:
        model = PartnerOrganisation
        fields = ("kind", "municipality", "service", "active", "name")

    def filter_service(self, queryset, name, value):
        return queryset.filter(services__has=value)


class PartnerViewSet(ServiceViewSet):
    """Partner organisations: referral targets and network members."""

    serializer_class = PartnerSerializer
    permission_classes = (permissions.IsAuthenticated, ManagerWritePermission)
    filterset_class = PartnerFilter
    ordering_fields = ("name", "kind", "id")
    ordering = ("name",)

    def get_queryset(self):
        return PartnerOrganisation.objects.prefetch_related("municipalities", "contacts")

    def perform_create(self, serializer):
        serializer.instance = partner_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = partner_update(
            actor=authed_user(self.request), partner=serializer.instance, **serializer.validated_data
        )


class NetworkSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Network.Kind.choices, required=False)
    purpose = text_field()
    ways_of_cooperation = text_field()
    member_organisations = VisibleRelatedField(
        scope=_all_partners, queryset=PartnerOrganisation.objects.all(), many=True, required=False
    )
    member_contacts = VisibleRelatedField(
        scope=_all_contacts, queryset=ContactPerson.objects.all(), many=True, required=False
    )
    coordinating_team = VisibleRelatedField(
        scope=teams_visible_to, queryset=Team.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Network
        fields = (
            "id",
            "name",
            "kind",
            "purpose",
            "ways_of_cooperation",
            "member_organisations",
            "member_contacts",
            "coordinating_team",
            "active",
        )


class NetworkFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Network.Kind.choices)
    member_organisation = filters.ModelChoiceFilter(
        field_name="member_organisations",
        queryset=PartnerOrganisation.objects.all(),
        help_text=_("Networks this partner belongs to."),
    )

    class Meta:
        model = Network
        fields = ("kind", "active", "member_organisation")


class NetworkViewSet(ServiceViewSet):
    """Networks of the organisations doing outreach or low-threshold work."""

    serializer_class = NetworkSerializer
    permission_classes = (permissions.IsAuthenticated, ManagerWritePermission)
    filterset_class = NetworkFilter
    ordering_fields = ("name", "kind", "id")
    ordering = ("name",)

    def get_queryset(self):
        return Network.objects.prefetch_related("member_organisations", "member_contacts")

    def perform_create(self, serializer):
        serializer.instance = network_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = network_update(
            actor=authed_user(self.request), network=serializer.instance, **serializer.validated_data
        )
