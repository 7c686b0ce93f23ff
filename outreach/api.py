"""REST API for the ground floor: sites, outings, teams, municipalities and
the caller. The conventions every resource follows, and the fields, mixins
and error mapping they share, are in `outreach.drf`.
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .drf import (
    CONFLICT_RESPONSE,
    ManagerWritePermission,
    MunicipalityCodeField,
    NoExpertWritePermission,
    ServiceViewSet,
    TeamDefaultMixin,
    TimeOfDayField,
    VisibleRelatedField,
    date_range_filterset,
    municipality_filter,
    text_field,
    visible_choice_filter,
)
from .models import FieldSite, Municipality, Outing, Team, User
from .permissions import manages_every_site
from .selectors import (
    outings_visible_to,
    sites_visible_to,
    teams_visible_to,
    users_visible_to,
)
from .services import (
    outing_create,
    outing_tally_record,
    outing_update,
    site_create,
    site_update,
    was_replayed,
)
from .types import authed_user
from .vocabulary import OutingStatus, SiteType

# Municipalities and teams --------------------------------------------------


class MunicipalitySerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Municipality
        fields = ("id", "code", "name", "name_fi", "name_sv", "outreach_active")


class MunicipalityFilter(filters.FilterSet):
    class Meta:
        model = Municipality
        fields = ("outreach_active",)


class MunicipalityViewSet(viewsets.ReadOnlyModelViewSet):
    """The municipalities, addressed by their Statistics Finland code (`/municipalities/297/`)."""

    serializer_class = MunicipalitySerializer
    queryset = Municipality.objects.all()
    lookup_field = "code"
    lookup_value_regex = r"[0-9]{3}"
    filterset_class = MunicipalityFilter
    ordering_fields = ("code", "name_fi")
    ordering = ("code",)


class TeamSerializer(serializers.ModelSerializer):
    # many=True gives a list of them; the stubs type the field itself.
    municipalities: "serializers.SlugRelatedField[Municipality]" = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Team
        fields = ("id", "name", "area", "municipalities", "active")


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """The teams the caller sees: their own (a coordinator: also the other teams of their areas)."""

    serializer_class = TeamSerializer
    lookup_value_regex = r"[0-9]{1,18}"
    filterset_fields = ("active",)
    ordering_fields = ("name", "id")
    ordering = ("name",)

    def get_queryset(self):
        return teams_visible_to(authed_user(self.request)).prefetch_related("municipalities")


# The caller ----------------------------------------------------------------


class MeSerializer(serializers.ModelSerializer):
    teams: "serializers.PrimaryKeyRelatedField[Team]" = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = User
        fields = ("id", "email", "full_name", "role", "teams", "is_superuser")
        read_only_fields = fields


class UserViewSet(viewsets.GenericViewSet):
    serializer_class = MeSerializer

    def get_queryset(self):
        return users_visible_to(authed_user(self.request))

    @extend_schema(summary="The signed-in user", responses=MeSerializer)
    @action(detail=False, methods=["get"])
    def me(self, request):
        """The caller: id, e-mail, role and the ids of the teams they belong to."""
        return Response(MeSerializer(request.user).data)


# Sites ---------------------------------------------------------------------


class SiteSerializer(serializers.ModelSerializer):
    site_type = serializers.ChoiceField(choices=SiteType.choices)
    municipality = MunicipalityCodeField()
    team = VisibleRelatedField(
        scope=lambda user: Team.objects.all() if manages_every_site(user) else teams_visible_to(user),
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("The team responsible for the site, if any."),
    )
    address = text_field(max_length=300)
    schedule_start_time = TimeOfDayField(required=False, allow_null=True)
    schedule_end_time = TimeOfDayField(required=False, allow_null=True)

    class Meta:
        model = FieldSite
        fields = (
            "id",
            "name",
            "site_type",
            "municipality",
            "active",
            "team",
            "address",
            "latitude",
            "longitude",
            "season_start_month",
            "season_end_month",
            "schedule_weekday",
            "schedule_start_time",
            "schedule_end_time",
            "schedule_every_weeks",
            "created_at",
        )
        read_only_fields = ("created_at",)


class SiteFilter(filters.FilterSet):
    site_type = filters.ChoiceFilter(choices=SiteType.choices)
    municipality = municipality_filter("municipality")
    team = visible_choice_filter(teams_visible_to)
    name = filters.CharFilter(lookup_expr="icontains", help_text=_("Part of the name."))

    class Meta:
        model = FieldSite
        fields = ("site_type", "municipality", "team", "active", "name")


class SiteViewSet(ServiceViewSet):
    """Places where outreach happens. Every signed-in user reads them; coordinators and
    administrators create and change them. A site is never deleted: set `active` to false."""

    serializer_class = SiteSerializer
    permission_classes = (permissions.IsAuthenticated, ManagerWritePermission)
    filterset_class = SiteFilter
    ordering_fields = ("name", "site_type", "id", "created_at")
    ordering = ("name",)

    def get_queryset(self):
        return sites_visible_to(authed_user(self.request))

    def perform_create(self, serializer):
        serializer.instance = site_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = site_update(
            actor=authed_user(self.request), site=serializer.instance, **serializer.validated_data
        )


# Outings -------------------------------------------------------------------


class OutingSerializer(TeamDefaultMixin, serializers.ModelSerializer):
    team = VisibleRelatedField(
        scope=teams_visible_to,
        queryset=Team.objects.all(),
        required=False,
        help_text=_("May be left out by a user who belongs to exactly one team."),
    )
    site = VisibleRelatedField(scope=sites_visible_to, queryset=FieldSite.objects.all())
    date = serializers.DateField()
    start_time = TimeOfDayField(help_text=_("HH:MM (HH:MM:SS accepted)."))
    end_time = TimeOfDayField(required=False, allow_null=True, help_text=_("HH:MM (HH:MM:SS accepted)."))
    status = serializers.ChoiceField(choices=OutingStatus.choices, required=False)
    participants = VisibleRelatedField(
        scope=users_visible_to,
        queryset=User.objects.all(),
        many=True,
        required=False,
        help_text=_("Ids of the users taking part, workers and experts by experience alike."),
    )
    tallied_contacts = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    observations = text_field()
    notes = text_field()
    duration_hours = serializers.FloatField(read_only=True)
    started_at = serializers.DateTimeField(
        read_only=True,
        help_text=_("When the outing was started; null while it is not. An outing is in progress only once started."),
    )

    class Meta:
        model = Outing
        fields = (
            "id",
            "team",
            "site",
            "date",
            "start_time",
            "end_time",
            "status",
            "participants",
            "tallied_contacts",
            "observations",
            "notes",
            "duration_hours",
            "started_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("created_at", "updated_at")


class OutingFilter(date_range_filterset("date")):  # type: ignore[misc]  # a base made per date field
    site = visible_choice_filter(sites_visible_to)
    team = visible_choice_filter(teams_visible_to)
    status = filters.ChoiceFilter(choices=OutingStatus.choices)
    site_type = filters.ChoiceFilter(field_name="site__site_type", choices=SiteType.choices)
    municipality = municipality_filter("site__municipality")
    participant = visible_choice_filter(
        users_visible_to, field_name="participants", help_text=_("Id of a user taking part.")
    )

    class Meta:
        model = Outing
        fields = ("site", "team", "status", "site_type", "municipality", "participant")


class TallySerializer(serializers.Serializer):
    delta = serializers.IntegerField(
        min_value=-1000, max_value=1000, help_text=_("How many to add; negative to correct a mistaken tap.")
    )
    client_uuid = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=_("Generated by the device; a resend with the same UUID counts once."),
    )


class TallyResultSerializer(serializers.Serializer):
    outing = serializers.IntegerField()
    delta = serializers.IntegerField()
    client_uuid = serializers.UUIDField(allow_null=True)
    tallied_contacts = serializers.IntegerField(help_text=_("The tally after this change."))


@extend_schema_view(
    create=extend_schema(responses={201: OutingSerializer}),
)
class OutingViewSet(ServiceViewSet):
    """Planned and performed visits to sites. Never deleted: set `status` to `cancelled`.

    Experts by experience see the outings they take part in and may add to the tally, nothing else."""

    serializer_class = OutingSerializer
    permission_classes = (permissions.IsAuthenticated, NoExpertWritePermission)
    filterset_class = OutingFilter
    ordering_fields = ("date", "start_time", "status", "id")
    ordering = ("-date", "-start_time")

    def get_queryset(self):
        return outings_visible_to(authed_user(self.request)).prefetch_related("participants")

    def get_permissions(self):
        if self.action == "tally":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def perform_create(self, serializer):
        serializer.instance = outing_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = outing_update(
            actor=authed_user(self.request), outing=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        summary="Add to the tally of brief contacts",
        request=TallySerializer,
        responses={
            201: OpenApiResponse(TallyResultSerializer, description="Counted."),
            200: OpenApiResponse(
                TallyResultSerializer,
                description="A resend of an earlier tap with the same `client_uuid`: not counted again; the "
                "answer is the one given the first time. Header `Idempotent-Replayed: true`.",
            ),
            409: CONFLICT_RESPONSE,
        },
    )
    @action(detail=True, methods=["post"])
    def tally(self, request, pk=None):
        """Count people greeted without an individual record. The tally never goes below zero."""
        outing = self.get_object()
        serializer = TallySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delta = serializer.validated_data["delta"]
        client_uuid = serializer.validated_data.get("client_uuid")
        event = outing_tally_record(actor=request.user, outing=outing, delta=delta, client_uuid=client_uuid)
        body = {
            "outing": outing.pk,
            "delta": delta,
            "client_uuid": client_uuid,
            "tallied_contacts": event.tallied_after,
        }
        if was_replayed(event):
            return Response(TallyResultSerializer(body).data, headers={"Idempotent-Replayed": "true"})
        return Response(TallyResultSerializer(body).data, status=status.HTTP_201_CREATED)
