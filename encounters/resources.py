"""Bulk import and export of persons, encounters and referrals.

See `outreach.resources` for the rules every resource follows (the API's
serializers, the acting user, all or nothing, formula guard). Named persons
are never bulk-imported: a file with a named person's column is refused as a
whole, and exports contain pseudonymous persons only.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from outreach.models import AccessLogEntry, User
from outreach.resources import ROW, ServiceResource, chunked, error_messages, is_blank, named_errors

from . import rollups, services
from .api import EncounterSerializer, PersonSerializer, ReferralSerializer
from .models import Encounter, Person, Referral
from .selectors import encounters_visible_to, persons_visible_to, referrals_visible_to

NAMED_ONLY = _("Named persons are never bulk-imported: remove this column.")


class ClientDataExportMixin:
    """An export of client records is a disclosure, and a use of the data of each person it concerns."""

    user: User | None

    def exported_person_ids(self, queryset) -> list[int]:
        linked = queryset.filter(person__isnull=False).order_by()
        return sorted(set(linked.values_list("person_id", flat=True)))

    def log_exported_persons(self, person_ids: list[int], door: str) -> None:
        services.person_access_log_ids(
            actor=self.user, person_ids=person_ids, action=AccessLogEntry.Action.EXPORT, door=door
        )


class PersonResource(ClientDataExportMixin, ServiceResource):
    """Pseudonymous persons (alias, birth year, gender) of the user's teams."""

    serializer_class = PersonSerializer
    forbidden_columns = dict.fromkeys(
        ("kind", "first_name", "last_name", "identity_code", "phone", "email"), NAMED_ONLY
    )

    class Meta:
        model = Person
        name = "persons"
        fields = ("id", "alias", "birth_year", "gender", "team", "engaged_on", "notes")
        chunk_size = 2000

    disclosure_categories = ("pseudonymous",)

    def exported_person_ids(self, queryset) -> list[int]:
        return sorted(queryset.order_by().values_list("pk", flat=True))

    def scope(self, user):
        return persons_visible_to(user).filter(kind=Person.Kind.PSEUDONYMOUS)

    def existing_queryset(self):
        # Named and merged records too, to say why they are not updated.
        return persons_visible_to(self.acting_user, include_merged=True)

    def find_existing(self, pk):
        person = super().find_existing(pk)
        if person is None:
            return None
        assert isinstance(person, Person)
        if person.kind == Person.Kind.NAMED:
            raise ValidationError(
                {"id": [_("This is a named person's record; named persons are never bulk-imported.")]}
            )
        if person.merged_into_id is not None:
            raise ValidationError({"id": [_("This person record has been merged into another one.")]})
        return person

    def create(self, values):
        return services.person_create(actor=self.acting_user, **values)

    def update(self, instance, changes):
        return services.person_update(actor=self.acting_user, person=instance, **changes)


class EncounterResource(ClientDataExportMixin, ServiceResource):
    """Encounters (kohtaamiset) of the teams the user sees.

    `batched=True` is for migrations of many rows: new encounters are parsed
    row by row and written by `encounters_create_bulk` (the checks and
    messages of `encounter_create`, then inserts in batches), in
    import-export's bulk mode, inside the import's transaction. Rows that
    update existing encounters still go through `encounter_update`. The
    admin uses the row-by-row path.
    """

    serializer_class = EncounterSerializer
    # Blank: the workers stay as they are (a new row: the outing's participants, or the importing user).
    keep_when_blank = frozenset({"workers"})
    date_field = "occurred_on"
    disclosure_categories = ("pseudonymous", "encounters")

    class Meta:
        model = Encounter
        name = "encounters"
        fields = (
            "id",
            "team",
            "client_uuid",
            "outing",
            "site",
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
        )
        chunk_size = 2000
        batch_size = 2000

    def __init__(self, user: User | None = None, *, batched: bool = False, **kwargs):
        super().__init__(user=user, **kwargs)
        # Bulk mode also spares each row import-export's savepoint.
        self._meta.use_bulk = batched
        self._pending: list[tuple[dict[str, Any], int, Any]] = []
        self._blank: Encounter | None = None
        self._row_results: dict[int, Any] = {}
        self._by_uuid: dict[Any, Encounter] = {}
        self._taken_uuids: set = set()
        self._checked_uuids: set = set()
        self._parsed_uuids: dict[str, Any] = {}

    def import_data_inner(self, *args, **kwargs):
        # Inside the import's transaction (import_data opens it): the rollups
        # are recomputed once for the whole file, not after every batch.
        with rollups.deferred():
            return super().import_data_inner(*args, **kwargs)

    def scope(self, user):
        return (
            encounters_visible_to(user).select_related("team", "site", "outing", "person").prefetch_related("workers")
        )

    def parse_uuid(self, value):
        if is_blank(value):
            return None
        # Each cell is parsed once: by `preload` for the whole column, then
        # looked up again when its row finds its record (`get_instance`).
        if value in self._parsed_uuids:
            return self._parsed_uuids[value]
        try:
            parsed = self.parser(new=True).fields["client_uuid"].to_internal_value(str(value).strip())
        except serializers.ValidationError as error:
            raise ValidationError({"client_uuid": error_messages(error.detail)}) from None
        if isinstance(value, str):
            self._parsed_uuids[value] = parsed
        return parsed

    def preload(self, dataset):
        super().preload(dataset)
        if "client_uuid" not in (dataset.headers or []):
            return
        uuids = set()
        for value in dataset["client_uuid"]:
            try:
                uuids.add(self.parse_uuid(value))
            except ValidationError:
                continue
        uuids.discard(None)
        self._checked_uuids = uuids
        for chunk in chunked(sorted(uuids, key=str)):
            # Uniqueness is global: a UUID used by a record the user cannot
            # see is refused, without saying anything about that record.
            taken = dict(Encounter.objects.filter(client_uuid__in=chunk).values_list("client_uuid", "pk"))
            self._taken_uuids.update(taken)
            unloaded = [pk for pk in taken.values() if pk not in self._existing]
            if unloaded:
                self._existing.update({e.pk: e for e in self.existing_queryset().filter(pk__in=unloaded)})
            for client_uuid, pk in taken.items():
                found = self._existing.get(pk)
                if isinstance(found, Encounter):
                    self._by_uuid[client_uuid] = found

    def get_instance(self, instance_loader, row):
        """By `id` or by `client_uuid`; the two must agree."""
        by_id = super().get_instance(instance_loader, row)
        client_uuid = self.parse_uuid(row.get("client_uuid"))
        self.check_repeat("client_uuid", client_uuid, row)
        if client_uuid is None:
            return by_id
        if client_uuid in self._checked_uuids:
            by_uuid = self._by_uuid.get(client_uuid)
            taken = client_uuid in self._taken_uuids
        else:
            by_uuid = self.get_queryset().filter(client_uuid=client_uuid).first()
            taken = by_uuid is not None or Encounter.objects.filter(client_uuid=client_uuid).exists()
        if by_uuid is None:
            if taken:
                raise ValidationError({"client_uuid": [_("This client UUID is already used by another record.")]})
            if by_id is not None and by_id.client_uuid is not None:
                raise ValidationError(
                    {"client_uuid": [_("This differs from the client UUID of the record with this id.")]}
                )
            return by_id
        if by_id is not None and by_id.pk != by_uuid.pk:
            raise ValidationError({"id": [_("The id and the client UUID belong to different records.")]})
        return by_uuid

    def changes(self, instance, values):
        values = {key: value for key, value in values.items() if key != "client_uuid" or value is not None}
        return super().changes(instance, values)

    def create(self, values):
        return services.encounter_create(actor=self.acting_user, **values)

    def update(self, instance, changes):
        return services.encounter_update(actor=self.acting_user, encounter=instance, **changes)

    # Bulk mode ---------------------------------------------------------

    def init_instance(self, row=None):
        if self._meta.use_bulk:
            # New rows are written from their parsed values (see save_instance):
            # the instance only carries the row through import-export, and one
            # blank record does that for all of them.
            if self._blank is None:
                self._blank = super().init_instance(row)
            return self._blank
        return super().init_instance(row)

    def save_instance(self, instance, is_create, row, **kwargs):
        if not (is_create and self._meta.use_bulk):
            return super().save_instance(instance, is_create, row, **kwargs)
        # Written in import-export's `bulk_create` hook, a batch at a time.
        self.create_instances.append(instance)
        self._pending.append((self._values, kwargs["row_number"], row))

    def after_import_row(self, row, row_result, **kwargs):
        if self._meta.use_bulk and self._pending and self._pending[-1][1] == kwargs.get("row_number"):
            self._row_results[kwargs["row_number"]] = row_result

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        pending, self._pending = self._pending, []
        self.create_instances.clear()
        if not pending:
            return
        try:
            created = services.encounters_create_bulk(actor=self.acting_user, rows=[values for values, *_ in pending])
        except services.RowErrors as refused:
            for index, error in refused.errors.items():
                _values, number, row = pending[index]
                if result is not None:
                    result.append_invalid_row(number, row, named_errors(error))
            return
        for encounter, (_values, number, _row) in zip(created, pending, strict=True):
            row_result = self._row_results.pop(number, None)
            if row_result is not None:
                row_result.object_id = encounter.pk


class ReferralResource(ClientDataExportMixin, ServiceResource):
    """Referrals (ohjaukset) of the teams the user sees."""

    serializer_class = ReferralSerializer
    date_field = "referred_on"
    disclosure_categories = ("pseudonymous", "referrals")

    class Meta:
        model = Referral
        name = "referrals"
        fields = (
            "id",
            "person",
            "encounter",
            "service_kind",
            "partner",
            "team",
            "status",
            "referred_on",
            "follow_up_due",
            "outcome_notes",
        )
        chunk_size = 2000

    def scope(self, user):
        return referrals_visible_to(user)

    def create(self, values):
        return services.referral_create(actor=self.acting_user, **values)

    def update(self, instance, changes):
        return services.referral_update(actor=self.acting_user, referral=instance, **changes)


__all__ = ["ROW", "EncounterResource", "PersonResource", "ReferralResource"]
