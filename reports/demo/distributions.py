"""How the demo's generated values are distributed: weighted choices by site type,
needs, referral outcomes and feedback."""

from __future__ import annotations

import datetime
import random
from bisect import bisect
from collections.abc import Callable, Iterable
from enum import Enum
from itertools import accumulate
from typing import TypedDict

from encounters.validators import CHECK_CHARACTERS
from outreach.vocabulary import (
    Action,
    AgeGroup,
    ContactKind,
    Gender,
    Need,
    ReferralStatus,
    ServiceKind,
    SiteType,
)

# Distributions --------------------------------------------------------------


class Weighted:
    """Values with relative weights; `pick(random)` draws one by bisection (fast in hot loops)."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, pairs: Iterable[tuple[object, float]]):
        values, weights = zip(*pairs, strict=True)
        # Plain values, not enum members: the hot loop and COPY want plain str.
        self.values = [value.value if isinstance(value, Enum) else value for value in values]
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, random_: Callable[[], float]):
        return self.values[bisect(self.cum, random_() * self.total)]


GENDERS = Weighted([(Gender.MALE, 58), (Gender.FEMALE, 34), (Gender.OTHER, 1.5), (Gender.UNKNOWN, 6.5)])
PERSON_GENDERS = Weighted([(Gender.MALE, 62), (Gender.FEMALE, 35), (Gender.OTHER, 1.5), (Gender.UNKNOWN, 1.5)])
# Working-age adults dominate: 30–64 are the most common groups.
AGE_GROUPS = Weighted(
    [
        (AgeGroup.UNDER_18, 1),
        (AgeGroup.AGE_18_29, 14),
        (AgeGroup.AGE_30_39, 23),
        (AgeGroup.AGE_40_49, 23),
        (AgeGroup.AGE_50_64, 26),
        (AgeGroup.AGE_65_PLUS, 6),
        (AgeGroup.UNKNOWN, 7),
    ]
)
PERSON_AGES = Weighted([((18, 29), 14), ((30, 39), 27), ((40, 49), 27), ((50, 64), 27), ((65, 75), 5)])
FIRST_CONTACT = Weighted([(True, 35), (False, 45), (None, 20)])

NEED_BIT = {code: 1 << i for i, code in enumerate(Need.values)}
ACTION_BIT = {code: 1 << i for i, code in enumerate(Action.values)}

_BASE_NEEDS = {
    Need.MENTAL_HEALTH: 20,
    Need.SUBSTANCE_USE: 20,
    Need.HOUSING: 15,
    Need.LIVELIHOOD: 18,
    Need.EMPLOYMENT_EDUCATION: 6,
    Need.PHYSICAL_HEALTH: 8,
    Need.SOCIAL_RELATIONSHIPS: 14,
    Need.DAILY_LIVING: 8,
    Need.SAFETY_VIOLENCE: 3,
    Need.OTHER: 2,
}
# Keyed by site type code (a plain str in SiteSpec).
_NEED_EMPHASIS: dict[str, dict[str, float]] = {
    SiteType.FOOD_DISTRIBUTION: {Need.LIVELIHOOD: 2.0, Need.SOCIAL_RELATIONSHIPS: 1.3},
    SiteType.DAY_CENTRE: {Need.MENTAL_HEALTH: 1.5, Need.SOCIAL_RELATIONSHIPS: 1.5, Need.DAILY_LIVING: 1.5},
    SiteType.STREET: {Need.SUBSTANCE_USE: 2.0, Need.HOUSING: 1.6, Need.SAFETY_VIOLENCE: 2.0},
    SiteType.EVENT: {Need.SOCIAL_RELATIONSHIPS: 1.5},
    SiteType.OTHER: {Need.HOUSING: 1.3, Need.LIVELIHOOD: 1.3},
}
NEEDS_BY_SITE_TYPE = {
    site_type: Weighted(
        [(NEED_BIT[code], weight * _NEED_EMPHASIS[site_type].get(code, 1.0)) for code, weight in _BASE_NEEDS.items()]
    )
    for site_type in SiteType.values
}
NEED_COUNT = Weighted([(1, 40), (2, 40), (3, 20)])


class SiteTypeProfile(TypedDict):
    conversation: float
    linked: float
    weight: float
    tally: tuple[int, int]
    fb: float


# Per site type: share of conversations, share linked to a person, recorded
# encounters per outing (relative), tallied brief contacts per outing, share
# of outings with client feedback.
SITE_TYPE_PROFILE: dict[str, SiteTypeProfile] = {
    SiteType.FOOD_DISTRIBUTION: {"conversation": 0.30, "linked": 0.09, "weight": 1.1, "tally": (15, 60), "fb": 0.35},
    SiteType.DAY_CENTRE: {"conversation": 0.60, "linked": 0.18, "weight": 1.5, "tally": (5, 25), "fb": 0.35},
    SiteType.EVENT: {"conversation": 0.25, "linked": 0.05, "weight": 1.0, "tally": (10, 40), "fb": 0.30},
    SiteType.STREET: {"conversation": 0.45, "linked": 0.12, "weight": 0.45, "tally": (0, 8), "fb": 0.15},
    SiteType.OTHER: {"conversation": 0.65, "linked": 0.18, "weight": 0.6, "tally": (0, 5), "fb": 0.20},
}
BRIEF_ACTIONS = {
    SiteType.FOOD_DISTRIBUTION: Weighted(
        [
            (ACTION_BIT[Action.ENCOUNTER_ONLY], 50),
            (ACTION_BIT[Action.MATERIAL_AID], 35),
            (ACTION_BIT[Action.ADVICE], 15),
        ]
    ),
    None: Weighted(
        [
            (ACTION_BIT[Action.ENCOUNTER_ONLY], 65),
            (ACTION_BIT[Action.ADVICE], 25),
            (ACTION_BIT[Action.MATERIAL_AID], 10),
        ]
    ),
}
REFERRAL_SHARE = 0.15  # of conversations
# Follow-up contacts without an outing: phone calls and meetings at the office.
FOLLOW_UP_SHARE = 0.08
FOLLOW_UP_KINDS = Weighted([(ContactKind.PHONE, 60), (ContactKind.MEETING, 35), (ContactKind.OTHER, 5)])

SERVICES_FOR_NEED = {
    NEED_BIT[Need.MENTAL_HEALTH]: Weighted(
        [(ServiceKind.MENTAL_HEALTH_SUBSTANCE, 60), (ServiceKind.HEALTH_CENTRE, 20), (ServiceKind.THIRD_SECTOR, 20)]
    ),
    NEED_BIT[Need.SUBSTANCE_USE]: Weighted([(ServiceKind.MENTAL_HEALTH_SUBSTANCE, 80), (ServiceKind.THIRD_SECTOR, 20)]),
    NEED_BIT[Need.HOUSING]: Weighted([(ServiceKind.HOUSING, 75), (ServiceKind.ADULT_SOCIAL_WORK, 25)]),
    NEED_BIT[Need.LIVELIHOOD]: Weighted(
        [(ServiceKind.KELA, 40), (ServiceKind.ADULT_SOCIAL_WORK, 35), (ServiceKind.DEBT_COUNSELLING, 25)]
    ),
    NEED_BIT[Need.EMPLOYMENT_EDUCATION]: Weighted([(ServiceKind.EMPLOYMENT_SERVICES, 85), (ServiceKind.OTHER, 15)]),
    NEED_BIT[Need.PHYSICAL_HEALTH]: Weighted([(ServiceKind.HEALTH_CENTRE, 100)]),
    NEED_BIT[Need.SOCIAL_RELATIONSHIPS]: Weighted([(ServiceKind.THIRD_SECTOR, 80), (ServiceKind.OTHER, 20)]),
    NEED_BIT[Need.DAILY_LIVING]: Weighted([(ServiceKind.ADULT_SOCIAL_WORK, 70), (ServiceKind.THIRD_SECTOR, 30)]),
    NEED_BIT[Need.SAFETY_VIOLENCE]: Weighted([(ServiceKind.EMERGENCY_SOCIAL, 70), (ServiceKind.OTHER, 30)]),
    NEED_BIT[Need.OTHER]: Weighted([(ServiceKind.OTHER, 50), (ServiceKind.ADULT_SOCIAL_WORK, 50)]),
}
# Referral status by how long ago the referral was made: recent ones are
# still open, old ones have ended one way or another.
S = ReferralStatus
REFERRAL_STATUS_BY_AGE = [
    (7, Weighted([(S.SUGGESTED, 45), (S.MADE, 45), (S.CONNECTED, 5), (S.DECLINED, 5)])),
    (
        30,
        Weighted(
            [(S.SUGGESTED, 15), (S.MADE, 30), (S.CONNECTED, 30), (S.DECLINED, 10), (S.NOT_REACHED, 10), (S.ENDED, 5)]
        ),
    ),
    (
        None,
        Weighted(
            [(S.SUGGESTED, 4), (S.MADE, 8), (S.CONNECTED, 33), (S.DECLINED, 12), (S.NOT_REACHED, 15), (S.ENDED, 28)]
        ),
    ),
]
FEEDBACK_SCORES = Weighted([(1, 2), (2, 4), (3, 10), (4, 34), (5, 50)])
FEEDBACK_LANGUAGES = Weighted([("fi", 85), ("en", 7), ("sv", 3), ("ru", 5)])

_AGE_GROUP_BOUNDS = [
    (18, AgeGroup.UNDER_18.value),
    (30, AgeGroup.AGE_18_29.value),
    (40, AgeGroup.AGE_30_39.value),
    (50, AgeGroup.AGE_40_49.value),
    (65, AgeGroup.AGE_50_64.value),
]


def age_group_for(birth_year: int, year: int) -> str:
    age = year - birth_year
    for below, code in _AGE_GROUP_BOUNDS:
        if age < below:
            return code
    return AgeGroup.AGE_65_PLUS.value


def fictional_identity_code(rng: random.Random, born: datetime.date) -> str:
    """A valid personal identity code in the 900–999 range, which is never given to real people."""
    individual = rng.randint(900, 999)
    stem = f"{born:%d%m%y}"
    sign = "-" if born.year < 2000 else "A"
    return f"{stem}{sign}{individual}{CHECK_CHARACTERS[int(stem + str(individual)) % 31]}"
