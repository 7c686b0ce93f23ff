"""Writes for users, sites and outings. Every write leaves an audit entry."""

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from .models import AuditEntry, FieldSite, Outing, Team, User
from .selectors import writable_team_ids
from .vocabulary import OutingStatus, Role

# Roles whose holders reach the Django admin (with per-model limits).
STAFF_ROLES = {Role.ADMIN, Role.COORDINATOR}


def audit(*, actor: User | None, action: str, instance: models.Model, changes: Iterable[str] = ()) -> AuditEntry:
    """Record who did what to which record. Field names only, never values."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        model=instance._meta.label_lower,
        object_id=str(instance.pk),
        changes=sorted(changes),
    )


def ensure_can_write_team(actor: User, team: Team, field: str = "team") -> None:
    if team is None or team.pk not in writable_team_ids(actor):
        raise ValidationError({field: _("You cannot record work for this team.")})


def apply_changes(instance: models.Model, fields: dict) -> list[str]:
    """Set the given attributes; return the names of those that changed."""
    changed = []
    for name, value in fields.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def validate_model(instance: models.Model, exclude: Iterable[str] = ()) -> None:
    # Model validation runs the CheckConstraints in Python first, so a form or
    # API gets a message naming the field rather than an IntegrityError.
    instance.full_clean(exclude=list(exclude), validate_unique=True, validate_constraints=True)


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
    is_superuser: bool = False,
) -> User:
    """Create a user. Without a password, they set one from an e-mailed link."""
    user = User(
        email=User.objects.normalize_email(email).lower(),
        full_name=full_name,
        role=role,
        is_superuser=is_superuser,
        is_staff=is_superuser or role in STAFF_ROLES,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    validate_model(user, exclude=["password"])
    user.save()
    user.teams.set(teams)
    _mark_email_verified(user)
    audit(actor=actor, action=AuditEntry.Action.CREATE, instance=user, changes=["email", "role", "teams"])
    return user


def _mark_email_verified(user: User) -> None:
    """The admin vouches for the address; allauth's MFA needs it verified."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})


@transaction.atomic
def user_update(*, actor: User | None, user: User, teams: Iterable[Team] | None = None, **fields) -> User:
    changed = apply_changes(user, fields)
    if "role" in changed or "is_superuser" in changed:
        user.is_staff = user.is_superuser or user.role in STAFF_ROLES
    if changed:
        validate_model(user, exclude=["password"])
        user.save()
    if "email" in changed:
        _mark_email_verified(user)
    if teams is not None:
        user.teams.set(teams)
        changed.append("teams")
    if changed:
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=user, changes=changed)
    return user


# Sites ---------------------------------------------------------------------


@transaction.atomic
def site_create(*, actor: User | None, **fields) -> FieldSite:
    site = FieldSite(**fields)
    validate_model(site)
    site.save()
    audit(actor=actor, action=AuditEntry.Action.CREATE, instance=site, changes=fields.keys())
    return site


@transaction.atomic
def site_update(*, actor: User | None, site: FieldSite, **fields) -> FieldSite:
    changed = apply_changes(site, fields)
    if changed:
        validate_model(site)
        site.save()
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=site, changes=changed)
    return site


# Outings -------------------------------------------------------------------


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
) -> Outing:
    ensure_can_write_team(actor, team)
    if actor.is_expert:
        raise PermissionDenied
    outing = Outing(
        team=team,
        site=site,
        date=date,
        start_time=start_time,
        end_time=end_time,
        status=status,
        tallied_contacts=tallied_contacts,
        observations=observations,
        notes=notes,
        created_by=actor,
    )
    validate_model(outing)
    outing.save()
    outing.participants.set(participants)
    audit(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        instance=outing,
        changes=["team", "site", "date", "start_time", "end_time", "status", "participants"],
    )
    return outing


@transaction.atomic
def outing_update(*, actor: User, outing: Outing, participants: Iterable[User] | None = None, **fields) -> Outing:
    ensure_can_write_team(actor, outing.team)
    if "team" in fields:
        ensure_can_write_team(actor, fields["team"])
    changed = apply_changes(outing, fields)
    if changed:
        validate_model(outing)
        outing.save()
    if participants is not None:
        participants = list(participants)
        if set(outing.participants.values_list("id", flat=True)) != {p.pk for p in participants}:
            outing.participants.set(participants)
            changed.append("participants")
    if changed:
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=outing, changes=changed)
    return outing


@transaction.atomic
def outing_tally_add(*, actor: User, outing: Outing, delta: int) -> int:
    """Add `delta` (±) to the tally of brief contacts; returns the new count.

    An F() update, so that two workers tapping at once both count; the tally
    never goes below zero.
    """
    if actor.is_expert:
        if not outing.participants.filter(pk=actor.pk).exists():
            raise PermissionDenied
    else:
        ensure_can_write_team(actor, outing.team)
    if delta < 0:
        Outing.objects.filter(pk=outing.pk, tallied_contacts__gte=-delta).update(
            tallied_contacts=F("tallied_contacts") + delta
        )
    else:
        Outing.objects.filter(pk=outing.pk).update(tallied_contacts=F("tallied_contacts") + delta)
    outing.refresh_from_db(fields=["tallied_contacts"])
    audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=outing, changes=["tallied_contacts"])
    return outing.tallied_contacts
