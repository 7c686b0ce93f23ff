"""Who may see which client records. See `outreach.selectors` for the rules.

On top of the team rules: an expert by experience never sees a named person,
nor an encounter or referral linked to one, and sees encounters only of the
outings they take part in.
"""

from django.db.models import QuerySet
from django.http import Http404

from outreach.models import User
from outreach.selectors import teams_visible_to

from .models import Consent, Encounter, FollowUp, Person, Referral


def _inactive(user: User) -> bool:
    return not user.is_authenticated or not user.is_active


def persons_visible_to(user: User, *, include_merged: bool = False) -> QuerySet[Person]:
    if _inactive(user):
        return Person.objects.none()
    persons = Person.objects.select_related("team")
    if not include_merged:
        persons = persons.filter(merged_into__isnull=True)
    if user.is_superuser:
        return persons
    if user.is_expert:
        # Only the pseudonymous persons met in the outings they took part in:
        # they see no more of the team's clients than they met themselves.
        met = Person.objects.filter(kind=Person.Kind.PSEUDONYMOUS, encounters__outing__participants=user).values("id")
        return persons.filter(id__in=met)
    return persons.filter(team__in=teams_visible_to(user))


def get_person_for_user(user: User, pk) -> Person:
    try:
        return persons_visible_to(user, include_merged=True).get(pk=pk)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def encounters_visible_to(user: User) -> QuerySet[Encounter]:
    if _inactive(user):
        return Encounter.objects.none()
    encounters = Encounter.objects.select_related("site", "team", "outing", "person")
    if user.is_superuser:
        return encounters
    if user.is_expert:
        return encounters.filter(outing__participants=user).exclude(person__kind=Person.Kind.NAMED)
    return encounters.filter(team__in=teams_visible_to(user))


def get_encounter_for_user(user: User, pk) -> Encounter:
    try:
        return encounters_visible_to(user).get(pk=pk)
    except (Encounter.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    if _inactive(user):
        return Referral.objects.none()
    referrals = Referral.objects.select_related("team", "person", "encounter", "partner")
    if user.is_superuser:
        return referrals
    if user.is_expert:
        # Service kinds and outcome notes are case work: experts by
        # experience see no referrals, in any door.
        return Referral.objects.none()
    return referrals.filter(team__in=teams_visible_to(user))


def get_referral_for_user(user: User, pk) -> Referral:
    try:
        return referrals_visible_to(user).get(pk=pk)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def follow_ups_visible_to(user: User) -> QuerySet[FollowUp]:
    """Support work is the workers' own: experts by experience see none."""
    if _inactive(user) or (user.is_expert and not user.is_superuser):
        return FollowUp.objects.none()
    follow_ups = FollowUp.objects.select_related("team", "person", "referral", "assigned_to")
    if user.is_superuser:
        return follow_ups
    return follow_ups.filter(team__in=teams_visible_to(user))


def consents_visible_to(user: User) -> QuerySet[Consent]:
    if _inactive(user) or (user.is_expert and not user.is_superuser):
        return Consent.objects.none()
    consents = Consent.objects.select_related("person", "recorded_by")
    if user.is_superuser:
        return consents
    return consents.filter(person__team__in=teams_visible_to(user))
