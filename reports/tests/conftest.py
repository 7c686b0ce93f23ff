"""A small, hand-countable world for the report pages: team A's second quarter of 2026."""

import datetime

import pytest

from encounters.tests.factories import EncounterFactory, PersonFactory, ReferralFactory
from networks.models import CommunicationActivity
from outreach.tests.factories import FieldSiteFactory, OutingFactory, municipality
from outreach.vocabulary import Depth, Gender, OutingStatus, ReferralStatus, ServiceKind, SiteType
from reports.models import StructuralObservation
from reports.services import feedback_record

HELSINKI_SUMMER = datetime.timezone(datetime.timedelta(hours=3))
Q2 = {"start": "2026-04-01", "end": "2026-06-30"}


def at(month, day, hour=10):
    return datetime.datetime(2026, month, day, hour, tzinfo=HELSINKI_SUMMER)


@pytest.fixture
def world(team_a, team_b, worker_a, worker_b, expert_a, coordinator):
    """In Q2 2026 team A has:

    - Food (Kuopio, food distribution): 2 done outings of 2 h, worker A and
      the expert on the first, worker A alone on the second → 6 h; tallies
      10 + 2; 7 encounters at the first outing (all conversations), 1 at the
      second (brief) → 8 encounters, 20 contacts, 3.33 per hour.
    - Street (Kaavi, street, season April–September): 1 done outing of 1 h
      with worker A, 2 encounters (1 brief) and no tally; a cancelled outing
      that counts nowhere. 2 contacts per hour.
    - 1 encounter without an outing at Food (in the summary, not in reach).
    - 12 encounters in total: 11 female, 1 male (the street's second).
    - Referrals: 3 to adult social work (1 suggested, 1 made, 1 connected),
      1 to housing (connected).
    - Feedback: 6 answers at Food (scores 4), so no mean is shown.
    - Team B: one done outing at its own site with 3 encounters.
    """
    kuopio, kaavi = municipality("297"), municipality("204")
    food = FieldSiteFactory(name="Food", site_type=SiteType.FOOD_DISTRIBUTION, municipality=kuopio, team=team_a)
    street = FieldSiteFactory(
        name="Street",
        site_type=SiteType.STREET,
        municipality=kaavi,
        team=team_a,
        season_start_month=4,
        season_end_month=9,
    )
    day_b = FieldSiteFactory(name="Day B", site_type=SiteType.DAY_CENTRE, municipality=kuopio, team=team_b)

    o1 = OutingFactory(
        team=team_a, site=food, date=datetime.date(2026, 4, 7), tallied_contacts=10, participants=[worker_a, expert_a]
    )
    o2 = OutingFactory(
        team=team_a, site=food, date=datetime.date(2026, 5, 5), tallied_contacts=2, participants=[worker_a]
    )
    o3 = OutingFactory(
        team=team_a,
        site=street,
        date=datetime.date(2026, 5, 20),
        start_time=datetime.time(18),
        end_time=datetime.time(19),
        participants=[worker_a],
    )
    OutingFactory(
        team=team_a, site=street, date=datetime.date(2026, 6, 2), status=OutingStatus.CANCELLED, participants=[worker_a]
    )
    person = PersonFactory(team=team_a)
    for index in range(7):
        encounter = EncounterFactory(
            team=team_a,
            site=food,
            outing=o1,
            occurred_at=at(4, 7, 10),
            gender=Gender.FEMALE,
            person=person if index == 0 else None,
        )
        encounter.workers.set([worker_a])
    EncounterFactory(team=team_a, site=food, outing=o2, occurred_at=at(5, 5), depth=Depth.BRIEF, gender=Gender.FEMALE)
    EncounterFactory(team=team_a, site=street, outing=o3, occurred_at=at(5, 20, 18), gender=Gender.FEMALE)
    EncounterFactory(
        team=team_a, site=street, outing=o3, occurred_at=at(5, 20, 18), depth=Depth.BRIEF, gender=Gender.MALE
    )
    EncounterFactory(team=team_a, site=food, outing=None, occurred_at=at(6, 10), gender=Gender.FEMALE)
    EncounterFactory(team=team_a, site=food, outing=None, occurred_at=at(6, 11), gender=Gender.FEMALE, person=person)

    ReferralFactory(team=team_a, service_kind=ServiceKind.ADULT_SOCIAL_WORK, referred_on=datetime.date(2026, 4, 7))
    ReferralFactory(
        team=team_a,
        service_kind=ServiceKind.ADULT_SOCIAL_WORK,
        status=ReferralStatus.MADE,
        made_on=datetime.date(2026, 4, 8),
        referred_on=datetime.date(2026, 4, 7),
    )
    ReferralFactory(
        team=team_a,
        service_kind=ServiceKind.ADULT_SOCIAL_WORK,
        status=ReferralStatus.CONNECTED,
        made_on=datetime.date(2026, 4, 8),
        connected_on=datetime.date(2026, 4, 20),
        referred_on=datetime.date(2026, 4, 7),
    )
    ReferralFactory(
        team=team_a,
        service_kind=ServiceKind.HOUSING,
        status=ReferralStatus.CONNECTED,
        connected_on=datetime.date(2026, 5, 20),
        referred_on=datetime.date(2026, 5, 6),
    )
    for _index in range(6):
        feedback_record(site=food, outing=o1, given_on=datetime.date(2026, 4, 7), score=4)

    ob = OutingFactory(team=team_b, site=day_b, date=datetime.date(2026, 4, 9), participants=[worker_b])
    for _index in range(3):
        EncounterFactory(team=team_b, site=day_b, outing=ob, occurred_at=at(4, 9))

    StructuralObservation.objects.create(
        team=team_a,
        theme=StructuralObservation.Theme.HOUSING,
        municipality=kuopio,
        site=food,
        observed_on=datetime.date(2026, 4, 7),
        description="Emergency housing is full every week.",
        created_by=worker_a,
    )
    CommunicationActivity.objects.create(
        team=team_a,
        kind=CommunicationActivity.Kind.PRESENTATION,
        title="Council",
        date=datetime.date(2026, 5, 3),
        audience_size=40,
    )
    return {"food": food, "street": street, "day_b": day_b, "o1": o1, "o2": o2, "o3": o3, "kuopio": kuopio}


@pytest.fixture(autouse=True)
def _english(settings):
    # The tests read labels in English; a test that wants another language sets the language cookie.
    settings.LANGUAGE_CODE = "en"
