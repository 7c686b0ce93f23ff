"""REST API for persons, encounters, referrals and follow-ups.

Shared conventions (visibility, errors, `team`, exactly-once creates) are
described in `outreach.drf`.

Named persons: the API creates pseudonymous persons only. A person becomes
named through `POST /api/v1/persons/{id}/make-named/`, which records the
consent that a named record needs, exactly as the service does for the UI;
afterwards the named fields can be changed with PUT/PATCH. Experts by
experience never see named persons nor the named fields, and cannot name
anyone.
"""

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from networks.models import PartnerOrganisation, PartnerService
from networks.selectors import partner_services_visible_to
from outreach.drf import (
    IdempotentCreateMixin,
    NoExpertPermission,
    NoExpertWritePermission,
    ServiceViewSet,
    TeamDefaultMixin,
    VersionedMixin,
    VisibleRelatedField,
    date_range_filterset,
    idempotent_create_responses,
    municipality_filter,
    request_user,
    text_field,
    visible_choice_filter,
)
from outreach.models import AccessLogEntry, FieldSite, Outing, Team, User
from outreach.selectors import outings_visible_to, sites_visible_to, teams_visible_to, users_visible_to
from outreach.services import was_replayed
from outreach.types import authed_user
from outreach.validators import validate_not_future_year
from outreach.vocabulary import (
    Action,
    AgeGroup,
    ContactKind,
    Depth,
    Gender,
    Need,
    ReferralStatus,
    ServiceKind,
    SiteType,
)

from .models import BIRTH_YEAR_MIN, Consent, Encounter, FollowUp, Person, Referral
from .selectors import (
    can_read_access_log,
    encounters_visible_to,
    follow_ups_visible_to,
    partner_link,
    persons_similar,
    persons_visible_to,
    referrals_visible_to,
)
from .services import (
    DIRECT_IDENTIFIERS,
    access_log_default_since,
    encounter_create,
    encounter_delete,
    encounter_update,
    follow_up_create,
    follow_up_update,
    person_access_log,
    person_access_log_report,
    person_create,
    person_identity_code_reveal,
    person_make_named,
    person_update,
    quick_log_save,
    referral_confirmation_create,
    referral_create,
    referral_update,
)
from .validators import validate_identity_code

TEAM_HELP = _("May be left out by a user who belongs to exactly one team.")


def _team_field():
    return VisibleRelatedField(scope=teams_visible_to, queryset=Team.objects.all(), required=False, help_text=TEAM_HELP)


def _partners(user):
    return PartnerOrganisation.objects.all()


class AccessLoggedMixin:
    """Every list page and record read that shows a person's data writes access-log rows.

    `person_of(obj)` names the person a record belongs to; the persons on a
    page get one row each (encounters.services.person_access_log).
    """

    def person_of(self, obj) -> Person | None:
        return getattr(obj, "person", None)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        # No filter on identity codes: an unknown parameter is otherwise ignored, but one that
        # names an identity code is refused, so that no script fishes by part of one.
        refused = sorted(name for name in request.query_params if "identity_code" in name)
        if refused:
            raise serializers.ValidationError(
                {name: [_("Persons are not looked up by identity code.")] for name in refused}
            )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)  # type: ignore[misc]
        if page is not None:
            self._log_access(page, AccessLogEntry.Action.LIST)
        return page

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()  # type: ignore[attr-defined]
        self._log_access([instance], AccessLogEntry.Action.VIEW)
        return Response(self.get_serializer(instance).data)  # type: ignore[attr-defined]

    def _log_access(self, records, action: str) -> None:
        person_access_log(
            actor=authed_user(self.request),  # type: ignore[attr-defined]
            persons=[self.person_of(record) for record in records],
            action=action,
            door=AccessLogEntry.Door.API,
        )


# Persons -------------------------------------------------------------------


class PersonSerializer(TeamDefaultMixin, serializers.ModelSerializer):
    team = _team_field()
    kind = serializers.ChoiceField(
        choices=Person.Kind.choices,
        read_only=True,
        help_text=_("`named` only after consent: see POST /api/v1/persons/{id}/make-named/."),
    )
    alias = serializers.CharField(max_length=100, required=False, allow_blank=True)
    birth_year = serializers.IntegerField(required=False, allow_null=True)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    identity_code = serializers.CharField(max_length=11, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    engaged_on = serializers.DateField(required=False, allow_null=True)
    notes = text_field()

    class Meta:
        model = Person
        fields = (
            "id",
            "team",
            "kind",
            "alias",
            "birth_year",
            "gender",
            "first_name",
            "last_name",
            "identity_code",
            "phone",
            "email",
            "engaged_on",
            "notes",
            "merged_into",
            "created_at",
            "updated_at",
            "version",
        )
        read_only_fields = ("merged_into", "created_at", "updated_at", "version")

    def validate_identity_code(self, value: str) -> str:
        # A client that sends back what it read (the masked code) changes nothing.
        if self.instance is not None and value and value == self.instance.identity_code_masked:
            return self.instance.identity_code
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if request_user(self).is_expert:
            for name in DIRECT_IDENTIFIERS:
                data.pop(name, None)
        elif "identity_code" in data:
            # Shown masked, as on the pages; the whole code by POST .../identity-code/, which is logged.
            data["identity_code"] = instance.identity_code_masked
        return data


class MakeNamedSerializer(serializers.Serializer):
    consent_scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Consent.Scope.choices),
        min_length=1,
        max_length=10,
        help_text=_("What the person agreed to; must include `personal_data`."),
    )
    consent_given_on = serializers.DateField(required=False, allow_null=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    identity_code = serializers.CharField(max_length=11, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class AccessLogQuerySerializer(serializers.Serializer):
    since = serializers.DateField(required=False, help_text=_("First day; default: two years back."))
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text=_("Needed for entries older than the default.")
    )


class AccessLogRowSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    user = serializers.IntegerField(allow_null=True, help_text=_("The user's id; null for the system."))
    action = serializers.CharField()
    door = serializers.CharField()


class AccessLogSerializer(serializers.Serializer):
    results = AccessLogRowSerializer(many=True)


class SimilarQuerySerializer(serializers.Serializer):
    """What a new person would be: any of these fields (none gives no results)."""

    alias = serializers.CharField(max_length=100, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    birth_year = serializers.IntegerField(required=False, allow_null=True, min_value=BIRTH_YEAR_MIN)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True)
    identity_code = serializers.CharField(
        max_length=11, required=False, allow_blank=True, validators=[validate_identity_code]
    )

    def validate_birth_year(self, value: int | None) -> int | None:
        if value is not None:
            validate_not_future_year(value)
        return value


class SimilarPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=["identity_code", "alias", "name", "birth_year", "gender"])
    )


class SimilarResultsSerializer(serializers.Serializer):
    results = SimilarPersonSerializer(many=True)


class IdentityCodeSerializer(serializers.Serializer):
    identity_code = serializers.CharField()


class PersonFilter(filters.FilterSet):
    team = visible_choice_filter(teams_visible_to)
    gender = filters.ChoiceFilter(choices=Gender.choices)
    kind = filters.ChoiceFilter(choices=Person.Kind.choices)
    alias = filters.CharFilter(lookup_expr="icontains", help_text=_("Part of the alias."))

    class Meta:
        model = Person
        fields = ("team", "gender", "kind", "alias", "birth_year")


class PersonViewSet(AccessLoggedMixin, VersionedMixin, ServiceViewSet):
    """People met more than once. Created pseudonymous (alias, birth year, gender); named only
    with consent through `make-named`. Merged records are left out of the list; their own URL
    still answers, with `merged_into`."""

    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    ordering_fields = ("alias", "birth_year", "created_at", "id")
    ordering = ("alias", "id")

    def get_queryset(self):
        # Merged records are found by id (their links keep working) but not listed.
        return persons_visible_to(authed_user(self.request), include_merged=self.action != "list")

    def person_of(self, obj):
        return obj

    def perform_create(self, serializer):
        serializer.instance = person_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = person_update(
            actor=authed_user(self.request),
            person=serializer.instance,
            expected_version=self.expected_version(),
            door=AccessLogEntry.Door.API,
            **serializer.validated_data,
        )

    @extend_schema(
        summary="Likely duplicates of a person about to be created",
        request=SimilarQuerySerializer,
        responses={200: SimilarResultsSerializer},
    )
    @action(detail=False, methods=["post"], url_path="similar")
    def similar(self, request):
        """The caller's visible persons that may be the person described, best first, at most 10, each
        with its reasons (`identity_code`, `alias`, `name`, `birth_year`, `gender`). A POST, so that names
        stay out of URLs. Creating a person does not check again: a client asks here first and creates
        only when the worker says it is a new person."""
        query = SimilarQuerySerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = {name: value for name, value in query.validated_data.items() if value not in (None, "")}
        found = persons_similar(request.user, **data) if data else []
        self._log_access([match.person for match in found], AccessLogEntry.Action.SEARCH)
        results = [{"id": match.person.pk, "reasons": match.reasons} for match in found]
        return Response(SimilarResultsSerializer({"results": results}).data)

    @extend_schema(
        summary="Reveal a named person's whole identity code (logged)",
        request=None,
        responses={200: IdentityCodeSerializer},
    )
    @action(detail=True, methods=["post"], url_path="identity-code")
    def identity_code(self, request, pk=None):
        """The whole identity code, which reads otherwise show masked (`131052-***T`). Each reveal is
        written to the person's access log. Not for experts by experience (403); 404 without a code."""
        person = self.get_object()
        if request.user.is_expert:
            self.permission_denied(request)
        if not person.identity_code:
            raise Http404
        code = person_identity_code_reveal(actor=request.user, person=person, door=AccessLogEntry.Door.API)
        return Response(IdentityCodeSerializer({"identity_code": code}).data)

    @extend_schema(
        summary="The person's access log (coordinators)",
        parameters=[AccessLogQuerySerializer],
        responses={200: AccessLogSerializer},
    )
    @action(detail=True, methods=["get"], url_path="access-log")
    def access_log(self, request, pk=None):
        """Who used this person's data, newest first: the last two years by default (ACCESS_LOG_DEFAULT_DAYS);
        `since` goes further back with a `reason`, which is logged. Producing the log writes a row of its
        own. Coordinators only: workers and experts by experience get 403."""
        if not can_read_access_log(request.user):
            self.permission_denied(request)
        person = self.get_object()
        query = AccessLogQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = person_access_log_report(
            actor=request.user,
            person=person,
            since=query.validated_data.get("since") or access_log_default_since(),
            reason=query.validated_data.get("reason", ""),
            door=AccessLogEntry.Door.API,
        )
        return Response(AccessLogSerializer({"results": rows}).data)

    @extend_schema(
        summary="Make a pseudonymous person named, recording consent",
        request=MakeNamedSerializer,
        responses={200: PersonSerializer},
    )
    @action(detail=True, methods=["post"], url_path="make-named")
    def make_named(self, request, pk=None):
        """Record the person's consent and their name (and optionally identity code and contact
        details). Not for experts by experience."""
        person = self.get_object()
        if request.user.is_expert:
            self.permission_denied(request)
        serializer = MakeNamedSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if person.kind == Person.Kind.NAMED:
            raise serializers.ValidationError({"non_field_errors": [_("This person is named already.")]})
        person_make_named(actor=request.user, person=person, **serializer.validated_data)
        return Response(self.fresh_data(person))


# Encounters ----------------------------------------------------------------


class EncounterSerializer(TeamDefaultMixin, serializers.ModelSerializer):
    team = _team_field()
    client_uuid = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=_("Generated by the device; a repeated create with the same UUID makes one record."),
    )
    outing = VisibleRelatedField(
        scope=outings_visible_to, queryset=Outing.objects.all(), required=False, allow_null=True
    )
    site = VisibleRelatedField(
        scope=sites_visible_to,
        queryset=FieldSite.objects.all(),
        required=False,
        help_text=_("May be left out when an outing is given: the outing's site."),
    )
    occurred_at = serializers.DateTimeField(
        help_text=_("ISO 8601 with offset, e.g. 2026-05-12T10:30:00+03:00; shown in Europe/Helsinki time."),
    )
    contact_kind = serializers.ChoiceField(choices=ContactKind.choices, required=False)
    depth = serializers.ChoiceField(choices=Depth.choices, required=False)
    person = VisibleRelatedField(
        scope=persons_visible_to,
        queryset=Person.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Null for an anonymous encounter."),
    )
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    age_group = serializers.ChoiceField(choices=AgeGroup.choices, required=False)
    first_contact = serializers.BooleanField(required=False, allow_null=True)
    needs = serializers.ListField(child=serializers.ChoiceField(choices=Need.choices), required=False, max_length=50)
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=Action.choices), required=False, max_length=50
    )
    duration_minutes = serializers.IntegerField(required=False, allow_null=True)
    notes = text_field()
    workers = VisibleRelatedField(
        scope=users_visible_to,
        queryset=User.objects.all(),
        many=True,
        required=False,
        help_text=_("Ids of the workers; left out: the outing's participants (or the caller)."),
    )

    class Meta:
        model = Encounter
        fields = (
            "id",
            "team",
            "client_uuid",
            "outing",
            "site",
            "occurred_at",
            "occurred_on",
            "contact_kind",
            "depth",
            "anonymous",
            "person",
            "gender",
            "age_group",
            "first_contact",
            "needs",
            "actions",
            "duration_minutes",
            "notes",
            "workers",
            "created_by",
            "created_at",
            "updated_at",
            "version",
        )
        read_only_fields = ("occurred_on", "anonymous", "created_by", "created_at", "updated_at", "version")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is None and attrs.get("site") is None:
            if attrs.get("outing") is None:
                raise serializers.ValidationError({"site": _("Give the site, or the outing.")})
            attrs["site"] = attrs["outing"].site
        return attrs


class EncounterFilter(date_range_filterset("occurred_on")):  # type: ignore[misc]  # a base made per date field
    site = visible_choice_filter(sites_visible_to)
    outing = visible_choice_filter(outings_visible_to)
    team = visible_choice_filter(teams_visible_to)
    person = visible_choice_filter(persons_visible_to)
    municipality = municipality_filter("site__municipality")
    site_type = filters.ChoiceFilter(field_name="site__site_type", choices=SiteType.choices)
    contact_kind = filters.ChoiceFilter(choices=ContactKind.choices)
    depth = filters.ChoiceFilter(choices=Depth.choices)
    gender = filters.ChoiceFilter(choices=Gender.choices)
    age_group = filters.ChoiceFilter(choices=AgeGroup.choices)
    need = filters.ChoiceFilter(choices=Need.choices, method="filter_need", help_text=_("Encounters with this need."))

    class Meta:
        model = Encounter
        fields = ("anonymous",)

    def filter_need(self, queryset, name, value):
        return queryset.filter(needs__has=value)


class QuickLogSerializer(serializers.Serializer):
    """The field page's quick log: an encounter at an outing, optionally with a new person and a referral."""

    outing = VisibleRelatedField(scope=outings_visible_to, queryset=Outing.objects.all())
    occurred_at = serializers.DateTimeField(required=False, help_text=_("Left out: now."))
    client_uuid = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=_("Generated by the device; a resend with the same UUID logs once."),
    )
    person = VisibleRelatedField(
        scope=persons_visible_to, queryset=Person.objects.all(), required=False, allow_null=True
    )
    contact_kind = serializers.ChoiceField(choices=ContactKind.choices, required=False)
    depth = serializers.ChoiceField(choices=Depth.choices, required=False)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    age_group = serializers.ChoiceField(choices=AgeGroup.choices, required=False)
    first_contact = serializers.BooleanField(required=False, allow_null=True)
    needs = serializers.ListField(child=serializers.ChoiceField(choices=Need.choices), required=False, max_length=50)
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=Action.choices), required=False, max_length=50
    )
    duration_minutes = serializers.IntegerField(required=False, allow_null=True)
    notes = text_field()
    new_alias = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text=_("A new pseudonymous person, met now.")
    )
    new_birth_year = serializers.IntegerField(required=False, allow_null=True)
    new_gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True)
    referral_service_kind = serializers.ChoiceField(
        choices=ServiceKind.choices, required=False, allow_blank=True, help_text=_("A referral made now.")
    )
    referral_partner = VisibleRelatedField(
        scope=_partners, queryset=PartnerOrganisation.objects.all(), required=False, allow_null=True
    )
    referral_status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)


@extend_schema_view(create=extend_schema(responses=idempotent_create_responses(EncounterSerializer)))
class EncounterViewSet(
    AccessLoggedMixin, VersionedMixin, IdempotentCreateMixin, mixins.DestroyModelMixin, ServiceViewSet
):
    """Meetings, anonymous or with a person. Experts by experience see and log encounters only in
    the outings they take part in. An encounter is deleted by its author on the day it was logged,
    or by a coordinator."""

    serializer_class = EncounterSerializer
    filterset_class = EncounterFilter
    ordering_fields = ("occurred_at", "created_at", "id")
    ordering = ("-occurred_at", "-id")

    def get_queryset(self):
        return encounters_visible_to(authed_user(self.request)).prefetch_related("workers")

    def perform_create(self, serializer):
        serializer.instance = encounter_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        fields.pop("client_uuid", None)  # fixed at creation
        serializer.instance = encounter_update(
            actor=authed_user(self.request),
            encounter=serializer.instance,
            expected_version=self.expected_version(),
            door=AccessLogEntry.Door.API,
            **fields,
        )

    @extend_schema(responses={204: OpenApiResponse(description="Deleted.")})
    def destroy(self, request, *args, **kwargs):
        encounter_delete(actor=request.user, encounter=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Log an encounter at an outing, with a new person and a referral, all or nothing",
        request=QuickLogSerializer,
        responses=idempotent_create_responses(EncounterSerializer),
    )
    @action(detail=False, methods=["post"], url_path="quick-log")
    def quick_log(self, request):
        """The field page's quick log (`quick_log_save`): errors of the new person's fields are keyed
        `new_*`, those of the referral `referral_*`."""
        serializer = QuickLogSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.setdefault("occurred_at", timezone.now())
        for name in ("new_alias", "new_gender", "referral_service_kind"):
            data[name] = data.get(name) or ""
        encounter = quick_log_save(actor=request.user, **data)
        if was_replayed(encounter):
            return Response(self.fresh_data(encounter), headers={"Idempotent-Replayed": "true"})
        return Response(self.fresh_data(encounter), status=status.HTTP_201_CREATED)


# Referrals -----------------------------------------------------------------


class ReferralSerializer(TeamDefaultMixin, serializers.ModelSerializer):
    team = _team_field()
    person = VisibleRelatedField(
        scope=persons_visible_to,
        queryset=Person.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Left out with an encounter: the encounter's person."),
    )
    encounter = VisibleRelatedField(
        scope=encounters_visible_to, queryset=Encounter.objects.all(), required=False, allow_null=True
    )
    service_kind = serializers.ChoiceField(
        choices=ServiceKind.choices,
        required=False,
        help_text=_("Required unless `partner_service` is given, whose kind it defaults to."),
    )
    partner = VisibleRelatedField(
        scope=_partners,
        queryset=PartnerOrganisation.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Defaults to the partner of `partner_service`."),
    )
    partner_service = VisibleRelatedField(
        scope=partner_services_visible_to,
        queryset=PartnerService.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("The partner's service referred to (see `partner-services`); an inactive one is refused."),
    )
    status = serializers.ChoiceField(
        choices=ReferralStatus.choices,
        required=False,
        help_text=_(
            "Any status at creation; afterwards only forward: suggested → made, declined, not_reached or "
            "ended; made → connected, declined, not_reached or ended; connected → ended."
        ),
    )
    referred_on = serializers.DateField(required=False, help_text=_("Defaults to today."))
    follow_up_due = serializers.DateField(required=False, allow_null=True)
    outcome_notes = text_field()
    client_uuid = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=_("Generated by the client; a repeated create with the same UUID makes one record."),
    )

    class Meta:
        model = Referral
        fields = (
            "id",
            "team",
            "client_uuid",
            "person",
            "encounter",
            "service_kind",
            "partner",
            "partner_service",
            "status",
            "referred_on",
            "status_changed_on",
            "made_on",
            "connected_on",
            "closed_on",
            "follow_up_due",
            "outcome_notes",
            "created_at",
            "updated_at",
            "version",
        )
        read_only_fields = (
            "status_changed_on",
            "made_on",
            "connected_on",
            "closed_on",
            "created_at",
            "updated_at",
            "version",
        )


class ConfirmationLinkRequestSerializer(serializers.Serializer):
    send_to = serializers.EmailField(
        required=False, allow_blank=True, help_text=_("The partner's contact person's e-mail: the link is sent there.")
    )


class ConfirmationLinkSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class ReferralFilter(date_range_filterset("referred_on")):  # type: ignore[misc]  # a base made per date field
    team = visible_choice_filter(teams_visible_to)
    person = visible_choice_filter(persons_visible_to)
    encounter = visible_choice_filter(encounters_visible_to)
    partner = visible_choice_filter(_partners)
    status = filters.ChoiceFilter(choices=ReferralStatus.choices)
    service_kind = filters.ChoiceFilter(choices=ServiceKind.choices)
    municipality = municipality_filter("encounter__site__municipality")
    site_type = filters.ChoiceFilter(field_name="encounter__site__site_type", choices=SiteType.choices)
    site = visible_choice_filter(sites_visible_to, field_name="encounter__site")

    class Meta:
        model = Referral
        fields = ("team", "person", "encounter", "partner", "status", "service_kind")


@extend_schema_view(create=extend_schema(responses=idempotent_create_responses(ReferralSerializer)))
class ReferralViewSet(AccessLoggedMixin, VersionedMixin, IdempotentCreateMixin, ServiceViewSet):
    """Referrals to services. The status moves only forward; a refused change is a 400 naming
    `status`. Experts by experience get 403: referrals are case work they do not see."""

    serializer_class = ReferralSerializer
    permission_classes = (permissions.IsAuthenticated, NoExpertPermission)
    filterset_class = ReferralFilter
    ordering_fields = ("referred_on", "status", "follow_up_due", "id")
    ordering = ("-referred_on", "-id")

    def get_queryset(self):
        return referrals_visible_to(authed_user(self.request))

    def perform_create(self, serializer):
        serializer.instance = referral_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        fields.pop("client_uuid", None)  # fixed at creation
        serializer.instance = referral_update(
            actor=authed_user(self.request),
            referral=serializer.instance,
            expected_version=self.expected_version(),
            door=AccessLogEntry.Door.API,
            **fields,
        )

    @extend_schema(
        summary="A single-use link for the partner to confirm whether the person arrived",
        request=ConfirmationLinkRequestSerializer,
        responses={201: ConfirmationLinkSerializer},
    )
    @action(detail=True, methods=["post"], url_path="confirmation-link")
    def confirmation_link(self, request, pk=None):
        """Answers the link (`url`, shown once: only a digest of it is stored) and when it expires. The
        link's page shows the partner only the service, the date and the referral's reference; the
        partner answers `arrived` or `not_arrived` once, without an account. With `send_to` the link is
        also e-mailed there. Only a suggested or made referral can be confirmed."""
        referral = self.get_object()
        serializer = ConfirmationLinkRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        confirmation, token = referral_confirmation_create(
            actor=authed_user(request),
            referral=referral,
            send_to=serializer.validated_data.get("send_to", ""),
            link_for=lambda token: partner_link(request, token),
        )
        data = {"url": partner_link(request, token), "expires_at": confirmation.expires_at}
        return Response(ConfirmationLinkSerializer(data).data, status=status.HTTP_201_CREATED)


# Follow-ups ----------------------------------------------------------------


class FollowUpSerializer(TeamDefaultMixin, serializers.ModelSerializer):
    team = _team_field()
    referral = VisibleRelatedField(
        scope=referrals_visible_to, queryset=Referral.objects.all(), required=False, allow_null=True
    )
    person = VisibleRelatedField(
        scope=persons_visible_to, queryset=Person.objects.all(), required=False, allow_null=True
    )
    assigned_to = VisibleRelatedField(
        scope=users_visible_to,
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Left out: the caller."),
    )
    due_on = serializers.DateField()
    done_on = serializers.DateField(required=False, allow_null=True)
    contact_kind = serializers.ChoiceField(choices=ContactKind.choices, required=False)
    notes = text_field()

    class Meta:
        model = FollowUp
        fields = (
            "id",
            "team",
            "referral",
            "person",
            "assigned_to",
            "due_on",
            "done_on",
            "contact_kind",
            "notes",
            "created_at",
        )
        read_only_fields = ("created_at",)


class FollowUpFilter(date_range_filterset("due_on")):  # type: ignore[misc]  # a base made per date field
    team = visible_choice_filter(teams_visible_to)
    person = visible_choice_filter(persons_visible_to)
    referral = visible_choice_filter(referrals_visible_to)
    assigned_to = visible_choice_filter(users_visible_to)
    done = filters.BooleanFilter(field_name="done_on", lookup_expr="isnull", exclude=True, help_text=_("Done or not."))

    class Meta:
        model = FollowUp
        fields = ("team", "person", "referral", "assigned_to", "contact_kind")


class FollowUpViewSet(AccessLoggedMixin, ServiceViewSet):
    """Support contacts after a referral (or with a person), with due dates. Mark one done by
    setting `done_on`. Not for experts by experience."""

    serializer_class = FollowUpSerializer
    permission_classes = (permissions.IsAuthenticated, NoExpertWritePermission)
    filterset_class = FollowUpFilter
    ordering_fields = ("due_on", "done_on", "id")
    ordering = ("due_on", "id")

    def get_queryset(self):
        return follow_ups_visible_to(authed_user(self.request))

    def perform_create(self, serializer):
        serializer.instance = follow_up_create(actor=authed_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = follow_up_update(
            actor=authed_user(self.request), follow_up=serializer.instance, **serializer.validated_data
        )
