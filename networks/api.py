"""REST API for the partner directory, networks, meetings and the communication log.

Every signed-in user reads partners, their services and networks (they are
organisations, not clients); partner staff's contact persons are personal
data that experts by experience do not read. Coordinators, administrators
and superusers write the directory, networks, memberships, agreements,
meetings and tasks; workers get 403. Workers and coordinators read and write
the communication log. Nothing here is deleted: set `active` to false, or
`left_on` / `ends_on` / `done_on`. Shared conventions are described in
`outreach.drf`.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers

from outreach.drf import (
    ManagerWritePermission,
    MunicipalityCodeField,
    ServiceViewSet,
    TeamDefaultMixin,
    VisibleRelatedField,
    municipality_filter,
    text_field,
)
from outreach.models import Team, User
from outreach.selectors import teams_visible_to, users_visible_to
from outreach.types import authed_user
from outreach.vocabulary import ServiceKind

from . import selectors, services
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
from .permissions import can_log_communication, can_read_contacts


def _user(serializer: Any) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class ContactsPermission(permissions.BasePermission):
    """Contact persons: read by those who may read them, written by coordinators and admins."""

    def has_permission(self, request, view):
        return can_read_contacts(request.user) and ManagerWritePermission().has_permission(request, view)


class CommunicationPermission(permissions.BasePermission):
    def has_permission(self, request, view):
        return can_log_communication(request.user)


# Partners, their services and contact persons --------------------------------


class ContactPersonSerializer(serializers.ModelSerializer):
    partner = VisibleRelatedField(scope=selectors.partners_visible_to, queryset=PartnerOrganisation.objects.all())
    role = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)

    class Meta:
        model = ContactPerson
        fields = ("id", "partner", "name", "role", "email", "phone", "active")


class PartnerContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPerson
        fields = ("id", "name", "role", "email", "phone", "active")
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
        help_text=_("Kinds of service offered (the services themselves are `partner-services`)."),
    )
    description = text_field()
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    opening_hours = serializers.CharField(max_length=300, required=False, allow_blank=True)
    contacts = serializers.SerializerMethodField(
        help_text=_("The partner's contact persons, for those who may read them; empty for anyone else.")
    )

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
            "opening_hours",
            "active",
            "contacts",
        )

    @extend_schema_field(PartnerContactSerializer(many=True))
    def get_contacts(self, partner: PartnerOrganisation) -> list:
        user = _user(self)
        if user is None or not can_read_contacts(user):
            return []
        return list(PartnerContactSerializer(partner.contacts.all(), many=True).data)


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
        return selectors.partners_visible_to(authed_user(self.request)).prefetch_related("municipalities", "contacts")

    def perform_create(self, serializer):
        serializer.instance = services.partner_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.partner_update(
            actor=authed_user(self.request), partner=serializer.instance, **serializer.validated_data
        )


class PartnerServiceSerializer(serializers.ModelSerializer):
    partner = VisibleRelatedField(scope=selectors.partners_visible_to, queryset=PartnerOrganisation.objects.all())
    service_kind = serializers.ChoiceField(choices=ServiceKind.choices)
    description = text_field()
    how_to_refer = text_field()
    municipalities = MunicipalityCodeField(
        many=True,
        required=False,
        help_text=_("Statistics Finland codes of the municipalities served; empty: all the partner serves."),
    )

    class Meta:
        model = PartnerService
        fields = ("id", "partner", "name", "service_kind", "description", "how_to_refer", "municipalities", "active")


class PartnerServiceFilter(filters.FilterSet):
    service_kind = filters.ChoiceFilter(choices=ServiceKind.choices)
    municipality = filters.CharFilter(
        method="filter_municipality",
        help_text=_("Statistics Finland code: services in this municipality (or naming none)."),
    )
    partner = filters.ModelChoiceFilter(queryset=PartnerOrganisation.objects.all())

    class Meta:
        model = PartnerService
        fields = ("service_kind", "partner", "active")

    def filter_municipality(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(municipalities__code=value) | Q(municipalities__isnull=True)).distinct()


class PartnerServiceViewSet(ServiceViewSet):
    """The services partners offer: the targets referrals name (`partner_service`)."""

    serializer_class = PartnerServiceSerializer
    permission_classes = (permissions.IsAuthenticated, ManagerWritePermission)
    filterset_class = PartnerServiceFilter
    ordering_fields = ("name", "service_kind", "id")
    ordering = ("name", "id")

    def get_queryset(self):
        return selectors.partner_services_visible_to(authed_user(self.request)).prefetch_related("municipalities")

    def perform_create(self, serializer):
        serializer.instance = services.partner_service_create(
            actor=authed_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.partner_service_update(
            actor=authed_user(self.request), service=serializer.instance, **serializer.validated_data
        )


class ContactPersonViewSet(ServiceViewSet):
    """Partner staff to contact. Their names and details are personal data: experts by experience get 403."""

    serializer_class = ContactPersonSerializer
    permission_classes = (permissions.IsAuthenticated, ContactsPermission)
    filterset_fields = ("partner", "active")
    ordering_fields = ("name", "id")
    ordering = ("name", "id")

    def get_queryset(self):
        return selectors.contacts_visible_to(authed_user(self.request))

    def perform_create(self, serializer):
        serializer.instance = services.contact_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.contact_update(
            actor=authed_user(self.request), contact=serializer.instance, **serializer.validated_data
        )


# Networks, memberships, agreements -------------------------------------------


class NetworkSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Network.Kind.choices, required=False)
    purpose = text_field()
    ways_of_cooperation = text_field()
    member_organisations = serializers.SerializerMethodField(
        help_text=_("Ids of the organisations whose membership is in force today (see `memberships`).")
    )
    member_contacts = VisibleRelatedField(
        scope=selectors.contacts_visible_to, queryset=ContactPerson.objects.all(), many=True, required=False
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

    def get_member_organisations(self, network: Network) -> list[int]:
        return sorted({m.organisation_id for m in network.memberships.all() if m.current})


class NetworkFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Network.Kind.choices)
    member_organisation = filters.ModelChoiceFilter(
        field_name="memberships__organisation",
        queryset=PartnerOrganisation.objects.all(),
        distinct=True,
        help_text=_("Networks this partner belongs or belonged to."),
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
        return selectors.networks_visible_to(authed_user(self.request)).prefetch_related(
            "memberships", "member_contacts"
        )

    def perform_create(self, serializer):
        serializer.instance = services.network_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.network_update(
            actor=authed_user(self.request), network=serializer.instance, **serializer.validated_data
        )


def _network_field() -> VisibleRelatedField:
    return VisibleRelatedField(scope=selectors.networks_visible_to, queryset=Network.objects.all())


def _partners_field(**kwargs: Any) -> VisibleRelatedField:
    return VisibleRelatedField(
        scope=selectors.partners_visible_to, queryset=PartnerOrganisation.objects.all(), many=True, **kwargs
    )


class MembershipSerializer(serializers.ModelSerializer):
    network = _network_field()
    organisation = VisibleRelatedField(scope=selectors.partners_visible_to, queryset=PartnerOrganisation.objects.all())
    joined_on = serializers.DateField(
        required=False, allow_null=True, help_text=_("Null: a member since before the records began.")
    )
    left_on = serializers.DateField(required=False, allow_null=True)
    representatives = VisibleRelatedField(
        scope=selectors.contacts_visible_to, queryset=ContactPerson.objects.all(), many=True, required=False
    )

    class Meta:
        model = NetworkMembership
        fields = ("id", "network", "organisation", "joined_on", "left_on", "representatives")


class MembershipViewSet(ServiceViewSet):
    """Organisations' dated memberships of networks; leaving sets `left_on`, the record stays."""

    serializer_class = MembershipSerializer
    permission_classes = (permissions.IsAuthenticated, ManagerWritePermission)
    filterset_fields = ("network", "organisation")
    ordering_fields = ("joined_on", "left_on", "id")
    ordering = ("id",)

    def get_queryset(self):
        return selectors.memberships_visible_to(authed_user(self.request)).prefetch_related("representatives")

    def perform_create(self, serializer):
        serializer.instance = services.membership_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.membership_update(
            actor=authed_user(self.request), membership=serializer.instance, **serializer.validated_data
        )


class AgreementSerializer(serializers.ModelSerializer):
    network = _network_field()
    description = text_field()
    parties = _partners_field(required=False)
    review_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)

    class Meta:
        model = CooperationAgreement
        fields = ("id", "network", "title", "description", "parties", "agreed_on", "review_on", "ends_on")


class AgreementViewSet(ServiceViewSet):
    """Cooperation agreements of the networks."""

    serializer_class = AgreementSerializer
    permission_classes = (permissions.IsAuthenticated, ManagerWritePermission)
    filterset_fields = ("network",)
    ordering_fields = ("agreed_on", "review_on", "id")
    ordering = ("-agreed_on", "id")

    def get_queryset(self):
        return selectors.agreements_visible_to(authed_user(self.request)).prefetch_related("parties")

    def perform_create(self, serializer):
        serializer.instance = services.agreement_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.agreement_update(
            actor=authed_user(self.request), agreement=serializer.instance, **serializer.validated_data
        )


# Meetings and tasks ----------------------------------------------------------------


class MeetingSerializer(serializers.ModelSerializer):
    network = _network_field()
    organisations = _partners_field(required=False, help_text=_("Ids of the organisations present."))
    contacts = VisibleRelatedField(
        scope=selectors.contacts_visible_to, queryset=ContactPerson.objects.all(), many=True, required=False
    )
    staff = VisibleRelatedField(
        scope=users_visible_to,
        queryset=User.objects.all(),
        many=True,
        required=False,
        help_text=_("Ids of our staff present."),
    )
    participant_count = serializers.IntegerField(min_value=0, max_value=100_000, required=False, allow_null=True)
    topics = text_field()
    decisions = text_field()
    tasks: "serializers.PrimaryKeyRelatedField[MeetingTask]" = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = NetworkMeeting
        fields = (
            "id",
            "network",
            "date",
            "organisations",
            "contacts",
            "staff",
            "participant_count",
            "topics",
            "decisions",
            "tasks",
        )


class MeetingFilter(filters.FilterSet):
    start = filters.DateFilter(field_name="date", lookup_expr="gte", help_text=_("From this date."))
    end = filters.DateFilter(field_name="date", lookup_expr="lte", help_text=_("Until this date."))

    class Meta:
        model = NetworkMeeting
        fields = ("network", "start", "end")


class MeetingViewSet(ServiceViewSet):
    """Network meetings: who was there, what was talked about and decided."""

    serializer_class = MeetingSerializer
    permission_classes = (permissions.IsAuthenticated, ManagerWritePermission)
    filterset_class = MeetingFilter
    ordering_fields = ("date", "id")
    ordering = ("-date", "-id")

    def get_queryset(self):
        return selectors.meetings_visible_to(authed_user(self.request)).prefetch_related(
            "organisations", "contacts", "staff", "tasks"
        )

    def perform_create(self, serializer):
        serializer.instance = services.meeting_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.meeting_update(
            actor=authed_user(self.request), meeting=serializer.instance, **serializer.validated_data
        )


class MeetingTaskSerializer(serializers.ModelSerializer):
    meeting = VisibleRelatedField(scope=selectors.meetings_visible_to, queryset=NetworkMeeting.objects.all())
    owner_user = VisibleRelatedField(
        scope=users_visible_to, queryset=User.objects.all(), required=False, allow_null=True
    )
    owner_contact = VisibleRelatedField(
        scope=selectors.contacts_visible_to, queryset=ContactPerson.objects.all(), required=False, allow_null=True
    )
    due_on = serializers.DateField(required=False, allow_null=True)
    done_on = serializers.DateField(required=False, allow_null=True)

    class Meta:
        model = MeetingTask
        fields = ("id", "meeting", "title", "owner_user", "owner_contact", "due_on", "done_on")


class MeetingTaskFilter(filters.FilterSet):
    open = filters.BooleanFilter(field_name="done_on", lookup_expr="isnull", help_text=_("Not done."))

    class Meta:
        model = MeetingTask
        fields = ("meeting", "owner_user", "owner_contact", "open")


class MeetingTaskViewSet(ServiceViewSet):
    """Tasks agreed at network meetings; done when `done_on` is set."""

    serializer_class = MeetingTaskSerializer
    permission_classes = (permissions.IsAuthenticated, ManagerWritePermission)
    filterset_class = MeetingTaskFilter
    ordering_fields = ("due_on", "id")
    ordering = ("id",)

    def get_queryset(self):
        return selectors.tasks_visible_to(authed_user(self.request))

    def perform_create(self, serializer):
        serializer.instance = services.task_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("meeting", None)  # a task stays with its meeting
        serializer.instance = services.task_update(actor=authed_user(self.request), task=serializer.instance, **data)


# Communication -----------------------------------------------------------------------


class CommunicationSerializer(TeamDefaultMixin, serializers.ModelSerializer):
    team = VisibleRelatedField(
        scope=teams_visible_to,
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("May be left out by a user who belongs to exactly one team."),
    )
    kind = serializers.ChoiceField(choices=CommunicationActivity.Kind.choices)
    audience = serializers.CharField(max_length=200, required=False, allow_blank=True)
    audience_size = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False, allow_null=True)
    link = serializers.URLField(max_length=200, required=False, allow_blank=True)
    description = text_field()

    class Meta:
        model = CommunicationActivity
        fields = ("id", "team", "kind", "title", "date", "audience", "audience_size", "link", "description")

    def validate(self, attrs):
        if self.instance is None and "team" in getattr(self, "initial_data", {}) and attrs.get("team") is None:
            # An explicit null: an activity of no team (a coordinator's or an admin's).
            return serializers.ModelSerializer.validate(self, attrs)
        return super().validate(attrs)


class CommunicationFilter(filters.FilterSet):
    start = filters.DateFilter(field_name="date", lookup_expr="gte", help_text=_("From this date."))
    end = filters.DateFilter(field_name="date", lookup_expr="lte", help_text=_("Until this date."))
    kind = filters.ChoiceFilter(choices=CommunicationActivity.Kind.choices)

    class Meta:
        model = CommunicationActivity
        fields = ("team", "kind", "start", "end")


class CommunicationViewSet(ServiceViewSet):
    """The communication log: presentations, articles, social media, trainings and events."""

    serializer_class = CommunicationSerializer
    permission_classes = (permissions.IsAuthenticated, CommunicationPermission)
    filterset_class = CommunicationFilter
    ordering_fields = ("date", "id")
    ordering = ("-date", "-id")

    def get_queryset(self):
        return selectors.communication_visible_to(authed_user(self.request))

    def perform_create(self, serializer):
        serializer.instance = services.communication_create(
            actor=authed_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.communication_update(
            actor=authed_user(self.request), activity=serializer.instance, **serializer.validated_data
        )
