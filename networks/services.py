"""Writes for partner organisations and networks. Every write leaves an audit entry.

Managing partners and networks is the coordinators' and administrators' work
(DESIGN.md); superusers may do everything.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction

from outreach.models import AuditEntry, Municipality, User
from outreach.permissions import is_coordinator_or_admin
from outreach.services import apply_changes, audit, validate_model

from .models import ContactPerson, Network, PartnerOrganisation


def can_manage_networks(user: User) -> bool:
    return is_coordinator_or_admin(user)


def _ensure_can_manage(actor: User) -> None:
    if not can_manage_networks(actor):
        raise PermissionDenied


def _set_many(instance, name: str, values, changed: list[str]) -> None:
    if values is None:
        return
    values = list(values)
    manager = getattr(instance, name)
    if set(manager.values_list("pk", flat=True)) != {value.pk for value in values}:
        manager.set(values)
        changed.append(name)


@transaction.atomic
def partner_create(
    *, actor: User, municipalities: Iterable[Municipality] = (), services: Iterable[str] = (), **fields
) -> PartnerOrganisation:
    _ensure_can_manage(actor)
    partner = PartnerOrganisation(services=list(services), **fields)
    validate_model(partner)
    partner.save()
    partner.municipalities.set(municipalities)
    audit(actor=actor, action=AuditEntry.Action.CREATE, instance=partner, changes=[*fields, "services"])
    return partner


@transaction.atomic
def partner_update(
    *, actor: User, partner: PartnerOrganisation, municipalities: Iterable[Municipality] | None = None, **fields
) -> PartnerOrganisation:
    _ensure_can_manage(actor)
    if "services" in fields:
        fields["services"] = PartnerOrganisation._meta.get_field("services").to_python(fields["services"])
    changed = apply_changes(partner, fields)
    if changed:
        validate_model(partner)
        partner.save()
    _set_many(partner, "municipalities", municipalities, changed)
    if changed:
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=partner, changes=changed)
    return partner


@transaction.atomic
def network_create(
    *,
    actor: User,
    member_organisations: Iterable[PartnerOrganisation] = (),
    member_contacts: Iterable[ContactPerson] = (),
    **fields,
) -> Network:
    _ensure_can_manage(actor)
    network = Network(**fields)
    validate_model(network)
    network.save()
    network.member_organisations.set(member_organisations)
    network.member_contacts.set(member_contacts)
    audit(actor=actor, action=AuditEntry.Action.CREATE, instance=network, changes=[*fields, "member_organisations"])
    return network


@transaction.atomic
def network_update(
    *,
    actor: User,
    network: Network,
    member_organisations: Iterable[PartnerOrganisation] | None = None,
    member_contacts: Iterable[ContactPerson] | None = None,
    **fields,
) -> Network:
    _ensure_can_manage(actor)
    changed = apply_changes(network, fields)
    if changed:
        validate_model(network)
        network.save()
    _set_many(network, "member_organisations", member_organisations, changed)
    _set_many(network, "member_contacts", member_contacts, changed)
    if changed:
        audit(actor=actor, action=AuditEntry.Action.UPDATE, instance=network, changes=changed)
    return network
