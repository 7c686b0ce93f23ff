"""Writes for persons, encounters, referrals and follow-ups."""

import datetime
import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import connections, models, router, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from networks.models import PartnerOrganisation, PartnerService
from outreach.exceptions import LinkUnusable
from outreach.models import AccessLogEntry, AuditEntry, FieldSite, Outing, Team, User
from outreach.permissions import ensure
from outreach.selectors import writable_team_ids
from outreach.services import (
    apply_changes,
    audit,
    audit_bulk,
    audit_many,
    check_version,
    create_once,
    ensure_can_write_team,
    insert_many,
    lock_version,
    raise_version,
    run_field_validators,
    same_values,
    save_changes,
    validate_model,
)
from outreach.vocabulary import AgeGroup, ContactKind, Depth, Gender, ReferralStatus

from . import permissions, referral_rollups, rollups
from .models import (
    DIRECT_IDENTIFIERS,
    Consent,
    Encounter,
    FollowUp,
    Person,
    PersonMerge,
    Referral,
    ReferralConfirmation,
    age_group_for,
    domain_date,
)
from .rules import referral_status_change_allowed
from .selectors import encounters_visible_to, referrals_visible_to

# Fields a pseudonymous person must never carry.


# Persons -------------------------------------------------------------------


@transaction.atomic
def person_create(
    *,
    actor: User,
    team: Team,
    alias: str = "",
    birth_year: int | None = None,
    gender: str = Gender.UNKNOWN,
    kind: str = Person.Kind.PSEUDONYMOUS,
    notes: str = "",
    engaged_on: datetime.date | None = None,
    **identifiers,
) -> Person:
    """Create a person. Named persons need consent, so they start pseudonymous.

    A named record is made with `person_make_named` once consent is recorded;
    `kind="named"` here is for imports of records whose consent already
    exists elsewhere. Experts by experience create no person records.
    """
    ensure_can_write_team(actor, team)
    ensure(permissions.can_create_person(actor, team))
    unknown = set(identifiers) - set(DIRECT_IDENTIFIERS)
    if unknown:
        raise TypeError(f"Unknown person fields: {sorted(unknown)}")
    person = Person(
        team=team,
        kind=kind,
        alias=alias.strip(),
        birth_year=birth_year,
        gender=gender,
        notes=notes,
        engaged_on=engaged_on,
        created_by=actor,
        **identifiers,
    )
    if person.identity_code:
        person.identity_code = person.identity_code.strip().upper()
    validate_model(person)
    person.save()
    audit(actor=actor, action=AuditEntry.Action.CREATE, instance=person, changes=["team", "kind", "alias"])
    return person


@transaction.atomic
def person_update(
    *,
    actor: User,
    person: Person,
    expected_version: int | None = None,
    door: str = AccessLogEntry.Door.PAGE,
    **fields,
) -> Person:
    """Change a person's record. Only the fields that changed are saved (see `save_changes`).

    A person stays in their team: their encounters, referrals and follow-ups
    are that team's records, and moving the person alone would leave them
    behind. A record merged into another is no longer changed. With
    `expected_version` (the version the editor saw) a record changed since
    is refused with `StaleVersion`, and nothing is saved.
    """
    ensure(permissions.keeps_person_records(actor))
    ensure_can_write_team(actor, person.team)
    _ensure_not_merged(person)
    current = lock_version(person, expected_version)
    if "team" in fields and fields["team"] != person.team:
        raise ValidationError({"team": _("A person's team cannot be changed.")})
    if fields.get("identity_code"):
        fields["identity_code"] = fields["identity_code"].strip().upper()
    if fields.get("kind") == Person.Kind.NAMED and person.kind != Person.Kind.NAMED:
        raise ValidationError({"kind": _("Record consent before a person is named.")})
    changed = apply_changes(person, fields)
    if changed:
        validate_model(person)
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=person, changes=changed)
        raise_version(person, current, changed)
        save_changes(person, changed)
        person_access_log(actor=actor, persons=[person], action=AccessLogEntry.Action.EDIT, door=door)
    return person


def _ensure_not_merged(person: Person) -> None:
    if person.merged_into_id is not None:
        raise PermissionDenied(_("This person record has been merged into another one."))


@transaction.atomic
def person_make_named(
    *,
    actor: User,
    person: Person,
    consent_scopes: Iterable[str],
    first_name: str = "",
    last_name: str = "",
    identity_code: str = "",
    phone: str = "",
    email: str = "",
    consent_given_on: datetime.date | None = None,
) -> Person:
    """Turn a pseudonymous person into a named one, recording their consent."""
    ensure_can_write_team(actor, person.team)
    ensure(permissions.keeps_person_records(actor))
    _ensure_not_merged(person)
    scopes = list(consent_scopes)
    if Consent.Scope.PERSONAL_DATA not in scopes:
        raise ValidationError({"consent_scopes": _("A named record needs consent to recording personal data.")})
    person.kind = Person.Kind.NAMED
    person.first_name = first_name.strip()
    person.last_name = last_name.strip()
    person.identity_code = identity_code.strip().upper()
    person.phone = phone.strip()
    person.email = email.strip()
    validate_model(person)
    person.version = lock_version(person, None) + 1
    person.save()
    given_on = consent_given_on or timezone.localdate()
    try:
        run_field_validators(Consent(given_on=given_on), "given_on")
    except ValidationError as error:
        raise ValidationError({"consent_given_on": error.message_dict["given_on"]}) from None
    for scope in scopes:
        Consent.objects.create(person=person, scope=scope, given_on=given_on, recorded_by=actor)
    audit(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        instance=person,
        changes=["kind", "first_name", "last_name", "identity_code", "phone", "email", "consents"],
    )
    person_access_log(actor=actor, persons=[person], action=AccessLogEntry.Action.EDIT)
    return person


@transaction.atomic
def person_engage(*, actor: User, person: Person, on: datetime.date | None = None) -> Person:
    """ "Ongoing support agreed": the engagement date (today unless given), audited.

    The row is locked, so that two workers pressing it at once set it once;
    an engagement already recorded is kept (the first agreement is the date).
    """
    ensure(permissions.can_edit_person(actor, person))
    locked = Person.objects.select_for_update().get(pk=person.pk)
    _ensure_not_merged(locked)
    if locked.engaged_on is None:
        locked.engaged_on = on or timezone.localdate()
        validate_model(locked)
        save_changes(locked, ["engaged_on"])
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=locked, changes=["engaged_on"])
    person.engaged_on = locked.engaged_on
    return locked


def person_identity_code_reveal(*, actor: User, person: Person, door: str = AccessLogEntry.Door.PAGE) -> str:
    """The whole identity code, shown only on an explicit request, which is written to the access log."""
    ensure(permissions.keeps_person_records(actor))
    person_access_log(actor=actor, persons=[person], action=AccessLogEntry.Action.REVEAL, door=door)
    return person.identity_code


# Encounters ----------------------------------------------------------------


def check_encounter_links(
    *, actor: User, team: Team, site: FieldSite, outing: Outing | None, person: Person | None
) -> None:
    errors = {}
    if outing is not None:
        if outing.team_id != team.pk:
            errors["outing"] = _("The outing belongs to another team.")
        elif outing.site_id != site.pk:
            errors["site"] = _("The site differs from the outing's site.")
        elif actor.is_expert and not outing.participants.filter(pk=actor.pk).exists():
            errors["outing"] = _("You can log encounters only in outings you take part in.")
    elif actor.is_expert:
        errors["outing"] = _("You can log encounters only in outings you take part in.")
    if person is not None:
        if person.team_id != team.pk:
            errors["person"] = _("The person belongs to another team.")
        elif person.merged_into_id is not None:
            errors["person"] = _("This person record has been merged into another one.")
        elif actor.is_expert and person.kind == Person.Kind.NAMED:
            errors["person"] = _("Select a valid person.")
    if errors:
        raise ValidationError(errors)


# The fields an encounter's creation audit entry names, whichever path created it.
ENCOUNTER_CREATE_AUDIT = ("team", "site", "person")


# Atomic: create_once runs the create in a transaction (its own, without a savepoint, when none is open).
def encounter_create(
    *,
    actor: User,
    team: Team,
    site: FieldSite,
    occurred_at: datetime.datetime,
    outing: Outing | None = None,
    person: Person | None = None,
    contact_kind: str = ContactKind.FIELD,
    depth: str = Depth.CONVERSATION,
    gender: str = Gender.UNKNOWN,
    age_group: str = "unknown",
    first_contact: bool | None = None,
    needs: Iterable[str] = (),
    actions: Iterable[str] = (),
    duration_minutes: int | None = None,
    notes: str = "",
    workers: Iterable[User] | None = None,
    client_uuid: uuid.UUID | None = None,
) -> Encounter:
    """Log an encounter. Without `workers`, those of the outing (or the actor) are used.

    With a `client_uuid` the create happens once (`create_once`): a repeat
    with the same content returns the encounter the first made, marked
    `was_replayed`; different content, or an encounter the actor may not
    see, is a `Conflict`.
    """
    encounter = _encounter_build(
        actor=actor,
        team=team,
        site=site,
        outing=outing,
        person=person,
        client_uuid=client_uuid,
        occurred_at=occurred_at,
        contact_kind=contact_kind,
        depth=depth,
        gender=gender,
        age_group=age_group,
        first_contact=first_contact,
        needs=list(needs),
        actions=list(actions),
        duration_minutes=duration_minutes,
        notes=notes,
    )
    given_workers = None if workers is None else list(workers)

    def same(stored: Encounter) -> bool:
        if not same_values(stored, encounter, ENCOUNTER_CONTENT):
            return False
        return given_workers is None or set(stored.workers.values_list("pk", flat=True)) == {
            worker.pk for worker in given_workers
        }

    return create_once(
        model=Encounter,
        client_uuid=client_uuid,
        visible=lambda: encounters_visible_to(actor),
        same=same,
        create=lambda: _encounter_save(actor=actor, encounter=encounter, workers=given_workers),
    )


def _encounter_build(
    *,
    actor: User,
    team: Team,
    site: FieldSite,
    outing: Outing | None,
    person: Person | None,
    may_log: bool | None = None,
    **fields,
) -> Encounter:
    """The checks of who may log what where, and the unsaved encounter.

    `may_log`: `permissions.can_log_encounter` for this team, when the caller
    has asked it already (the bulk path asks once per team, not per row).
    """
    if not (permissions.can_log_encounter(actor, team) if may_log is None else may_log):
        raise ValidationError({"team": _("You cannot record work for this team.")})
    check_encounter_links(actor=actor, team=team, site=site, outing=outing, person=person)
    return Encounter(
        team=team, site=site, outing=outing, person=person, anonymous=person is None, created_by=actor, **fields
    )


def _encounter_save(*, actor: User, encounter: Encounter, workers: list[User] | None) -> Encounter:
    run_field_validators(encounter, "occurred_at")
    encounter.occurred_on = domain_date(encounter.occurred_at)
    validate_model(encounter)
    encounter.save()
    # A new encounter has no workers yet: the links are inserted as they are (no look-up of any to keep).
    if workers is None and encounter.outing_id is not None:
        _link_outing_participants(encounter)
    else:
        insert_many(
            Encounter.workers.through,
            same={"encounter": encounter.pk},
            varying={"user": _encounter_worker_ids(actor, encounter.outing, workers)},
        )
    rollups.encounter_added(encounter)
    audit(actor=actor, action=AuditEntry.Action.CREATE, instance=encounter, changes=ENCOUNTER_CREATE_AUDIT)
    return encounter


# What a repeated create must match to be the same encounter (`encounter_create`).
ENCOUNTER_CONTENT = (
    "team",
    "site",
    "outing",
    "person",
    "occurred_at",
    "contact_kind",
    "depth",
    "gender",
    "age_group",
    "first_contact",
    "needs",
    "actions",
    "duration_minutes",
    "notes",
)


# The quick log -------------------------------------------------------------


# Atomic: create_once runs the create in a transaction (its own, without a savepoint, when none is open).
def quick_log_save(
    *,
    actor: User,
    outing: Outing,
    occurred_at: datetime.datetime,
    person: Person | None = None,
    new_alias: str = "",
    new_birth_year: int | None = None,
    new_gender: str = "",
    referral_service_kind: str = "",
    referral_partner: PartnerOrganisation | None = None,
    referral_partner_service: PartnerService | None = None,
    referral_status: str = ReferralStatus.SUGGESTED,
    client_uuid: uuid.UUID | None = None,
    **encounter_fields,
) -> Encounter:
    """Log an encounter at an outing from the field, all or nothing: a new person (`new_alias`, ...),
    the encounter and a referral (`referral_service_kind`, ...).

    Errors of the new person's fields and of the referral's are keyed by
    these parameters' names (`new_alias`, `referral_partner`), so that the
    caller can tell them from the encounter's. With a `client_uuid`, a second
    send of the same log (a double tap, a resend on a bad connection) returns
    the encounter the first made (`was_replayed`), and creates no second
    person; a UUID used at another outing, or for an encounter the actor may
    not see, is a `Conflict`.
    """

    def create() -> Encounter:
        linked = person
        if new_alias:
            try:
                linked = person_create(
                    actor=actor,
                    team=outing.team,
                    alias=new_alias,
                    birth_year=new_birth_year,
                    gender=new_gender or encounter_fields.get("gender", Gender.UNKNOWN),
                )
            except ValidationError as error:
                raise _prefixed(error, "new_") from None
        encounter = _encounter_build(
            actor=actor,
            team=outing.team,
            site=outing.site,
            outing=outing,
            person=linked,
            client_uuid=client_uuid,
            occurred_at=occurred_at,
            **encounter_fields,
        )
        _encounter_save(actor=actor, encounter=encounter, workers=None)
        if referral_service_kind or referral_partner_service:
            try:
                referral_create(
                    actor=actor,
                    team=outing.team,
                    encounter=encounter,
                    service_kind=referral_service_kind,
                    partner=referral_partner,
                    partner_service=referral_partner_service,
                    status=referral_status,
                )
            except ValidationError as error:
                raise _prefixed(error, "referral_") from None
        return encounter

    return create_once(
        model=Encounter,
        client_uuid=client_uuid,
        visible=lambda: encounters_visible_to(actor),
        same=lambda stored: stored.outing_id == outing.pk,
        create=create,
    )


def _prefixed(error: ValidationError, prefix: str) -> ValidationError:
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError(
        {name if name == NON_FIELD_ERRORS else f"{prefix}{name}": errors for name, errors in error.error_dict.items()}
    )


def _encounter_worker_ids(actor: User, outing: Outing | None, workers: Iterable[User] | None) -> list[int]:
    """The ids of who met the person: `workers`, or else the outing's participants, or else the actor."""
    if workers is None:
        if outing is None:
            return [actor.pk]
        return list(outing.participants.order_by("pk").values_list("pk", flat=True))
    return [worker.pk for worker in workers]


def _link_outing_participants(encounter: Encounter) -> None:
    """Link a new encounter to its outing's participants (`_encounter_worker_ids`' rule for an outing) in
    one INSERT … SELECT: the participants are not read first (a statement less on every save)."""
    links, participants = Encounter.workers.through._meta, Outing.participants.through._meta
    connection = connections[router.db_for_write(Encounter.workers.through)]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(links.db_table)} ({quote(links.get_field('encounter').column)},"
            f" {quote(links.get_field('user').column)})"
            f" SELECT %s, {quote(participants.get_field('user').column)} FROM {quote(participants.db_table)}"
            f" WHERE {quote(participants.get_field('outing').column)} = %s",
            [encounter.pk, encounter.outing_id],
        )


class RowErrors(Exception):
    """Rows of a bulk write that were refused, by their index in `rows`; nothing was written."""

    def __init__(self, errors: dict[int, ValidationError]):
        self.errors = errors
        super().__init__(f"{len(errors)} row(s) refused")


# Foreign keys that a bulk caller has resolved through the selectors already;
# full_clean() would look each of them up again, row by row.
_RESOLVED_LINKS = ["team", "site", "outing", "person", "created_by"]
# Validated before the Helsinki date is computed from it (as `_encounter_save` does).
_VALIDATED_FIRST = ["occurred_at"]
# Set by the builder from fields validated already (the date from `occurred_at`,
# the flag from `person`), so validating them again checks nothing. A test
# fails when one of them gets a validator or choices of its own.
BULK_DERIVED_FIELDS = ["occurred_on", "anonymous"]
# Left at their defaults unless the row gives them; a default needs no validation.
BULK_DEFAULTED_FIELDS = ("created_at", "version")
# The model's check constraints that the bulk path checks in Python rather
# than with one query each (a test fails when a constraint is added and this
# is not updated): the anonymous flag follows from the person by construction,
# the depth is a field choice, the duration is checked below.
BULK_CHECKED_CONSTRAINTS = {
    "encounter_anonymous_has_no_person",
    "encounter_depth_valid",
    "encounter_duration_plausible",
}
_BULK_SIZE = 2000


def _validate_for_bulk(encounter: Encounter, given: Iterable[str] = ()) -> None:
    """`validate_model` without its per-row queries, with the same messages.

    `given`: the fields the row set; those of `BULK_DEFAULTED_FIELDS` that it
    did not set hold their defaults.
    """
    errors: dict[str, list] = {}
    defaulted = [name for name in BULK_DEFAULTED_FIELDS if name not in given]
    try:
        encounter.full_clean(
            exclude=_RESOLVED_LINKS + _VALIDATED_FIRST + BULK_DERIVED_FIELDS + defaulted,
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as error:
        errors = error.message_dict
    # As full_clean does, a constraint is not checked on a field that failed already.
    if (
        "duration_minutes" not in errors
        and encounter.duration_minutes is not None
        and encounter.duration_minutes > 24 * 60
    ):
        errors.setdefault("duration_minutes", []).append(_constraint_message(Encounter, "encounter_duration_plausible"))
    if errors:
        raise ValidationError(errors)


def _constraint_message(model, name: str) -> str:
    return str(next(c.violation_error_message for c in model._meta.constraints if c.name == name))


@transaction.atomic
def encounters_create_bulk(*, actor: User, rows: Iterable[dict]) -> list[Encounter]:
    """Log many encounters at once (imports, legacy sheets): all of them or none.

    Each row holds `encounter_create`'s keyword arguments, its links resolved
    through the selectors for `actor`. Every row gets `encounter_create`'s
    checks and messages; the records, their workers and their audit entries
    (the ones `encounter_create` writes) are then inserted in batches. When a
    row is refused, `RowErrors` names every refused row and nothing is written.
    """
    may_log: dict[int | None, bool] = {}
    built: list[tuple[Encounter, list[int]]] = []
    errors: dict[int, ValidationError] = {}
    by_uuid: dict[uuid.UUID, int] = {}
    participants: dict[int, list[int]] = {}
    for index, fields in enumerate(rows):
        fields = dict(fields)
        workers = fields.pop("workers", None)
        fields.setdefault("outing", None)
        fields.setdefault("person", None)
        team = fields.get("team")
        key = team.pk if team is not None else None
        if key not in may_log:
            may_log[key] = permissions.can_log_encounter(actor, team)
        try:
            encounter = _encounter_build(actor=actor, may_log=may_log[key], **fields)
            run_field_validators(encounter, "occurred_at")
            encounter.occurred_on = domain_date(encounter.occurred_at)
            _validate_for_bulk(encounter, given=fields)
        except ValidationError as error:
            errors[index] = error
            continue
        if encounter.client_uuid is not None:
            by_uuid[encounter.client_uuid] = index
        if workers is None and encounter.outing is not None:
            # The outing's participants, read once per outing rather than per encounter.
            outing = encounter.outing
            if outing.pk not in participants:
                participants[outing.pk] = _encounter_worker_ids(actor, outing, None)
            built.append((encounter, participants[outing.pk]))
        else:
            built.append((encounter, _encounter_worker_ids(actor, encounter.outing, workers)))
    taken_message = _("This client UUID is already used by another record.")
    uuids = list(by_uuid)
    for start in range(0, len(uuids), 900):  # SQLite's limit on query parameters
        taken = Encounter.objects.filter(client_uuid__in=uuids[start : start + 900]).values_list(
            "client_uuid", flat=True
        )
        for client_uuid in taken:
            if client_uuid is not None:
                errors[by_uuid[client_uuid]] = ValidationError({"client_uuid": [taken_message]})
    if errors:
        raise RowErrors(dict(sorted(errors.items())))
    through = Encounter.workers.through
    created: list[Encounter] = []
    for start in range(0, len(built), _BULK_SIZE):
        batch = built[start : start + _BULK_SIZE]
        encounters = Encounter.objects.bulk_create([encounter for encounter, _workers in batch])
        links = [
            (encounter.pk, worker)
            for encounter, (_built, worker_ids) in zip(encounters, batch, strict=True)
            for worker in worker_ids
        ]
        insert_many(
            through,
            same={},
            varying={"encounter": [pk for pk, _user in links], "user": [user for _pk, user in links]},
        )
        audit_many(actor=actor, action=AuditEntry.Action.CREATE, instances=encounters, changes=ENCOUNTER_CREATE_AUDIT)
        created.extend(encounters)
    rollups.encounters_changed(*created)
    return created


@transaction.atomic
def encounter_update(
    *,
    actor: User,
    encounter: Encounter,
    workers: Iterable[User] | None = None,
    expected_version: int | None = None,
    door: str = AccessLogEntry.Door.PAGE,
    **fields,
) -> Encounter:
    """Correct an encounter; with `expected_version`, one changed since is refused (`StaleVersion`)."""
    team = fields.get("team", encounter.team)
    if not permissions.can_edit_encounter(actor, encounter):
        raise PermissionDenied
    if not actor.is_expert:
        ensure_can_write_team(actor, team)
    _normalise_encounter_fields(fields)
    current = lock_version(encounter, expected_version)
    before = rollups.touched_by([encounter])
    person_before = encounter.person
    changed = apply_changes(encounter, fields)
    if {"team", "site", "outing", "person"} & set(changed):
        check_encounter_links(
            actor=actor, team=encounter.team, site=encounter.site, outing=encounter.outing, person=encounter.person
        )
    if changed:
        if "occurred_at" in changed:
            run_field_validators(encounter, "occurred_at")
            encounter.occurred_on = domain_date(encounter.occurred_at)
        validate_model(encounter)
        saved = [*changed, "occurred_on"] if "occurred_at" in changed else list(changed)
        raise_version(encounter, current, saved)
        save_changes(encounter, saved)
        rollups.encounters_changed(encounter, before=before)
        if "site" in changed:
            referral_rollups.encounters_moved([encounter.pk])
    if workers is not None:
        encounter.workers.set(workers)
        changed.append("workers")
    if changed:
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=encounter, changes=changed)
        person_access_log(
            actor=actor, persons=[person_before, encounter.person], action=AccessLogEntry.Action.EDIT, door=door
        )
    return encounter


def _normalise_encounter_fields(fields: dict) -> None:
    """The stored form of a change: the anonymous flag follows the person, code sets in canonical order."""
    if "person" in fields:
        fields["anonymous"] = fields["person"] is None
    for name in ("needs", "actions"):
        if name in fields:
            field = Encounter._meta.get_field(name)
            assert isinstance(field, models.Field)
            fields[name] = field.to_python(fields[name])


@transaction.atomic
def encounter_delete(*, actor: User, encounter: Encounter, with_referrals: bool = False) -> None:
    """Delete a mistaken entry (see `permissions.can_delete_encounter`).

    An encounter with referrals is refused, unless `with_referrals`: the undo
    of a quick log that added a referral removes both. Each referral must then
    be one the actor may delete by the same rule (their own, made today; any
    of their teams' for a coordinator).
    """
    writable_teams = None if actor.is_superuser else writable_team_ids(actor)
    if not permissions.can_delete_encounter(actor, encounter, writable_teams=writable_teams):
        raise PermissionDenied
    referrals = list(encounter.referrals.all())
    if referrals and not with_referrals:
        raise ValidationError(_("This encounter has referrals; delete or move them first."))
    for referral in referrals:
        if not permissions.can_delete_referral(actor, referral, writable_teams=writable_teams):
            raise ValidationError(_("This encounter has referrals; delete or move them first."))
        audit(actor=actor, action=AuditEntry.Action.DELETE, instance=referral)
        referral.delete()
    referral_rollups.refresh(referral_rollups.days_of(referrals))
    audit(actor=actor, action=AuditEntry.Action.DELETE, instance=encounter)
    touched = rollups.touched_by([encounter])
    encounter.delete()
    rollups.refresh(touched)


@transaction.atomic
def encounter_restore(*, actor: User, encounter_id: int, workers: Iterable[User]) -> Encounter:
    """Bring back an encounter the actor deleted a moment ago: the undo of `encounter_delete`.

    Only the one who deleted it may, within `permissions.ENCOUNTER_UNDO_SECONDS`
    and only while the delete rules still let them delete it. The encounter
    returns as it was, with the same id, from its history row; the rollups are
    recounted and an audit entry written.
    """
    deleted = (
        AuditEntry.objects.filter(
            action=AuditEntry.Action.DELETE, model=Encounter._meta.label_lower, object_id=str(encounter_id)
        )
        .order_by("-at")
        .first()
    )
    if deleted is None or deleted.actor_id != actor.pk:
        raise PermissionDenied
    if Encounter.objects.filter(pk=encounter_id).exists():
        raise ValidationError(_("This encounter has already been brought back."))
    if timezone.now() - deleted.at > datetime.timedelta(seconds=permissions.ENCOUNTER_UNDO_SECONDS):
        raise ValidationError(_("The time to undo the delete has passed; the encounter stays deleted."))
    row = Encounter.history.filter(id=encounter_id, history_type="-").order_by("-history_date").first()
    if row is None:
        raise ValidationError(_("This encounter cannot be brought back."))
    encounter = row.instance
    if not permissions.can_delete_encounter(actor, encounter):
        raise PermissionDenied
    check_encounter_links(
        actor=actor, team=encounter.team, site=encounter.site, outing=encounter.outing, person=encounter.person
    )
    validate_model(encounter)
    encounter.save(force_insert=True)
    encounter.workers.set(workers)
    rollups.encounters_changed(encounter)
    audit(
        actor=actor, action=AuditEntry.Action.CREATE, instance=encounter, changes=[*ENCOUNTER_CREATE_AUDIT, "workers"]
    )
    return encounter


# Referrals -----------------------------------------------------------------


def _check_referral_links(
    *,
    team: Team,
    person: Person | None,
    encounter: Encounter | None,
    partner: PartnerOrganisation | None,
    partner_service: PartnerService | None = None,
) -> None:
    errors = {}
    if person is not None and person.team_id != team.pk:
        errors["person"] = _("The person belongs to another team.")
    if encounter is not None and encounter.team_id != team.pk:
        errors["encounter"] = _("The encounter belongs to another team.")
    if person is not None and encounter is not None and encounter.person_id not in (None, person.pk):
        errors["person"] = _("The encounter is linked to another person.")
    if partner is not None and not partner.active:
        errors["partner"] = _("This partner organisation is no longer active.")
    if partner_service is not None and not partner_service.active:
        errors["partner_service"] = _("This service is no longer offered.")
    if errors:
        raise ValidationError(errors)


def _stamp_status_dates(referral: Referral, status: str, on: datetime.date) -> None:
    referral.status = status
    referral.status_changed_on = on
    if status in (ReferralStatus.MADE, ReferralStatus.CONNECTED) and referral.made_on is None:
        referral.made_on = on if status == ReferralStatus.MADE else referral.referred_on
    if status == ReferralStatus.CONNECTED and referral.connected_on is None:
        referral.connected_on = on
    if status in (ReferralStatus.DECLINED, ReferralStatus.NOT_REACHED, ReferralStatus.ENDED):
        referral.closed_on = on


# Atomic: create_once runs the create in a transaction (its own, without a savepoint, when none is open).
def referral_create(
    *,
    actor: User,
    team: Team,
    service_kind: str = "",
    person: Person | None = None,
    encounter: Encounter | None = None,
    partner: PartnerOrganisation | None = None,
    partner_service: PartnerService | None = None,
    status: str = ReferralStatus.SUGGESTED,
    referred_on: datetime.date | None = None,
    follow_up_due: datetime.date | None = None,
    outcome_notes: str = "",
    client_uuid: uuid.UUID | None = None,
) -> Referral:
    """Create a referral in any status: records entered afterwards or imported.

    With a `client_uuid` the create happens once, as `encounter_create`'s
    does; `referred_on` left out (today) is not compared with a repeat's.
    A `partner_service` gives the partner and the service kind left out.
    """
    ensure(permissions.keeps_person_records(actor))
    ensure_can_write_team(actor, team)
    if person is None and encounter is not None:
        person = encounter.person
    if partner_service is not None:
        partner = partner or partner_service.partner
        service_kind = service_kind or partner_service.service_kind
    _check_referral_links(
        team=team, person=person, encounter=encounter, partner=partner, partner_service=partner_service
    )
    content = [*REFERRAL_CONTENT, "referred_on"] if referred_on is not None else REFERRAL_CONTENT
    referred_on = referred_on or timezone.localdate()
    referral = Referral(
        team=team,
        person=person,
        encounter=encounter,
        service_kind=service_kind,
        partner=partner,
        partner_service=partner_service,
        referred_on=referred_on,
        follow_up_due=follow_up_due,
        outcome_notes=outcome_notes,
        client_uuid=client_uuid,
        created_by=actor,
    )
    _stamp_status_dates(referral, status, referred_on)

    def create() -> Referral:
        validate_model(referral)
        referral.save()
        referral_rollups.referrals_changed(referral)
        audit(
            actor=actor, action=AuditEntry.Action.CREATE, instance=referral, changes=["team", "service_kind", "status"]
        )
        _record_referral_disclosure(actor, referral)
        return referral

    return create_once(
        model=Referral,
        client_uuid=client_uuid,
        visible=lambda: referrals_visible_to(actor),
        same=lambda stored: same_values(stored, referral, content),
        create=create,
    )


# What a repeated create must match to be the same referral (`referral_create`).
REFERRAL_CONTENT = (
    "team",
    "person",
    "encounter",
    "service_kind",
    "partner",
    "partner_service",
    "status",
    "follow_up_due",
    "outcome_notes",
)


def _record_referral_disclosure(actor: User, referral: Referral) -> None:
    """A referral of a person to a partner organisation tells the partner about them: a disclosure.

    The legal basis is the person's consent to sharing information with
    services when one is in force, otherwise it is recorded as not recorded.
    """
    from outreach.models import Disclosure
    from outreach.services import disclosure_record

    person = referral.person
    if referral.partner is None or person is None:
        return
    consented = Consent.objects.filter(
        person=person, scope=Consent.Scope.INFORMATION_SHARING, withdrawn_on__isnull=True
    ).exists()
    disclosure_record(
        actor=actor,
        kind=Disclosure.Kind.REFERRAL,
        recipient=referral.partner.name,
        categories=["identity" if person.kind == Person.Kind.NAMED else "pseudonymous", "referrals"],
        legal_basis=Disclosure.LegalBasis.CONSENT if consented else Disclosure.LegalBasis.NOT_RECORDED,
        record_type=referral._meta.label_lower,
        record_count=1,
        person_ids=[person.pk],
    )


@transaction.atomic
def referral_update(
    *,
    actor: User,
    referral: Referral,
    expected_version: int | None = None,
    door: str = AccessLogEntry.Door.PAGE,
    **fields,
) -> Referral:
    """Change a referral. Status moves only forward (see rules.REFERRAL_TRANSITIONS).

    With `expected_version` (the version the editor saw) a referral changed
    since is refused with `StaleVersion`, and nothing is saved.
    """
    if actor.is_expert:
        raise PermissionDenied
    # Lock the row: two workers moving the status at once must not both pass
    # the transition check against the same old status.
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    current = referral.version
    check_version(referral, current, expected_version)
    ensure_can_write_team(actor, referral.team)
    counted_before = referral_rollups.days_of([referral])
    if "team" in fields:
        ensure_can_write_team(actor, fields["team"])
    new_status = fields.pop("status", referral.status)
    if fields.get("partner_service") is not None:
        # A new service target gives its partner and kind, unless they are given too.
        fields.setdefault("partner", fields["partner_service"].partner)
        fields.setdefault("service_kind", fields["partner_service"].service_kind)
    if not referral_status_change_allowed(referral.status, new_status):
        raise ValidationError(
            {
                "status": _("A referral cannot move from “%(current)s” to “%(new)s”.")
                % {
                    "current": ReferralStatus(referral.status).label,
                    "new": ReferralStatus(new_status).label if new_status in ReferralStatus.values else new_status,
                }
            }
        )
    changed = apply_changes(referral, fields)
    if new_status != referral.status:
        _stamp_status_dates(referral, new_status, timezone.localdate())
        changed.append("status")
    if {"team", "person", "encounter", "partner", "partner_service"} & set(changed):
        _check_referral_links(
            team=referral.team,
            person=referral.person,
            encounter=referral.encounter,
            partner=referral.partner,
            partner_service=referral.partner_service if "partner_service" in changed else None,
        )
    if changed:
        validate_model(referral)
        status_dates = ["status_changed_on", "made_on", "connected_on", "closed_on"] if "status" in changed else []
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=referral, changes=changed)
        saved = [*changed, *status_dates]
        raise_version(referral, current, saved)
        save_changes(referral, saved)
        referral_rollups.referrals_changed(referral, before=counted_before)
        person_access_log(actor=actor, persons=[referral.person], action=AccessLogEntry.Action.EDIT, door=door)
    if {"partner", "person"} & set(changed):
        _record_referral_disclosure(actor, referral)
    return referral


# The partner's confirmation -------------------------------------------------

# The statuses in which a referral waits for the partner to say whether the person arrived.
CONFIRMABLE_STATUSES = (ReferralStatus.SUGGESTED, ReferralStatus.MADE)
# The partner's answer and the statuses it moves the referral through (a suggested one is made first).
CONFIRMATION_STEPS = {
    ReferralConfirmation.Outcome.ARRIVED: (ReferralStatus.MADE, ReferralStatus.CONNECTED),
    ReferralConfirmation.Outcome.NOT_ARRIVED: (ReferralStatus.NOT_REACHED,),
}
CONFIRMED_BY_PARTNER = "confirmed by partner"
# The error code of a partner's answer that the status rules refuse (the referral was closed meanwhile).
REFERRAL_CLOSED = "referral_closed"


def confirmation_token_digest(token: str) -> str:
    """The stored form of a confirmation link's token: only its SHA-256 digest is kept."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def referral_confirmation_create(
    *, actor: User, referral: Referral, send_to: str = "", link_for: Callable[[str], str] | None = None
) -> tuple[ReferralConfirmation, str]:
    """A single-use link for the partner to confirm whether the person arrived; returns it and its token.

    The token is unguessable (256 bits) and is not stored, only its digest:
    the caller shows it once. With `send_to` the link (`link_for(token)`, an
    absolute URL) is e-mailed there once the transaction commits. The link
    expires after REFERRAL_CONFIRMATION_DAYS. Without `link_for` the link is
    made under SITE_URL.
    """
    ensure(permissions.keeps_person_records(actor))
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    ensure(permissions.can_write_team(actor, referral.team))
    if referral.status not in CONFIRMABLE_STATUSES:
        raise ValidationError({"status": _("Only a suggested or made referral waits for the partner's confirmation.")})
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    confirmation = ReferralConfirmation(
        referral=referral,
        token_digest=confirmation_token_digest(token),
        created_by=actor,
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.REFERRAL_CONFIRMATION_DAYS),
        sent_to=send_to.strip(),
    )
    try:
        validate_model(confirmation)
    except ValidationError as error:
        if "sent_to" in error.message_dict:
            raise ValidationError({"send_to": error.message_dict["sent_to"]}) from None
        raise
    confirmation.save()
    audit(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        instance=confirmation,
        changes=["referral", "expires_at", "sent_to"] if confirmation.sent_to else ["referral", "expires_at"],
    )
    if confirmation.sent_to:
        url = (link_for or _site_link)(token)
        transaction.on_commit(lambda: _send_confirmation_link(confirmation.pk, url))
    return confirmation, token


def _site_link(token: str) -> str:
    """A confirmation link under SITE_URL, for a caller without a request (a command)."""
    from django.urls import reverse

    return settings.SITE_URL.rstrip("/") + reverse("partner_confirmation", kwargs={"key": token})


def _send_confirmation_link(confirmation_pk: int, url: str) -> None:
    confirmation = ReferralConfirmation.objects.select_related("referral").get(pk=confirmation_pk)
    context = {"confirmation": confirmation, "referral": confirmation.referral, "url": url}
    send_mail(
        subject=_("Did the person you were referred arrive? Referral %(reference)s")
        % {"reference": confirmation.referral.reference},
        message=render_to_string("encounters/partner_confirmation_email.txt", context),
        from_email=None,
        recipient_list=[confirmation.sent_to],
    )


def referral_confirmation_usable(token: str) -> ReferralConfirmation:
    """The confirmation of a link that can still be answered; `LinkUnusable` otherwise."""
    confirmation = (
        ReferralConfirmation.objects.select_related("referral")
        .filter(token_digest=confirmation_token_digest(token))
        .first()
    )
    return _usable(confirmation)


def _usable(confirmation: ReferralConfirmation | None) -> ReferralConfirmation:
    if confirmation is None:
        raise LinkUnusable("unknown")
    if confirmation.used_at is not None:
        raise LinkUnusable("used")
    if confirmation.expires_at <= timezone.now():
        raise LinkUnusable("expired")
    return confirmation


@transaction.atomic
def referral_confirm_by_partner(*, token: str, outcome: str, partner_name: str = "", note: str = "") -> Referral:
    """The partner's answer through the link: the person arrived (→ connected) or did not (→ not reached).

    No account: the link is the credential, used once. The referral moves
    only where the status rules allow it (a suggested one is made first);
    otherwise, as for an unknown, used or expired link, nothing changes.
    Its history records the change as confirmed by the partner.
    """
    confirmation = _usable(
        ReferralConfirmation.objects.select_for_update().filter(token_digest=confirmation_token_digest(token)).first()
    )
    if outcome not in CONFIRMATION_STEPS:
        raise ValidationError({"outcome": _("Choose whether the person arrived.")})
    referral = Referral.objects.select_for_update().get(pk=confirmation.referral_id)
    path = CONFIRMATION_STEPS[ReferralConfirmation.Outcome(outcome)]
    # A referral part of the way along the path goes on from where it is.
    steps = list(path[path.index(referral.status) + 1 :] if referral.status in path else path)
    status = referral.status
    for step in steps:
        if not referral_status_change_allowed(status, step):
            message = _("This referral is closed already; its status cannot change any more.")
            raise ValidationError({"outcome": ValidationError(message, code=REFERRAL_CLOSED)})
        status = step
    confirmation.used_at = timezone.now()
    confirmation.outcome = outcome
    confirmation.partner_name = partner_name.strip()
    confirmation.note = note.strip()
    validate_model(confirmation)
    confirmation.save(update_fields=["used_at", "outcome", "partner_name", "note"])
    if steps:
        current = referral.version
        on = timezone.localdate()
        for step in steps:
            _stamp_status_dates(referral, step, on)
        saved = ["status", "status_changed_on", "made_on", "connected_on", "closed_on"]
        raise_version(referral, current, saved)
        referral._change_reason = CONFIRMED_BY_PARTNER  # type: ignore[attr-defined]  # simple-history's reason
        save_changes(referral, saved)
        referral_rollups.referrals_changed(referral)
    audit(actor=None, action=AuditEntry.Action.UPDATE, instance=confirmation, changes=["used_at", "outcome"])
    if steps:
        audit(
            actor=None, action=AuditEntry.Action.UPDATE, instance=referral, changes=["status", "confirmed_by_partner"]
        )
    return referral


# Follow-ups ----------------------------------------------------------------


@transaction.atomic
def follow_up_create(
    *,
    actor: User,
    team: Team,
    due_on: datetime.date,
    referral: Referral | None = None,
    person: Person | None = None,
    assigned_to: User | None = None,
    contact_kind: str = ContactKind.PHONE,
    notes: str = "",
    done_on: datetime.date | None = None,
) -> FollowUp:
    """Plan a support contact; `done_on` records one that has taken place already."""
    ensure(permissions.keeps_person_records(actor))
    ensure_can_write_team(actor, team)
    if person is None and referral is not None:
        person = referral.person
    _check_follow_up_links(team=team, referral=referral, person=person)
    follow_up = FollowUp(
        team=team,
        due_on=due_on,
        referral=referral,
        person=person,
        assigned_to=assigned_to or actor,
        contact_kind=contact_kind,
        notes=notes,
        done_on=done_on,
        created_by=actor,
    )
    validate_model(follow_up)
    follow_up.save()
    audit(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        instance=follow_up,
        changes=["team", "due_on", "done_on"] if done_on else ["team", "due_on"],
    )
    return follow_up


def _check_follow_up_links(*, team: Team, referral: Referral | None, person: Person | None) -> None:
    errors = {}
    if referral is not None and referral.team_id != team.pk:
        errors["referral"] = _("The referral belongs to another team.")
    if person is not None and person.team_id != team.pk:
        errors["person"] = _("The person belongs to another team.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def follow_up_update(*, actor: User, follow_up: FollowUp, **fields) -> FollowUp:
    """Change a follow-up, e.g. mark it done (`done_on`) or move its due date."""
    if actor.is_expert:
        raise PermissionDenied
    ensure_can_write_team(actor, follow_up.team)
    if "team" in fields:
        ensure_can_write_team(actor, fields["team"])
    changed = apply_changes(follow_up, fields)
    if {"team", "referral", "person"} & set(changed):
        _check_follow_up_links(team=follow_up.team, referral=follow_up.referral, person=follow_up.person)
    if changed:
        validate_model(follow_up)
        save_changes(follow_up, changed)
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=follow_up, changes=changed)
    return follow_up


# How far a follow-up is postponed by the one-tap button.
FOLLOW_UP_POSTPONE_DAYS = 7


def _locked_open_follow_up(actor: User, follow_up: FollowUp) -> FollowUp:
    ensure(permissions.keeps_person_records(actor))
    ensure_can_write_team(actor, follow_up.team)
    locked = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("team", "person", "referral")
        .get(pk=follow_up.pk)
    )
    if locked.done_on is not None:
        raise ValidationError({"follow_up": _("This follow-up has been done already.")})
    return locked


@transaction.atomic
def follow_up_record_contact(
    *, actor: User, follow_up: FollowUp, contact_kind: str = ContactKind.PHONE, notes: str = ""
) -> Encounter:
    """The follow-up contact took place: an encounter (phone or meeting) with the person, and the
    follow-up marked done, in one transaction. A follow-up already done (a colleague was quicker)
    is refused, so the contact is not recorded twice.
    """
    locked = _locked_open_follow_up(actor, follow_up)
    if contact_kind not in (ContactKind.PHONE, ContactKind.MEETING):
        raise ValidationError({"contact_kind": _("A follow-up contact is a phone call or a meeting.")})
    person = locked.person or (locked.referral.person if locked.referral else None)
    if person is None:
        raise ValidationError({"follow_up": _("The follow-up's referral has no person to record the contact with.")})
    last = Encounter.objects.filter(person=person).order_by("-occurred_at").values_list("site_id", flat=True).first()
    sites = FieldSite.objects.filter(models.Q(team=locked.team) | models.Q(team__isnull=True), active=True)
    site = sites.filter(pk=last).first() if last is not None else None
    if site is None:
        site = sites.order_by("team_id", "name").first()
    if site is None:
        raise ValidationError({"follow_up": _("The team has no active site to record the contact at.")})
    today = timezone.localdate()
    encounter = encounter_create(
        actor=actor,
        team=locked.team,
        site=site,
        occurred_at=timezone.now(),
        person=person,
        contact_kind=contact_kind,
        depth=Depth.CONVERSATION,
        gender=person.gender,
        age_group=age_group_for(person.birth_year, today.year) if person.birth_year else AgeGroup.UNKNOWN,
        notes=notes,
    )
    changes: dict = {"done_on": today, "contact_kind": contact_kind}
    if notes:
        changes["notes"] = f"{locked.notes}\n{notes}".strip()
    follow_up_update(actor=actor, follow_up=locked, **changes)
    follow_up.done_on = locked.done_on
    return encounter


@transaction.atomic
def follow_up_postpone(*, actor: User, follow_up: FollowUp, due_on: datetime.date | None = None) -> FollowUp:
    """Move an open follow-up to `due_on`, or FOLLOW_UP_POSTPONE_DAYS after today (or its due date if later)."""
    locked = _locked_open_follow_up(actor, follow_up)
    if due_on is None:
        due_on = max(timezone.localdate(), locked.due_on) + datetime.timedelta(days=FOLLOW_UP_POSTPONE_DAYS)
    elif due_on < timezone.localdate():
        raise ValidationError({"due_on": _("A follow-up is postponed to today or later.")})
    return follow_up_update(actor=actor, follow_up=locked, due_on=due_on)


# Merging duplicates --------------------------------------------------------

# Records that follow a person when two records of one person are merged.
_MERGE_MOVES = (
    ("encounters", Encounter),
    ("referrals", Referral),
    ("follow_ups", FollowUp),
    ("consents", Consent),
)


@transaction.atomic
def person_merge(*, actor: User, kept: Person, merged: Person) -> PersonMerge:
    """Merge the duplicate `merged` into `kept`; the history stays and can be undone.

    Encounters, referrals, follow-ups and consents move to the kept record;
    the merged record stays, marked `merged_into`, so that `person_unmerge`
    can move exactly those rows back.
    """
    if actor.is_expert:
        raise PermissionDenied
    ensure_can_write_team(actor, kept.team)
    # Lock both records in one fixed order (by id): two merges of the same
    # pair made crosswise at the same moment then wait for each other
    # instead of deadlocking.
    locked = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[kept.pk, merged.pk]).order_by("pk")}
    kept, merged = locked[kept.pk], locked[merged.pk]
    if kept.pk == merged.pk:
        raise ValidationError({"merged": _("A person cannot be merged into itself.")})
    if kept.team_id != merged.team_id:
        raise ValidationError({"merged": _("Only records of the same team can be merged.")})
    if kept.merged_into_id is not None or merged.merged_into_id is not None:
        raise ValidationError({"merged": _("This person record has been merged into another one.")})
    if merged.kind == Person.Kind.NAMED and kept.kind != Person.Kind.NAMED:
        # The consents and identity of a named record must not end up on a
        # pseudonymous one: keep the named record instead.
        raise ValidationError({"merged": _("Keep the named record: merge the pseudonymous one into it.")})
    moved = {}
    for key, model in _MERGE_MOVES:
        rows = model.objects.filter(person=merged)
        moved[key] = list(rows.values_list("pk", flat=True))
        rows.update(person=kept, **_next_version(model))
    merged.merged_into = kept
    merged.version += 1
    merged.save(update_fields=["merged_into", "version", "updated_at"])
    rollups.persons_changed(kept.pk, merged.pk)
    record = PersonMerge.objects.create(kept=kept, merged=merged, moved=moved, merged_by=actor)
    person_access_log(actor=actor, persons=[kept, merged], action=AccessLogEntry.Action.EDIT)
    audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=merged, changes=["merged_into"])
    audit(actor=actor, action=AuditEntry.Action.CREATE, instance=record, changes=["kept", "merged"])
    return record


@transaction.atomic
def person_unmerge(*, actor: User, merge: PersonMerge) -> Person:
    """Undo a merge: the rows that moved go back to the merged record."""
    if actor.is_expert:
        raise PermissionDenied
    merge = PersonMerge.objects.select_for_update().get(pk=merge.pk)
    ensure_can_write_team(actor, merge.kept.team)
    if merge.undone_at is not None:
        raise ValidationError({"merge": _("This merge has already been undone.")})
    for key, model in _MERGE_MOVES:
        model.objects.filter(pk__in=merge.moved.get(key, []), person=merge.kept).update(
            person=merge.merged, **_next_version(model)
        )
    merged = Person.objects.select_for_update().get(pk=merge.merged_id)
    merged.merged_into = None
    merged.version += 1
    merged.save(update_fields=["merged_into", "version", "updated_at"])
    rollups.persons_changed(merge.kept_id, merged.pk)
    person_access_log(actor=actor, persons=[merge.kept, merged], action=AccessLogEntry.Action.EDIT)
    merge.undone_at = timezone.now()
    merge.undone_by = actor
    merge.save(update_fields=["undone_at", "undone_by"])
    audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=merged, changes=["merged_into"])
    audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=merge, changes=["undone_at"])
    return merged


def _next_version(model: type[models.Model]) -> dict:
    """The version raise of a bulk UPDATE that moves records (merges): in the same statement."""
    if any(field.name == "version" for field in model._meta.concrete_fields):
        return {"version": models.F("version") + 1}
    return {}


# Access log ----------------------------------------------------------------


def person_access_log(
    *,
    actor: User | None,
    persons: Iterable[Person | None],
    action: str,
    door: str = AccessLogEntry.Door.PAGE,
    reason: str = "",
) -> int:
    """Log that `actor` used the data of these persons: one row per person; returns how many.

    The one helper that every door calls where a person's data is shown or
    leaves the system (pages, API, admin, searches, exports). Pseudonymous
    records are client data too and are logged like named ones; None (an
    anonymous encounter's person) is skipped.
    """
    ids = sorted({person.pk for person in persons if person is not None})
    return person_access_log_ids(actor=actor, person_ids=ids, action=action, door=door, reason=reason)


def person_access_log_ids(
    *,
    actor: User | None,
    person_ids: Iterable[int],
    action: str,
    door: str = AccessLogEntry.Door.PAGE,
    reason: str = "",
) -> int:
    """`person_access_log` for persons known by id (exports, bulk reads)."""
    who = actor if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    rows = [
        AccessLogEntry(at=now, actor=who, person_id=pk, action=action, door=door, reason=reason[:500])
        for pk in person_ids
    ]
    AccessLogEntry.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def person_access_log_report(
    *,
    actor: User,
    person: Person,
    since: datetime.date,
    reason: str = "",
    door: str = AccessLogEntry.Door.PAGE,
    printed: bool = False,
) -> list[dict]:
    """A person's access log from `since`, for the client who asked; producing it is logged too.

    Coordinators only. Reading back further than ACCESS_LOG_DEFAULT_DAYS
    needs a reason, which is kept in the log row of this reading.
    """
    from .selectors import can_read_access_log, person_access_log_rows

    if not can_read_access_log(actor):
        raise PermissionDenied
    reason = reason.strip()
    if since < access_log_default_since() and not reason:
        raise ValidationError({"reason": _("Give a reason for reading entries older than the default period.")})
    action = AccessLogEntry.Action.PRINT if printed else AccessLogEntry.Action.ACCESS_LOG
    person_access_log_ids(actor=actor, person_ids=[person.pk], action=action, door=door, reason=reason)
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    return person_access_log_rows(person.pk, since=start)


def access_log_default_since() -> datetime.date:
    """The first day of a person's access log shown without a reason (ACCESS_LOG_DEFAULT_DAYS back)."""
    return timezone.localdate() - datetime.timedelta(days=settings.ACCESS_LOG_DEFAULT_DAYS)


@transaction.atomic
def person_data_subject_export(*, actor: User, person: Person, door: str = AccessLogEntry.Door.PAGE) -> dict:
    """Everything about one person, for the person who asked (GDPR art. 15); logged and recorded as disclosed.

    Coordinators only (the same who produce the access log).
    """
    from outreach.models import Disclosure
    from outreach.services import disclosure_record

    from .selectors import can_read_access_log, person_data

    if not can_read_access_log(actor):
        raise PermissionDenied
    person_access_log_ids(actor=actor, person_ids=[person.pk], action=AccessLogEntry.Action.EXPORT, door=door)
    categories = ["pseudonymous", "encounters", "referrals", "follow_ups", "consents"]
    if person.kind == Person.Kind.NAMED:
        categories.insert(0, "identity")
    disclosure_record(
        actor=actor,
        kind=Disclosure.Kind.DATA_SUBJECT_EXPORT,
        recipient=_("The person themself"),
        categories=categories,
        legal_basis=Disclosure.LegalBasis.DATA_SUBJECT_REQUEST,
        record_type="encounters.person",
        record_count=1,
        person_ids=[person.pk],
    )
    return person_data(person)


# Retention -----------------------------------------------------------------

RETENTION_PERSON_ACTIONS = ("flag", "pseudonymise")


def retention_cutoffs(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The days before which anonymous notes are cleared and a person counts as out of contact."""
    months = settings.RETENTION_ANONYMOUS_NOTES_MONTHS
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    day = min(today.day, 28)
    notes_before = datetime.date(year, month + 1, day)
    years = settings.RETENTION_PERSON_YEARS
    try:
        persons_before = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        persons_before = today.replace(year=today.year - years, day=28)
    return notes_before, persons_before


@transaction.atomic
def retention_run(*, apply: bool = False, today: datetime.date | None = None) -> dict[str, int]:
    """Apply the retention policy (settings RETENTION_*); a dry run unless `apply`. Returns counts per category.

    - `anonymous_notes_cleared`: anonymous encounters older than
      RETENTION_ANONYMOUS_NOTES_MONTHS whose free text is cleared.
    - `persons_flagged` / `persons_pseudonymised`: persons with no contact
      (no encounter, no follow-up done) for RETENTION_PERSON_YEARS and a
      record older than that, flagged for review or stripped of their
      direct identifiers and notes (RETENTION_PERSON_ACTION); a person
      already flagged or already pseudonymised by an earlier run is not
      counted again, so a second run changes nothing.
    - `persons_on_legal_hold`: persons who would be due but are kept.

    Each run, dry or not, leaves an audit entry with the counts. The access
    log keeps its rows whatever happens to a record.
    """
    action = settings.RETENTION_PERSON_ACTION
    if action not in RETENTION_PERSON_ACTIONS:
        raise ValidationError(
            {"RETENTION_PERSON_ACTION": _("Use “flag” or “pseudonymise”, not “%(value)s”.") % {"value": action}}
        )
    today = today or timezone.localdate()
    notes_before, persons_before = retention_cutoffs(today)
    old_notes = Encounter.objects.filter(anonymous=True, occurred_on__lt=notes_before).exclude(notes="")
    recent = Encounter.objects.filter(person=models.OuterRef("pk"), occurred_on__gte=persons_before)
    recent_follow_up = FollowUp.objects.filter(person=models.OuterRef("pk"), done_on__gte=persons_before)
    start = timezone.make_aware(datetime.datetime.combine(persons_before, datetime.time.min))
    due = (
        Person.objects.filter(merged_into__isnull=True, created_at__lt=start)
        .exclude(models.Exists(recent))
        .exclude(models.Exists(recent_follow_up))
    )
    held = due.filter(legal_hold=True)
    due = due.filter(legal_hold=False)
    if action == "flag":
        to_change = due.filter(retention_flagged_on__isnull=True)
    else:
        to_change = due.filter(kind=Person.Kind.NAMED) | due.exclude(notes="")
    counts = {
        "anonymous_notes_cleared": old_notes.count(),
        "persons_flagged" if action == "flag" else "persons_pseudonymised": to_change.count(),
        "persons_on_legal_hold": held.count(),
    }
    if apply:
        # The change history keeps old values: the cleared text goes from there too.
        Encounter.history.filter(anonymous=True, occurred_on__lt=notes_before).exclude(notes="").update(notes="")
        old_notes.update(notes="", updated_at=timezone.now(), version=models.F("version") + 1)
        if action == "flag":
            to_change.update(retention_flagged_on=today, updated_at=timezone.now(), version=models.F("version") + 1)
        else:
            for person in to_change.select_for_update():
                _pseudonymise(person, today)
    details = [f"{key}={value}" for key, value in counts.items()]
    details += ["applied" if apply else "dry_run", f"notes_before={notes_before}", f"persons_before={persons_before}"]
    audit_bulk(actor=None, action=AuditEntry.Action.UPDATE, model=Person, details=details)
    return counts


def _pseudonymise(person: Person, today: datetime.date) -> None:
    """Strip a person's direct identifiers and notes; the record stays, as an alias (#id when it has none)."""
    person.kind = Person.Kind.PSEUDONYMOUS
    person.alias = person.alias or f"#{person.pk}"
    for name in (*DIRECT_IDENTIFIERS, "notes"):
        setattr(person, name, "")
    person.retention_flagged_on = today
    person.version += 1
    person.save(
        update_fields=["kind", "alias", *DIRECT_IDENTIFIERS, "notes", "retention_flagged_on", "version", "updated_at"]
    )
    # Nor does the change history keep what was stripped.
    person.history.update(**dict.fromkeys((*DIRECT_IDENTIFIERS, "notes"), ""), kind=person.kind, alias=person.alias)
    audit(
        actor=None,
        action=AuditEntry.Action.UPDATE,
        instance=person,
        changes=["kind", "alias", *DIRECT_IDENTIFIERS, "notes", "retention"],
    )
    person_access_log(actor=None, persons=[person], action=AccessLogEntry.Action.EDIT, door=AccessLogEntry.Door.COMMAND)
