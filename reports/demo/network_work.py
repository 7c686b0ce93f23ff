"""Demo data of network work: partner services, dated memberships, agreements, meeting tasks.

Kept apart from the rest of the demo (`reports.demo`), which calls
`seed_network_work` once its partners, networks and meetings exist.
"""

import datetime
import random
from collections.abc import Callable

from django.db import models

from networks.models import (
    CommunicationActivity,
    CooperationAgreement,
    MeetingTask,
    Network,
    NetworkMeeting,
    NetworkMembership,
    PartnerOrganisation,
    PartnerService,
)
from outreach.models import Municipality, Team, User
from outreach.vocabulary import ServiceKind

# A service's name by its kind, as the partners call them.
SERVICE_NAMES = {
    ServiceKind.ADULT_SOCIAL_WORK: "Aikuissosiaalityön ajanvaraus",
    ServiceKind.MENTAL_HEALTH_SUBSTANCE: "Mielenterveys- ja päihdeneuvonta",
    ServiceKind.HEALTH_CENTRE: "Terveysneuvonta",
    ServiceKind.HOUSING: "Asumisneuvonta",
    ServiceKind.KELA: "Kelan asiointipalvelu",
    ServiceKind.EMPLOYMENT_SERVICES: "Työllisyyspalvelujen ohjaus",
    ServiceKind.DEBT_COUNSELLING: "Talous- ja velkaneuvonta",
    ServiceKind.EMERGENCY_SOCIAL: "Sosiaalipäivystys",
    ServiceKind.THIRD_SECTOR: "Kohtaamispaikka ja vertaistuki",
    ServiceKind.OTHER: "Muu palvelu",
}
HOW_TO_REFER = (
    "Soita arkisin klo 9–15 tai tule paikalle ilman ajanvarausta.",
    "Ohjaa asiakas soittamaan; etsivä työntekijä voi olla mukana puhelussa.",
    "Sähköinen yhteydenotto asiakkaan luvalla; vastaus kahden arkipäivän kuluessa.",
)
TASKS = (
    "Kysy seurakunnalta tilaa talven kohtaamispaikalle",
    "Päivitä palvelukartta verkoston jäsenille",
    "Sovi yhteinen kierros tapahtumaan",
    "Kokoa havainnot asunnottomuudesta kaupungin raporttiin",
    "Lähetä muistio jäsenille",
)


def seed_network_work(
    *,
    rng: random.Random,
    today: datetime.date,
    start: datetime.date,
    coordinator: User,
    worker: User,
    team: Team,
    municipalities: dict[str, Municipality],
    count: Callable[[type[models.Model], int], None],
) -> None:
    """Services of every partner, an agreement per network and tasks of the meetings held."""
    housing = PartnerOrganisation.objects.filter(name="Tuusniemen vuokratalot").first()
    if housing is None:
        housing = PartnerOrganisation.objects.create(
            name="Tuusniemen vuokratalot",
            kind=PartnerOrganisation.Kind.HOUSING,
            services=[ServiceKind.HOUSING],
            address="Kuopiontie 1, Tuusniemi",
            opening_hours="ma–to 9–15",
            phone="017 555 0100",
        )
        housing.municipalities.set([municipalities["857"]])
        count(PartnerOrganisation, 1)

    for partner in PartnerOrganisation.objects.prefetch_related("municipalities").order_by("pk"):
        served = list(partner.municipalities.all())
        for kind in partner.services:
            service, created = PartnerService.objects.get_or_create(
                partner=partner,
                name=SERVICE_NAMES.get(kind, kind),
                defaults={
                    "service_kind": kind,
                    "description": partner.description,
                    "how_to_refer": rng.choice(HOW_TO_REFER),
                },
            )
            if created:
                service.municipalities.set(served)
                count(PartnerService, 1)

    for network in Network.objects.order_by("pk"):
        members = [m.organisation for m in network.memberships.select_related("organisation")]
        if housing not in members and network.kind == Network.Kind.LOW_THRESHOLD:
            NetworkMembership.objects.create(
                network=network, organisation=housing, joined_on=start + datetime.timedelta(days=30)
            )
            count(NetworkMembership, 1)
        if not network.agreements.exists():
            agreement = CooperationAgreement.objects.create(
                network=network,
                title=f"{network.name}: yhteistyösopimus",
                description="Yhteiset ohjauskäytännöt, tiedonkulku ja kierrokset.",
                agreed_on=start + datetime.timedelta(days=14),
                review_on=today + datetime.timedelta(days=rng.randint(5, 25)),
            )
            agreement.parties.set(members)
            count(CooperationAgreement, 1)

    tasks = []
    meetings = NetworkMeeting.objects.filter(date__lt=today, tasks__isnull=True).order_by("date", "pk")
    for meeting in meetings:
        for number in range(rng.randint(1, 2)):
            due = meeting.date + datetime.timedelta(days=rng.randint(10, 40))
            done = (
                due - datetime.timedelta(days=rng.randint(0, 8)) if due < today - datetime.timedelta(days=20) else None
            )
            tasks.append(
                MeetingTask(
                    meeting=meeting,
                    title=TASKS[(meeting.pk + number) % len(TASKS)],
                    owner_user=worker if number == 0 else coordinator,
                    due_on=due,
                    done_on=done if done is None or done <= today else None,
                )
            )
    MeetingTask.objects.bulk_create(tasks)
    count(MeetingTask, len(tasks))

    if not CommunicationActivity.objects.filter(title="Etsivän työn esittelypiste kirjastolla").exists():
        CommunicationActivity.objects.create(
            team=team,
            kind=CommunicationActivity.Kind.OTHER,
            title="Etsivän työn esittelypiste kirjastolla",
            date=today - datetime.timedelta(days=12),
            audience="Kaupunkilaiset",
            audience_size=85,
            link="https://example.org/tapahtuma",
            created_by=worker,
        )
        count(CommunicationActivity, 1)
