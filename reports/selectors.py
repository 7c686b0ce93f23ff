"""Reads that compute reports. Every figure is scoped by the selectors' team rules."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, ExtractHour, ExtractMinute, ExtractSecond, TruncMonth

from encounters.models import (
    Encounter,
    EncounterDayCount,
    EncounterMixCount,
    Person,
    PersonDayCount,
    Referral,
    ReferralDayCount,
)
from encounters.rollups import CODE_COLUMNS
from encounters.selectors import encounters_visible_to, referrals_visible_to
from outreach.models import FieldSite, Municipality, Outing, OutingDayCount, Team, User
from outreach.replica import read_connection
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

from .models import ClientFeedback, FeedbackDayCount, StructuralObservation

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
    observations = StructuralObservation.objects.select_related("municipality", "site", "team", "created_by")
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
    """The summary report of DESIGN.md ("External contracts"); see `summary_report_raw` for the definitions.

    Computed from the rollups (`encounters.rollups`, `outreach.rollups`),
    which give exactly the raw figures (a property test holds them to it);
    referrals and client feedback are few and are counted raw. An expert by
    experience, whose scope is their own outings rather than teams, gets the
    raw computation.
    """
    report, _counts = _summary(
        user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team
    )
    return report


def summary_with_funnel(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> tuple[dict, dict[str, dict[str, int]]]:
    """The summary and the referral funnel (`referral_funnel_of`) of its referrals, from one scan of them:
    what the dashboard and the period report show."""
    report, counts = _summary(
        user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team
    )
    return report, referral_funnel_of(counts)


def _summary(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None,
    site_type: str | None,
    team: Team | None,
) -> tuple[dict, list[dict]]:
    """`summary_report` and the referral counts (`referral_counts`) it was made from."""
    if not _rollups_apply(user):
        return _summary_raw(user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team)
    team_ids = _visible_team_ids(user, as_values=True)
    where = _rollup_filter(team_ids=team_ids, municipality=municipality, site_type=site_type, team=team)
    report: dict = _encounter_figures_rolled_up(where, start, end)
    report.update(_person_figures_rolled_up(where, start, end))
    report.update(_outing_figures_rolled_up(where, start, end))
    counts = _referral_counts_rolled_up(where, start, end)
    report.update(_referral_figures(counts))
    report.update(
        _feedback_figures_rolled_up(
            team_ids=team_ids, start=start, end=end, municipality=municipality, site_type=site_type, team=team
        )
    )
    return report, counts


def _rollups_apply(user: User) -> bool:
    """The rollups are scoped by team: right for everyone whose scope is a set of teams."""
    return user.is_authenticated and user.is_active and (user.is_superuser or not user.is_expert)


def rollup_scope(
    *, user: User, municipality: Municipality | None = None, site_type: str | None = None, team: Team | None = None
) -> Q | None:
    """The filter on a rollup row (team and site) for this user and these filters; None when the user's
    scope is not a set of teams (an expert by experience: read the raw tables)."""
    if not _rollups_apply(user):
        return None
    return _rollup_filter(team_ids=_visible_team_ids(user), municipality=municipality, site_type=site_type, team=team)


def _visible_team_ids(user: User, *, as_values: bool = False) -> "QuerySet | list[int] | None":
    """The ids of the teams the user sees (a subquery), None for a superuser (every team).

    `as_values` reads the few ids first, for one more query: over the person
    rollup a subquery costs a semi-join on every row.
    """
    if user.is_superuser:
        return None
    ids = teams_visible_to(user).values_list("id", flat=True)
    return list(ids) if as_values else ids


def _rollup_filter(
    *,
    team_ids: "QuerySet | list[int] | None",
    municipality: Municipality | None,
    site_type: str | None,
    team: Team | None,
) -> Q:
    """The user's scope (`_visible_team_ids`) and the filters, on a rollup row (team and site)."""
    where = Q()
    if team_ids is not None:
        where &= Q(team_id__in=team_ids)
    if team is not None:
        where &= Q(team=team)
    if municipality is not None:
        where &= Q(site__municipality=municipality)
    if site_type:
        where &= Q(site__site_type=site_type)
    return where


_ENCOUNTER_COLUMNS = ("total", "anonymous", "conversation", *CODE_COLUMNS)


def _encounter_figures_rolled_up(where: Q, start: datetime.date, end: datetime.date) -> dict:
    """Encounter counts and every `by_*`: one query, one row per municipality × site type × month."""
    rows = (
        EncounterDayCount.objects.filter(where, day__range=(start, end))
        .annotate(month=TruncMonth("day"))
        .values("site__municipality__code", "site__site_type", "month")
        .annotate(**{f"s_{column}": Sum(column) for column in _ENCOUNTER_COLUMNS})
        .order_by()
    )
    sums = dict.fromkeys(_ENCOUNTER_COLUMNS, 0)
    by_site_type = dict.fromkeys(SiteType.values, 0)
    by_municipality = dict.fromkeys(Municipality.objects.order_by("code").values_list("code", flat=True), 0)
    by_month = {_month_key(month): 0 for month in _months(start, end)}
    for row in rows:
        for column in _ENCOUNTER_COLUMNS:
            sums[column] += row[f"s_{column}"]
        total = row["s_total"]
        by_site_type[row["site__site_type"]] += total
        by_municipality[row["site__municipality__code"]] += total
        by_month[_month_key(row["month"])] += total
    return {
        "encounters_total": sums["total"],
        "encounters_anonymous": sums["anonymous"],
        "encounters_with_person": sums["total"] - sums["anonymous"],
        "encounters_conversation": sums["conversation"],
        "by_site_type": by_site_type,
        "by_municipality": by_municipality,
        "by_month": by_month,
        "by_need": {code: sums[f"need_{code}"] for code in Need.values},
        "by_gender": {code: sums[f"gender_{code}"] for code in Gender.values},
        "by_age_group": {code: sums[f"age_{code}"] for code in AgeGroup.values},
        "by_contact_kind": {code: sums[f"kind_{code}"] for code in ContactKind.values},
    }


def _person_figures_rolled_up(where: Q, start: datetime.date, end: datetime.date) -> dict:
    """Persons reached, new, engaged and their contact frequency, in one query over the person-day rollup.

    The rollup's rows carry each person's first encounter ever (`first_on`),
    so only the persons engaged by `end` are joined.
    """
    per_person = (
        PersonDayCount.objects.filter(where, day__range=(start, end))
        .values("person_id")
        .annotate(n=Sum("encounters"), first_on=Max("first_on"))
        .order_by()
    )
    try:
        inner, params = per_person.query.sql_with_params()
    except EmptyResultSet:  # a scope of no teams
        return {
            "persons_reached": 0,
            "persons_new": 0,
            "persons_engaged": 0,
            "contact_frequency": dict.fromkeys(CONTACT_FREQUENCY_BUCKETS, 0),
        }
    person = connection.ops.quote_name(Person._meta.db_table)
    sql = f"""
        SELECT COUNT(*),
               SUM(CASE WHEN t.first_on >= %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN p.id IS NOT NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN t.n <= 1 THEN 1 ELSE 0 END),
               SUM(CASE WHEN t.n BETWEEN 2 AND 5 THEN 1 ELSE 0 END),
               SUM(CASE WHEN t.n BETWEEN 6 AND 9 THEN 1 ELSE 0 END),
               SUM(CASE WHEN t.n >= 10 THEN 1 ELSE 0 END)
        FROM ({inner}) t
        LEFT JOIN (SELECT id FROM {person} WHERE engaged_on IS NOT NULL AND engaged_on <= %s) p
             ON p.id = t.person_id
    """
    with read_connection(PersonDayCount).cursor() as cursor:
        cursor.execute(sql, [_db_date(start), *params, _db_date(end)])
        reached, new, engaged, *buckets = (int(value or 0) for value in cursor.fetchone())
    return {
        "persons_reached": reached,
        "persons_new": new,
        "persons_engaged": engaged,
        "contact_frequency": dict(zip(CONTACT_FREQUENCY_BUCKETS, buckets, strict=True)),
    }


def _db_date(day: datetime.date):
    return connection.ops.adapt_datefield_value(day)


def _outing_figures_rolled_up(where: Q, start: datetime.date, end: datetime.date) -> dict:
    row = OutingDayCount.objects.filter(where, day__range=(start, end)).aggregate(
        outings_done=Coalesce(Sum("outings_done"), 0),
        seconds=Coalesce(Sum("participant_seconds"), 0),
        tallied=Coalesce(Sum("tallied_contacts"), 0),
        encounters=Coalesce(Sum("encounters"), 0),
    )
    hours = Decimal(row["seconds"]) / 3600
    return {
        "outings_done": int(row["outings_done"]),
        "outing_hours": _decimal(hours),
        "tallied_contacts": int(row["tallied"]),
        "encounters_per_outing_hour": _decimal(Decimal(row["encounters"]) / hours) if hours else None,
    }


def summary_report_raw(
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
      `contact_frequency` buckets the persons reached by their number of
      encounters in the period under the same filters; `persons_engaged`
      counts those whose `engaged_on` is set and not after `end`.
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
    report, _counts = _summary_raw(
        user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team
    )
    return report


def _summary_raw(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None,
    site_type: str | None,
    team: Team | None,
) -> tuple[dict, list[dict]]:
    scope = _scope(user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team)
    encounters, outings = scope.encounters, scope.outings

    report: dict = {}
    report.update(_encounter_figures(encounters))
    report["by_municipality"] = _by_municipality(encounters)
    report["by_month"] = _by_month(encounters, start, end)
    report.update(_person_figures(encounters, start, end))
    report.update(_outing_figures(outings))
    counts = referral_counts(scope.referrals)
    report.update(_referral_figures(counts))
    report.update(_feedback_figures(scope.feedback))
    return report, counts


@dataclass
class _Scope:
    encounters: QuerySet[Encounter]
    outings: QuerySet[Outing]
    referrals: QuerySet[Referral]
    feedback: QuerySet[ClientFeedback]


def _scope(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None,
    site_type: str | None,
    team: Team | None,
) -> _Scope:
    """The rows each part of the summary counts: the user's scope, the period and the filters."""
    see_all = user.is_superuser
    visible_teams = teams_visible_to(user)

    encounters = encounters_visible_to(user).filter(occurred_on__range=(start, end))
    outings = outings_visible_to(user).filter(status=OutingStatus.DONE, date__range=(start, end))
    referrals = period_referrals(
        user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team
    )
    feedback = ClientFeedback.objects.filter(given_on__range=(start, end))

    if team is not None:
        encounters = encounters.filter(team=team)
        outings = outings.filter(team=team)
        feedback = feedback.filter(outing__team=team)
    if not see_all:
        feedback = feedback.filter(
            Q(outing__team__in=visible_teams) | Q(outing__isnull=True, site__team__in=visible_teams)
        )
    if municipality is not None:
        encounters = encounters.filter(site__municipality=municipality)
        outings = outings.filter(site__municipality=municipality)
        feedback = feedback.filter(site__municipality=municipality)
    if site_type:
        encounters = encounters.filter(site__site_type=site_type)
        outings = outings.filter(site__site_type=site_type)
        feedback = feedback.filter(site__site_type=site_type)

    return _Scope(encounters=encounters, outings=outings, referrals=referrals, feedback=feedback)


def period_referrals(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> QuerySet[Referral]:
    """The referrals a report counts: the user's, made (`referred_on`) in the period, by the summary's filters.

    A referral's municipality and site type are those of the site of the encounter it came from.
    """
    referrals = referrals_visible_to(user).filter(referred_on__range=(start, end))
    if team is not None:
        referrals = referrals.filter(team=team)
    if municipality is not None:
        referrals = referrals.filter(encounter__site__municipality=municipality)
    if site_type:
        referrals = referrals.filter(encounter__site__site_type=site_type)
    return referrals


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


def _person_figures(encounters: QuerySet[Encounter], start: datetime.date, end: datetime.date) -> dict:
    """Persons reached in the period, those whose first encounter ever is in it, their contact frequency.

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
        persons_engaged=Count("id", filter=Q(engaged_on__isnull=False, engaged_on__lte=end)),
    )
    frequency = dict.fromkeys(CONTACT_FREQUENCY_BUCKETS, 0)
    for n in reached.annotate(n=Count("id")).values_list("n", flat=True):  # one row per person reached
        frequency[contact_frequency_bucket(n)] += 1
    return {
        "persons_reached": row["persons_reached"],
        "persons_new": row["persons_new"],
        "persons_engaged": row["persons_engaged"],
        "contact_frequency": frequency,
    }


# Persons by their number of encounters in a period (DESIGN.md vocabulary).
CONTACT_FREQUENCY_BUCKETS = ("1", "2_5", "6_9", "10_plus")


def contact_frequency_bucket(encounters: int) -> str:
    if encounters <= 1:
        return "1"
    if encounters <= 5:
        return "2_5"
    if encounters <= 9:
        return "6_9"
    return "10_plus"


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


def _reached_stages(status: str, *, has_made_on: bool, has_connected_on: bool) -> tuple[bool, bool]:
    """How far a referral got (the funnel): (made, connected). Made when it carries a made date or is made
    or connected now; connected when it carries a connected date or is connected now (a referral connected
    and later ended still got the person into the service)."""
    connected = has_connected_on or status == ReferralStatus.CONNECTED
    made = connected or has_made_on or status == ReferralStatus.MADE
    return made, connected


def referral_counts(referrals: QuerySet[Referral]) -> list[dict]:
    """The referrals counted by service kind and current status (`n`), with how many of them have been
    made and connected: one small GROUP BY that both the summary's referral figures and the funnel read.

    The database only counts rows per service kind, status and whether the
    two dates are set (a plain COUNT(*) per group, half the cost of a
    filtered count per stage over a year's referrals); which of those groups
    are made and connected is decided here (`_reached_stages`).
    """
    rows = (
        referrals.order_by()
        .annotate(
            has_made_on=ExpressionWrapper(Q(made_on__isnull=False), output_field=BooleanField()),
            has_connected_on=ExpressionWrapper(Q(connected_on__isnull=False), output_field=BooleanField()),
        )
        .values("service_kind", "status", "has_made_on", "has_connected_on")
        .annotate(n=Count("*"))
    )
    return _staged_counts(rows)


def _referral_counts_rolled_up(where: Q, start: datetime.date, end: datetime.date) -> list[dict]:
    """`referral_counts` from the referral day rollup (`ReferralDayCount`): the rows of the same groups."""
    rows = (
        ReferralDayCount.objects.filter(where, day__range=(start, end))
        .values("service_kind", "status", "has_made_on", "has_connected_on")
        .annotate(n=Sum("referrals"))
        .order_by()
    )
    return _staged_counts(rows)


def _staged_counts(rows) -> list[dict]:
    """Rows of referrals counted (`n`) by service kind, status and whether the made and connected dates are
    set, summed by service kind and status with how many of them have been made and connected."""
    counts: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["service_kind"], row["status"])
        group = counts.setdefault(key, {"service_kind": key[0], "status": key[1], "n": 0, "made": 0, "connected": 0})
        made, connected = _reached_stages(
            row["status"], has_made_on=bool(row["has_made_on"]), has_connected_on=bool(row["has_connected_on"])
        )
        group["n"] += row["n"]
        group["made"] += row["n"] if made else 0
        group["connected"] += row["n"] if connected else 0
    return list(counts.values())


def referral_funnel_of(counts: list[dict]) -> dict[str, dict[str, int]]:
    """Per service kind: suggested (every referral), made and connected (`referral_counts`)."""
    funnel = {code: {"suggested": 0, "made": 0, "connected": 0} for code in ServiceKind.values}
    for row in counts:
        stage = funnel.setdefault(row["service_kind"], {"suggested": 0, "made": 0, "connected": 0})
        stage["suggested"] += row["n"]
        stage["made"] += row["made"]
        stage["connected"] += row["connected"]
    return funnel


def _referral_figures(counts: list[dict]) -> dict:
    """Referrals by service kind and status, from `referral_counts`."""
    by_service = dict.fromkeys(ServiceKind.values, 0)
    by_status = dict.fromkeys(ReferralStatus.values, 0)
    for row in counts:
        by_service[row["service_kind"]] += row["n"]
        by_status[row["status"]] += row["n"]
    total = sum(by_status.values())
    connected = by_status[ReferralStatus.CONNECTED]
    return {
        "referrals_total": total,
        "referrals_by_service": by_service,
        "referrals_by_status": by_status,
        "referrals_connected_rate": _decimal(Decimal(connected) / total) if total else None,
    }


def _feedback_figures(feedback: QuerySet[ClientFeedback]) -> dict:
    row = feedback.order_by().aggregate(count=Count("id"), total=Sum("score"))
    return _feedback_count_and_mean(row["count"], row["total"])


def _feedback_count_and_mean(count: int | None, total: int | None) -> dict:
    """The count, and the mean from the sum (not AVG(): exact, so that 3.125 rounds to 3.13), given
    only from the minimum number of answers (DESIGN.md)."""
    count = count or 0
    return {
        "feedback_count": count,
        "feedback_mean_score": _decimal(Decimal(total or 0) / count)
        if count and count >= settings.REPORTS_FEEDBACK_MIN_ANSWERS
        else None,
    }


def _feedback_figures_rolled_up(
    *,
    team_ids: "QuerySet | list[int] | None",
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None,
    site_type: str | None,
    team: Team | None,
) -> dict:
    """The feedback figures from its day rollup, under the scope rule of `summary_report_raw`."""
    where = _feedback_rollup_where(
        team_ids=team_ids, start=start, end=end, municipality=municipality, site_type=site_type, team=team
    )
    row = FeedbackDayCount.objects.filter(where).aggregate(count=Sum("answers"), total=Sum("score_sum"))
    return _feedback_count_and_mean(row["count"], row["total"])


def feedback_rollup_scope(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> Q | None:
    """The rows of `FeedbackDayCount` that hold the feedback `feedback_in_scope` gives; None when the
    user's scope is not a set of teams (read the answers themselves), as `rollup_scope`."""
    if not _rollups_apply(user):
        return None
    return _feedback_rollup_where(
        team_ids=_visible_team_ids(user),
        start=start,
        end=end,
        municipality=municipality,
        site_type=site_type,
        team=team,
    )


def _feedback_rollup_where(
    *,
    team_ids: "QuerySet | list[int] | None",
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None,
    site_type: str | None,
    team: Team | None,
) -> Q:
    """team_ids: the teams the user sees, None for every team."""
    where = Q(day__range=(start, end))
    if team is not None:
        where &= Q(outing_team=team)
    if team_ids is not None:
        where &= Q(outing_team_id__in=team_ids) | Q(outing_team__isnull=True, site__team_id__in=team_ids)
    if municipality is not None:
        where &= Q(site__municipality=municipality)
    if site_type:
        where &= Q(site__site_type=site_type)
    return where


def feedback_in_scope(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> QuerySet[ClientFeedback]:
    """The feedback the summary's `feedback_*` figures count, for breakdowns of the same answers."""
    return _scope(user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team).feedback


def _decimal(value: Decimal) -> float:
    """Two decimals, rounded half up as people do, as a JSON number."""
    return float(value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


# Reach per outing hour -----------------------------------------------------

REACH_GROUPS = ("site", "site_type", "municipality")
_REACH_GROUP_FIELDS = {"site": "site_id", "site_type": "site__site_type", "municipality": "site__municipality__code"}


def reach_report(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    group: str,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> dict:
    """Reach per outing hour by site, site type or municipality (the reach endpoint's JSON).

    From the outing rollup; see `reach_report_raw` for the definitions.
    """
    if group not in REACH_GROUPS:
        raise ValueError(f"Unknown reach group: {group}")
    if not _rollups_apply(user):
        return reach_report_raw(
            user=user, start=start, end=end, group=group, municipality=municipality, site_type=site_type, team=team
        )
    team_ids = _visible_team_ids(user)
    where = _rollup_filter(team_ids=team_ids, municipality=municipality, site_type=site_type, team=team)
    field = _REACH_GROUP_FIELDS[group]
    rows = (
        OutingDayCount.objects.filter(where, day__range=(start, end))
        .values(field)
        .annotate(
            outings_done=Sum("outings_done"),
            seconds=Sum("participant_seconds"),
            encounters=Sum("encounters"),
            conversations=Sum("conversations"),
            tallied_contacts=Sum("tallied_contacts"),
        )
        .order_by()
    )
    figures = {row[field]: {name: int(row[name]) for name in _REACH_SUMS} for row in rows}
    return _reach_rows(group, figures)


_REACH_SUMS = ("outings_done", "seconds", "encounters", "conversations", "tallied_contacts")


def reach_report_raw(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    group: str,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> dict:
    """Reach per outing hour, computed from the raw tables.

    Covers the done outings of the period under the summary's scope and
    filters (as `outings_done` does); encounters and conversations are those
    that belong to these outings, whatever their own date. Encounters logged
    without an outing are not in reach. Hours are duration × participants.
    Keys: the site id (sites with at least one such outing, with `name`), the
    site-type code (every code, zeros where none) or the municipality code
    (municipalities with at least one such outing).
    """
    if group not in REACH_GROUPS:
        raise ValueError(f"Unknown reach group: {group}")
    scope = _scope(user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team)
    done = scope.outings.order_by()
    field = _REACH_GROUP_FIELDS[group]

    figures: dict = {}
    for row in done.values(field).annotate(n=Count("id"), tallied=Coalesce(Sum("tallied_contacts"), 0)):
        figures[row[field]] = {
            "outings_done": row["n"],
            "seconds": 0,
            "encounters": 0,
            "conversations": 0,
            "tallied_contacts": int(row["tallied"]),
        }
    participations = Outing.participants.through.objects.filter(
        outing__in=done.values("id"), outing__end_time__isnull=False
    )
    seconds = Sum(_seconds("outing__end_time") - _seconds("outing__start_time"))
    for row in participations.values(f"outing__{field}").annotate(seconds=seconds):
        figures[row[f"outing__{field}"]]["seconds"] = row["seconds"] or 0
    encounters = Encounter.objects.filter(outing__in=done.values("id")).order_by()
    counted = encounters.values(f"outing__{field}").annotate(
        n=Count("id"), conversations=Count("id", filter=Q(depth=Depth.CONVERSATION))
    )
    for row in counted:
        figures[row[f"outing__{field}"]].update(encounters=row["n"], conversations=row["conversations"])
    return _reach_rows(group, figures)


def _reach_rows(group: str, figures: dict) -> dict:
    """The reach endpoint's JSON from per-key sums (`seconds` of outing time × participants)."""
    empty = {"outings_done": 0, "seconds": 0, "encounters": 0, "conversations": 0, "tallied_contacts": 0}
    names: dict = {}
    if group == "site_type":
        keys = list(SiteType.values)
    elif group == "site":
        names = dict(FieldSite.objects.filter(pk__in=list(figures)).values_list("id", "name"))
        keys = sorted(figures, key=lambda pk: (names.get(pk, ""), pk))
    else:
        keys = sorted(figures)
    rows = []
    for key in keys:
        sums = figures.get(key, empty)
        hours = Decimal(sums["seconds"]) / 3600
        row: dict = {"key": key}
        if group == "site":
            row["name"] = names.get(key, "")
        row.update(
            outings_done=sums["outings_done"],
            outing_hours=_decimal(hours),
            encounters=sums["encounters"],
            conversations=sums["conversations"],
            tallied_contacts=sums["tallied_contacts"],
            contacts_per_outing_hour=(
                _decimal((sums["encounters"] + sums["tallied_contacts"]) / hours) if hours else None
            ),
            conversations_per_outing_hour=_decimal(sums["conversations"] / hours) if hours else None,
        )
        rows.append(row)
    return {"group": group, "rows": rows}


# The anonymised statistics extract -----------------------------------------

EXTRACT_DIMENSIONS = ("month", "municipality", "site_type", "gender", "age_group", "depth")


def extract_rows(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> list[dict]:
    """Encounters by month × municipality × site type × gender × age group × depth, unsuppressed.

    One dict per combination with at least one encounter, `encounters` an
    integer; `suppress_extract` hides the small counts before they leave.
    No identifiers, free text or person ids: only vocabulary codes.
    """
    if not _rollups_apply(user):
        return extract_rows_raw(
            user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team
        )
    team_ids = _visible_team_ids(user)
    where = _rollup_filter(team_ids=team_ids, municipality=municipality, site_type=site_type, team=team)
    rows = (
        EncounterMixCount.objects.filter(where, day__range=(start, end))
        .annotate(month=TruncMonth("day"))
        .values("month", "site__municipality__code", "site__site_type", "gender", "age_group", "depth")
        .annotate(n=Sum("encounters"))
        .order_by()
    )
    return _extract_sorted(
        {
            "month": _month_key(row["month"]),
            "municipality": row["site__municipality__code"],
            "site_type": row["site__site_type"],
            "gender": row["gender"],
            "age_group": row["age_group"],
            "depth": row["depth"],
            "encounters": int(row["n"]),
        }
        for row in rows
    )


def extract_rows_raw(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> list[dict]:
    scope = _scope(user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team)
    rows = (
        scope.encounters.order_by()
        .annotate(month=TruncMonth("occurred_on"))
        .values("month", "site__municipality__code", "site__site_type", "gender", "age_group", "depth")
        .annotate(n=Count("id"))
    )
    return _extract_sorted(
        {
            "month": _month_key(row["month"]),
            "municipality": row["site__municipality__code"],
            "site_type": row["site__site_type"],
            "gender": row["gender"],
            "age_group": row["age_group"],
            "depth": row["depth"],
            "encounters": row["n"],
        }
        for row in rows
    )


def _extract_sorted(rows) -> list[dict]:
    return sorted(rows, key=lambda row: tuple(row[name] for name in EXTRACT_DIMENSIONS))


def suppression_threshold() -> int:
    """Counts below this leave the system only as "<N" (setting REPORTS_SUPPRESSION_THRESHOLD)."""
    return int(getattr(settings, "REPORTS_SUPPRESSION_THRESHOLD", 5))


def suppress_count(count: int, threshold: int) -> int | str:
    """A count as it may leave the system: 1 … threshold − 1 become "<threshold"; zero stays 0."""
    if 0 < count < threshold:
        return f"<{threshold}"
    return count


def suppress_extract(rows: list[dict], threshold: int) -> list[dict]:
    """The extract's rows with small counts suppressed; shared by the API and the exports."""
    return [{**row, "encounters": suppress_count(row["encounters"], threshold)} for row in rows]
