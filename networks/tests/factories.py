"""Records of the partner directory and the networks, for tests."""

import datetime
from typing import Any

from networks.models import (
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
from outreach.models import Team, User
from outreach.vocabulary import ServiceKind


def network_world(team: Team, network: Network, partner: PartnerOrganisation, owner: User) -> dict[str, int]:
    """One record of each kind around `network` and `partner`, by id under the access matrix's names."""
    service = PartnerService.objects.create(partner=partner, name="Asumisneuvonta", service_kind=ServiceKind.HOUSING)
    contact = ContactPerson.objects.create(partner=partner, name="Liisa Lahti", role="ohjaaja", phone="0401234567")
    membership = NetworkMembership.objects.create(
        network=network, organisation=partner, joined_on=datetime.date(2026, 1, 1)
    )
    agreement = CooperationAgreement.objects.create(
        network=network, title="Yhteistyösopimus", agreed_on=datetime.date(2026, 1, 15)
    )
    meeting = NetworkMeeting.objects.create(network=network, date=datetime.date(2026, 2, 3))
    task = MeetingTask.objects.create(meeting=meeting, title="Kartoita tilat", owner_user=owner)
    activity = CommunicationActivity.objects.create(
        team=team, kind=CommunicationActivity.Kind.PRESENTATION, title="Esittely", date=datetime.date(2026, 2, 4)
    )
    return {
        "partner_service": service.pk,
        "contact": contact.pk,
        "membership": membership.pk,
        "agreement": agreement.pk,
        "meeting": meeting.pk,
        "task": task.pk,
        "communication": activity.pk,
    }


def partner(name: str = "Kuopion Setlementti", **fields: Any) -> PartnerOrganisation:
    return PartnerOrganisation.objects.create(name=name, **fields)
