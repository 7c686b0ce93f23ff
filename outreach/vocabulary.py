"""The fixed vocabulary of DESIGN.md.

Values are stable codes used in the API, imports and exports; labels are
translated. Never rename or reorder a code: `CodeSetField` stores sets of
codes as bits in the order given here, so new codes go at the end.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SiteType(models.TextChoices):
    FOOD_DISTRIBUTION = "food_distribution", _("Food distribution")
    DAY_CENTRE = "day_centre", _("Day centre")
    EVENT = "event", _("Event")
    STREET = "street", _("Street")
    OTHER = "other", _("Other")


class ContactKind(models.TextChoices):
    FIELD = "field", _("Field")
    PHONE = "phone", _("Phone")
    MEETING = "meeting", _("Follow-up meeting")
    OTHER = "other", _("Other")


class Depth(models.TextChoices):
    BRIEF = "brief", _("Brief contact")
    CONVERSATION = "conversation", _("Conversation")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class AgeGroup(models.TextChoices):
    UNDER_18 = "under_18", _("Under 18")
    AGE_18_29 = "18_29", _("18–29")
    AGE_30_39 = "30_39", _("30–39")
    AGE_40_49 = "40_49", _("40–49")
    AGE_50_64 = "50_64", _("50–64")
    AGE_65_PLUS = "65_plus", _("65 or over")
    UNKNOWN = "unknown", _("Unknown")


class Need(models.TextChoices):
    MENTAL_HEALTH = "mental_health", _("Mental health")
    SUBSTANCE_USE = "substance_use", _("Substance use")
    HOUSING = "housing", _("Housing")
    LIVELIHOOD = "livelihood", _("Livelihood")
    EMPLOYMENT_EDUCATION = "employment_education", _("Employment or education")
    PHYSICAL_HEALTH = "physical_health", _("Physical health")
    SOCIAL_RELATIONSHIPS = "social_relationships", _("Social relationships")
    DAILY_LIVING = "daily_living", _("Managing daily life")
    SAFETY_VIOLENCE = "safety_violence", _("Safety or violence")
    OTHER = "other", _("Other")


class Action(models.TextChoices):
    ENCOUNTER_ONLY = "encounter_only", _("Encounter only")
    ADVICE = "advice", _("Advice")
    SERVICE_GUIDANCE = "service_guidance", _("Service guidance")
    REFERRAL = "referral", _("Referral")
    ACCOMPANIMENT = "accompaniment", _("Accompaniment")
    MATERIAL_AID = "material_aid", _("Material aid")
    CRISIS_HELP = "crisis_help", _("Crisis help")
    OTHER = "other", _("Other")


class ServiceKind(models.TextChoices):
    ADULT_SOCIAL_WORK = "adult_social_work", _("Adult social work")
    MENTAL_HEALTH_SUBSTANCE = "mental_health_substance", _("Mental health and substance use services")
    HEALTH_CENTRE = "health_centre", _("Health centre")
    HOUSING = "housing", _("Housing services")
    KELA = "kela", _("Kela")
    EMPLOYMENT_SERVICES = "employment_services", _("Employment services")
    DEBT_COUNSELLING = "debt_counselling", _("Debt counselling")
    EMERGENCY_SOCIAL = "emergency_social", _("Emergency social services")
    THIRD_SECTOR = "third_sector", _("Third sector")
    OTHER = "other", _("Other")


class ReferralStatus(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested")
    MADE = "made", _("Made")
    CONNECTED = "connected", _("Connected")
    DECLINED = "declined", _("Declined")
    NOT_REACHED = "not_reached", _("Not reached")
    ENDED = "ended", _("Ended")


class OutingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Role(models.TextChoices):
    WORKER = "worker", _("Outreach worker")
    EXPERT = "expert", _("Expert by experience")
    COORDINATOR = "coordinator", _("Coordinator")
    ADMIN = "admin", _("Administrator")


class GotHelp(models.TextChoices):
    """Client feedback: did you get the help or information you needed."""

    YES = "yes", _("Yes")
    PARTLY = "partly", _("Partly")
    NO = "no", _("No")


class TalkAgain(models.TextChoices):
    """Client feedback: would you talk to us again."""

    YES = "yes", _("Yes")
    NO = "no", _("No")
    DONT_KNOW = "dont_know", _("I don't know")


class SurveyQuestionKind(models.TextChoices):
    SCALE = "scale", _("Scale 1–5")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TEXT = "text", _("Free text")


# The kinds of survey question that have choices.
SURVEY_CHOICE_KINDS = (SurveyQuestionKind.SINGLE, SurveyQuestionKind.MULTIPLE)
