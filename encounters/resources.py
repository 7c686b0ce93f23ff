"""Bulk import and export of persons, encounters and referrals.

See `outreach.resources` for the rules every resource follows (columns, the
acting user, all or nothing, formula guard). Named persons are never
bulk-imported: a file with a named person's column is refused as a whole, and
exports contain pseudonymous persons only.
"""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from networks.models import PartnerOrganisation
from outreach.models import AuditEntry, FieldSite, Outing, User
from outreach.resources import (
    HELSINKI,
    BooleanWidget,
    CodeListWidget,
    CodeWidget,
    DateTimeWidget,
    DateWidget,
    IntegerWidget,
    LinkWidget,
    ServiceResource,
    TextWidget,
    UserListWidget,
    UUIDWidget,
    chunked,
    column,
    id_column,
    team_column,
)
from outreach.selectors import outings_visible_to, sites_visible_to, writable_team_ids
from outreach.vocabulary import Action, AgeGroup, ContactKind, Depth, Gender, Need, ReferralStatus, ServiceKind

from . import rollups, services
from .models import Encounter, Person, Referral
from .selectors import encounters_visible_to, persons_visible_to, referrals_visible_to


def _persons(user: User):
    # Merged records too, so that a link to one gets the service's message
    # ("merged into another one") rather than "no such person".
    return persons_visible_to(user, include_merged=True)


def _partners(user: User):
    # Partner organisations are public bodies, not client records: every
    # signed-in user sees them (as in the API).
    return PartnerOrganisation.objects.all()


NAMED_ONLY = _("Named persons are never bulk-imported: remove this column.")


class PersonResource(ServiceResource):
    """Pseudonymous persons (alias, birth year, gender) of the user's teams."""

    id = id_column()
    alias = column("alias", TextWidget(required=True))
    birth_year = column("birth_year", IntegerWidget())
    gender = column("gender", CodeWidget(Gender, blank_value=Gender.UNKNOWN))
    team = team_column()
    engaged_on = column("engaged_on", DateWidget())
    notes = column("notes", TextWidget())

    forbidden_columns = dict.fromkeys(
        ("kind", "first_name", "last_name", "identity_code", "phone", "email"), NAMED_ONLY
    )

    class Meta:
        model = Person
        name = "persons"
        fields = ("id", "alias", "birth_year", "gender", "team", "engaged_on", "notes")
        chunk_size = 2000

    def scope(self, user):
        return persons_visible_to(user).filter(kind=Person.Kind.PSEUDONYMOUS)

    def existing_queryset(self):
        return _persons(self.user)

    def find_existing(self, values):
        person = super().find_existing(values)
        if person is None:
            return None
        if person.kind == Person.Kind.NAMED:
            raise ValidationError(
                {"id": [_("This is a named person's record; named persons are never bulk-imported.")]}
            )
        if person.merged_into_id is not None:
            raise ValidationError({"id": [_("This person record has been merged into another one.")]})
        return person

    def create(self, values, *, row_result=None):
        return services.person_create(actor=self.user, **values)

    def update(self, instance, changes):
        return services.person_update(actor=self.user, person=instance, **changes)


# Foreign keys that the batched path has resolved through the selectors
# already; full_clean() would look each of them up again, row by row.
_RESOLVED_LINKS = ["team", "site", "outing", "person", "created_by"]
# The model's check constraints that the batched path checks in Python
# (tests fail when a constraint is added and this is not updated).
BATCH_CHECKED_CONSTRAINTS = {
    "encounter_anonymous_has_no_person",
    "encounter_depth_valid",
    "encounter_duration_plausible",
}
BATCH_SIZE = 2000


class EncounterBatch:
    """New encounters checked as `encounter_create` checks them, then written in bulk.

    For migrations of many rows (bulk imports, legacy sheets): `add` runs the
    service's checks with its messages (team, links, field validation, the
    model's constraints) without its per-row queries, because the links have
    been resolved through the selectors already; `flush` writes the
    encounters, their workers and one audit entry per encounter (the entry
    `encounter_create` writes) with bulk_create. Call `flush` inside the
    caller's transaction, and only when no row was refused.
    """

    def __init__(self, actor: User):
        self.actor = actor
        self.pending: list[tuple[Encounter, list[User]]] = []
        self._writable: set[int] | None = None

    def add(self, *, team, site, occurred_at, outing=None, person=None, workers=None, **fields) -> Encounter:
        if self._writable is None:
            self._writable = writable_team_ids(self.actor)
        if self.actor.is_expert or team.pk not in self._writable:
            raise ValidationError({"team": [_("You cannot record work for this team.")]})
        services.check_encounter_links(actor=self.actor, team=team, site=site, outing=outing, person=person)
        if workers is None:
            workers = list(outing.participants.all()) if outing is not None else [self.actor]
        encounter = Encounter(
            team=team,
            site=site,
            occurred_at=occurred_at,
            outing=outing,
            person=person,
            anonymous=person is None,
            created_by=self.actor,
            **fields,
        )
        encounter.occurred_on = encounter.occurred_at.astimezone(HELSINKI).date()
        errors = {}
        try:
            encounter.full_clean(exclude=_RESOLVED_LINKS, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            errors = error.message_dict
        if encounter.duration_minutes is not None and encounter.duration_minutes > 24 * 60:
            errors.setdefault("duration_minutes", []).append(str(_constraint_message("encounter_duration_plausible")))
        if errors:
            raise ValidationError(errors)
        self.pending.append((encounter, list(workers)))
        return encounter

    def flush(self) -> list[Encounter]:
        pending, self.pending = self.pending, []
        through = Encounter.workers.through
        written = []
        for batch in chunked(pending, BATCH_SIZE):
            created = Encounter.objects.bulk_create([encounter for encounter, _workers in batch])
            through.objects.bulk_create(
                [
                    through(encounter_id=encounter.pk, user_id=worker.pk)
                    for encounter, (_queued, workers) in zip(created, batch, strict=True)
                    for worker in workers
                ]
            )
            # The same entries encounter_create writes, one per encounter, so
            # that "who created this record" has one answer whichever path
            # created it.
            AuditEntry.objects.bulk_create(
                [
                    AuditEntry(
                        actor=self.actor,
                        action=AuditEntry.Action.CREATE,
                        model=Encounter._meta.label_lower,
                        object_id=str(encounter.pk),
                        changes=["person", "site", "team"],
                    )
                    for encounter in created
                ]
            )
            written.extend(created)
        rollups.encounters_changed(*written)
        return written


def _constraint_message(name: str):
    return next(c.violation_error_message for c in Encounter._meta.constraints if c.name == name)


class EncounterResource(ServiceResource):
    """Encounters (kohtaamiset) of the teams the user sees.

    `batched=True` is for migrations of many rows: new encounters are
    validated row by row as `encounter_create` would (the same checks and
    messages, without its per-row queries) and written with bulk_create in
    the import's transaction, with one audit entry per encounter also written
    in bulk. Rows that update existing encounters still go through
    `encounter_update`. The admin uses the service path for every row.
    """

    id = id_column()
    team = team_column()
    client_uuid = column("client_uuid", UUIDWidget())
    outing = column(
        "outing", LinkWidget(Outing, lambda user: outings_visible_to(user).prefetch_related("participants"))
    )
    site = column("site", LinkWidget(FieldSite, sites_visible_to, required=True))
    occurred_at = column("occurred_at", DateTimeWidget(required=True))
    contact_kind = column("contact_kind", CodeWidget(ContactKind, blank_value=ContactKind.FIELD))
    depth = column("depth", CodeWidget(Depth, blank_value=Depth.CONVERSATION))
    person = column("person", LinkWidget(Person, _persons))
    gender = column("gender", CodeWidget(Gender, blank_value=Gender.UNKNOWN))
    age_group = column("age_group", CodeWidget(AgeGroup, blank_value=AgeGroup.UNKNOWN))
    first_contact = column("first_contact", BooleanWidget())
    needs = column("needs", CodeListWidget(Need))
    actions = column("actions", CodeListWidget(Action))
    duration_minutes = column("duration_minutes", IntegerWidget())
    # Blank: the outing's participants (or the importing user), as when logging by hand.
    workers = column("workers", UserListWidget(blank_value=None))
    notes = column("notes", TextWidget())

    date_field = "occurred_on"

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

    # Set by import-export's metaclass (untyped); declared so that __init__ may replace it.
    _meta: Any

    def __init__(self, user: User | None = None, *, batched: bool = False, **kwargs):
        super().__init__(user=user, **kwargs)
        self.batched = batched
        if batched:
            # import-export wraps each row in a savepoint unless it is in
            # bulk mode; the batched path writes nothing per row.
            self._meta = copy.copy(type(self)._meta)
            self._meta.use_bulk = True
        self._batch: EncounterBatch | None = None
        self._row_results: list[Any] = []
        self._by_uuid: dict[Any, Encounter] = {}
        self._taken_uuids: set = set()
        self._checked_uuids: set = set()

    def scope(self, user):
        return (
            encounters_visible_to(user).select_related("team", "site", "outing", "person").prefetch_related("workers")
        )

    def preload(self, dataset):
        super().preload(dataset)
        if "client_uuid" not in (dataset.headers or []):
            return
        uuids = set()
        for value in dataset["client_uuid"]:
            try:
                uuids.add(self.fields["client_uuid"].widget.clean(value))
            except ValueError:
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
                if self._existing.get(pk) is not None:
                    self._by_uuid[client_uuid] = self._existing[pk]

    def find_existing(self, values):
        by_id = super().find_existing(values)
        client_uuid = values.get("client_uuid")
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
        if values.get("workers") is None:
            values = {key: value for key, value in values.items() if key != "workers"}
        return super().changes(instance, values)

    def create(self, values, *, row_result=None):
        if values.get("workers") is None:
            values.pop("workers", None)
        if not self.batched:
            return services.encounter_create(actor=self.user, **values)
        return self._build(values, row_result)

    def update(self, instance, changes):
        return services.encounter_update(actor=self.user, encounter=instance, **changes)

    # The batched path ------------------------------------------------

    def _build(self, values: dict[str, Any], row_result) -> Encounter:
        if self._batch is None:
            self._batch = EncounterBatch(self.acting_user)
        encounter = self._batch.add(**values)
        self._row_results.append(row_result)
        return encounter

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if self._batch is None or not self._batch.pending:
            return
        row_results, self._row_results = self._row_results, []
        if result.has_errors() or result.has_validation_errors():
            self._batch.pending = []
            return
        for encounter, row_result in zip(self._batch.flush(), row_results, strict=True):
            if row_result is not None:
                row_result.object_id = encounter.pk


class ReferralResource(ServiceResource):
    """Referrals (ohjaukset) of the teams the user sees."""

    id = id_column()
    person = column("person", LinkWidget(Person, _persons))
    encounter = column("encounter", LinkWidget(Encounter, encounters_visible_to))
    service_kind = column("service_kind", CodeWidget(ServiceKind, required=True))
    partner = column("partner", LinkWidget(PartnerOrganisation, _partners))
    team = team_column()
    status = column("status", CodeWidget(ReferralStatus, blank_value=ReferralStatus.SUGGESTED))
    referred_on = column("referred_on", DateWidget())
    follow_up_due = column("follow_up_due", DateWidget())
    outcome_notes = column("outcome_notes", TextWidget())

    date_field = "referred_on"

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

    def create(self, values, *, row_result=None):
        return services.referral_create(actor=self.user, **values)

    def update(self, instance, changes):
        return services.referral_update(actor=self.user, referral=instance, **changes)
