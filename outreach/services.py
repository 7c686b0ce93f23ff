"""Writes for users, sites and outings. Every write leaves an audit entry."""

import contextvars
import datetime
import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from . import permissions, rollups
from .exceptions import Conflict, StaleVersion
from .fields import CodeSetField
from .models import (
    DISCLOSURE_CATEGORIES,
    AccessChange,
    ApiToken,
    AuditEntry,
    Disclosure,
    EmailChange,
    FieldSite,
    Outing,
    TallyEvent,
    Team,
    User,
)
from .permissions import ensure
from .selectors import outings_visible_to
from .vocabulary import OutingStatus, Role

logger = logging.getLogger(__name__)

# Roles whose holders reach the Django admin (with per-model limits).
STAFF_ROLES = {Role.ADMIN, Role.COORDINATOR}


def audit(*, actor: User | None, action: str, instance: models.Model, changes: Iterable[str] = ()) -> AuditEntry:
    """Record who did what to which record. Field names only, never values."""
    return _audit_entry(actor, action, instance._meta.label_lower, str(instance.pk), sorted(changes))


def audit_bulk(*, actor: User | None, action: str, model: type[models.Model], details: Iterable[str]) -> AuditEntry:
    """An audit entry for a whole export or import: what and how many, never values."""
    return _audit_entry(actor, action, model._meta.label_lower, "", list(details))


def audit_many(
    *, actor: User | None, action: str, instances: Iterable[models.Model], changes: Iterable[str] = ()
) -> int:
    """The entries `audit` writes, one per record, for bulk writes; how many were written.

    The entries differ only in the record's type and id (`insert_many`): an
    AuditEntry instance per record, through `bulk_create`'s per-value
    conversions, took a tenth of a 100,000-row import. The time is the same
    for all of them, as in one transaction.
    """
    actor = actor if actor is not None and actor.is_authenticated else None
    records = [(instance._meta.label_lower, str(instance.pk)) for instance in instances]
    return insert_many(
        AuditEntry,
        same={
            "at": timezone.now(),
            "actor": actor.pk if actor is not None else None,
            "action": action,
            "changes": sorted(changes),
        },
        varying={"model": [model for model, _pk in records], "object_id": [pk for _model, pk in records]},
    )


def insert_many(model: type[models.Model], *, same: dict[str, object], varying: dict[str, list]) -> int:
    """Insert rows that share the values of `same` and take those of `varying` (a list per field, one
    value per row) in turn; how many. For bulk writes of plain rows (no signals, no ids returned).

    Each value is converted for the database by its field, the shared ones
    once. On PostgreSQL the rows go in as one statement over arrays
    (`unnest`), elsewhere as one prepared INSERT run per row (`executemany`):
    both several times cheaper than `bulk_create`'s SQL of a parameter per
    value.
    """
    connection = connections[router.db_for_write(model)]
    fields: dict[str, models.Field] = {}
    for name in (*same, *varying):
        field = model._meta.get_field(name)
        if not isinstance(field, models.Field) or not field.column:  # a relation's other end has no column
            raise TypeError(f"{model._meta.label}.{name} is not a column")
        fields[name] = field
    shared = [fields[name].get_db_prep_save(value, connection) for name, value in same.items()]
    columns = {
        name: [fields[name].get_db_prep_save(value, connection) for value in values] for name, values in varying.items()
    }
    count = len(next(iter(columns.values()), []))
    if not count:
        return 0
    quote = connection.ops.quote_name
    names = ", ".join(quote(fields[name].column) for name in fields)
    insert = f"INSERT INTO {quote(model._meta.db_table)} ({names})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            aliases = [f"c{index}" for index in range(len(columns))]
            selected = ", ".join(["%s"] * len(shared) + [f"r.{alias}" for alias in aliases])
            arrays = ", ".join(f"%s::{fields[name].db_type(connection)}[]" for name in columns)
            cursor.execute(
                f"{insert} SELECT {selected} FROM unnest({arrays}) AS r({', '.join(aliases)})",
                [*shared, *columns.values()],
            )
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"{insert} VALUES ({placeholders})", [(*shared, *row) for row in zip(*columns.values(), strict=True)]
            )
    return count


def _audit_entry(actor: User | None, action: str, model: str, object_id: str, changes: list[str]) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        model=model,
        object_id=object_id,
        changes=changes,
    )


def ensure_can_write_team(actor: User, team: Team | None, field: str = "team") -> None:
    """Refuse, naming the field, a record for a team the actor may not write for (`permissions.can_write_team`)."""
    if not permissions.can_write_team(actor, team):
        raise ValidationError({field: _("You cannot record work for this team.")})


def default_team(user: User) -> Team:
    """The team of a write that leaves `team` out: the user's only team (DESIGN.md).

    Every door asks this one function; belonging to no team or to several
    is a ValidationError naming `team`.
    """
    teams = list(user.teams.all()[:2]) if user.is_authenticated else []
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise ValidationError({"team": _("You belong to no team: give the team.")})
    raise ValidationError({"team": _("You belong to several teams: give the team.")})


def apply_changes(instance: models.Model, fields: dict) -> list[str]:
    """Set the given attributes; return the names of those that changed."""
    changed = []
    for name, value in fields.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def save_changes(instance: models.Model, changed: Iterable[str]) -> None:
    """Save only the changed columns (and the `auto_now` ones, such as `updated_at`).

    Not the whole row read at the start: two colleagues saving different
    fields of one record at the same moment both keep their change.
    """
    concrete = {field.name for field in instance._meta.concrete_fields}
    auto_now = [field.name for field in instance._meta.concrete_fields if getattr(field, "auto_now", False)]
    instance.save(update_fields=sorted({*(name for name in changed if name in concrete), *auto_now}))


def run_field_validators(instance: models.Model, name: str) -> None:
    """Run one field's validators now, before the service computes with its value (e.g. a date's Helsinki day).

    The rule stays the field's own; `validate_model` would report it too,
    but only after the computation that an implausible value can break.
    """
    field = instance._meta.get_field(name)
    assert isinstance(field, models.Field), "only concrete fields have validators"
    value = getattr(instance, field.attname)
    if value is None:
        return
    try:
        field.run_validators(value)
    except ValidationError as error:
        raise ValidationError({name: error.error_list}) from None


def validate_model(instance: models.Model, exclude: Iterable[str] = ()) -> None:
    """Model validation before a write: `full_clean()`'s steps, in its order and with its messages.

    The check constraints run too, so that a form or the API gets a message
    naming the field rather than an IntegrityError. Left to the INSERT's own
    constraints, because each would cost a statement on every save
    (docs/SCALING.md §3):

    - the existence check of a foreign key whose record is loaded on the
      instance (`_loaded_foreign_keys`); a record deleted since is still
      refused by the foreign key constraint;
    - the unique check of `client_uuid` in a create run by `create_once`, which
      answers the INSERT's failure on a used UUID as a repeat.

    `FieldCheckConstraint` answers plain conditions without a query.
    """
    exclude = set(exclude)
    errors: dict = {}
    loaded = _loaded_foreign_keys(instance, exclude)
    try:
        instance.clean_fields(exclude=exclude | {field.name for field in loaded})
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    for field in loaded:
        try:
            _clean_loaded_foreign_key(instance, field)
        except ValidationError as error:
            errors[field.name] = error.error_list
    if any(field.name in errors for field in loaded):  # in field order, as clean_fields() reports them
        errors = {field.name: errors[field.name] for field in instance._meta.fields if field.name in errors}

    # Model.clean() runs even when a field failed, as in full_clean().
    try:
        instance.clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)

    # Unique checks and constraints only for the fields that passed.
    exclude.update(name for name in errors if name != NON_FIELD_ERRORS)
    unique_exclude = (exclude | {"client_uuid"}) if _keyed_by_insert(instance) else exclude
    try:
        instance.validate_unique(exclude=unique_exclude)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    exclude.update(name for name in errors if name != NON_FIELD_ERRORS)
    try:
        instance.validate_constraints(exclude=exclude)
    except ValidationError as error:
        errors = error.update_error_dict(errors)

    if errors:
        raise ValidationError(errors)


def _loaded_foreign_keys(instance: models.Model, exclude: set[str]) -> list[models.ForeignKey]:
    """The foreign keys whose record is loaded on the instance, from the database it is written to.

    A record read from that database existed when it was read, so looking
    it up again proves nothing that the INSERT's foreign key constraint does
    not. A key with `limit_choices_to` keeps its look-up (the limit is a rule
    of its own), and so does one set by id or to an unsaved record.
    """
    database = router.db_for_write(type(instance), instance=instance)
    loaded = []
    for field in instance._meta.fields:
        if (
            field.name in exclude
            or not isinstance(field, models.ForeignKey)
            or type(field).validate is not models.ForeignKey.validate
            or field.remote_field.limit_choices_to
            or not field.is_cached(instance)
        ):
            continue
        related = field.get_cached_value(instance)
        if (
            related is not None
            and not related._state.adding
            and related._state.db == database
            and getattr(related, field.target_field.attname) == getattr(instance, field.attname)
        ):
            loaded.append(field)
    return loaded


def _clean_loaded_foreign_key(instance: models.Model, field: models.ForeignKey) -> None:
    """What `clean_fields()` does for the field, without `ForeignKey.validate`'s look-up of the record."""
    value = getattr(instance, field.attname)
    if field.blank and value in field.empty_values:
        return
    value = field.to_python(value)
    models.Field.validate(field, value, instance)
    field.run_validators(value)
    setattr(instance, field.attname, value)


# The models whose creates `create_once` is running in this context (it sets
# and resets this): their `client_uuid` is unique by the INSERT's constraint.
_CREATING_ONCE: contextvars.ContextVar[frozenset[type[models.Model]]] = contextvars.ContextVar(
    "creating_once", default=frozenset()
)


def _keyed_by_insert(instance: models.Model) -> bool:
    return instance._state.adding and type(instance) in _CREATING_ONCE.get()


# Versions: stale saves refused ------------------------------------------------

# Values never repeated in a message about a colleague's change.
UNSHOWN_VALUES = frozenset({"identity_code"})


def lock_version(instance: models.Model, expected_version: int | None) -> int:
    """Lock the record's row and return its stored version; refuse a change based on another one.

    `expected_version` is the version the caller saw (a form's hidden field,
    the API's If-Match); None skips the check. The row stays locked until the
    transaction ends, so two saves of one record go one after the other and
    the second sees the first's version.
    """
    manager = type(instance)._default_manager
    current = manager.select_for_update().filter(pk=instance.pk).values_list("version", flat=True).get()
    check_version(instance, current, expected_version)
    return current


def check_version(instance: models.Model, current: int, expected_version: int | None) -> None:
    """`lock_version` for a row the caller has locked already (and so read its `current` version)."""
    if expected_version is not None and expected_version != current:
        raise StaleVersion(current_version=current, changes=changes_since(instance, expected_version))


def raise_version(instance: models.Model, current: int, changed: list[str]) -> None:
    """Count a change: the next version goes into the same UPDATE as the changed fields."""
    instance.version = current + 1  # type: ignore[attr-defined]
    changed.append("version")


def changes_since(instance: models.Model, version: int) -> list[tuple[str, str, str]]:
    """What was changed in a record after `version`: (field, label, value now), from its change history."""
    history = instance.history.order_by("-history_date", "-history_id")  # type: ignore[attr-defined]
    latest = history.first()
    seen = history.filter(version__lte=version).first()
    if latest is None or seen is None or latest.pk == seen.pk:
        return []
    delta = latest.diff_against(seen, excluded_fields=["version", "history_change_reason"])
    now = latest.instance
    changes = []
    for change in delta.changes:
        field = type(instance)._meta.get_field(change.field)
        assert isinstance(field, models.Field)
        changes.append((field.name, str(field.verbose_name), _shown_value(now, field)))
    return changes


def _shown_value(instance: models.Model, field: models.Field) -> str:
    from django.utils.formats import date_format

    value = getattr(instance, field.attname)
    if field.name in UNSHOWN_VALUES and value:
        return _("(changed)")
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(field, CodeSetField):
        labels = dict(field.choices_enum.choices)
        return ", ".join(str(labels.get(code, code)) for code in value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        return str(getattr(instance, field.name))
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    return str(value)


# Exactly-once creation -------------------------------------------------------

_M = TypeVar("_M", bound=models.Model)


def same_values(stored: models.Model, candidate: models.Model, names: Iterable[str]) -> bool:
    """Whether `stored` holds the values `candidate` (a record built but not saved) would store."""
    for name in names:
        field = stored._meta.get_field(name)
        assert isinstance(field, models.Field), "content is compared on concrete fields"
        new = getattr(candidate, field.attname)
        if isinstance(field, CodeSetField):
            try:
                new = field.to_python(new)  # the canonical order of the codes
            except ValidationError:
                return False
        if getattr(stored, field.attname) != new:
            return False
    return True


def repeat_of(
    *,
    model: type[_M],
    client_uuid: uuid.UUID | None,
    visible: Callable[[], QuerySet[_M]],
    same: Callable[[_M], bool],
) -> _M | None:
    """The record an earlier create with `client_uuid` made, for a repeat of that create.

    None when the UUID is new. The record when the caller may see it and
    `same(record)` finds the content the same (`visible()` gives the records the
    caller may see); it is marked replayed
    (`was_replayed`). Otherwise `Conflict`: the UUID is used by anyone at
    all, so a record the caller may not see is a conflict too, and nothing
    of it is told.
    """
    if client_uuid is None:
        return None
    existing = model._default_manager.filter(client_uuid=client_uuid).first()
    if existing is None:
        return None
    if not visible().filter(pk=existing.pk).exists() or not same(existing):
        raise Conflict
    existing._replayed = True  # type: ignore[attr-defined]
    return existing


def was_replayed(instance: models.Model) -> bool:
    """Whether a create service answered with the record an earlier, identical create made."""
    return getattr(instance, "_replayed", False)


def create_once(
    *,
    model: type[_M],
    client_uuid: uuid.UUID | None,
    visible: Callable[[], QuerySet[_M]],
    same: Callable[[_M], bool],
    create: Callable[[], _M],
) -> _M:
    """Run `create` once per `client_uuid` (see `repeat_of`); the one implementation of idempotent creates.

    The create runs in a transaction: the caller's, in a savepoint, when one is
    open, else its own (BEGIN and COMMIT, two statements fewer than a
    transaction around a savepoint: the create services leave it to this).
    Optimistic: the create runs first, so that the usual case (a new UUID)
    costs no extra look-up. A used UUID makes the INSERT
    fail on the unique constraint (`validate_model` leaves the UUID's unique
    check to it here; two sends at once: one insert wins and PostgreSQL makes
    the other wait for its commit and fail); the savepoint rolls back all the
    create did (or the transaction of its own does), and the answer is that of
    a repeat (`repeat_of`). A
    ValidationError on `client_uuid` (a caller that checked it) is answered
    the same way. `visible` is called only for a repeat: building the
    selector's query costs the usual case nothing.
    """
    if client_uuid is None:
        with transaction.atomic():
            return create()
    creating = _CREATING_ONCE.set(_CREATING_ONCE.get() | {model})
    try:
        with transaction.atomic():
            return create()
    except (IntegrityError, ValidationError) as error:
        if isinstance(error, ValidationError) and "client_uuid" not in getattr(error, "error_dict", {}):
            raise
        repeat = repeat_of(model=model, client_uuid=client_uuid, visible=visible, same=same)
        if repeat is None:
            raise
        return repeat
    finally:
        _CREATING_ONCE.reset(creating)


# Users ---------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    email: str,
    full_name: str = "",
    role: str = Role.WORKER,
    teams: Iterable[Team] = (),
    password: str | None = None,
    password_hash: str | None = None,
    is_superuser: bool = False,
) -> User:
    """Create a user. Without a password, they set one from an e-mailed link.

    `password_hash` is a password hashed already (`make_password`): the demo
    data's users, who share one, are hashed once.

    The invitation goes out once the transaction commits, so that a rolled
    back creation sends nothing and the link's token matches the saved user.
    """
    user = User(
        email=User.objects.normalize_email(email).lower(),
        full_name=full_name,
        role=role,
        is_superuser=is_superuser,
        is_staff=is_superuser or role in STAFF_ROLES,
    )
    if password:
        user.set_password(password)
    elif password_hash:
        user.password = password_hash
    else:
        user.set_unusable_password()
    validate_model(user, exclude=["password"])
    user.save()
    user.teams.set(teams)
    _mark_email_verified(user)
    audit(actor=actor, action=AuditEntry.Action.CREATE, instance=user, changes=["email", "role", "teams"])
    if not (password or password_hash):
        user_pk = user.pk
        transaction.on_commit(lambda: _send_invitation(user_pk))
    return user


@transaction.atomic
def user_send_invitation(*, actor: User | None, user: User) -> None:
    """(Re)send the e-mail with a one-time link for setting a password.

    An earlier link stays valid until it is used or expires: both go to the
    same mailbox, and using either changes the password, which voids the other.
    """
    if not user.is_active:
        raise ValidationError({"is_active": _("An inactive user cannot be invited.")})
    audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=user, changes=["invitation"])
    user_pk = user.pk
    transaction.on_commit(lambda: _send_invitation(user_pk))


def _send_invitation(user_pk: int) -> None:
    # Read the user afresh: the token is derived from the stored password
    # hash, last login and e-mail addresses, and allauth checks it against
    # the database when the link is opened.
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    user = User.objects.get(pk=user_pk)
    uidb36 = user_pk_to_url_str(user)
    key = default_token_generator.make_token(user)
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": uidb36, "key": key})
    site_url = settings.SITE_URL.rstrip("/")
    context = {
        "greeting_name": user.full_name.split()[0] if user.full_name.strip() else "",
        "set_password_url": site_url + path,
        "login_url": site_url + reverse("account_login"),
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        "requires_mfa": user.requires_mfa,
    }
    with translation.override(_user_language(user)):
        subject: str = render_to_string("account/email/invitation_subject.txt", context)
        body = render_to_string("account/email/invitation_message.txt", context)
    # A subject must be one line; templates end with a newline.
    subject = " ".join(subject.split())
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception as exc:  # noqa: BLE001 - the user exists by now; the admin can resend.
        # The exception's text can quote the address, so only its type is logged.
        logger.error("Invitation to user %s could not be sent: %s", user.pk, type(exc).__name__)
        return
    logger.info("Invitation sent to user %s", user.pk)


def _user_language(user: User) -> str:
    # The user model has no language preference (yet); the site's language
    # (Finnish in production) is what a new user most likely reads.
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def _mark_email_verified(user: User) -> None:
    """The admin vouches for the address; allauth's MFA needs it verified.

    The user's one address is the only one allauth knows: an old address
    left behind would still sign in and receive password resets.
    """
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).delete()
    EmailAddress.objects.update_or_create(
        user=user, email__iexact=user.email, defaults={"email": user.email, "verified": True, "primary": True}
    )


@transaction.atomic
def user_update(*, actor: User | None, user: User, teams: Iterable[Team] | None = None, **fields) -> User:
    """Change a user. Every door (the admin, commands) comes through here, so these rules hold everywhere:

    - nobody changes their own role, superuser status or teams (an admin
      would otherwise give themself any team's client data);
    - a new e-mail address takes effect only when the old address confirms
      it (`user_email_change_confirm`), unless a superuser (or the system,
      `actor` None) sets it: whoever holds the address can reset the password;
    - a role or team change is recorded as an AccessChange for the
      coordinators of the teams concerned;
    - a role change, a change of superuser status and deactivation revoke the
      user's API keys; deactivation also ends all of their sessions.
    """
    if "email" in fields:
        fields["email"] = User.objects.normalize_email(fields["email"]).lower()
    old_role = user.role
    old_teams = set(user.teams.all()) if user.pk else set()
    new_teams = set(teams) if teams is not None else None
    teams_changed = new_teams is not None and {t.pk for t in new_teams} != {t.pk for t in old_teams}
    if actor is not None and actor.pk == user.pk:
        own = {name for name in ("role", "is_superuser") if name in fields and fields[name] != getattr(user, name)}
        if teams_changed:
            own.add("teams")
        if own:
            raise ValidationError({name: _("You cannot change your own role or teams.") for name in sorted(own)})
    new_email = None
    if "email" in fields and fields["email"] != user.email and actor is not None and not actor.is_superuser:
        new_email = fields.pop("email")
    was_active = user.is_active
    changed = apply_changes(user, fields)
    if "role" in changed or "is_superuser" in changed:
        user.is_staff = user.is_superuser or user.role in STAFF_ROLES
    if changed:
        validate_model(user, exclude=["password"])
        user.save()
    if "email" in changed:
        _mark_email_verified(user)
    if teams_changed and new_teams is not None:
        user.teams.set(new_teams)
        changed.append("teams")
    if changed:
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=user, changes=changed)
    if "role" in changed or teams_changed:
        _record_access_change(actor, user, old_role, old_teams, new_teams if new_teams is not None else old_teams)
    if "role" in changed or "is_superuser" in changed or (was_active and not user.is_active):
        api_tokens_revoke_all(actor=actor, user=user)
    if was_active and not user.is_active:
        user_sessions_end(user=user)
    if new_email is not None:
        user_email_change_request(actor=actor, user=user, new_email=new_email)
    return user


def _record_access_change(actor: User | None, user: User, old_role: str, old_teams: set, new_teams: set) -> None:
    change = AccessChange.objects.create(
        user=user,
        actor=actor if actor is not None and actor.is_authenticated else None,
        old_role=old_role,
        new_role=user.role,
    )
    change.teams_added.set(new_teams - old_teams)
    change.teams_removed.set(old_teams - new_teams)
    change.teams.set(old_teams | new_teams)


def user_sessions_end(*, user: User) -> int:
    """End every session of `user` (database sessions); returns how many there were.

    Sessions are not indexed by user, so this decodes the unexpired ones: a
    county's few hundred, on the rare occasion of a deactivation.
    """
    from django.contrib.sessions.models import Session

    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            ended.append(session.session_key)
    Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


# How long the link that confirms a new e-mail address stays valid.
EMAIL_CHANGE_VALID = datetime.timedelta(days=3)


@transaction.atomic
def user_email_change_request(*, actor: User | None, user: User, new_email: str) -> EmailChange:
    """Ask the user's current address to confirm `new_email`; the address changes on confirmation.

    A newer request replaces a pending one. The mail goes out on commit.
    """
    new_email = User.objects.normalize_email(new_email).lower()
    probe = User(email=new_email)
    try:
        probe.clean_fields(exclude=[f.name for f in User._meta.fields if f.name != "email"])
    except ValidationError as error:
        raise ValidationError({"email": error.message_dict.get("email", error.messages)}) from None
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        raise ValidationError({"email": _("Another user has this e-mail address.")})
    EmailChange.objects.filter(user=user, confirmed_at__isnull=True).delete()
    key = secrets.token_urlsafe(30)
    change = EmailChange.objects.create(
        user=user,
        old_email=user.email,
        new_email=new_email,
        digest=api_token_digest(key),
        requested_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=user, changes=["email_change_requested"])
    change_pk = change.pk
    transaction.on_commit(lambda: _send_email_change_confirmation(change_pk, key))
    return change


def _send_email_change_confirmation(change_pk: int, key: str) -> None:
    change = EmailChange.objects.select_related("user").get(pk=change_pk)
    site_url = settings.SITE_URL.rstrip("/")
    context = {
        "confirm_url": site_url + reverse("email_change_confirm", args=[key]),
        "valid_days": EMAIL_CHANGE_VALID.days,
        "new_email": change.new_email,
    }
    with translation.override(_user_language(change.user)):
        subject = " ".join(render_to_string("account/email/email_change_subject.txt", context).split())
        body = render_to_string("account/email/email_change_message.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [change.old_email])
    except Exception as exc:  # noqa: BLE001 - the request stays; it can be made again.
        logger.error("E-mail change confirmation for user %s could not be sent: %s", change.user_id, type(exc).__name__)


def email_change_for_key(key: str) -> EmailChange | None:
    """The pending, unexpired change that `key` confirms, or None."""
    change = (
        EmailChange.objects.select_related("user")
        .filter(digest=api_token_digest(key), confirmed_at__isnull=True)
        .first()
    )
    if change is None or timezone.now() - change.requested_at > EMAIL_CHANGE_VALID:
        return None
    if change.user.email != change.old_email or not change.user.is_active:
        return None
    return change


@transaction.atomic
def user_email_change_confirm(*, key: str) -> User:
    """Apply the change that `key` (from the mail to the old address) confirms."""
    change = email_change_for_key(key)
    if change is None:
        raise ValidationError({"key": _("This link is invalid or has expired.")})
    user = change.user
    if User.objects.filter(email__iexact=change.new_email).exclude(pk=user.pk).exists():
        raise ValidationError({"email": _("Another user has this e-mail address.")})
    user.email = change.new_email
    validate_model(user, exclude=["password"])
    user.save(update_fields=["email"])
    _mark_email_verified(user)
    change.confirmed_at = timezone.now()
    change.save(update_fields=["confirmed_at"])
    audit(actor=user, action=AuditEntry.Action.UPDATE, instance=user, changes=["email"])
    return user


USER_DELETE_REFUSED = _lazy(
    "This user has recorded work or signed in, so the user cannot be deleted: the audit trail must keep who acted. "
    "Deactivate the user instead."
)


def user_has_written(user: User) -> bool:
    """Whether any record or audit entry names `user` as its author (every write leaves an audit entry)."""
    if AuditEntry.objects.filter(actor=user).exists():
        return True
    authored = [
        relation
        for relation in User._meta.related_objects
        if relation.one_to_many and relation.on_delete is models.PROTECT and relation.related_model is not AccessChange
    ]
    return any(_related_manager(relation).filter(**{relation.field.name: user}).exists() for relation in authored)


def _related_manager(relation) -> models.Manager:
    model = relation.related_model
    assert not isinstance(model, str), "relations are resolved once the apps are ready"
    return model._default_manager


@transaction.atomic
def user_delete(*, actor: User | None, user: User) -> None:
    """Delete a user who never wrote anything (e.g. one added by mistake); others are deactivated."""
    if user_has_written(user):
        raise ValidationError(USER_DELETE_REFUSED)
    audit(actor=actor, action=AuditEntry.Action.DELETE, instance=user)
    AccessChange.objects.filter(user=user).delete()
    user.delete()


def user_record_login(*, user: User) -> AuditEntry:
    """Audit a completed sign-in (after the second factor, where there is one)."""
    return audit(actor=user, action=AuditEntry.Action.LOGIN, instance=user)


# Sites ---------------------------------------------------------------------


@transaction.atomic
def site_create(*, actor: User | None, **fields) -> FieldSite:
    """Add a site. `actor` None is the system (demo data); a user must be one who manages sites."""
    if actor is not None:
        ensure(permissions.can_manage_sites(actor))
        _check_site_team(actor, fields.get("team"))
    site = FieldSite(**fields)
    validate_model(site)
    site.save()
    audit(actor=actor, action=AuditEntry.Action.CREATE, instance=site, changes=fields.keys())
    return site


@transaction.atomic
def site_update(*, actor: User | None, site: FieldSite, **fields) -> FieldSite:
    """Change a site: coordinators those of the teams they steer (and of no team), admins every site."""
    if actor is not None:
        ensure(permissions.can_manage_site(actor, site))
        if "team" in fields and fields["team"] != site.team:
            _check_site_team(actor, fields["team"])
    changed = apply_changes(site, fields)
    if changed:
        validate_model(site)
        save_changes(site, changed)
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=site, changes=changed)
    return site


def _check_site_team(actor: User, team: Team | None) -> None:
    if not permissions.can_assign_site_team(actor, team):
        raise ValidationError({"team": _("You cannot manage the sites of this team.")})


# Outings -------------------------------------------------------------------


def _check_participants(team: Team, participants: list[User], *, staying: frozenset[int] = frozenset()) -> None:
    """Participants are members of the outing's team (experts by experience included).

    People already on the outing (`staying`) may stay on it after they have left the team.
    """
    members = set(team.members.filter(pk__in=[p.pk for p in participants]).values_list("pk", flat=True))
    strangers = [p for p in participants if p.pk not in members and p.pk not in staying]
    if strangers:
        names = ", ".join(p.get_full_name() for p in strangers)
        raise ValidationError(
            {"participants": _("Not members of the team %(team)s: %(names)s.") % {"team": team, "names": names}}
        )


@transaction.atomic
def outing_create(
    *,
    actor: User,
    team: Team,
    site: FieldSite,
    date: datetime.date,
    start_time: datetime.time,
    end_time: datetime.time | None = None,
    status: str = OutingStatus.PLANNED,
    participants: Iterable[User] = (),
    tallied_contacts: int = 0,
    observations: str = "",
    notes: str = "",
    started_at: datetime.datetime | None = None,
) -> Outing:
    ensure(not actor.is_expert)
    ensure_can_write_team(actor, team)
    outing = Outing(
        team=team,
        site=site,
        date=date,
        start_time=start_time,
        end_time=end_time,
        status=status,
        started_at=started_at,
        tallied_contacts=tallied_contacts,
        observations=observations,
        notes=notes,
        created_by=actor,
    )
    validate_model(outing)
    outing.save()
    participants = list(participants)
    _check_participants(team, participants)
    outing.participants.set(participants)
    rollups.outing_counted_values_changed(outing)
    audit(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        instance=outing,
        changes=["team", "site", "date", "start_time", "end_time", "status", "participants"],
    )
    return outing


@transaction.atomic
def outing_update(*, actor: User, outing: Outing, participants: Iterable[User] | None = None, **fields) -> Outing:
    ensure(not actor.is_expert)
    ensure_can_write_team(actor, outing.team)
    if "team" in fields:
        ensure_can_write_team(actor, fields["team"])
    # The stored status and slice, with the row locked to the end of the transaction: whether and where
    # the outing was counted (only done outings are) cannot change between this read and the recompute.
    stored_status, stored_date, stored_site = (
        Outing.objects.select_for_update().values_list("status", "date", "site_id").get(pk=outing.pk)
    )
    before = {(stored_date, stored_site)}
    changed = apply_changes(outing, fields)
    if changed:
        validate_model(outing)
        save_changes(outing, changed)
    if participants is not None:
        participants = list(participants)
        current = frozenset(outing.participants.values_list("id", flat=True))
        _check_participants(outing.team, participants, staying=current)
        if current != {p.pk for p in participants}:
            outing.participants.set(participants)
            changed.append("participants")
    counted = OutingStatus.DONE in (stored_status, fields.get("status", stored_status))
    if changed and counted:
        # An outing neither done before nor after the change is in no slice: nothing to recompute
        # (starting a planned outing in the field, moving a plan).
        rollups.outings_changed(outing, before=before)
    if changed:
        if "team" in changed:
            rollups.outing_teams_changed([outing.pk])
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=outing, changes=changed)
    return outing


def outing_tally_add(*, actor: User, outing: Outing, delta: int, client_uuid: uuid.UUID | None = None) -> int:
    """Add `delta` (±) to the tally of brief contacts; returns the new count (see `outing_tally_record`)."""
    return outing_tally_record(actor=actor, outing=outing, delta=delta, client_uuid=client_uuid).tallied_after


# Atomic: create_once runs the create in a transaction (its own, without a savepoint, when none is open).
def outing_tally_record(*, actor: User, outing: Outing, delta: int, client_uuid: uuid.UUID | None = None) -> TallyEvent:
    """Add `delta` (±) to the tally of brief contacts; returns the tap, with the count after it.

    An update in place (`count = count + delta`), so that two workers tapping at once both count; the tally
    never goes below zero. With a `client_uuid` (sent by field devices) the
    tap is stored as a TallyEvent and counted once (`create_once`): a resend
    answers with the first tap (`was_replayed`), the same UUID for another
    outing or another delta is a `Conflict`. Without one the returned tap is
    not stored.
    """
    if actor.is_expert:
        ensure(permissions.can_tally(actor, outing))
    else:
        ensure_can_write_team(actor, outing.team)

    def tap() -> TallyEvent:
        # The count and the status as the UPDATE left them (it waits for a concurrent change of the
        # outing's status to commit); read again only when it changed nothing (a tally at 0 tapped -1).
        counted = _tally_update(outing.pk, delta)
        if counted is None:
            outing.refresh_from_db(fields=["tallied_contacts", "status"])
        else:
            outing.tallied_contacts, outing.status = counted
        rollups.outing_counted_values_changed(outing, workers=False)
        event = TallyEvent(outing=outing, delta=delta, tallied_after=outing.tallied_contacts, actor=actor)
        if client_uuid is not None:
            event.client_uuid = client_uuid
            event.save()
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=outing, changes=["tallied_contacts"])
        return event

    return create_once(
        model=TallyEvent,
        client_uuid=client_uuid,
        visible=lambda: TallyEvent.objects.filter(outing__in=outings_visible_to(actor).values("pk")),
        same=lambda event: event.outing_id == outing.pk and event.delta == delta,
        create=tap,
    )


_TALLY_FIELD, _STATUS_FIELD = Outing._meta.get_field("tallied_contacts"), Outing._meta.get_field("status")
assert isinstance(_TALLY_FIELD, models.Field)  # columns, not relations (for the type checker)
assert isinstance(_STATUS_FIELD, models.Field)


def _tally_update(outing_id: int, delta: int) -> tuple[int, str] | None:
    """Add `delta` to the outing's tally, never below zero: the count and the status after it, None when
    the row was not changed. One UPDATE … RETURNING (PostgreSQL, and SQLite since 3.35) instead of an
    UPDATE and a read of the row."""
    connection = connections[router.db_for_write(Outing)]
    quote = connection.ops.quote_name
    table = quote(Outing._meta.db_table)
    count, status, pk = (quote(field.column) for field in (_TALLY_FIELD, _STATUS_FIELD, Outing._meta.pk))
    floor = f" AND {count} >= %s" if delta < 0 else ""
    # An SQLite older than 3.35 has no RETURNING: the caller reads the row.
    returning = f" RETURNING {count}, {status}" if connection.features.can_return_columns_from_insert else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {count} = {count} + %s WHERE {pk} = %s{floor}{returning}",
            [delta, outing_id, *([-delta] if delta < 0 else [])],
        )
        row = cursor.fetchone() if returning else None
    return None if row is None else (row[0], row[1])


def _local_minute(at: datetime.datetime | None = None) -> datetime.datetime:
    """The Helsinki wall-clock time of `at` (default now), to the minute: outings are timed in minutes."""
    return timezone.localtime(at or timezone.now()).replace(second=0, microsecond=0)


@transaction.atomic
def outing_start(
    *,
    actor: User,
    team: Team,
    site: FieldSite,
    participants: Iterable[User] = (),
    at: datetime.datetime | None = None,
) -> Outing:
    """Start an outing now, from the field: planned, dated today, started now, no end yet.

    An outing is *in progress* once started (`started_at`) while its status is
    planned; `outing_finish` ends it (status done, end time set). The one who
    starts it always takes part.
    """
    if actor.is_expert:
        raise PermissionDenied
    if not site.active:
        raise ValidationError({"site": _("This site is no longer active.")})
    now = _local_minute(at)
    people = [actor, *(person for person in participants if person.pk != actor.pk)]
    return outing_create(
        actor=actor,
        team=team,
        site=site,
        date=now.date(),
        start_time=now.time(),
        participants=people,
        started_at=at or timezone.now(),
    )


@transaction.atomic
def outing_start_planned(*, actor: User, outing: Outing, at: datetime.datetime | None = None) -> Outing:
    """Start one of today's planned outings now: the start time becomes now and the actor takes part.

    A planned end time is dropped: the outing ends when it is finished.
    """
    if actor.is_expert:
        raise PermissionDenied
    now = _local_minute(at)
    if outing.status != OutingStatus.PLANNED:
        raise ValidationError({"status": _("Only a planned outing can be started.")})
    if outing.date != now.date():
        raise ValidationError({"date": _("Only today's outings can be started.")})
    participants = list(outing.participants.all())
    if actor.pk not in {person.pk for person in participants}:
        participants.append(actor)
    return outing_update(
        actor=actor,
        outing=outing,
        start_time=now.time(),
        end_time=None,
        started_at=at or timezone.now(),
        participants=participants,
    )


@transaction.atomic
def outing_finish(
    *,
    actor: User,
    outing: Outing,
    end_time: datetime.time,
    observations: str = "",
    notes: str = "",
) -> Outing:
    """End an outing: status done with its end time, observations of the need for outreach and notes.

    A done outing can be finished again to correct these; a cancelled one cannot.
    """
    if actor.is_expert:
        raise PermissionDenied
    if outing.status == OutingStatus.CANCELLED:
        raise ValidationError({"status": _("A cancelled outing cannot be finished.")})
    return outing_update(
        actor=actor,
        outing=outing,
        status=OutingStatus.DONE,
        end_time=end_time,
        observations=observations,
        notes=notes,
    )


# API tokens ----------------------------------------------------------------


def api_token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: User | None, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Make a key for scripts; returns the token row and the key, which is never stored.

    A user whose role requires a second factor gets no key before TOTP is set
    up (the token page also asks for a recent sign-in with it). The key
    expires after API_TOKEN_LIFETIME_DAYS.
    """
    from .mfa import second_factor_missing

    if not user.is_active:
        raise ValidationError({"user": _("An inactive user cannot have API keys.")})
    if second_factor_missing(user):
        raise ValidationError({"user": _("Set up two-factor sign-in before making an API key.")})
    key = secrets.token_urlsafe(30)
    token = ApiToken.objects.create(user=user, name=name.strip()[:100], prefix=key[:8], digest=api_token_digest(key))
    audit(actor=actor, action=AuditEntry.Action.CREATE, instance=token, changes=["user", "name", "expires_at"])
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: User | None, token: ApiToken) -> None:
    audit(actor=actor, action=AuditEntry.Action.DELETE, instance=token)
    token.delete()


@transaction.atomic
def api_tokens_revoke_all(*, actor: User | None, user: User) -> int:
    """Revoke every key of `user`; returns how many there were.

    Called on a password change (AccountAdapter.set_password), a role change
    and deactivation (user_update) and TOTP removal (outreach.apps).
    """
    tokens = list(ApiToken.objects.filter(user=user))
    for token in tokens:
        api_token_revoke(actor=actor, token=token)
    return len(tokens)


# Planning ------------------------------------------------------------------

# How far ahead recurring schedules may plan in one run.
SCHEDULE_MAX_WEEKS = 26


@transaction.atomic
def outing_cancel(*, actor: User, outing: Outing, reason: str = "") -> Outing:
    """Cancel a planned outing. The record stays, with status cancelled.

    The plan's history stays visible in the agenda, anything already logged
    at the outing keeps its link, and a cancelled occurrence of a recurring
    schedule keeps the schedule from planning it again. The optional reason
    is appended to the notes. Cancelling a cancelled outing changes nothing;
    a finished (done) outing cannot be cancelled.
    """
    if actor.is_expert:
        raise PermissionDenied
    ensure_can_write_team(actor, outing.team)
    # Lock the row: a cancel racing with finishing the outing must not undo it.
    outing.refresh_from_db(from_queryset=Outing.objects.select_for_update())
    if outing.status == OutingStatus.CANCELLED:
        return outing
    if outing.status == OutingStatus.DONE:
        raise ValidationError({"status": _("A finished outing cannot be cancelled.")})
    changed = ["status"]
    outing.status = OutingStatus.CANCELLED
    reason = reason.strip()
    if reason:
        line = _("Cancelled: %(reason)s") % {"reason": reason}
        outing.notes = f"{outing.notes.rstrip()}\n\n{line}" if outing.notes.strip() else line
        changed.append("notes")
    validate_model(outing)
    outing.save(update_fields=[*changed, "updated_at"])
    rollups.outings_changed(outing)
    audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=outing, changes=changed)
    return outing


@transaction.atomic
def outings_generate_from_schedule(
    *, actor: User | None, team: Team, weeks: int = 4, today: datetime.date | None = None
) -> list[Outing]:
    """Plan the outings that the recurring schedules of the team's sites call for.

    Covers the days from `today` up to `weeks` weeks ahead (today included,
    the day `weeks` weeks from today not). The sites are those the team is
    responsible for (FieldSite.team) that are active and have a schedule; a
    day outside a site's seasonal window gets no outing. Generated outings
    are planned, without participants: whoever plans the week adds them.

    Idempotent: an outing of the team at the same site, date and start time
    blocks the generated one whatever its status. A cancelled one blocks it
    too, since someone decided against that occurrence.

    A schedule of every N weeks keeps the cadence of the latest outing at
    the site on the scheduled weekday and start time (any status), so that
    runs on different days agree, and moving one occurrence by hand moves
    the ones after it; with no such outing the cadence starts at the first
    scheduled day in the period.

    `actor` None is the system (the cron job, generate_planned_outings).
    """
    if actor is not None:
        if actor.is_expert:
            raise PermissionDenied
        ensure_can_write_team(actor, team)
    if not 1 <= weeks <= SCHEDULE_MAX_WEEKS:
        raise ValidationError({"weeks": _("Enter a number of weeks from 1 to %(max)d.") % {"max": SCHEDULE_MAX_WEEKS}})
    first_day = today or timezone.localdate()
    end = first_day + datetime.timedelta(weeks=weeks)
    # One run per team at a time (the cron job and a button press at once):
    # the check for existing outings and the inserts must not interleave.
    list(Team.objects.select_for_update().filter(pk=team.pk).values_list("pk"))
    sites = list(
        FieldSite.objects.filter(
            team=team,
            active=True,
            schedule_weekday__isnull=False,
            schedule_start_time__isnull=False,
            schedule_end_time__isnull=False,
            schedule_every_weeks__isnull=False,
        ).order_by("name", "pk")
    )
    if not sites:
        return []
    existing = set(
        Outing.objects.filter(team=team, site__in=sites, date__gte=first_day, date__lt=end).values_list(
            "site_id", "date", "start_time"
        )
    )
    created = []
    for site in sites:
        start_time = site.schedule_start_time
        assert start_time is not None, "the query leaves out sites without a schedule"
        for day in _scheduled_days(team, site, first_day, end):
            if (site.pk, day, start_time) in existing or not site.in_season(day):
                continue
            outing = Outing(
                team=team,
                site=site,
                date=day,
                start_time=start_time,
                end_time=site.schedule_end_time,
                status=OutingStatus.PLANNED,
                created_by=actor,
            )
            validate_model(outing)
            outing.save()
            audit(
                actor=actor,
                action=AuditEntry.Action.CREATE,
                instance=outing,
                changes=["team", "site", "date", "start_time", "end_time", "status"],
            )
            created.append(outing)
    created.sort(key=lambda outing: (outing.date, outing.start_time, outing.site.name))
    return created


def _scheduled_days(team: Team, site: FieldSite, first_day: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The days from `first_day` (included) to `end` (excluded) that the site's schedule names."""
    every, weekday = site.schedule_every_weeks, site.schedule_weekday
    assert every is not None, "only scheduled sites have scheduled days"
    assert weekday is not None, "only scheduled sites have scheduled days"
    day = first_day + datetime.timedelta(days=(weekday - first_day.weekday()) % 7)
    if every > 1:
        anchor = (
            Outing.objects.filter(
                team=team,
                site=site,
                start_time=site.schedule_start_time,
                # ISO weekdays run from 1 (Monday), the schedule's from 0.
                date__iso_week_day=weekday + 1,
                date__lt=end,
            )
            .order_by("-date")
            .values_list("date", flat=True)
            .first()
        )
        if anchor is not None:
            weeks_off = ((day - anchor).days // 7) % every
            if weeks_off:
                day += datetime.timedelta(weeks=every - weeks_off)
    days = []
    while day < end:
        days.append(day)
        day += datetime.timedelta(weeks=every)
    return days


# Disclosures ---------------------------------------------------------------


def disclosure_record(
    *,
    actor: User | None,
    kind: str,
    recipient: str,
    categories: Iterable[str],
    legal_basis: str,
    record_type: str = "",
    record_count: int = 0,
    person_ids: Iterable[int] = (),
) -> Disclosure:
    """Record client data leaving the system: to whom, what kind of data, on what basis, by whom, when."""
    categories = list(categories)
    unknown = set(categories) - set(DISCLOSURE_CATEGORIES)
    if unknown:
        raise ValueError(f"Unknown data categories: {sorted(unknown)}")
    if legal_basis not in Disclosure.LegalBasis.values:
        raise ValueError(f"Unknown legal basis: {legal_basis}")
    return Disclosure.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        kind=kind,
        recipient=recipient[:300],
        categories=categories,
        legal_basis=legal_basis,
        record_type=record_type,
        record_count=record_count,
        person_ids=sorted(set(person_ids)),
    )
