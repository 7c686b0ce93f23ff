"""What every API module shares: error mapping, the schema's error
responses, serializer fields scoped by the selectors, the viewset plumbing
for writes through the services, exactly-once creation and permissions.

Parsing and pagination, which DRF's settings name and import early, are in
`outreach.api_support`; the ground floor's own resources are in
`outreach.api`.

Conventions that hold for every resource under /api/v1/:

- Reads go through the selectors: a record the caller may not see is a 404 on
  its own URL, absent from lists, and "does not exist" (400 naming the field)
  when its id is given in a write.
- Writes go through the services; their ValidationError (keyed by field)
  becomes a 400 with the same keys, PermissionDenied a 403.
- `team` may be left out of a create where the caller belongs to exactly one
  team; otherwise the create gets a 400 naming `team`.
- Creates that accept `client_uuid` are exactly-once: the first answer is
  201; a repeat with the same UUID and the same content answers 200 with the
  same record (header `Idempotent-Replayed: true`) and changes nothing; a
  repeat whose content differs, or whose record the caller may not see, gets
  409 and changes nothing.
- Persons, encounters and referrals carry a `version`: a read of one record
  and the answer to a PUT/PATCH carry it as a strong `ETag` (`"v3"`). A
  PUT/PATCH with an `If-Match` that names another version answers 412 and
  changes nothing (the body names the fields changed meanwhile); without
  `If-Match` it proceeds.
"""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import Model, QuerySet
from django.forms import ModelChoiceField
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import exceptions, generics, mixins, permissions, serializers, status, viewsets
from rest_framework.relations import MANY_RELATION_KWARGS
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from .api_support import Conflict, PayloadTooLarge, PreconditionFailed
from .exceptions import Conflict as ServiceConflict
from .exceptions import StaleVersion
from .models import Municipality, User
from .permissions import is_coordinator_or_admin
from .services import (
    default_team,
    was_replayed,
)

# Shared: errors ------------------------------------------------------------

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def exception_handler(exc, context):
    """DRF's handler, taught Django's ValidationError and DataError (400), a service's Conflict and IntegrityError (409)
    and a body over Django's size limit (413)."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, ServiceConflict):
        exc = Conflict(exc.message)
    elif isinstance(exc, IntegrityError):
        exc = Conflict()
    elif isinstance(exc, DataError):
        # A value the database cannot store (out of range, a NUL byte): the
        # fields validate what they can, this is the net under them.
        exc = exceptions.ValidationError({"non_field_errors": [_("A value in the request is not valid.")]})
    elif isinstance(exc, RequestDataTooBig):
        # Django's own limit, met where the body was read before the parser.
        exc = PayloadTooLarge()
    elif isinstance(exc, StaleVersion):
        response = drf_exception_handler(PreconditionFailed(), context)
        if response is not None:
            response.data["version"] = exc.current_version
            response.data["changed"] = [name for name, _label, _value in exc.changes]
            response["ETag"] = version_etag(exc.current_version)
        return response
    return drf_exception_handler(exc, context)


# Shared: versions (ETag, If-Match) -----------------------------------------

ETAG_VERSION = re.compile(r'"v([0-9]{1,9})"')


def version_etag(version: int) -> str:
    """A record version's strong entity tag, e.g. `"v3"`."""
    return f'"v{version}"'


def if_match_version(request) -> int | None:
    """The version an `If-Match` header names; None without the header or with `*`.

    A tag of no version of ours (a weak tag, anything else) is -1, which no
    record has: the write is refused as a stale one, as HTTP's strong
    comparison asks.
    """
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    for tag in header.split(","):
        match = ETAG_VERSION.fullmatch(tag.strip())
        if match:
            return int(match.group(1))
    return -1


# Shared: the schema's error responses -------------------------------------

ERROR_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
STALE_ERROR = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "version": {"type": "integer"},
        "changed": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["detail", "version", "changed"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": "Messages keyed by the field (or query parameter) they concern; "
    "`non_field_errors` for messages about the whole request.",
    "additionalProperties": {},
}


class AutoSchema(openapi.AutoSchema):
    """Adds the error responses every endpoint can give, so that the schema lists them all."""

    def _checks_version(self) -> bool:
        return self.method in ("PUT", "PATCH") and isinstance(self.view, VersionedMixin)

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._checks_version():
            if_match = OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                description='The ETag of the version the change is based on, e.g. `"v3"`; left out: no check.',
            )
            parameters = [*parameters, if_match]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {
            "401": ("Not authenticated.", ERROR_DETAIL),
            "403": ("Not allowed for this user.", ERROR_DETAIL),
        }
        if self.method in ("POST", "PUT", "PATCH"):
            errors["400"] = ("Invalid input; messages name the fields.", VALIDATION_ERROR)
            errors["413"] = ("The request body is too large.", ERROR_DETAIL)
        elif self.method == "GET" and self._is_list_view():
            errors["400"] = ("An invalid query parameter; messages name the parameters.", VALIDATION_ERROR)
        if "{" in self.path:
            errors["404"] = ("No such record, or not visible to this user.", ERROR_DETAIL)
        if self._checks_version():
            errors["412"] = (
                "`If-Match` names another version than the record's now; nothing was changed. "
                "`version` is the record's version, `changed` the fields changed since.",
                STALE_ERROR,
            )
        for code, (description, schema) in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=schema, description=description), code, direction=direction
                )
        return responses


CONFLICT_RESPONSE = OpenApiResponse(
    response=ERROR_DETAIL,
    description="The `client_uuid` was used already for different content, or for a record this user may "
    "not see. Nothing was changed.",
)


def idempotent_create_responses(serializer) -> dict:
    return {
        201: OpenApiResponse(serializer, description="Created."),
        200: OpenApiResponse(
            serializer,
            description="A repeat of an earlier create with the same `client_uuid` and the same content: the "
            "record made the first time, unchanged. Header `Idempotent-Replayed: true`.",
        ),
        409: CONFLICT_RESPONSE,
    }


# Shared: serializer fields and validation ----------------------------------

# Ids are positive bigints; anything else is refused before a query is made.
PK_FIELD = serializers.IntegerField(min_value=1, max_value=2**63 - 1)

# Free text longer than this is not a note.
MAX_TEXT_LENGTH = 10_000


class StrictCharField(serializers.CharField):
    """Text that must come as a JSON string: DRF's CharField turns 0 or 1.5 into "0" and "1.5"."""

    default_error_messages: ClassVar["dict[str, StrOrPromise]"] = {"invalid": _("Enter text (a JSON string).")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# What the schema promises for times of day: "HH:MM" out, "HH:MM" or
# "HH:MM:SS" in. OpenAPI's `format: time` is RFC 3339's full-time, with
# seconds and an offset, which neither DESIGN.md's HH:MM nor any answer of
# ours matches, so the schema gives a pattern instead.
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


@extend_schema_field({"type": "string", "pattern": TIME_OF_DAY_PATTERN, "example": "10:00"})
class TimeOfDayField(serializers.TimeField):
    """A time of day as HH:MM (HH:MM:SS accepted on input)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%H:%M")
        kwargs.setdefault("input_formats", ["%H:%M", "%H:%M:%S"])
        super().__init__(**kwargs)


def text_field(**kwargs) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    kwargs.setdefault("max_length", MAX_TEXT_LENGTH)
    return StrictCharField(**kwargs)


class StrictManyRelatedField(serializers.ManyRelatedField):
    """A list of ids that must be a JSON list: DRF's takes any iterable, so `{}` passed as an empty list."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A link by id to a record the caller may see, through a selector.

    An id of a record the caller may not see is "does not exist", exactly as
    an id that exists nowhere: the API never confirms another team's records.
    `queryset` only tells the schema which model the id belongs to.
    """

    def __init__(self, *, scope: Callable[[User], QuerySet], **kwargs: Any) -> None:
        self.scope = scope
        kwargs.setdefault("pk_field", PK_FIELD)
        super().__init__(**kwargs)

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs: dict[str, Any] = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return StrictManyRelatedField(**list_kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None:
            return self.scope_model()._default_manager.none()
        return self.scope(user)

    def scope_model(self) -> type[Model]:
        """The model the ids name (from `queryset`, which is there for the schema)."""
        assert self.queryset is not None, "VisibleRelatedField needs a queryset naming its model"
        return self.queryset.model

    def to_internal_value(self, data):
        # A bulk import looks a whole column up at once and hands the records
        # over in the context (`related_cache`: {scope: {pk: record or None}}),
        # so that a file of many rows makes a query per chunk, not per cell.
        cache = self.context.get("related_cache")
        if cache is None or isinstance(data, bool):
            return super().to_internal_value(data)
        pk_field = cast(serializers.Field, self.pk_field)  # the stubs say str; it is the field set in __init__
        pk = pk_field.to_internal_value(data)
        records = cache.setdefault(self.scope, {})
        if pk not in records:
            records[pk] = self.get_queryset().filter(pk=pk).first()
        if records[pk] is None:
            self.fail("does_not_exist", pk_value=pk)
        return records[pk]


def saved(serializer: serializers.BaseSerializer) -> Model:
    """The record a view's `perform_create` / `perform_update` put on the serializer (the service's result)."""
    if serializer.instance is None:
        raise TypeError("perform_create / perform_update must set serializer.instance")
    return serializer.instance


def request_user(serializer: serializers.BaseSerializer) -> User:
    return serializer.context["request"].user


class TeamDefaultMixin(serializers.Serializer):
    """For serializers with an optional `team`: fill it in on create, or refuse."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if self.instance is None and attrs.get("team") is None:
            attrs["team"] = default_team(request_user(self))  # the services' rule
        return attrs


# Shared: views -------------------------------------------------------------


if TYPE_CHECKING:
    # The mixins below are only ever combined with a create/update GenericAPIView and with
    # ServiceViewSetMixin; this lets mypy see their methods.
    class _ViewSetBase(mixins.CreateModelMixin, mixins.UpdateModelMixin, generics.GenericAPIView):
        def fresh_data(self, instance: Model) -> dict[str, Any]: ...
else:
    _ViewSetBase = object


class ServiceViewSetMixin(_ViewSetBase):
    """Plumbing for viewsets whose writes go through services.

    Subclasses implement `perform_create(serializer)` / `perform_update`
    calling the service, and set `serializer.instance` to its result.
    """

    lookup_value_regex = r"[0-9]{1,18}"

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        return Response(self.fresh_data(saved(serializer)), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return Response(self.fresh_data(saved(serializer)))

    def fresh_data(self, instance: Model) -> dict[str, Any]:
        """The record as a read would show it, re-read through the selector with its relations."""
        fresh = self.get_queryset().filter(pk=instance.pk).first()
        return self.get_serializer(fresh or instance).data


class VersionedMixin(_ViewSetBase):
    """A versioned record's `ETag` on a read of it and on the answer to a PUT/PATCH.

    `perform_update` passes `self.expected_version()` (from `If-Match`) to the
    service, which checks it under a row lock and raises `StaleVersion` (412).
    """

    def expected_version(self) -> int | None:
        return if_match_version(self.request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if (
            getattr(self, "action", None) in ("retrieve", "update", "partial_update")
            and response.status_code == status.HTTP_200_OK
            and isinstance(data, dict)
            and "version" in data
        ):
            response["ETag"] = version_etag(data["version"])
        return response


class ServiceViewSet(
    ServiceViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and update through the services. No delete: records are
    deactivated or cancelled instead, as in the UI."""


class IdempotentCreateMixin(_ViewSetBase):
    """Exactly-once create keyed by `client_uuid`, decided by the service (`outreach.services.create_once`).

    A repeat with the same content answers 200 with the record the first
    create made (header `Idempotent-Replayed: true`); a conflicting one is the
    service's `Conflict`, which the exception handler answers with 409.
    """

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        if was_replayed(saved(serializer)):
            return Response(
                self.fresh_data(saved(serializer)),
                status=status.HTTP_200_OK,
                headers={"Idempotent-Replayed": "true"},
            )
        return Response(self.fresh_data(saved(serializer)), status=status.HTTP_201_CREATED)


class ManagerWritePermission(permissions.BasePermission):
    """Anyone signed in reads; coordinators, administrators and superusers write.

    Sites, partners and networks are managed by coordinators (DESIGN.md) and
    administrators, as in the admin (see outreach/admin.py).
    """

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return is_coordinator_or_admin(request.user)


class NoExpertWritePermission(permissions.BasePermission):
    """Experts by experience take part in outings but do not plan or change them."""

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or not request.user.is_expert


class NoExpertPermission(permissions.BasePermission):
    """Case work that experts by experience do not see at all (referrals)."""

    def has_permission(self, request, view):
        return not request.user.is_expert


def visible_choice_filter(scope, **kwargs) -> filters.ModelChoiceFilter:
    """A query parameter naming a record by id, limited to what the caller sees."""
    return filters.ModelChoiceFilter(queryset=lambda request: scope(request.user), **kwargs)


MUNICIPALITY_CODE = re.compile(r"[0-9]{3}")


class MunicipalityCodeField(serializers.SlugRelatedField):
    """A municipality by its Statistics Finland code ("297"); written and shown as the code.

    Anything but three digits is refused before the database sees it (a NUL
    byte, for one, is an error in PostgreSQL rather than "no such code").
    """

    default_error_messages: ClassVar["dict[str, StrOrPromise]"] = {
        "does_not_exist": _("No municipality has the code “{value}”."),
        "invalid": _("Give the Statistics Finland code of a municipality, e.g. 297."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("Statistics Finland code of the municipality, e.g. 297."))
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Municipality.objects.all())
        super().__init__(slug_field="code", **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int) or not MUNICIPALITY_CODE.fullmatch(str(data)):
            self.fail("invalid")
        return super().to_internal_value(str(data))


class MunicipalityCodeFormField(ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and not MUNICIPALITY_CODE.fullmatch(str(value)):
            raise DjangoValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class MunicipalityCodeFilter(filters.ModelChoiceFilter):
    field_class = MunicipalityCodeFormField


def municipality_filter(field_name: str) -> filters.ModelChoiceFilter:
    return MunicipalityCodeFilter(
        field_name=field_name,
        to_field_name="code",
        queryset=Municipality.objects.all(),
        help_text=_("Statistics Finland code of the municipality, e.g. 297."),
    )


def date_range_filterset(field_name: str) -> type[filters.FilterSet]:
    """A FilterSet base with `date_after`/`date_before` and their synonyms `start`/`end`, all inclusive."""
    declared = {
        "date_after": filters.DateFilter(field_name=field_name, lookup_expr="gte", help_text=_("From this date.")),
        "date_before": filters.DateFilter(field_name=field_name, lookup_expr="lte", help_text=_("Until this date.")),
        "start": filters.DateFilter(
            field_name=field_name, lookup_expr="gte", help_text=_("From this date (same as date_after).")
        ),
        "end": filters.DateFilter(
            field_name=field_name, lookup_expr="lte", help_text=_("Until this date (same as date_before).")
        ),
    }
    return type("DateRangeFilterSet", (filters.FilterSet,), declared)
