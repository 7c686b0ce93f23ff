"""Writes for the partner directory, networks, meetings and the communication log.

Every write validates the model (`validate_model`) and leaves an audit entry.
Managing partners and networks is the coordinators' and administrators' work
(DESIGN.md); workers record communication for their teams. The predicates are
in `networks.permissions`.
"""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from outreach.models import AuditEntry, Municipality, Team, User
from outreach.services import apply_changes, audit, validate_model

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
from .permissions import can_manage_networks, can_write_communication

__all__ = ["can_manage_networks"]

_M = TypeVar("_M", bound=models.Model)


def _ensure_can_manage(actor: User) -> None:
    if not can_manage_networks(actor):
        raise PermissionDenied


def _set_many(instance: models.Model, name: str, values: Iterable[models.Model] | None, changed: list[str]) -> None:
    if values is None:
        return
    values = list(values)
    manager = getattr(instance, name)
    if set(manager.values_list("pk", flat=True)) != {value.pk for value in values}:
        manager.set(values)
        changed.append(name)


def _create(actor: User, instance: _M, many: Mapping[str, Iterable[models.Model]], fields: Iterable[str]) -> _M:
    """Validate, save, link and audit a new record (the caller has checked who may)."""
    validate_model(instance)
    instance.save()
    for name, values in many.items():
        getattr(instance, name).set(list(values))
    audit(actor=actor, action=AuditEntry.Action.CREATE, instance=instance, changes=[*fields, *many])
    return instance


def _update(actor: User, instance: _M, fields: dict[str, Any], many: Mapping[str, Iterable[models.Model] | None]) -> _M:
    """Set what changed, validate, save, relink and audit (the caller has checked who may)."""
    changed = apply_changes(instance, fields)
    if changed:
        validate_model(instance)
        instance.save()
    for name, values in many.items():
        _set_many(instance, name, values, changed)
    if changed:
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=instance, changes=changed)
    return instance


# Partners, their services and contact persons ------------------------------


@transaction.atomic
def partner_create(
    *, actor: User, municipalities: Iterable[Municipality] = (), services: Iterable[str] = (), **fields: Any
) -> PartnerOrganisation:
    _ensure_can_manage(actor)
    partner = PartnerOrganisation(services=list(services), **fields)
    return _create(actor, partner, {"municipalities": municipalities}, [*fields, "services"])


@transaction.atomic
def partner_update(
    *,
    actor: User,
    partner: PartnerOrganisation,
    municipalities: Iterable[Municipality] | None = None,
    **fields: Any,
) -> PartnerOrganisation:
    _ensure_can_manage(actor)
    if "services" in fields:
        fields["services"] = PartnerOrganisation._meta.get_field("services").to_python(fields["services"])
    return _update(actor, partner, fields, {"municipalities": municipalities})


@transaction.atomic
def partner_service_create(
    *, actor: User, municipalities: Iterable[Municipality] = (), **fields: Any
) -> PartnerService:
    _ensure_can_manage(actor)
    return _create(actor, PartnerService(**fields), {"municipalities": municipalities}, fields)


@transaction.atomic
def partner_service_update(
    *, actor: User, service: PartnerService, municipalities: Iterable[Municipality] | None = None, **fields: Any
) -> PartnerService:
    _ensure_can_manage(actor)
    return _update(actor, service, fields, {"municipalities": municipalities})


@transaction.atomic
def contact_create(*, actor: User, **fields: Any) -> ContactPerson:
    _ensure_can_manage(actor)
    return _create(actor, ContactPerson(**fields), {}, fields)


@transaction.atomic
def contact_update(*, actor: User, contact: ContactPerson, **fields: Any) -> ContactPerson:
    _ensure_can_manage(actor)
    return _update(actor, contact, fields, {})


# Networks, memberships and agreements --------------------------------------


@transaction.atomic
def network_create(*, actor: User, member_contacts: Iterable[ContactPerson] = (), **fields: Any) -> Network:
    _ensure_can_manage(actor)
    return _create(actor, Network(**fields), {"member_contacts": member_contacts}, fields)


@transaction.atomic
def network_update(
    *, actor: User, network: Network, member_contacts: Iterable[ContactPerson] | None = None, **fields: Any
) -> Network:
    _ensure_can_manage(actor)
    return _update(actor, network, fields, {"member_contacts": member_contacts})


@transaction.atomic
def membership_create(
    *, actor: User, representatives: Iterable[ContactPerson] = (), **fields: Any
) -> NetworkMembership:
    _ensure_can_manage(actor)
    return _create(actor, NetworkMembership(**fields), {"representatives": representatives}, fields)


@transaction.atomic
def membership_update(
    *,
    actor: User,
    membership: NetworkMembership,
    representatives: Iterable[ContactPerson] | None = None,
    **fields: Any,
) -> NetworkMembership:
    """Change a membership; leaving sets `left_on`, the record stays."""
    _ensure_can_manage(actor)
    return _update(actor, membership, fields, {"representatives": representatives})


@transaction.atomic
def agreement_create(
    *, actor: User, parties: Iterable[PartnerOrganisation] = (), **fields: Any
) -> CooperationAgreement:
    _ensure_can_manage(actor)
    return _create(actor, CooperationAgreement(**fields), {"parties": parties}, fields)


@transaction.atomic
def agreement_update(
    *,
    actor: User,
    agreement: CooperationAgreement,
    parties: Iterable[PartnerOrganisation] | None = None,
    **fields: Any,
) -> CooperationAgreement:
    _ensure_can_manage(actor)
    return _update(actor, agreement, fields, {"parties": parties})


# Meetings and their tasks ---------------------------------------------------


@transaction.atomic
def meeting_create(
    *,
    actor: User,
    organisations: Iterable[PartnerOrganisation] = (),
    contacts: Iterable[ContactPerson] = (),
    staff: Iterable[User] = (),
    tasks: Iterable[Mapping[str, Any]] = (),
    **fields: Any,
) -> NetworkMeeting:
    """Record a meeting, with the tasks agreed there (each a `task_create`'s fields)."""
    _ensure_can_manage(actor)
    meeting = _create(
        actor, NetworkMeeting(**fields), {"organisations": organisations, "contacts": contacts, "staff": staff}, fields
    )
    for task in tasks:
        task_create(actor=actor, meeting=meeting, **task)
    return meeting


@transaction.atomic
def meeting_update(
    *,
    actor: User,
    meeting: NetworkMeeting,
    organisations: Iterable[PartnerOrganisation] | None = None,
    contacts: Iterable[ContactPerson] | None = None,
    staff: Iterable[User] | None = None,
    **fields: Any,
) -> NetworkMeeting:
    _ensure_can_manage(actor)
    return _update(actor, meeting, fields, {"organisations": organisations, "contacts": contacts, "staff": staff})


@transaction.atomic
def task_create(*, actor: User, meeting: NetworkMeeting, **fields: Any) -> MeetingTask:
    _ensure_can_manage(actor)
    return _create(actor, MeetingTask(meeting=meeting, **fields), {}, ["meeting", *fields])


@transaction.atomic
def task_update(*, actor: User, task: MeetingTask, **fields: Any) -> MeetingTask:
    _ensure_can_manage(actor)
    return _update(actor, task, fields, {})


# Communication ---------------------------------------------------------------


@transaction.atomic
def communication_create(*, actor: User, team: Team | None = None, **fields: Any) -> CommunicationActivity:
    if not can_write_communication(actor, team):
        raise PermissionDenied
    activity = CommunicationActivity(team=team, created_by=actor, **fields)
    return _create(actor, activity, {}, ["team", *fields])


@transaction.atomic
def communication_update(*, actor: User, activity: CommunicationActivity, **fields: Any) -> CommunicationActivity:
    if not can_write_communication(actor, activity.team):
        raise PermissionDenied
    if "team" in fields and not can_write_communication(actor, fields["team"]):
        raise PermissionDenied
    return _update(actor, activity, fields, {})
