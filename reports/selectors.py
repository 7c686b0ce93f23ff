"""Reads that compute reports. Every figure is scoped by the selectors' team rules."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, ExtractHour, ExtractMinute, ExtractSecond, TruncMonth

from encounters.models import Encounter, Person
from encounters.selectors import encounters_visible_to, referrals_visible_to
from outreach.models import Municipality, Outing, Team, User
from outreach.selectors import outings_visible_to, teams_visible_to
from outreach.vocabulary import (
    AgeGroup,
    ContactKind,
    Depth,
    Gender,
    Need,
    OutingStatus,
    ReferralStatus,
    ServiceKind,
    SiteType,
)

from .models import ClientFeedback, StructuralObservation

TWO_PLACES = Decimal("0.01")

# A person record merged into another normally has no encounters left: the
# merge moves them to the kept record. Should one still point at a merged
# record, it counts as the record it was merged into (two levels deep, enough
# for a kept record that was itself merged later).
PERSON_ROOT = Coalesce("person__merged_into__merged_into_id", "person__merged_into_id", "person_id")


def feedback_visible_to(user: User) -> QuerySet[ClientFeedback]:
    """Feedback given at an outing of a team the user sees, or at a site of such a team without an outing.

    The same rule as the summary's feedback figures; a superuser sees all.
    """
    if not user.is_authenticated or not user.is_active:
        return ClientFeedback.objects.none()
    feedback = ClientFeedback.objects.select_related("site", "outing", "outing__site")
    if user.is_superuser:
        return feedback
    if user.is_expert:
        return feedback.none()
    visible_teams = teams_visible_to(user)
    return feedback.filter(Q(outing__team__in=visible_teams) | Q(outing__isnull=True, site__team__in=visible_teams))


def observations_visible_to(user: User) -> QuerySet[StructuralObservation]:
    """Structural observations of the teams the user sees; a superuser sees all."""
    if not user.is_authenticated or not user.is_active:
        return StructuralObservation.objects.none()
    observations = StructuralObservation.objects.select_related("municipality", "site", "team")
    if user.is_superuser:
        return observations
    if user.is_expert:
        return observations.none()
    return observations.filter(team__in=teams_visible_to(user))


def summary_report(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> dict:
    """The summary report of DESIGN.md ("External contracts"), for the period start–end inclusive.

    Scope: the teams the user sees (`teams_visible_to`); a `team` filter
    narrows that scope and never widens it, so a team outside it yields
    zeros. The caller answers 403 for such a team before calling.

    - Encounters are counted by `occurred_on`, their Europe/Helsinki date.
      Their municipality and site type are those of their site.
    - Persons: merged records count as the record they were merged into.
      `persons_new` looks at all encounters in the database, whatever the
      filters and the user's scope, to find a person's first encounter.
    - Outings: only those with status done. An outing without an end time
      contributes no hours. `encounters_per_outing_hour` counts every
      encounter linked to those outings.
    - Referrals: by `referred_on` and current status; with a municipality or
      site type filter only referrals made from an encounter (at a matching
      site) count.
    - Client feedback is anonymous and tied to a site and, optionally, an
      outing. Without a `team` filter it belongs to the user's scope when its
      outing's team is visible, or, when it has no outing, when its site's
      responsible team is visible (a superuser sees all feedback). With a
      `team` filter only feedback given at that team's outings counts.

    The number of queries does not depend on the amount of data.
    """
    see_all = user.is_superuser
    visible_teams = teams_visible_to(user)

    encounters = encounters_visible_to(user).filter(occurred_on__range=(start, end))
    outings = outings_visible_to(user).filter(status=OutingStatus.DONE, date__range=(start, end))
    referrals = referrals_visible_to(user).filter(referred_on__range=(start, end))
    feedback = ClientFeedback.objects.filter(given_on__range=(start, end))

    if team is not None:
        encounters = encounters.filter(team=team)
        outings = outings.filter(team=team)
        referrals = referrals.filter(team=team)
        feedback = feedback.filter(outing__team=team)
    if not see_all:
        feedback = feedback.filter(
            Q(outing__team__in=visible_teams) | Q(outing__isnull=True, site__team__in=visible_teams)
        )
    if municipality is not None:
        encounters = encounters.filter(site__municipality=municipality)
        outings = outings.filter(site__municipality=municipality)
        referrals = referrals.filter(encounter__site__municipality=municipality)
        feedback = feedback.filter(site__municipality=municipality)
    if site_type:
        encounters = encounters.filter(site__site_type=site_type)
        outings = outings.filter(site__site_type=site_type)
        referrals = referrals.filter(encounter__site__site_type=site_type)
        feedback = feedback.filter(site__site_type=site_type)

    report: dict = {}
    report.update(_encounter_figures(encounters))
    report["by_municipality"] = _by_municipality(encounters)
    report["by_month"] = _by_month(encounters, start, end)
    report.update(_person_figures(encounters, start))
    report.update(_outing_figures(outings))
    report.update(_referral_figures(referrals))
    report.update(_feedback_figures(feedback))
    return report


def _count_by(prefix: str, field: str, codes, *, lookup: str = "") -> dict[str, Count]:
    """One conditional count per code, aliased `prefix` + the code's position."""
    return {f"{prefix}{index}": Count("id", filter=Q(**{field + lookup: code})) for index, code in enumerate(codes)}


def _counts(row: dict, prefix: str, codes) -> dict[str, int]:
    return {code: row[f"{prefix}{index}"] for index, code in enumerate(codes)}


def _encounter_figures(encounters: QuerySet[Encounter]) -> dict:
    groups = {
        "by_site_type": ("site__site_type", SiteType.values, ""),
        "by_need": ("needs", Need.values, "__has"),
        "by_gender": ("gender", Gender.values, ""),
        "by_age_group": ("age_group", AgeGroup.values, ""),
        "by_contact_kind": ("contact_kind", ContactKind.values, ""),
    }
    aggregates = {
        "encounters_total": Count("id"),
        "encounters_anonymous": Count("id", filter=Q(person__isnull=True)),
        "encounters_with_person": Count("id", filter=Q(person__isnull=False)),
        "encounters_conversation": Count("id", filter=Q(depth=Depth.CONVERSATION)),
    }
    for name, (field, codes, lookup) in groups.items():
        aggregates.update(_count_by(name, field, codes, lookup=lookup))
    row = encounters.order_by().aggregate(**aggregates)

    figures: dict = {
        key: row[key]
        for key in ("encounters_total", "encounters_anonymous", "encounters_with_person", "encounters_conversation")
    }
    for name, (_field, codes, _lookup) in groups.items():
        figures[name] = _counts(row, name, codes)
    return figures


def _by_municipality(encounters: QuerySet[Encounter]) -> dict[str, int]:
    counts = dict.fromkeys(Municipality.objects.order_by("code").values_list("code", flat=True), 0)
    rows = encounters.order_by().values("site__municipality__code").annotate(n=Count("id"))
    for row in rows:  # one row per municipality, not per encounter
        counts[row["site__municipality__code"]] = row["n"]
    return counts


def _months(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(datetime.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _month_key(day: datetime.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _by_month(encounters: QuerySet[Encounter], start: datetime.date, end: datetime.date) -> dict[str, int]:
    counts = {_month_key(month): 0 for month in _months(start, end)}
    rows = encounters.order_by().annotate(month=TruncMonth("occurred_on")).values("month").annotate(n=Count("id"))
    for row in rows:  # one row per month, not per encounter
        counts[_month_key(row["month"])] = row["n"]
    return counts


def _person_figures(encounters: QuerySet[Encounter], start: datetime.date) -> dict:
    """Persons reached in the period, and those whose first encounter ever is in it.

    A person reached in the period is new when no encounter anywhere in the
    database, for them or a record merged into them, is dated before the
    period. Each of the three checks can use the (person, date) index.
    """
    reached = encounters.filter(person__isnull=False).order_by().annotate(root=PERSON_ROOT).values("root")
    earlier = Encounter.objects.filter(occurred_on__lt=start)
    seen_before = (
        Exists(earlier.filter(person_id=OuterRef("pk"))),
        Exists(earlier.filter(person__merged_into_id=OuterRef("pk"))),
        Exists(earlier.filter(person__merged_into__merged_into_id=OuterRef("pk"))),
    )
    row = Person.objects.filter(pk__in=Subquery(reached)).aggregate(
        persons_reached=Count("id"),
        persons_new=Count("id", filter=~seen_before[0] & ~seen_before[1] & ~seen_before[2]),
    )
    return {"persons_reached": row["persons_reached"], "persons_new": row["persons_new"]}


def _seconds(field: str):
    return ExtractHour(field) * 3600 + ExtractMinute(field) * 60 + ExtractSecond(field)


def _outing_figures(outings: QuerySet[Outing]) -> dict:
    """Done outings, their tallies, hours (duration × participants) and encounters per hour."""
    done = outings.order_by()
    row = done.aggregate(outings_done=Count("id"), tallied_contacts=Coalesce(Sum("tallied_contacts"), 0))
    # One row per participant of each outing: summing the outing's length
    # over them gives duration × participants. An outing still without an
    # end time has no duration yet.
    participations = Outing.participants.through.objects.filter(
        outing__in=done.values("id"), outing__end_time__isnull=False
    )
    seconds = participations.aggregate(seconds=Sum(_seconds("outing__end_time") - _seconds("outing__start_time")))[
        "seconds"
    ]
    hours = Decimal(seconds or 0) / 3600
    encounters = Encounter.objects.filter(outing__in=done.values("id")).count()
    return {
        "outings_done": row["outings_done"],
        "outing_hours": _decimal(hours),
        "tallied_contacts": int(row["tallied_contacts"]),
        "encounters_per_outing_hour": _decimal(Decimal(encounters) / hours) if hours else None,
    }


def _referral_figures(referrals) -> dict:
    aggregates = {"referrals_total": Count("id")}
    aggregates.update(_count_by("by_service", "service_kind", ServiceKind.values))
    aggregates.update(_count_by("by_status", "status", ReferralStatus.values))
    row = referrals.order_by().aggregate(**aggregates)
    total = row["referrals_total"]
    by_status = _counts(row, "by_status", ReferralStatus.values)
    connected = by_status[ReferralStatus.CONNECTED]
    return {
        "referrals_total": total,
        "referrals_by_service": _counts(row, "by_service", ServiceKind.values),
        "referrals_by_status": by_status,
        "referrals_connected_rate": _decimal(Decimal(connected) / total) if total else None,
    }


def _feedback_figures(feedback: QuerySet[ClientFeedback]) -> dict:
    # The mean from the sum, not AVG(): exact, so that 3.125 rounds to 3.13.
    row = feedback.order_by().aggregate(count=Count("id"), total=Sum("score"))
    count = row["count"]
    return {
        "feedback_count": count,
        "feedback_mean_score": _decimal(Decimal(row["total"]) / count) if count else None,
    }


def _decimal(value: Decimal) -> float:
    """Two decimals, rounded half up as people do, as a JSON number."""
    return float(value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP))
