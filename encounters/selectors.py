"""Who may see which client records. See `outreach.selectors` for the rules.

On top of the team rules: an expert by experience never sees a named person,
nor an encounter or referral linked to one, and sees encounters only of the
outings they take part in.
"""

import dataclasses
import datetime
import re
from collections.abc import Iterable
from typing import Any

from django.db import connection, models
from django.db.models import BooleanField, Count, Exists, F, Func, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat, Greatest, Upper
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from outreach.models import Outing, Team, User, person_hours
from outreach.selectors import member_team_ids, outings_visible_to, teams_visible_to, visible_team_ids
from outreach.vocabulary import Depth, Gender, Need, OutingStatus, ReferralStatus

from .models import Consent, Encounter, FollowUp, Person, PersonMerge, Referral, ReferralConfirmation, domain_date


def _inactive(user: User) -> bool:
    return not user.is_authenticated or not user.is_active


def persons_visible_to(user: User, *, include_merged: bool = False, team_ids_first: bool = False) -> QuerySet[Person]:
    """The persons the user may see. `team_ids_first` reads the user's few team ids first (one query more)
    and filters by them as values: the planner then knows the team and can read a (team, …) index in order."""
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
    if team_ids_first:
        return persons.filter(team_id__in=list(teams_visible_to(user).values_list("id", flat=True)))
    return persons.filter(team_id__in=visible_team_ids(user))


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
    return encounters.filter(team_id__in=visible_team_ids(user))


def get_encounter_for_user(user: User, pk) -> Encounter:
    try:
        return encounters_visible_to(user).get(pk=pk)
    except (Encounter.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    """The referrals the user may see."""
    if _inactive(user):
        return Referral.objects.none()
    referrals = Referral.objects.select_related("team", "person", "encounter", "partner")
    if user.is_superuser:
        return referrals
    if user.is_expert:
        # Service kinds and outcome notes are case work: experts by
        # experience see no referrals, in any door.
        return Referral.objects.none()
    return referrals.filter(team_id__in=visible_team_ids(user))


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
    return follow_ups.filter(team_id__in=visible_team_ids(user))


def consents_visible_to(user: User) -> QuerySet[Consent]:
    if _inactive(user) or (user.is_expert and not user.is_superuser):
        return Consent.objects.none()
    consents = Consent.objects.select_related("person", "recorded_by")
    if user.is_superuser:
        return consents
    return consents.filter(person__team_id__in=visible_team_ids(user))


# Pages' reads ---------------------------------------------------------------------------

# How long the Today page looks back for outings left unfinished, and ahead for planned ones.
UNFINISHED_DAYS = 14
UPCOMING_DAYS = 14
UPCOMING_SHOWN = 10
FOLLOW_UPS_SHOWN = 20
PERSON_RESULTS_SHOWN = 10


def persons_matching(user: User, *, team: Team, query: str, limit: int = PERSON_RESULTS_SHOWN) -> list[Person]:
    """The team's persons whose alias or name contains `query`, as the worker types it."""
    return list(
        persons_visible_to(user)
        .filter(team=team)
        .filter(Q(alias__icontains=query) | Q(first_name__icontains=query) | Q(last_name__icontains=query))
        .order_by("alias", "last_name", "first_name")[:limit]
    )


# The persons page and duplicate checks ----------------------------------------------------

# A person with no contact for this long is shown as inactive (DESIGN: engagement).
INACTIVE_AFTER_DAYS = 90
PERSONS_PAGE_SIZE = 25
SIMILAR_SHOWN = 10
# Two aliases or names at least this similar (pg_trgm's similarity, 0–1) may be one person: pg_trgm's
# own default threshold for its `%` operator, which the GIN index answers.
SIMILARITY_THRESHOLD = 0.3
# On SQLite the similarity is computed in Python on at most this many of the team's candidates.
SQLITE_CANDIDATES = 5000
# On PostgreSQL the database ranks by similarity and hands over this many to be ranked further.
SIMILAR_CANDIDATES = 50


class PersonFilter(models.TextChoices):
    """The filters of the persons page (codes in the form, labels translated)."""

    ALL = "", _("All")
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive (no contact for 90 days)")
    ENGAGED = "engaged", _("Engaged")
    OPEN_REFERRALS = "open_referrals", _("With open referrals")
    FOLLOW_UPS_DUE = "follow_ups_due", _("With follow-ups due")


# A referral whose outcome is not known yet: the worker still has to find out.
OPEN_REFERRAL_STATUSES = (ReferralStatus.SUGGESTED, ReferralStatus.MADE)
FINAL_REFERRAL_STATUSES = (ReferralStatus.DECLINED, ReferralStatus.NOT_REACHED, ReferralStatus.ENDED)


def week_end(day: datetime.date) -> datetime.date:
    """The Sunday of `day`'s week: 'this week' on the Today and My follow-ups pages."""
    return day + datetime.timedelta(days=6 - day.weekday())


def _contact_since(today: datetime.date) -> tuple[datetime.date, datetime.datetime]:
    since = today - datetime.timedelta(days=INACTIVE_AFTER_DAYS)
    return since, timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))


def _with_recent_contact(persons: QuerySet[Person], today: datetime.date) -> QuerySet[Person]:
    """A contact (an encounter, a follow-up done, or the record's creation) within INACTIVE_AFTER_DAYS.

    Each person's latest contact as a correlated scalar subquery, one probe
    of the (person, date) index per person read: the page reads the persons
    in order and stops at its last row. (An IN-subquery, or an EXISTS, which
    PostgreSQL turns into one, first hashes every recent encounter: 60 ms for
    70,000 of them, before the first row.)"""
    since, start = _contact_since(today)
    met = Encounter.objects.filter(person=OuterRef("pk")).order_by("-occurred_on").values("occurred_on")[:1]
    followed = (
        FollowUp.objects.filter(person=OuterRef("pk"), done_on__isnull=False).order_by("-done_on").values("done_on")[:1]
    )
    return persons.alias(_met_on=Subquery(met), _followed_on=Subquery(followed)).filter(
        Q(_met_on__gte=since) | Q(_followed_on__gte=since) | Q(created_at__gte=start)
    )


def _without_recent_contact(persons: QuerySet[Person], today: datetime.date) -> QuerySet[Person]:
    """No contact within INACTIVE_AFTER_DAYS: each NOT EXISTS on its own, which PostgreSQL runs as an anti-join."""
    since, start = _contact_since(today)
    return (
        persons.filter(created_at__lt=start)
        .exclude(Exists(Encounter.objects.filter(person=OuterRef("pk"), occurred_on__gte=since)))
        .exclude(Exists(FollowUp.objects.filter(person=OuterRef("pk"), done_on__gte=since)))
    )


# Fewer letters than this are matched at the start of the alias or name only: '%ko%' cannot use a
# trigram index and matches a fifth of all aliases.
CONTAINS_MIN_LENGTH = 3


def _text_match(query: str) -> Q:
    """Alias or name containing `query` (beginning with it, for one or two letters), or the birth year
    when `query` is one: what the persons page searches.

    On PostgreSQL the GIN trigram indexes on UPPER(alias), UPPER(first_name)
    and UPPER(last_name) (migration 0010) answer these LIKEs, and the
    (team, birth_year) index the year; SQLite scans.
    """
    if query.isdigit() and len(query) == 4:
        return Q(birth_year=int(query))
    if len(query) < CONTAINS_MIN_LENGTH:
        return Q(alias__istartswith=query) | Q(first_name__istartswith=query) | Q(last_name__istartswith=query)
    return Q(alias__icontains=query) | Q(first_name__icontains=query) | Q(last_name__icontains=query)


def persons_listed(
    user: User, *, today: datetime.date, query: str = "", status: str = "", team: Team | None = None
) -> QuerySet[Person]:
    """The persons page: the user's visible persons (the team's; an expert's met pseudonymous ones),
    filtered by `status` (a PersonFilter code) and the text `query`, ordered by alias and name."""
    persons = persons_visible_to(user, team_ids_first=True)
    if team is not None:
        persons = persons.filter(team=team)
    query = query.strip()
    if query:
        persons = persons.filter(_text_match(query))
    if status == PersonFilter.ACTIVE:
        persons = _with_recent_contact(persons, today)
    elif status == PersonFilter.INACTIVE:
        persons = _without_recent_contact(persons, today)
    elif status == PersonFilter.ENGAGED:
        persons = persons.filter(engaged_on__isnull=False)
    elif status == PersonFilter.OPEN_REFERRALS:
        open_referrals = referrals_visible_to(user).filter(person=OuterRef("pk"), status__in=OPEN_REFERRAL_STATUSES)
        persons = persons.filter(Exists(open_referrals))
    elif status == PersonFilter.FOLLOW_UPS_DUE:
        due = follow_ups_visible_to(user).filter(
            person=OuterRef("pk"), done_on__isnull=True, due_on__lte=week_end(today)
        )
        persons = persons.filter(Exists(due))
    return persons.order_by("alias", "last_name", "first_name", "id")


def persons_last_contact(persons: list[Person]) -> dict[int, datetime.date]:
    """The latest encounter date of each listed person: one query for a page of them."""
    rows = (
        Encounter.objects.filter(person__in=persons)
        .order_by()
        .values("person_id")
        .annotate(last=Max("occurred_on"))
        .values_list("person_id", "last")
    )
    return dict(rows)


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's similarity(a, b) in Python (the SQLite fallback): shared trigrams of the padded
    lower-case words ÷ all trigrams of both."""

    def trigrams(text: str) -> set[str]:
        grams: set[str] = set()
        for word in re.findall(r"\w+", text.lower()):
            padded = f"  {word} "
            grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
        return grams

    left, right = trigrams(a), trigrams(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


class TrigramMatch(Func):
    """`a % b` of pg_trgm: similarity above pg_trgm.similarity_threshold, answered by a GIN trigram index."""

    arg_joiner = " %% "
    template = "(%(expressions)s)"
    output_field = BooleanField()


@dataclasses.dataclass
class SimilarPerson:
    person: Person
    reasons: list[str]
    score: float


def persons_similar(
    user: User,
    *,
    team: Team | None = None,
    alias: str = "",
    first_name: str = "",
    last_name: str = "",
    birth_year: int | None = None,
    gender: str = "",
    identity_code: str = "",
    exclude: Iterable[int] = (),
    limit: int = SIMILAR_SHOWN,
) -> list[SimilarPerson]:
    """Likely duplicates among the user's visible persons (of `team` when given), best first.

    The one matching rule for every door that creates a person (the person
    form, the quick log, the API's /persons/similar/): the same identity
    code; or a similar alias or name (trigram similarity) whose birth year is
    within one year and gender the same, where both are known. `reasons`
    are codes among identity_code, alias, name, birth_year, gender.
    """
    persons = persons_visible_to(user).exclude(pk__in=list(exclude))
    if team is not None:
        persons = persons.filter(team=team)
    alias = alias.strip()
    full_name = f"{first_name.strip()} {last_name.strip()}".strip()
    code = identity_code.strip().upper()
    found: dict[int, SimilarPerson] = {}
    if code:
        for person in persons.filter(identity_code=code)[:limit]:
            found[person.pk] = SimilarPerson(person, ["identity_code"], 10.0)
    if alias or full_name:
        candidates = persons
        if birth_year is not None:
            candidates = candidates.filter(
                Q(birth_year__isnull=True) | Q(birth_year__gte=birth_year - 1, birth_year__lte=birth_year + 1)
            )
        if gender and gender != Gender.UNKNOWN:
            candidates = candidates.filter(gender__in=[gender, Gender.UNKNOWN])
        for person, alias_score, name_score in _similar_by_text(candidates, alias, full_name):
            reasons = []
            if alias_score >= SIMILARITY_THRESHOLD:
                reasons.append("alias")
            if name_score >= SIMILARITY_THRESHOLD:
                reasons.append("name")
            if birth_year is not None and person.birth_year is not None:
                reasons.append("birth_year")
            if gender and gender != Gender.UNKNOWN and person.gender == gender:
                reasons.append("gender")
            score = max(alias_score, name_score) + 0.1 * (("birth_year" in reasons) + ("gender" in reasons))
            if birth_year is not None and person.birth_year == birth_year:
                score += 0.05
            if person.pk in found:
                found[person.pk].reasons += reasons
                continue
            found[person.pk] = SimilarPerson(person, reasons, score)
    ranked = sorted(found.values(), key=lambda match: (-match.score, match.person.pk))
    return ranked[:limit]


def _similar_by_text(candidates: QuerySet[Person], alias: str, full_name: str) -> list[tuple[Person, float, float]]:
    """(person, alias similarity, name similarity) of the candidates similar to the alias or the name."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramSimilarity

        match = Q()
        annotations: dict[str, Any] = {}
        if alias:
            # An alias may be what others call them by their name, so it is compared with names too.
            match |= Q(TrigramMatch(Upper("alias"), Upper(Value(alias))))
            annotations["alias_score"] = TrigramSimilarity(Upper("alias"), Upper(Value(alias)))  # type: ignore[arg-type]
        if full_name:
            match |= Q(TrigramMatch(Upper("first_name"), Upper(Value(full_name)))) | Q(
                TrigramMatch(Upper("last_name"), Upper(Value(full_name)))
            )
            annotations["name_score"] = TrigramSimilarity(
                Concat(Upper("first_name"), Value(" "), Upper("last_name")),
                Upper(Value(full_name)),  # type: ignore[arg-type]  # an expression, as the stubs do not allow
            )
        score = Greatest(*annotations) if len(annotations) > 1 else F(next(iter(annotations)))
        # The best few by similarity; the ranking with birth year and gender is made of them.
        rows = candidates.filter(match).annotate(**annotations).order_by(score.desc(), "pk")[:SIMILAR_CANDIDATES]
        return [
            (person, float(getattr(person, "alias_score", 0.0)), float(getattr(person, "name_score", 0.0)))
            for person in rows
        ]
    results = []
    for person in candidates.order_by("id")[:SQLITE_CANDIDATES]:
        alias_score = trigram_similarity(alias, person.alias) if alias and person.alias else 0.0
        name = f"{person.first_name} {person.last_name}".strip()
        name_score = trigram_similarity(full_name, name) if full_name and name else 0.0
        if max(alias_score, name_score) >= SIMILARITY_THRESHOLD:
            results.append((person, alias_score, name_score))
    return results


def follow_ups_due_for(user: User, *, until: datetime.date) -> QuerySet[FollowUp]:
    """The open follow-ups due by `until` that are the user's: assigned to them, or to nobody in their teams."""
    return (
        follow_ups_visible_to(user)
        .filter(done_on__isnull=True, due_on__lte=until)
        .filter(Q(assigned_to=user) | Q(assigned_to__isnull=True, team__in=member_team_ids(user)))
        .select_related("referral", "person")
        .order_by("due_on", "id")
    )


MY_FOLLOW_UPS_SHOWN = 200


def my_follow_ups(user: User, *, today: datetime.date) -> dict[str, Any]:
    """The My follow-ups page: what is overdue, due the rest of this week and next week, persons and referrals."""
    end = week_end(today)
    next_end = end + datetime.timedelta(days=7)
    due = list(follow_ups_due_for(user, until=next_end)[:MY_FOLLOW_UPS_SHOWN])
    return {
        "today": today,
        "week_end": end,
        "overdue": [follow_up for follow_up in due if follow_up.due_on < today],
        "this_week": [follow_up for follow_up in due if today <= follow_up.due_on <= end],
        # Next week's too, to plan ahead (and to postpone to).
        "next_week": [follow_up for follow_up in due if follow_up.due_on > end],
    }


@dataclasses.dataclass
class TimelineEvent:
    on: datetime.date
    at: datetime.datetime | None
    kind: str
    title: str
    detail: str = ""
    needs: list[str] = dataclasses.field(default_factory=list)
    url: str = ""


TIMELINE_ENCOUNTERS = 500


def person_timeline_encounters(user: User, person: Person) -> list[Encounter]:
    """The person's latest TIMELINE_ENCOUNTERS encounters, newest first."""
    return list(encounters_visible_to(user).filter(person=person).order_by("-occurred_at", "-id")[:TIMELINE_ENCOUNTERS])


def person_timeline(
    user: User,
    person: Person,
    *,
    encounters: list[Encounter] | None = None,
    referrals: list[Referral] | None = None,
    follow_ups: list[FollowUp] | None = None,
    consents: list[Consent] | None = None,
    merges: list[PersonMerge] | None = None,
) -> dict[str, Any]:
    """Everything that happened with a person, newest first, and the needs recorded over time.

    Encounters, referrals with their status changes (the dates the referral
    stamps), follow-ups, consents, merges and the engagement. A fixed number
    of queries however long the history (one per kind of record); the person
    page passes the lists it has read already (`person_timeline_encounters`
    for the encounters).
    """
    if encounters is None:
        encounters = person_timeline_encounters(user, person)
    if referrals is None:
        referrals = list(referrals_visible_to(user).filter(person=person))
    if follow_ups is None:
        follow_ups = list(follow_ups_visible_to(user).filter(person=person))
    if consents is None:
        consents = list(consents_visible_to(user).filter(person=person))
    if merges is None:
        merges = [] if user.is_expert else list(PersonMerge.objects.filter(Q(kept=person) | Q(merged=person)))
    events = [
        *_encounter_events(encounters),
        *_referral_events(referrals),
        *_follow_up_events(follow_ups),
        *_consent_events(consents),
        *([] if user.is_expert else _merge_events(merges, person)),
    ]
    if person.engaged_on:
        events.append(
            TimelineEvent(on=person.engaged_on, at=None, kind="engagement", title=str(_("Ongoing support agreed")))
        )
    epoch = timezone.make_aware(datetime.datetime(1900, 1, 1))
    events.sort(key=lambda event: (event.on, event.at or epoch), reverse=True)
    return {
        "events": events,
        "needs_over_time": _needs_over_time(encounters),
        "encounters_capped": len(encounters) == TIMELINE_ENCOUNTERS,
    }


def _encounter_events(encounters: list[Encounter]) -> list[TimelineEvent]:
    from django.urls import reverse

    need_labels = dict(Need.choices)
    return [
        TimelineEvent(
            on=encounter.occurred_on,
            at=encounter.occurred_at,
            kind="encounter",
            title=f"{encounter.get_contact_kind_display()} · {encounter.get_depth_display()}",
            detail=encounter.site.name,
            needs=[str(need_labels[code]) for code in encounter.needs],
            url=reverse("encounters:outing_detail", args=[encounter.outing_id]) if encounter.outing_id else "",
        )
        for encounter in encounters
    ]


def _needs_over_time(encounters: list[Encounter]) -> list[dict[str, Any]]:
    """Each need recorded: how often, first and last seen; the most frequent first."""
    need_labels = dict(Need.choices)
    needs: dict[str, dict[str, Any]] = {}
    for encounter in encounters:
        for code in encounter.needs:
            row = needs.setdefault(
                code, {"label": need_labels[code], "count": 0, "first": encounter.occurred_on, "last": None}
            )
            row["count"] += 1
            row["first"] = min(row["first"], encounter.occurred_on)
            row["last"] = max(row["last"] or encounter.occurred_on, encounter.occurred_on)
    return sorted(needs.values(), key=lambda row: (-row["count"], str(row["label"])))


def _referral_events(referrals: list[Referral]) -> list[TimelineEvent]:
    from django.urls import reverse

    status_labels = dict(ReferralStatus.choices)
    events = []
    for referral in referrals:
        service = referral.get_service_kind_display()
        partner = referral.partner.name if referral.partner else ""
        url = reverse("encounters:referral_detail", args=[referral.pk])
        steps = [(referral.referred_on, _("Referral: %(service)s") % {"service": service}, partner)]
        if referral.made_on:
            steps.append((referral.made_on, _("Referral made: %(service)s") % {"service": service}, partner))
        if referral.connected_on:
            title = _("Got into the service: %(service)s") % {"service": service}
            steps.append((referral.connected_on, title, partner))
        if referral.closed_on and referral.status in FINAL_REFERRAL_STATUSES:
            title = _("Referral closed: %(service)s") % {"service": service}
            steps.append((referral.closed_on, title, str(status_labels[referral.status])))
        events += [
            TimelineEvent(on=on, at=None, kind="referral", title=str(title), detail=detail, url=url)
            for on, title, detail in steps
        ]
    return events


def _follow_up_events(follow_ups: list[FollowUp]) -> list[TimelineEvent]:
    events = []
    for follow_up in follow_ups:
        if follow_up.done_on:
            title = _("Follow-up done (%(kind)s)") % {"kind": follow_up.get_contact_kind_display()}
            events.append(TimelineEvent(on=follow_up.done_on, at=None, kind="follow_up", title=str(title)))
        else:
            title = _("Follow-up due (%(kind)s)") % {"kind": follow_up.get_contact_kind_display()}
            events.append(TimelineEvent(on=follow_up.due_on, at=None, kind="follow_up_due", title=str(title)))
    return events


def _consent_events(consents: list[Consent]) -> list[TimelineEvent]:
    events = []
    for consent in consents:
        scope = consent.get_scope_display()
        title = _("Consent: %(scope)s") % {"scope": scope}
        events.append(TimelineEvent(on=consent.given_on, at=None, kind="consent", title=str(title)))
        if consent.withdrawn_on:
            title = _("Consent withdrawn: %(scope)s") % {"scope": scope}
            events.append(TimelineEvent(on=consent.withdrawn_on, at=None, kind="consent", title=str(title)))
    return events


def _merge_events(merges: list[PersonMerge], person: Person) -> list[TimelineEvent]:
    events = []
    for merge in merges:
        title = _("Duplicate record merged") if merge.kept_id == person.pk else _("Merged into another record")
        events.append(
            TimelineEvent(on=domain_date(merge.merged_at), at=merge.merged_at, kind="merge", title=str(title))
        )
        if merge.undone_at:
            events.append(
                TimelineEvent(
                    on=domain_date(merge.undone_at), at=merge.undone_at, kind="merge", title=str(_("Merge undone"))
                )
            )
    return events


def worker_day(user: User, now: datetime.datetime) -> dict:
    """The worker's day (the Today page): outings in progress, planned and unfinished, follow-ups due.

    `now` is a Helsinki-local time. Experts by experience get their outings only.
    """
    day = now.date()
    mine = (
        outings_visible_to(user).filter(status=OutingStatus.PLANNED, participants=user).prefetch_related("participants")
    )
    # In progress only once started (the one current outing); a planned outing of today that nobody has
    # started waits under "planned" with a Start button, whatever its planned time.
    in_progress = list(mine.filter(date=day, started_at__isnull=False).order_by("-started_at"))
    upcoming = list(
        mine.filter(
            Q(date=day, started_at__isnull=True)
            | Q(date__gt=day, date__lte=day + datetime.timedelta(days=UPCOMING_DAYS))
        ).order_by("date", "start_time")[:UPCOMING_SHOWN]
    )
    context = {
        "today": day,
        "in_progress": in_progress,
        "upcoming": upcoming,
        "can_start": not user.is_expert,
    }
    if not user.is_expert:
        own_teams = member_team_ids(user)
        context["unfinished"] = list(
            mine.filter(date__lt=day, date__gte=day - datetime.timedelta(days=UNFINISHED_DAYS)).order_by(
                "-date", "-start_time"
            )[:UPCOMING_SHOWN]
        )
        context["team_outings_today"] = list(
            outings_visible_to(user)
            .filter(date=day, team__in=own_teams)
            .exclude(status=OutingStatus.CANCELLED)
            .exclude(participants=user)
            .prefetch_related("participants")
            .order_by("start_time")[:UPCOMING_SHOWN]
        )
        end = week_end(day)
        due = follow_ups_due_for(user, until=end)
        follow_ups = list(due[:FOLLOW_UPS_SHOWN])
        context["follow_ups"] = follow_ups
        context["follow_ups_more"] = due.count() - FOLLOW_UPS_SHOWN if len(follow_ups) == FOLLOW_UPS_SHOWN else 0
        context["week_end"] = end
        context["partner_confirmations"] = partner_confirmations_for(user, now)
    return context


# Partner confirmations of the last this many days are shown on the Today page of the worker who asked.
CONFIRMATIONS_SHOWN_DAYS = 14


def partner_confirmations_for(user: User, now: datetime.datetime) -> list[ReferralConfirmation]:
    """The partners' answers to the links this worker made, of the last CONFIRMATIONS_SHOWN_DAYS, newest first."""
    since = now - datetime.timedelta(days=CONFIRMATIONS_SHOWN_DAYS)
    return list(
        ReferralConfirmation.objects.filter(
            created_by=user, used_at__gte=since, referral__in=referrals_visible_to(user)
        )
        .select_related("referral__person")
        .order_by("-used_at")[:FOLLOW_UPS_SHOWN]
    )


def referral_confirmations(user: User, referral: Referral) -> list[ReferralConfirmation]:
    """The confirmation links made for a referral the user sees, newest first."""
    if user.is_expert:
        return []
    return list(referral.confirmations.select_related("created_by").order_by("-created_at", "-id"))


def partner_contact_email(referral: Referral) -> str:
    """The e-mail address of the referral's partner's first contact person that has one (the link's default)."""
    if referral.partner_id is None:
        return ""
    contact = referral.partner.contacts.filter(active=True).exclude(email="").order_by("pk").first()  # type: ignore[union-attr]
    return contact.email if contact is not None else ""


def partner_link(request, token: str) -> str:
    """The absolute URL of a confirmation link's page for the partner."""
    from django.urls import reverse

    return request.build_absolute_uri(reverse("partner_confirmation", kwargs={"key": token}))


def outing_summary(user: User, outing: Outing) -> dict:
    """What was logged at an outing: encounters by depth, anonymous or linked, needs, tally and hours."""
    counts = {
        "n_total": Count("id"),
        "n_brief": Count("id", filter=Q(depth=Depth.BRIEF)),
        "n_conversation": Count("id", filter=Q(depth=Depth.CONVERSATION)),
        "n_anonymous": Count("id", filter=Q(anonymous=True)),
        "n_linked": Count("id", filter=Q(anonymous=False)),
    }
    for code in Need.values:
        counts[f"n_need_{code}"] = Count("id", filter=Q(needs__has=code))
    row = encounters_visible_to(user).filter(outing=outing).order_by().aggregate(**counts)
    participants = outing.participants.count()
    hours = outing.duration_hours
    provisional = False
    now = timezone.localtime()
    if outing.end_time is None and outing.date == now.date():
        # Not finished yet: hours so far, until now.
        start = timezone.make_aware(datetime.datetime.combine(outing.date, outing.start_time))
        hours = max(0.0, (timezone.now() - start).total_seconds() / 3600)
        provisional = True
    return {
        "encounters": row["n_total"],
        "brief": row["n_brief"],
        "conversation": row["n_conversation"],
        "anonymous": row["n_anonymous"],
        "linked": row["n_linked"],
        "needs": [(label, row[f"n_need_{code}"]) for code, label in Need.choices if row[f"n_need_{code}"]],
        "tally": outing.tallied_contacts,
        "people_met": row["n_total"] + outing.tallied_contacts,
        "participants": participants,
        "duration_hours": hours,
        "person_hours": person_hours(hours, participants),
        "provisional": provisional,
    }


def can_read_access_log(user: User) -> bool:
    """A person's access log is the coordinators' to produce for the client (Client Data Act 703/2023)."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.is_coordinator))


def person_access_log_rows(person_id: int, *, since: datetime.datetime) -> list[dict]:
    """Everything logged of one person's record since `since`, newest first.

    The access log (reads, searches, exports, prints) and the audit trail of
    the record itself (its creation, edits, merges) in one list: `at`,
    `user` (id, or None for the system), `user_name`, `action`, `door` and
    `reason`. The person is matched by id, so the rows of an erased or
    pseudonymised record are still found.
    """
    from outreach.models import AccessLogEntry, AuditEntry

    rows = [
        {
            "at": entry.at,
            "user": entry.actor_id,
            "user_name": str(entry.actor) if entry.actor else "",
            "action": entry.action,
            "action_label": entry.get_action_display(),
            "door": entry.door,
            "reason": entry.reason,
        }
        for entry in AccessLogEntry.objects.filter(person_id=person_id, at__gte=since).select_related("actor")
    ]
    audit_actions: dict[str, str] = {
        AuditEntry.Action.CREATE.value: "create",
        AuditEntry.Action.UPDATE.value: "edit",
        AuditEntry.Action.DELETE.value: "delete",
    }
    audit_labels = {"create": _("Created"), "edit": _("Changed"), "delete": _("Deleted")}
    # Edits write an access-log row of their own; an audit entry of the same edit is not listed twice.
    edits = [(row["user"], row["at"]) for row in rows if row["action"] == AccessLogEntry.Action.EDIT]
    same_moment = datetime.timedelta(seconds=5)
    for entry in AuditEntry.objects.filter(
        model="encounters.person", object_id=str(person_id), at__gte=since, action__in=list(audit_actions)
    ).select_related("actor"):
        action = audit_actions[entry.action]
        if action == "edit" and any(user == entry.actor_id and abs(at - entry.at) < same_moment for user, at in edits):
            continue
        rows.append(
            {
                "at": entry.at,
                "user": entry.actor_id,
                "user_name": str(entry.actor) if entry.actor else "",
                "action": action,
                "action_label": audit_labels[action],
                "door": "",
                "reason": "",
            }
        )
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows


def person_data(person: Person) -> dict:
    """Everything the system holds about one person, as plain JSON values (GDPR art. 15 copy).

    The record itself, its encounters, referrals, follow-ups and consents,
    the merges it took part in, and its access log. Codes are the stable
    vocabulary codes; times are ISO 8601.
    """
    from outreach.models import AccessLogEntry

    def iso(value):
        return value.isoformat() if value is not None else None

    encounters = Encounter.objects.filter(person=person).select_related("site").order_by("occurred_at", "id")
    referrals = Referral.objects.filter(person=person).select_related("partner").order_by("referred_on", "id")
    follow_ups = FollowUp.objects.filter(person=person).order_by("due_on", "id")
    consents = Consent.objects.filter(person=person).order_by("given_on", "id")
    merges = PersonMerge.objects.filter(Q(kept=person) | Q(merged=person)).order_by("merged_at", "id")
    access_log = AccessLogEntry.objects.filter(person_id=person.pk).order_by("at", "id")
    return {
        "person": {
            "id": person.pk,
            "kind": person.kind,
            "team": person.team.name,
            "alias": person.alias,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "identity_code": person.identity_code,
            "birth_year": person.birth_year,
            "gender": person.gender,
            "phone": person.phone,
            "email": person.email,
            "engaged_on": iso(person.engaged_on),
            "notes": person.notes,
            "created_at": iso(person.created_at),
            "updated_at": iso(person.updated_at),
        },
        "encounters": [
            {
                "id": e.pk,
                "occurred_at": iso(e.occurred_at),
                "site": e.site.name,
                "contact_kind": e.contact_kind,
                "depth": e.depth,
                "needs": list(e.needs),
                "actions": list(e.actions),
                "duration_minutes": e.duration_minutes,
                "notes": e.notes,
            }
            for e in encounters
        ],
        "referrals": [
            {
                "id": r.pk,
                "service_kind": r.service_kind,
                "partner": r.partner.name if r.partner else None,
                "status": r.status,
                "referred_on": iso(r.referred_on),
                "connected_on": iso(r.connected_on),
                "closed_on": iso(r.closed_on),
                "follow_up_due": iso(r.follow_up_due),
                "outcome_notes": r.outcome_notes,
            }
            for r in referrals
        ],
        "follow_ups": [
            {
                "id": f.pk,
                "due_on": iso(f.due_on),
                "done_on": iso(f.done_on),
                "contact_kind": f.contact_kind,
                "notes": f.notes,
            }
            for f in follow_ups
        ],
        "consents": [
            {"scope": c.scope, "given_on": iso(c.given_on), "withdrawn_on": iso(c.withdrawn_on), "notes": c.notes}
            for c in consents
        ],
        "merges": [
            {"kept": m.kept_id, "merged": m.merged_id, "merged_at": iso(m.merged_at), "undone_at": iso(m.undone_at)}
            for m in merges
        ],
        "access_log": [{"at": iso(a.at), "user": a.actor_id, "action": a.action, "door": a.door} for a in access_log],
    }
